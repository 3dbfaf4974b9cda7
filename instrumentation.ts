/**
 * Next.js calls register() once when the web server boots: in the Node.js runtime, validate the
 * environment there (instrumentation-node.ts). The import sits behind the runtime check, as Next's
 * instrumentation guide recommends, so the Edge build does not analyse Node-only code.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { checkServerEnvironment } = await import("./instrumentation-node");
    checkServerEnvironment();
  }
}
