/**
 * Entry of an ML worker thread (started by workers/threads/ml-pool.ts): receives
 * `{ id, task, args }`, runs it with `runMlTask`, posts `{ id, kind: "progress", ... }` while it
 * runs and then `{ id, kind: "result", value }` (typed-array buffers transferred, not copied) or
 * `{ id, kind: "error", error: { name, message, code? } }`. One task at a time per thread.
 */
import { parentPort } from "node:worker_threads";
import { runMlTask, transferableBuffers, type MlTaskName } from "./ml-tasks";

if (!parentPort) throw new Error("workers/threads/ml-thread.ts runs only as a worker thread");
const port = parentPort;

port.on("message", (message: { id: number; task: MlTaskName; args: unknown }) => {
  const { id, task, args } = message;
  try {
    const value = runMlTask(task, args as never, (progress) => port.postMessage({ id, kind: "progress", progress }));
    port.postMessage({ id, kind: "result", value }, transferableBuffers(value));
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    port.postMessage({ id, kind: "error", error: { name: e.name, message: e.message, code: (e as { code?: unknown }).code, stack: e.stack } });
  }
});
