/**
 * Next.js calls register() once when the web server boots: validate the environment there, so a
 * bad configuration stops the web process at once with one clear line (the worker does the same).
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { loadServerEnv } = await import("./server/env");
  const { StartupError } = await import("./server/startup-error");
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
