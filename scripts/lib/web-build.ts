/**
 * Builds the Next.js app only when its sources changed since the last build (a hash of the files
 * that go into it is kept in .next/source-hash), so a second `npm start` is fast.
 */
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { StartupError } from "../../server/startup-error";
import { buildCodecs } from "../build-codecs";

const INPUTS = ["app", "server", "contracts", "models", "public", "next.config.ts", "proxy.ts", "instrumentation.ts", "instrumentation-node.ts", "package-lock.json", "prisma/schema.prisma", "tsconfig.json"];

function hashTree(root: string): string {
  const hash = crypto.createHash("sha256");
  const visit = (relative: string) => {
    const full = path.join(root, relative);
    if (!fs.existsSync(full)) return;
    const stat = fs.statSync(full);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(full).sort()) {
        if (entry === "node_modules" || entry === "generated") continue;
        visit(path.join(relative, entry));
      }
    } else if (!/\.test\.tsx?$/.test(relative)) {
      hash.update(relative).update(fs.readFileSync(full));
    }
  };
  INPUTS.forEach(visit);
  return hash.digest("hex");
}

export async function ensureWebBuild(root: string, env: NodeJS.ProcessEnv, say: (line: string) => void): Promise<void> {
  // The DICOM decode worker and codec WebAssembly under public/codecs (generated, git-ignored) follow models/dicom.
  await buildCodecs();
  const stampFile = path.join(root, ".next", "source-hash");
  const current = hashTree(root);
  const built = fs.existsSync(path.join(root, ".next", "BUILD_ID")) && fs.existsSync(stampFile) ? fs.readFileSync(stampFile, "utf8") : null;
  if (built === current) return;
  say("building the web app (first start or changed sources; takes a minute or two)…");
  const result = spawnSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
    cwd: root,
    env: { ...env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (result.status !== 0) throw new StartupError("`next build` failed (see its output above).", "Fix the build error, or run `npm run build` to see it alone.");
  fs.writeFileSync(stampFile, current);
}
