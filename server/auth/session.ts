import "server-only";
import { getServerSession } from "next-auth";
import { getDb } from "../db/client";
import { loadServerEnv } from "../env";
import { resolveSession, type SessionUser } from "../services/auth-service";
import { authOptions } from "./options";

/**
 * The signed-in, still-active user of this request, or null: the cookie's session must still be
 * open on the server (not signed out, not idle past SESSION_IDLE_MINUTES, not expired) and the
 * user active with an unchanged session epoch.
 */
export async function currentUser(): Promise<SessionUser | null> {
  const session = (await getServerSession(authOptions())) as { uid?: unknown; epoch?: unknown; sid?: unknown } | null;
  if (!session || typeof session.uid !== "string" || typeof session.epoch !== "number" || typeof session.sid !== "string") return null;
  return resolveSession(getDb(), { userId: session.uid, epoch: session.epoch, sid: session.sid }, { idleMinutes: loadServerEnv().SESSION_IDLE_MINUTES });
}
