/**
 * The worker process (workers/main.ts) stopped the way Ctrl-C on `npm start` stops it: the terminal's
 * SIGINT reaches the worker and the embedded PostgreSQL at once — PostgreSQL ends the worker's
 * sessions with 57P01 "terminating connection due to administrator command" while the worker stops
 * (here: pg_terminate_backend, which raises the same) — and scripts/start.ts then sends SIGTERM. Expected:
 * one "worker stopping", one "worker stopped", exit 0, and not one warn- or error-level line. Runs on a
 * database of its own (created and migrated here, dropped at the end): on the shared test database the
 * worker's start-up work (e.g. de-identifying other tests' stored images, whose files are gone) logs
 * warnings of its own while the stop is under way.
 */
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asDatabaseAdmin, createMigratedDatabase, type OwnDatabase } from "../server/testing/database-admin";

const root = path.resolve(import.meta.dirname, "..");
let database: OwnDatabase;

beforeAll(async () => {
  database = await createMigratedDatabase("rads_worker_stop");
});

afterAll(async () => {
  await database?.drop();
});

describe("the worker's orderly stop (Ctrl-C on npm start)", () => {
  it("stops once, without error-level lines, when the database shuts down with it", async () => {
    const appName = `rads-worker-stop-${crypto.randomBytes(4).toString("hex")}`;
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "workers/main.ts")], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: database.url, PGAPPNAME: appName, LOG_LEVEL: "info", WORKER_NICE: "0", NODE_ENV: "test" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('"worker ready"')) resolve();
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", (code) => reject(new Error(`the worker exited (${code}) before it was ready:\n${output}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await ready;
    const from = output.length;

    // Ctrl-C: the worker's SIGINT, and the database ends its sessions while the worker stops (the
    // database's notice arriving before the stop is workers/shutdown.test.ts's case); then start.ts's SIGTERM.
    child.kill("SIGINT");
    await new Promise<void>((resolve) => {
      const seen = () => output.slice(from).includes('"worker stopping"') && resolve();
      child.stdout.on("data", seen);
      seen();
    });
    await asDatabaseAdmin((client) =>
      client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name IN ('rads-worker', $2)", [database.name, appName]),
    );
    child.kill("SIGTERM");
    expect(await exited).toBe(0);

    const lines = output
      .slice(from)
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { level: string; message: string });
    expect(lines.filter((l) => l.level === "error" || l.level === "warn")).toEqual([]);
    expect(lines.filter((l) => l.message === "worker stopping")).toHaveLength(1);
    expect(lines.filter((l) => l.message === "worker stopped")).toHaveLength(1);
  }, 90_000);
});
