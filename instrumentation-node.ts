/**
 * The Node.js half of instrumentation.ts: validates the environment when the web server boots, so a bad
 * configuration stops the web process at once with one clear line (the worker does the same). Kept in
 * its own module so the Edge compile of instrumentation.ts never sees process.exit / process.stderr.
 */
import { loadServerEnv } from "./server/env";
import { StartupError } from "./server/startup-error";

export function checkServerEnvironment(): void {
  try {
    loadServerEnv();
  } catch (error) {
    if (error instanceof StartupError) {
      process.stderr.write(`error: ${error.message}\n  → ${error.hint}\n`);
      process.exit(1);
    }
    throw error;
  }
}
