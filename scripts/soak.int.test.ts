/**
 * The short soak CI runs: scripts/soak.ts with 10 clinicians for 45 s on the real platform
 * (scripts/start.ts: embedded PostgreSQL in a temp folder, production build, web + worker) while
 * the worker retrains. No request may fail and no acknowledged submission may be lost or
 * overwritten, and the worker's own triggers add at most one training to the data scientist's requests.
 * Latency is reported, not asserted (CI machines vary).
 * Ports: none given, so the soak takes free ones (a running `npm start` or another test cannot collide).
 * The production build is made here if the sources changed since the last one (the end-to-end
 * stage would make the same build), under the same lock as the Playwright runs, because a build
 * replaces .next under a running `next start`.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");

describe("soak (short)", () => {
  it("10 clinicians × 45 s with retraining: 0 errors, 0 lost or overwritten submissions", async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rads-soak-test-")), "soak.json");
    const soak = [process.execPath, "--import", "tsx", path.join(root, "scripts/soak.ts"), "--clinicians", "10", "--seconds", "45", "--pool", "400", "--think-ms", "500", "--train-every", "15", "--json", out];
    const [command, ...args] = fs.existsSync("/usr/bin/flock") ? ["/usr/bin/flock", "-w", "900", "/tmp/e2e.lock", ...soak] : soak;
    // Asynchronously: a blocked test worker cannot answer vitest's own heartbeats for minutes.
    // The worker at nice 10 rather than the default 19: this short soak must see a training finish within
    // 45 s, and on a machine busy with other work a worker at the lowest priority may not get a core that
    // soon (measured on the shared 2-core box: 0 of 2 requested trainings finished at 19 in one of two runs).
    const env = { ...process.env, WORKER_NICE: process.env.WORKER_NICE ?? "10" };
    const child = spawn(command!, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    const run = { stdout: "", stderr: "", status: null as number | null };
    child.stdout.on("data", (chunk: Buffer) => (run.stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (run.stderr = (run.stderr + chunk.toString()).slice(-20_000)));
    run.status = await new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    expect(run.status, `${run.stdout}\n${run.stderr.slice(-6000)}`).toBe(0);
    const summary = JSON.parse(fs.readFileSync(out, "utf8")) as {
      errors: number;
      lost: number;
      overwritten: number;
      submissions: number;
      edits: number;
      requestedTrainings: number;
      trainings: Record<string, number>;
      memory: unknown[];
      phases: Record<string, { cpuCores: Record<string, number> }>;
    };
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
    expect(summary.errors).toBe(0);
    expect(summary.lost).toBe(0);
    expect(summary.overwritten).toBe(0);
    // It really ran: clinicians submitted and edited, the worker trained, memory was sampled.
    expect(summary.submissions).toBeGreaterThan(50);
    expect(summary.edits).toBeGreaterThan(0);
    expect(summary.requestedTrainings).toBeGreaterThan(0);
    expect(summary.trainings.SUCCEEDED ?? 0).toBeGreaterThan(0);
    expect(summary.memory.length).toBeGreaterThan(5);
    // The worker is bounded (issue 16): the loop's own triggers add at most one training to the data
    // scientist's requests (one queued or running per project, then the project's minimum interval).
    const trainRuns = Object.values(summary.trainings).reduce((a, b) => a + b, 0);
    expect(trainRuns).toBeLessThanOrEqual(summary.requestedTrainings + 1);
    // CPU per process group was sampled (Linux /proc): the web served, the worker trained.
    if (fs.existsSync("/proc/stat")) {
      expect(summary.phases.retraining!.cpuCores.web).toBeGreaterThan(0);
      expect(summary.phases.retraining!.cpuCores.worker).toBeGreaterThan(0);
    }
    process.stdout.write(run.stdout);
  }, 1_600_000);
});
