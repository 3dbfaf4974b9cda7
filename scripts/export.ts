/**
 * Exports a project's labels with provenance (same service as the download buttons; audited).
 *
 *   npm run export -- --project <id|name> --format jsonl|csv [--history] [--out file] [--as email]
 *   npm run export -- --project <id|name> --agreement [--out file] [--as email]
 *
 * `--agreement` writes the inter-annotator agreement report (JSON: percent agreement, Fleiss' kappa,
 * Krippendorff's alpha overall and per class, Cohen's kappa per annotator pair, each with its bootstrap 95%
 * interval and support; and each case's final label under the training-label rule; server/services/agreement-service.ts)
 * instead of the labels.
 * Without --out the export goes to standard output (messages go to standard error).
 */
import fs from "node:fs";
import path from "node:path";
import { createServiceContext } from "../server/services/context";
import { exportAgreement } from "../server/services/agreement-service";
import { exportLabels } from "../server/services/export-service";
import { parseFlags, resolveCliActor, resolveCliProject } from "./lib/cli-actor";
import { openCliDatabase } from "./lib/cli-db";
import { runCli } from "./lib/run-cli";

// The service logs JSON lines for the server's log collector; a terminal wants only the table.
process.env.LOG_LEVEL ??= "warn";
const root = path.resolve(import.meta.dirname, "..");

async function main(): Promise<number> {
  const { flags, bools, positional } = parseFlags(process.argv.slice(2), ["project", "format", "out", "as"], ["history", "agreement"]);
  if (positional.length) throw new Error(`unexpected argument ${positional[0]}`);
  const format = flags.get("format") ?? "jsonl";
  if (format !== "jsonl" && format !== "csv") throw new Error(`--format must be jsonl or csv (got ${format})`);
  const cli = await openCliDatabase(root);
  try {
    process.stderr.write(`using ${cli.description}\n`);
    const project = await resolveCliProject(cli.db, flags.get("project"));
    const actor = await resolveCliActor(cli.db, flags.get("as"));
    if (bools.has("agreement")) {
      if (bools.has("history") || flags.has("format")) throw new Error("--agreement takes no --format or --history (the report is JSON)");
      const report = await exportAgreement(createServiceContext(cli.db, actor), { projectId: project.id }, { system: actor === null });
      const body = `${JSON.stringify(report, null, 2)}\n`;
      const out = flags.get("out");
      if (out) fs.writeFileSync(out, body);
      else process.stdout.write(body);
      process.stderr.write(`agreement report of "${project.name}": ${report.casesWithTwoOrMore} case(s) with two or more annotators${out ? ` written to ${out}` : ""}\n`);
      return 0;
    }
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
