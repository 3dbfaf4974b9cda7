/**
 * NextAuth configuration: e-mail + password (scrypt, throttled per address and account) for the
 * embedded default, and a generic OIDC provider for hospital single sign-on when OIDC_* variables
 * are set. Sessions are JWTs that carry only the user id, session epoch and server-side session id
 * (sid); the session row and the role are re-read from the database on every request
 * (server/auth/session.ts), so sign-out, the idle timeout, a role change or deactivation apply at
 * once. Redirects after sign-in stay on our own origin (server/auth/callback-url.ts).
 */
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { ZSignInInput } from "@/contracts/users";
import { getDb } from "../db/client";
import { loadServerEnv, oidcEnabled, type ServerEnv } from "../env";
import { DomainError } from "../errors";
import { logger } from "../log";
import { authenticateWithPassword, endSession, resolveOidcUser, SESSION_MAX_AGE_SECONDS, startSession } from "../services/auth-service";
import { safeCallbackUrl } from "./callback-url";
import { requestClient } from "./client-address";
import { requireAuthSecret } from "./secret";

/** Error codes the sign-in page turns into messages (NextAuth passes thrown messages through). */
export const SIGN_IN_ERRORS = {
  invalid: "CredentialsSignin",
  throttledPrefix: "THROTTLED:",
} as const;

/** The OIDC callback's client (address, User-Agent) from the request headers; NextAuth's callbacks get no request. */
async function oidcRequestClient(env: ServerEnv) {
  try {
    const { headers } = await import("next/headers");
    return requestClient(await headers(), env.TRUSTED_PROXY_HOPS);
  } catch {
    return undefined; // outside a request (tests calling the callback directly)
  }
}

export function buildAuthOptions(env: ServerEnv = loadServerEnv()): NextAuthOptions {
  const providers: NextAuthOptions["providers"] = [
    CredentialsProvider({
      id: "credentials",
      name: "E-mail and password",
      credentials: { email: { label: "E-mail", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials, req) {
        const parsed = ZSignInInput.safeParse(credentials ?? {});
        if (!parsed.success) return null;
        try {
          const client = requestClient(req?.headers ?? {}, env.TRUSTED_PROXY_HOPS);
          const user = await authenticateWithPassword(
            getDb(),
            parsed.data.email,
            parsed.data.password,
            {
              maxFailures: env.LOGIN_MAX_FAILURES,
              lockMinutes: env.LOGIN_LOCK_MINUTES,
              maxFailuresPerAddress: env.LOGIN_MAX_FAILURES_PER_ADDRESS,
              maxDelaySeconds: env.LOGIN_MAX_DELAY_SECONDS,
            },
            client,
          );
          return user ? { id: user.id, email: user.email, name: user.name, sessionEpoch: user.sessionEpoch } : null;
        } catch (error) {
          if (error instanceof DomainError && error.kind === "THROTTLED") {
            throw new Error(`${SIGN_IN_ERRORS.throttledPrefix}${String(error.details?.seconds ?? "")}`);
          }
          throw error;
        }
      },
    }),
  ];
  if (oidcEnabled(env)) {
    providers.push({
      id: "oidc",
      name: env.OIDC_DISPLAY_NAME,
      type: "oauth",
      wellKnown: `${env.OIDC_ISSUER!.replace(/\/$/, "")}/.well-known/openid-configuration`,
      clientId: env.OIDC_CLIENT_ID,
      clientSecret: env.OIDC_CLIENT_SECRET,
      authorization: { params: { scope: "openid email profile" } },
      idToken: true,
      checks: ["pkce", "state"],
      profile(profile: { sub: string; email?: string; name?: string; email_verified?: unknown }) {
        return { id: profile.sub, email: profile.email ?? null, name: profile.name ?? null };
      },
    });
  }

  return {
    // Never NextAuth's fallback, which derives a key from public configuration (issue 12, fault 9).
    secret: requireAuthSecret(env.NEXTAUTH_SECRET),
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: "/signin" },
    providers,
    useSecureCookies: env.NEXTAUTH_URL?.startsWith("https://") ?? false,
    events: {
      // Sign-out ends the session on the server too: a copy of the cookie stops working at once.
      async signOut({ token }) {
        const sid = (token as { sid?: unknown } | null)?.sid;
        if (typeof sid === "string") {
          await endSession(getDb(), sid); // also forgets it in every web process's session-check cache
        } else {
          logger.warn("sign-out of a session without a server-side id");
        }
      },
    },
    callbacks: {
      async signIn({ user, account, profile }) {
        if (account?.provider !== "oidc") return true;
        const claims = profile as { email?: string; email_verified?: unknown } | undefined;
        const email = claims?.email;
        if (!email) return "/signin?error=OidcNoEmail";
        const emailVerified = claims?.email_verified === true || claims?.email_verified === "true";
        const resolved = await resolveOidcUser(
          getDb(),
          { subject: account.providerAccountId, email, emailVerified, name: user.name ?? email },
          { defaultRole: env.OIDC_DEFAULT_ROLE, allowedDomains: env.OIDC_ALLOWED_DOMAINS },
          await oidcRequestClient(env),
        );
        if ("refused" in resolved) return `/signin?error=${resolved.refused}`;
        Object.assign(user, { id: resolved.user.id, sessionEpoch: resolved.user.sessionEpoch });
        return true;
      },
      async redirect({ url, baseUrl: origin }) {
        return safeCallbackUrl(url, origin);
      },
      async jwt({ token, user }) {
        if (user) {
          token.uid = user.id;
          token.epoch = (user as { sessionEpoch?: number }).sessionEpoch ?? 0;
          token.sid = await startSession(getDb(), user.id);
        }
        return token;
      },
      async session({ session, token }) {
        return { ...session, uid: token.uid, epoch: token.epoch, sid: token.sid };
      },
    },
  };
}

let cached: NextAuthOptions | undefined;
export function authOptions(): NextAuthOptions {
  cached ??= buildAuthOptions();
  return cached;
}
