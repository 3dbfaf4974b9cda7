import "server-only";
import { getServerSession } from "next-auth";
import { getDb } from "../db/client";
import { resolveSessionUser, type SessionUser } from "../services/auth-service";
import { authOptions } from "./options";

/** The signed-in, still-active user of this request, or null. */
export async function currentUser(): Promise<SessionUser | null> {
  const session = (await getServerSession(authOptions())) as { uid?: unknown; epoch?: unknown } | null;
  if (!session || typeof session.uid !== "string" || typeof session.epoch !== "number") return null;
  return resolveSessionUser(getDb(), session.uid, session.epoch);
}
