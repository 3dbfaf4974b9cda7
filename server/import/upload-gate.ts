/**
 * A cap on uploads being received and imported at once by this web process (issue 12, fault 12):
 * each upload is streamed to disk and then read for the all-or-nothing import, so without a cap a
 * burst of large uploads could take the process's memory and disk. At most IMPORT_MAX_CONCURRENT
 * uploads run at once; another one is answered 429 at once (the page says to try again when the
 * running import finishes). Uses the same slot gate as password hashing.
 */
import { createHashGate, type HashGate } from "@/server/auth/hash-gate";
import { loadServerEnv } from "@/server/env";

/** What an upload is told when the cap is reached (HTTP 429). */
export const UPLOAD_BUSY_MESSAGE = "Other imports are running on the server; try again when they have finished.";

let gate: HashGate | null = null;

/** The process's upload gate, created on first use from IMPORT_MAX_CONCURRENT. */
export function uploadGate(): HashGate {
  gate ??= createHashGate({ max: loadServerEnv().IMPORT_MAX_CONCURRENT, maxWaiting: 0, maxWaitMs: 0 });
  return gate;
}
