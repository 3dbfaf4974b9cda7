/**
 * Session-level PostgreSQL advisory locks on a dedicated connection, for locks that must live as
 * long as a job runs (minutes) rather than a transaction. Because the lock belongs to the
 * connection, it is released by PostgreSQL itself when the holding process dies — kill -9, a lost
 * machine — so a crashed worker can never leave a project locked, and "is the lock free?" is a
 * reliable "is anyone still running this?" across processes and machines sharing the database.
 *
 * Lock spaces (first key): 727010 = one JobRun executing, 727011 = one training per project,
 * 727012 = one worker de-identifying stored images at start (workers/jobs/deidentify-stored.ts).
 * (727001 migrations, 727002 seed, 727003 rounds, 727004 model approvals are transaction locks elsewhere.)
 */
import pg from "pg";

export const LOCK_JOB_RUN = 727_010;
export const LOCK_PROJECT_TRAINING = 727_011;
export const LOCK_DEIDENTIFY_STORED = 727_012;

export interface LockSession {
  /** Takes the lock (space, hashtext(key)) without waiting; true when this session now holds it. */
  tryLock(space: number, key: string): Promise<boolean>;
  unlock(space: number, key: string): Promise<void>;
  /** Closes the connection, which releases every lock it holds. */
  close(): Promise<void>;
}

export async function openLockSession(databaseUrl: string): Promise<LockSession> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "rads-locks" });
  await client.connect();
  // A dropped connection must not crash the process; the locks are gone with it, and the job's
  // final conditional updates notice nothing else (another worker may take over after recovery).
  client.on("error", () => undefined);
  let closed = false;
  return {
    async tryLock(space, key) {
      const result = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS locked", [space, key]);
      return result.rows[0]?.locked === true;
    },
    async unlock(space, key) {
      await client.query("SELECT pg_advisory_unlock($1::int, hashtext($2))", [space, key]);
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.end().catch(() => undefined);
    },
  };
}

/** True when nobody holds (space, key) right now (taken and released at once on a short-lived connection). */
export async function isLockFree(databaseUrl: string, space: number, key: string): Promise<boolean> {
  const session = await openLockSession(databaseUrl);
  try {
    return await session.tryLock(space, key);
  } finally {
    await session.close();
  }
}
