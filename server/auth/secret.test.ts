/**
 * Issue 12, fault 9: `npm start -- --dev` with an external database and no NEXTAUTH_SECRET must
 * refuse to start (NextAuth would derive the key from public configuration), and the auth options
 * refuse to exist without a secret in any mode.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadServerEnv } from "../env";
import { StartupError } from "../startup-error";
import { buildAuthOptions } from "./options";

const root = path.resolve(import.meta.dirname, "../..");

describe("no session secret derived from public configuration", () => {
  it("npm start -- --dev with an external DATABASE_URL and no NEXTAUTH_SECRET refuses to start", () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: "postgresql://rads:pw@db.hospital.invalid:5432/rads", PORT: "3987", NODE_ENV: "development" };
    delete env.NEXTAUTH_SECRET;
    const run = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts"), "--dev"], { cwd: root, env, encoding: "utf8", timeout: 60_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("NEXTAUTH_SECRET is not set");
    // It stopped before touching the database or starting anything.
    expect(run.stdout).not.toContain("ready");
    expect(run.stderr).not.toMatch(/ENOTFOUND|ECONNREFUSED/);
  });

  it("the auth options refuse to be built without a secret, in development too", () => {
    const env = loadServerEnv({ DATABASE_URL: "postgresql://u:p@localhost/db", NODE_ENV: "development" });
    expect(() => buildAuthOptions(env)).toThrow(StartupError);
    expect(() => buildAuthOptions(env)).toThrow(/NEXTAUTH_SECRET/);
    expect(buildAuthOptions({ ...env, NEXTAUTH_SECRET: "k".repeat(40) }).secret).toBe("k".repeat(40));
  });
});
