/**
 * Reads the claims of NextAuth's session cookie without NextAuth's per-request round (issue 16).
 *
 * `getServerSession` derives the cookie key with HKDF on every call (NextAuth's `decode`), decrypts
 * the JWT, runs the callbacks and then derives the key again to encrypt a refreshed token — which,
 * called from a route handler or a server component as we do, it cannot even set (its response
 * object is a no-op there). That was 0.2–0.9 ms of CPU per request (docs/benchmarks.md). Here the
 * key is derived once per secret and kept; the token is checked exactly as NextAuth's `decode`
 * checks it — `jwtDecrypt` of jose (NextAuth's own dependency) with alg "dir" / enc "A256GCM" and
 * NextAuth's 15 s clock tolerance on `exp`/`nbf` — so a forged, tampered, expired or other-secret
 * cookie reads as no session, as before. Only the JWT is checked here: the server-side session
 * (open, not idle, user active, epoch current) is still checked on every request by
 * server/auth/session.ts → resolveSession.
 */
import crypto from "node:crypto";
import { jwtDecrypt } from "jose";
import type { SessionClaims } from "./session-cache";

/** NextAuth's key derivation (next-auth/jwt getDerivedEncryptionKey, salt ""): HKDF-SHA256, 32 bytes. */
export function deriveSessionKey(secret: string): Uint8Array {
  return new Uint8Array(crypto.hkdfSync("sha256", secret, "", "NextAuth.js Generated Encryption Key", 32));
}

const keys = new Map<string, Uint8Array>();
function keyFor(secret: string): Uint8Array {
  let key = keys.get(secret);
  if (!key) {
    key = deriveSessionKey(secret);
    keys.clear(); // one secret per process; a changed one (tests) replaces the old key
    keys.set(secret, key);
  }
  return key;
}

/** The session cookie's name: NextAuth's, with the __Secure- prefix when cookies are secure (https). */
export function sessionCookieName(secure: boolean): string {
  return `${secure ? "__Secure-" : ""}next-auth.session-token`;
}

/**
 * The session token from the request's cookies: the cookie itself, or NextAuth's chunks
 * (`name.0`, `name.1`, … joined in order) when the token was too long for one cookie.
 */
export function sessionTokenFrom(cookies: ReadonlyMap<string, string>, secure: boolean): string | null {
  const name = sessionCookieName(secure);
  const whole = cookies.get(name);
  if (whole) return whole;
  const chunks: string[] = [];
  for (let i = 0; cookies.has(`${name}.${i}`); i++) chunks.push(cookies.get(`${name}.${i}`)!);
  return chunks.length > 0 ? chunks.join("") : null;
}

/**
 * The claims our jwt callback put in the token (uid, epoch, sid), or null when the token is missing,
 * not decryptable with `secret`, expired, or lacks them. Never throws for a bad token.
 */
export async function readSessionClaims(token: string | null, secret: string): Promise<SessionClaims | null> {
  if (!token) return null;
  try {
    const { payload } = await jwtDecrypt(token, keyFor(secret), { clockTolerance: 15, keyManagementAlgorithms: ["dir"], contentEncryptionAlgorithms: ["A256GCM"] });
    const { uid, epoch, sid } = payload as { uid?: unknown; epoch?: unknown; sid?: unknown };
    if (typeof uid !== "string" || typeof epoch !== "number" || typeof sid !== "string") return null;
    return { userId: uid, epoch, sid };
  } catch {
    return null;
  }
}
