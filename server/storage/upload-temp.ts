/**
 * Private temporary folders for uploads being received. The upload route removes its folder when
 * it answers; a web process killed mid-upload (kill -9, out of memory, power) cannot, and the
 * folder would keep the uploaded files — possibly patient data — in /tmp indefinitely. So each
 * folder carries the pid of the process that made it, and every new upload first removes the
 * folders of processes that no longer exist.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const PREFIX = "rads-upload-";

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else — alive, not ours to judge.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes upload folders under `parent` left by processes that are gone; returns their names. */
export async function sweepAbandonedUploads(parent = os.tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  const entries = await fs.promises.readdir(parent, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const match = entry.isDirectory() ? new RegExp(`^${PREFIX}(\\d+)-`).exec(entry.name) : null;
    if (!match || processAlive(Number(match[1]))) continue;
    await fs.promises.rm(path.join(parent, entry.name), { recursive: true, force: true });
    removed.push(entry.name);
  }
  return removed;
}

/** A new private folder for one upload, named after this process. */
export function makeUploadDir(parent = os.tmpdir()): Promise<string> {
  return fs.promises.mkdtemp(path.join(parent, `${PREFIX}${process.pid}-`));
}
