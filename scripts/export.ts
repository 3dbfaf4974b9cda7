/**
 * Exports a project's labels with provenance (same service as the download buttons; audited).
 *
 *   npm run export -- --project <id|name> --format jsonl|csv [--history] [--out file] [--as email]
 *
 * Without --out the export goes to standard output (messages go to standard error).
 */
import fs from "node:fs";
import path from "node:path";
import { createServiceContext } from "../server/services/context";
import { exportLabels } from "../server/services/export-service";
import { parseFlags, resolveCliActor, resolveCliProject } from "./lib/cli-actor";
import { openCliDatabase } from "./lib/cli-db";
import { runCli } from "./lib/run-cli";

// The service logs JSON lines for the server's log collector; a terminal wants only the table.
process.env.LOG_LEVEL ??= "warn";
const root = path.resolve(import.meta.dirname, "..");

async function main(): Promise<number> {
  const { flags, bools, positional } = parseFlags(process.argv.slice(2), ["project", "format", "out", "as"], ["history"]);
  if (positional.length) throw new Error(`unexpected argument ${positional[0]}`);
  const format = flags.get("format") ?? "jsonl";
  if (format !== "jsonl" && format !== "csv") throw new Error(`--format must be jsonl or csv (got ${format})`);
  const cli = await openCliDatabase(root);
  try {
    process.stderr.write(`using ${cli.description}\n`);
    const project = await resolveCliProject(cli.db, flags.get("project"));
    const actor = await resolveCliActor(cli.db, flags.get("as"));
    const result = await exportLabels(createServiceContext(cli.db, actor), { projectId: project.id, format, history: bools.has("history") }, { system: actor === null });
    const out = flags.get("out");
    if (out) {
      fs.writeFileSync(out, result.body);
      process.stderr.write(`wrote ${result.rows} label row(s) of "${project.name}" to ${out}\n`);
    } else {
      process.stdout.write(result.body);
      process.stderr.write(`exported ${result.rows} label row(s) of "${project.name}"\n`);
    }
    return 0;
  } finally {
    await cli.close();
  }
}

runCli(main);
