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
 *
 * A token once decrypted is remembered (issue 16: jose's AES-GCM decrypt cost ~0.07 ms of the web process's
 * ~1.2 ms per submit-and-take-the-next; a browser sends the same cookie on every call): the claims of a token
 * string that `jwtDecrypt` accepted with the current secret are a function of that string alone, except for the
 * time checks, which are made again on every use exactly as jose makes them (`exp`/`nbf` with the 15 s tolerance).
 * Only accepted tokens are kept (a refused one is decrypted, and refused, every time), at most
 * CLAIMS_CACHE_SIZE of them, the oldest dropped first; a changed secret forgets them all.
 */
import crypto from "node:crypto";
import { jwtDecrypt } from "jose";
import type { SessionClaims } from "./session-cache";

/** NextAuth's key derivation (next-auth/jwt getDerivedEncryptionKey, salt ""): HKDF-SHA256, 32 bytes. */
export function deriveSessionKey(secret: string): Uint8Array {
  return new Uint8Array(crypto.hkdfSync("sha256", secret, "", "NextAuth.js Generated Encryption Key", 32));
}

/** NextAuth's clock tolerance on `exp`/`nbf`, seconds (its `decode`). */
const CLOCK_TOLERANCE_S = 15;
/** How many accepted tokens are remembered (each a few hundred bytes): more than the clinicians signed in at once. */
export const CLAIMS_CACHE_SIZE = 4096;

/** An accepted token's claims with the payload's time claims, checked again on every use. */
interface KnownToken {
  claims: SessionClaims;
  exp: number | undefined;
  nbf: number | undefined;
}

/** The key and the accepted tokens of the one secret in use (a changed secret, e.g. in tests, replaces both). */
let current: { secret: string; key: Uint8Array; tokens: Map<string, KnownToken> } | null = null;
function stateFor(secret: string): { key: Uint8Array; tokens: Map<string, KnownToken> } {
  if (current?.secret !== secret) current = { secret, key: deriveSessionKey(secret), tokens: new Map() };
  return current;
}

/** jose's time checks (jwt_claims_set: `nbf > now + tolerance` or `exp <= now - tolerance` refuse), now in whole seconds. */
function timely(known: KnownToken): boolean {
  const now = Math.floor(Date.now() / 1000);
  if (known.nbf !== undefined && known.nbf > now + CLOCK_TOLERANCE_S) return false;
  return !(known.exp !== undefined && known.exp <= now - CLOCK_TOLERANCE_S);
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
  const { key, tokens } = stateFor(secret);
  const known = tokens.get(token);
  if (known) {
    if (timely(known)) return { ...known.claims };
    tokens.delete(token);
    return null;
  }
  try {
    const { payload } = await jwtDecrypt(token, key, { clockTolerance: CLOCK_TOLERANCE_S, keyManagementAlgorithms: ["dir"], contentEncryptionAlgorithms: ["A256GCM"] });
    const { uid, epoch, sid } = payload as { uid?: unknown; epoch?: unknown; sid?: unknown };
    if (typeof uid !== "string" || typeof epoch !== "number" || typeof sid !== "string") return null;
    const claims: SessionClaims = { userId: uid, epoch, sid };
    // jwtDecrypt refused any exp/nbf that is not a number: both are numbers or absent here.
    if (tokens.size >= CLAIMS_CACHE_SIZE) tokens.delete(tokens.keys().next().value!);
    tokens.set(token, { claims, exp: payload.exp, nbf: payload.nbf });
    return { ...claims };
  } catch {
    return null;
  }
}
