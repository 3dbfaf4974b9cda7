/**
 * Gold cases from the command line (issue 14; the same service as the case browser's "Mark as gold", audited).
 *
 *   npm run gold -- mark   --project <id|name> --cases <external id>,<external id>… [--as email]
 *   npm run gold -- unmark --project <id|name> --cases <external id>,… [--as email]
 *   npm run gold -- list   --project <id|name> [--as email]
 *   npm run gold -- report --project <id|name> [--batch N] [--as email]
 *
 * Only a case imported with a label or adjudicated can be gold (its answer is that label). Without --as the
 * command is a system action; with --as the user's project role must allow it (DATA_SCIENTIST, ADMIN).
 * `list` and `report` print JSON on standard output; messages go to standard error.
 */
import path from "node:path";
import { ZMarkGoldInput, ZUnmarkGoldInput } from "../contracts/gold";
import { findCaseIdsByExternalIds } from "../server/db/gold-repo";
import { createServiceContext } from "../server/services/context";
import { goldReport, listGold, markGold, unmarkGold } from "../server/services/gold-service";
import { parseFlags, resolveCliActor, resolveCliProject } from "./lib/cli-actor";
import { openCliDatabase } from "./lib/cli-db";
import { runCli } from "./lib/run-cli";

process.env.LOG_LEVEL ??= "warn";
const root = path.resolve(import.meta.dirname, "..");
const COMMANDS = ["mark", "unmark", "list", "report"] as const;

async function main(): Promise<number> {
  const { flags, positional } = parseFlags(process.argv.slice(2), ["project", "cases", "batch", "as"], []);
  const command = positional[0] as (typeof COMMANDS)[number] | undefined;
  if (!command || !COMMANDS.includes(command) || positional.length > 1) throw new Error(`usage: npm run gold -- ${COMMANDS.join("|")} --project <id|name> [--cases a,b] [--batch N] [--as email]`);
  const cli = await openCliDatabase(root);
  try {
    process.stderr.write(`using ${cli.description}\n`);
    const project = await resolveCliProject(cli.db, flags.get("project"));
    const actor = await resolveCliActor(cli.db, flags.get("as"));
    const ctx = createServiceContext(cli.db, actor);
    const system = { system: actor === null };
    if (command === "list" || command === "report") {
      const batch = flags.get("batch");
      if (batch !== undefined && !/^\d+$/.test(batch)) throw new Error(`--batch must be a whole number of answers (got ${batch})`);
      const out = command === "list" ? await listGold(ctx, { projectId: project.id }, system) : await goldReport(ctx, { projectId: project.id, ...(batch ? { batchSize: Number(batch) } : {}) }, system);
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }
    const wanted = (flags.get("cases") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    if (wanted.length === 0) throw new Error("--cases takes the external ids of the cases, separated by commas");
    const found = await findCaseIdsByExternalIds(cli.db, project.id, wanted);
    const missing = wanted.filter((id) => !found.some((f) => f.externalId === id));
    if (missing.length) throw new Error(`no case ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""} in "${project.name}"`);
    const caseIds = found.map((f) => f.id);
    if (command === "mark") {
      const r = await markGold(ctx, ZMarkGoldInput.parse({ projectId: project.id, caseIds }), system);
      process.stderr.write(`"${project.name}": ${r.marked} case(s) marked as gold, ${r.refreshed} gold case(s) took their current answer again\n`);
    } else {
      const r = await unmarkGold(ctx, ZUnmarkGoldInput.parse({ projectId: project.id, caseIds }), system);
      process.stderr.write(`"${project.name}": ${r.unmarked} case(s) no longer gold${r.notGold ? `, ${r.notGold} were not gold` : ""}\n`);
    }
    return 0;
  } finally {
    await cli.close();
  }
}

runCli(main);
