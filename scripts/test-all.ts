/**
 * `npm test`: typecheck, lint, unit tests, integration tests on a real PostgreSQL, and the
 * Playwright suite in Chromium, in that order. Prints one summary with the count of tests and
 * exits non-zero if any step failed. `npm test -- --no-e2e` leaves the browser suite out locally.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const withE2e = !process.argv.includes("--no-e2e");
const bin = (name: string) => path.join(root, "node_modules/.bin", name);
fs.mkdirSync(path.join(root, "test-results"), { recursive: true });

interface Step {
  name: string;
  command: string;
  args: string[];
  countFrom?: () => { passed: number; failed: number };
}

/** Names and first error line of each failed test, kept for the summary (CI shows only the log's tail). */
const failures: string[] = [];

function vitestCounts(file: string) {
  return () => {
    const report = JSON.parse(fs.readFileSync(path.join(root, file), "utf8"));
    for (const suite of report.testResults ?? []) {
      for (const test of suite.assertionResults ?? []) {
        if (test.status === "passed") continue;
        const firstLine = String(test.failureMessages?.[0] ?? test.status).split("\n")[0]?.slice(0, 300);
        failures.push(`${path.relative(root, suite.name)} › ${test.fullName}: ${firstLine}`);
      }
    }
    return { passed: report.numPassedTests ?? 0, failed: (report.numFailedTests ?? 0) + (report.numTodoTests ?? 0) + (report.numPendingTests ?? 0) };
  };
}

interface PlaywrightSuite {
  title?: string;
  suites?: PlaywrightSuite[];
  specs?: { title: string; file: string; line: number; tests: { projectName: string; status: string; results: { error?: { message?: string } }[] }[] }[];
}

/** Failed Playwright tests with the first lines of their first error (the message holds the assertion's diff). */
function playwrightFailures(suites: PlaywrightSuite[]) {
  for (const suite of suites) {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) {
        if (test.status === "expected") continue;
        const error = test.results.map((r) => r.error?.message).find(Boolean) ?? test.status;
        const lines = error.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "").split("\n").filter((line) => line.trim() !== "").slice(0, 15);
        failures.push(`[${test.projectName}] ${spec.file}:${spec.line} › ${spec.title}:\n    ${lines.join("\n    ").slice(0, 2000)}`);
      }
    }
    playwrightFailures(suite.suites ?? []);
  }
}

const steps: Step[] = [
  { name: "typecheck", command: bin("tsc"), args: ["--noEmit", "-p", "."] },
  { name: "lint", command: bin("eslint"), args: ["--max-warnings", "0", "."] },
  {
    name: "unit tests",
    command: bin("vitest"),
    args: ["run", "--project", "unit", "--reporter=default", "--reporter=json", "--outputFile.json=test-results/unit.json"],
    countFrom: vitestCounts("test-results/unit.json"),
  },
  {
    name: "integration tests",
    command: bin("vitest"),
    args: ["run", "--project", "integration", "--reporter=default", "--reporter=json", "--outputFile.json=test-results/integration.json"],
    countFrom: vitestCounts("test-results/integration.json"),
  },
];
if (withE2e) {
  steps.push({
    name: "end-to-end tests",
    command: bin("tsx"),
    args: ["scripts/e2e.ts"],
    countFrom: () => {
      const report = JSON.parse(fs.readFileSync(path.join(root, "test-results/e2e-results.json"), "utf8"));
      playwrightFailures(report.suites ?? []);
      const stats = report.stats ?? {};
      return { passed: stats.expected ?? 0, failed: (stats.unexpected ?? 0) + (stats.flaky ?? 0) + (stats.skipped ?? 0) };
    },
  });
}

const summary: string[] = [];
let passed = 0;
let failed = 0;
let anyStepFailed = false;
for (const step of steps) {
  process.stdout.write(`\n=== ${step.name} ===\n`);
  const started = Date.now();
  const result = spawnSync(step.command, step.args, { cwd: root, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  let ok = result.status === 0;
  let counts = "";
  if (step.countFrom) {
    try {
      const c = step.countFrom();
      passed += c.passed;
      failed += c.failed;
      counts = ` (${c.passed} passed, ${c.failed} failed)`;
      // A runner's exit code alone is not trusted: a failed test in its report fails the step.
      if (c.failed > 0) ok = false;
    } catch {
      counts = " (no report)";
      ok = false;
      failed += 1;
    }
  }
  anyStepFailed ||= !ok;
  summary.push(`${ok ? "ok  " : "FAIL"} ${step.name}${counts} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (!ok && step.name === "typecheck") break;
}

if (failures.length > 0) process.stdout.write(`\n=== failed tests ===\n${failures.join("\n")}\n`);
process.stdout.write(`\n=== summary ===\n${summary.join("\n")}\n`);
if (anyStepFailed && failed === 0) failed = 1;
process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
process.exit(anyStepFailed ? 1 : 0);
