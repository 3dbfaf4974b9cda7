import "server-only";
import { getServerSession } from "next-auth";
import { getDb } from "../db/client";
import { loadServerEnv } from "../env";
import { resolveSession, type SessionUser } from "../services/auth-service";
import { authOptions } from "./options";
import { sessionCache } from "./session-cache";

/**
 * The signed-in, still-active user of this request, or null: the cookie's session must still be
 * open on the server (not signed out, not idle past SESSION_IDLE_MINUTES, not expired) and the
 * user active with an unchanged session epoch. With SESSION_CHECK_CACHE_MS set (off by default;
 * server/auth/session-cache.ts) a successful check is reused for at most that long, so
 * deactivation, an epoch bump or a sign-out elsewhere ends access within that time.
 */
export async function currentUser(): Promise<SessionUser | null> {
  const session = (await getServerSession(authOptions())) as { uid?: unknown; epoch?: unknown; sid?: unknown } | null;
  if (!session || typeof session.uid !== "string" || typeof session.epoch !== "number" || typeof session.sid !== "string") return null;
  const claims = { userId: session.uid, epoch: session.epoch, sid: session.sid };
  return sessionCache().resolve(claims, () => resolveSession(getDb(), claims, { idleMinutes: loadServerEnv().SESSION_IDLE_MINUTES }));
}
