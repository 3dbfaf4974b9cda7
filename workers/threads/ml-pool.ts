/**
 * A small pool of worker threads for the worker's CPU-bound ML (workers/threads/ml-tasks.ts:
 * head training, MC dropout, selection strategies such as the RADS agent, what-if cells), so the
 * worker's event loop stays free for pg-boss heartbeats, progress writes and other jobs while a
 * task runs for minutes.
 *
 * - `runInMlThread(task, args, { onProgress, transferArgs })` posts the task to an idle thread (or
 *   queues it, FIFO) and resolves with its result; the result's typed-array buffers are transferred
 *   back, the arguments' only with `transferArgs: true` (the caller must not use them afterwards).
 * - Size: env `ML_THREADS` (default: cores − 1, at least 1, at most 2); `ML_THREADS=0` runs every task
 *   inline on the calling thread (the same `runMlTask`, so the same results; for debugging).
 * - Threads start on first use and load TypeScript through tsx's register API (threadBootstrap), so
 *   they work under `npm start`/`npm run worker` and vitest. An idle thread does not keep the process alive.
 * - A task's error comes back as an Error with the thread's name, message and `code`; a thread that
 *   dies fails its task and is replaced on the next use.
 */
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { runMlTask, transferableBuffers, type MlTaskArgs, type MlTaskName, type MlTaskProgress, type MlTaskResult } from "./ml-tasks";

export interface RunInThreadOptions {
  /** Called on the calling thread for each progress message (errors it throws are ignored). */
  onProgress?: (progress: MlTaskProgress) => void;
  /** Transfer the arguments' whole-buffer typed arrays instead of copying them (they become unusable here). */
  transferArgs?: boolean;
}

/** An error a task threw in its thread (name, message and `code` carried over). */
export class MlThreadError extends Error {
  readonly code: unknown;
  constructor(name: string, message: string, code?: unknown) {
    super(message);
    this.name = name;
    this.code = code;
  }
}

interface Pending {
  id: number;
  task: MlTaskName;
  args: unknown;
  options: RunInThreadOptions;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  current: Pending | null;
}

type ThreadMessage =
  | { id: number; kind: "progress"; progress: MlTaskProgress }
  | { id: number; kind: "result"; value: unknown }
  | { id: number; kind: "error"; error: { name: string; message: string; code?: unknown } };

const slots: Slot[] = [];
const queue: Pending[] = [];
let nextId = 1;
let closing = false;

/** Threads the pool may run (0 = inline). */
export function mlThreadCount(): number {
  const raw = process.env.ML_THREADS;
  if (raw !== undefined && raw.trim() !== "") {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`ML_THREADS must be a whole number ≥ 0 (got "${raw}")`);
    return n;
  }
  return Math.max(1, Math.min(2, os.availableParallelism() - 1));
}

/**
 * The thread's bootstrap: tsx's loader registered in the thread, then ml-thread.ts. (Node 20 does not
 * apply `--import tsx` from execArgv before a worker's own entry module loads, so a .ts entry fails
 * with "Unknown file extension"; registering from a small script first works under `tsx`, `node
 * --import tsx` and vitest alike.)
 */
function threadBootstrap(): string {
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
  const api = pathToFileURL(path.join(tsxDir, "dist/esm/api/index.mjs")).href;
  const entry = new URL("./ml-thread.ts", import.meta.url).href;
  return `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
}

function settle(slot: Slot): Pending | null {
  const done = slot.current;
  slot.current = null;
  slot.worker.unref();
  return done;
}

function dispatch(): void {
  while (queue.length > 0 && !closing) {
    const idle = slots.find((s) => s.current === null) ?? (slots.length < mlThreadCount() ? startSlot() : null);
    if (!idle) return;
    const next = queue.shift()!;
    idle.current = next;
    // A busy thread keeps the process alive, so an awaited task is not cut short by an exit.
    idle.worker.ref();
    const transfer = next.options.transferArgs ? transferableBuffers(next.args) : [];
    try {
      idle.worker.postMessage({ id: next.id, task: next.task, args: next.args }, transfer);
    } catch (error) {
      settle(idle);
      next.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

function startSlot(): Slot {
  const worker = new Worker(threadBootstrap(), { eval: true });
  const slot: Slot = { worker, current: null };
  worker.unref();
  worker.on("message", (message: ThreadMessage) => {
    const pending = slot.current;
    if (!pending || pending.id !== message.id) return;
    if (message.kind === "progress") {
      try {
        pending.options.onProgress?.(message.progress);
      } catch {
        // Progress is advisory; a failing reporter must not lose the task.
      }
      return;
    }
    settle(slot);
    if (message.kind === "result") pending.resolve(message.value);
    else pending.reject(new MlThreadError(message.error.name, message.error.message, message.error.code));
    dispatch();
  });
  const fail = (error: Error) => {
    const index = slots.indexOf(slot);
    if (index >= 0) slots.splice(index, 1);
    const pending = settle(slot);
    pending?.reject(error);
    dispatch();
  };
  worker.on("error", (error) => fail(new Error(`ML thread failed: ${error.message}`, { cause: error })));
  worker.on("exit", (code) => fail(new Error(`ML thread exited (code ${code}) while running a task`)));
  slots.push(slot);
  return slot;
}

/**
 * Runs ML task `task` on a worker thread and resolves with its result (see the module comment).
 * @throws MlThreadError with the task's own error, or Error when the thread died.
 */
export function runInMlThread<K extends MlTaskName>(task: K, args: MlTaskArgs<K>, options: RunInThreadOptions = {}): Promise<MlTaskResult<K>> {
  if (mlThreadCount() === 0) {
    return new Promise((resolve, reject) => {
      try {
        resolve(runMlTask(task, args, options.onProgress));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }
  return new Promise<MlTaskResult<K>>((resolve, reject) => {
    queue.push({ id: nextId++, task, args, options, resolve: resolve as (value: unknown) => void, reject });
    dispatch();
  });
}

/** Stops every thread (worker shutdown, tests); queued and running tasks fail. */
export async function closeMlThreads(): Promise<void> {
  closing = true;
  try {
    const all = slots.splice(0, slots.length);
    for (const pending of queue.splice(0, queue.length)) pending.reject(new Error("ML threads closed"));
    await Promise.all(all.map((slot) => slot.worker.terminate()));
  } finally {
    closing = false;
  }
}
