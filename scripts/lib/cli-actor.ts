/**
 * Who a CLI command acts as: nobody (a system action, audited with no actor) or, with
 * `--as <email>`, a named active user — whose role and project membership the service then checks.
 */
import type { Db } from "../../server/db/client";
import { findProjectByIdOrName } from "../../server/db/import-repo";
import { findUserByEmail } from "../../server/db/users-repo";
import type { Actor } from "../../server/services/context";

export async function resolveCliActor(db: Db, email: string | undefined): Promise<Actor | null> {
  if (!email) return null;
  const user = await findUserByEmail(db, email.trim().toLowerCase());
  if (!user || !user.active) throw new Error(`--as ${email}: no active user with that e-mail address`);
  return { id: user.id, role: user.role, name: user.name, email: user.email };
}

export async function resolveCliProject(db: Db, ref: string | undefined): Promise<{ id: string; name: string }> {
  if (!ref) throw new Error("--project <id|name> is required");
  const project = await findProjectByIdOrName(db, ref);
  if (!project) throw new Error(`--project ${ref}: no project with that id or name`);
  return { id: project.id, name: project.name };
}

/** Minimal flag parser: `--name value`, boolean flags, and the rest as positional arguments. */
export function parseFlags(argv: string[], valueFlags: string[], booleanFlags: string[]): { flags: Map<string, string>; bools: Set<string>; positional: string[] } {
  const flags = new Map<string, string>();
  const bools = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (booleanFlags.includes(name)) bools.add(name);
      else if (valueFlags.includes(name)) {
        const value = inline ?? argv[++i];
        if (value === undefined || value.startsWith("--")) throw new Error(`--${name} needs a value`);
        flags.set(name, value);
      } else throw new Error(`unknown option --${name} (known: ${[...valueFlags, ...booleanFlags].map((f) => `--${f}`).join(", ")})`);
    } else positional.push(arg);
  }
  return { flags, bools, positional };
}
