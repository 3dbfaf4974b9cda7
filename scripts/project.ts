/**
 * Projects from the command line: a project's whole configuration as one JSON document
 * (contracts/project-config.ts ZProjectConfig), so a setup is reviewable and repeatable.
 *
 *   npm run project -- list [--as email]
 *   npm run project -- export <id|name> [--out file] [--as email]
 *   npm run project -- create --config file.json [--name "Other name"] [--as email]
 *
 * `export` prints the JSON (or writes it to --out); `create` reads it back (the same service as the
 * "New project" page: validated field by field, duplicate names refused, audited). Acting user:
 * `--as <email>` (a DATA_SCIENTIST/ADMIN to create, a member to export), else a system action —
 * a project created that way gets every active admin as a member. Database: as `npm run import`
 * (scripts/lib/cli-db.ts).
 *
 * Exit codes: 0 done; 1 the configuration file was refused — every problem on its own line of
 * stderr as "<file>: <field path>: <message>" (all of them, as the "New project" page lists them);
 * 2 anything else (usage, unreadable file, unknown user or project), one line.
 */
import fs from "node:fs";
import path from "node:path";
import { DomainError } from "../server/errors";
import { createServiceContext } from "../server/services/context";
import { createProject, exportProjectConfigByRef, listProjectsForCommandLine } from "../server/services/project-admin-service";
import { parseFlags, resolveCliActor } from "./lib/cli-actor";
import { formatTable, openCliDatabase } from "./lib/cli-db";
import { runCli } from "./lib/run-cli";

process.env.LOG_LEVEL ??= "warn";
const root = path.resolve(import.meta.dirname, "..");
const USAGE = [
  "usage: npm run project -- list [--as email]",
  "       npm run project -- export <id|name> [--out file] [--as email]",
  "       npm run project -- create --config file.json [--name NAME] [--as email]",
].join("\n");

/** A DomainError with its field, as one line ("labelSchema.labels.1.key: The key "a" is used twice"). */
function describe(error: unknown, where: string): Error {
  if (error instanceof DomainError) {
    const field = typeof error.details?.field === "string" ? `${error.details.field}: ` : "";
    return new Error(`${where}${field}${error.message}`);
  }
  return error as Error;
}

function readConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new Error(`--config ${file}: cannot read the file`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`--config ${file}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`--config ${file}: expected a JSON object (a project configuration)`);
  return value as Record<string, unknown>;
}

/** Every field problem of a refused create (DomainError `details.fields`, else its one field) as "<file>: <field>: <message>" lines. */
function refusalLines(error: DomainError, where: string): string[] {
  const fields = Array.isArray(error.details?.fields) ? (error.details.fields as { field: string | null; message: string }[]) : [{ field: typeof error.details?.field === "string" ? error.details.field : null, message: error.message }];
  return fields.map((f) => `${where}${f.field ? `${f.field}: ` : ""}${f.message}`);
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || !["list", "export", "create"].includes(command)) throw new Error(`${command ? `unknown command "${command}"` : "no command given"}\n${USAGE}`);
  const { flags, positional } = parseFlags(rest, ["as", "out", "config", "name"], []);
  let config: Record<string, unknown> | null = null;
  if (command === "create") {
    const file = flags.get("config");
    if (!file) throw new Error(`--config file.json is required\n${USAGE}`);
    config = readConfig(file);
  }
  if (command === "export" && positional.length !== 1) throw new Error(`export needs one project id or name\n${USAGE}`);
  if (command !== "export" && positional.length) throw new Error(`unexpected argument ${positional[0]}\n${USAGE}`);

  const cli = await openCliDatabase(root);
  try {
    process.stderr.write(`using ${cli.description}\n`);
    const actor = await resolveCliActor(cli.db, flags.get("as"));
    const ctx = createServiceContext(cli.db, actor);
    if (command === "list") {
      const rows = await listProjectsForCommandLine(ctx);
      process.stdout.write(
        formatTable(
          ["id", "name", "case content", "cases", "members", "state"],
          rows.map((r) => [r.id, r.name, r.caseContent, String(r.cases), String(r.members), r.archived ? "archived" : "active"]),
        ) + "\n",
      );
      return 0;
    }
    if (command === "export") {
      const { config: exported } = await exportProjectConfigByRef(ctx, positional[0]!).catch((error: unknown) => {
        throw describe(error, `${positional[0]}: `);
      });
      const text = JSON.stringify(exported, null, 2) + "\n";
      const out = flags.get("out");
      if (out) {
        fs.writeFileSync(out, text);
        process.stderr.write(`wrote the configuration of "${exported.name}" to ${out}\n`);
      } else process.stdout.write(text);
      return 0;
    }
    const name = flags.get("name");
    let created: Awaited<ReturnType<typeof createProject>>;
    try {
      created = await createProject(ctx, name ? { ...config, name } : config, { system: actor === null, via: "cli" });
    } catch (error) {
      if (!(error instanceof DomainError) || (error.kind !== "BAD_INPUT" && error.kind !== "CONFLICT")) throw describe(error, `${flags.get("config")}: `);
      const lines = refusalLines(error, `${flags.get("config")}: `);
      process.stderr.write(`error: the configuration was refused (${lines.length} problem${lines.length === 1 ? "" : "s"}); nothing was created\n${lines.join("\n")}\n`);
      return 1;
    }
    process.stdout.write(`created project "${created.project.name}" (${created.project.id})\n`);
    return 0;
  } finally {
    await cli.close();
  }
}

runCli(main);
