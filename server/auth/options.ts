/**
 * NextAuth configuration: e-mail + password (scrypt, throttled) for the embedded default, and a
 * generic OIDC provider for hospital single sign-on when OIDC_* variables are set. Sessions are
 * JWTs that carry only the user id and session epoch; the role is re-read from the database on
 * every request (server/auth/session.ts), so a role change or deactivation applies at once.
 */
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { ZSignInInput } from "@/contracts/users";
import { getDb } from "../db/client";
import { loadServerEnv, oidcEnabled, type ServerEnv } from "../env";
import { DomainError } from "../errors";
import { authenticateWithPassword, resolveOidcUser } from "../services/auth-service";

/** Error codes the sign-in page turns into messages (NextAuth passes thrown messages through). */
export const SIGN_IN_ERRORS = {
  invalid: "CredentialsSignin",
  throttledPrefix: "THROTTLED:",
} as const;

export function buildAuthOptions(env: ServerEnv = loadServerEnv()): NextAuthOptions {
  const providers: NextAuthOptions["providers"] = [
    CredentialsProvider({
      id: "credentials",
      name: "E-mail and password",
      credentials: { email: { label: "E-mail", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials) {
        const parsed = ZSignInInput.safeParse(credentials ?? {});
        if (!parsed.success) return null;
        try {
          const user = await authenticateWithPassword(getDb(), parsed.data.email, parsed.data.password, {
            maxFailures: env.LOGIN_MAX_FAILURES,
            lockMinutes: env.LOGIN_LOCK_MINUTES,
          });
          return user ? { id: user.id, email: user.email, name: user.name, sessionEpoch: user.sessionEpoch } : null;
        } catch (error) {
          if (error instanceof DomainError && error.kind === "THROTTLED") {
            throw new Error(`${SIGN_IN_ERRORS.throttledPrefix}${String(error.details?.minutes ?? "")}`);
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
      profile(profile: { sub: string; email?: string; name?: string }) {
        return { id: profile.sub, email: profile.email ?? null, name: profile.name ?? null };
      },
    });
  }

  return {
    secret: env.NEXTAUTH_SECRET,
    session: { strategy: "jwt", maxAge: 12 * 60 * 60 },
    pages: { signIn: "/signin" },
    providers,
    useSecureCookies: env.NEXTAUTH_URL?.startsWith("https://") ?? false,
    callbacks: {
      async signIn({ user, account, profile }) {
        if (account?.provider !== "oidc") return true;
        const email = (profile as { email?: string } | undefined)?.email;
        if (!email) return "/signin?error=OidcNoEmail";
        const resolved = await resolveOidcUser(getDb(), { subject: account.providerAccountId, email, name: user.name ?? email }, env.OIDC_DEFAULT_ROLE);
        if (!resolved) return "/signin?error=AccountDisabled";
        Object.assign(user, { id: resolved.id, sessionEpoch: resolved.sessionEpoch });
        return true;
      },
      async jwt({ token, user }) {
        if (user) {
          token.uid = user.id;
          token.epoch = (user as { sessionEpoch?: number }).sessionEpoch ?? 0;
        }
        return token;
      },
      async session({ session, token }) {
        return { ...session, uid: token.uid, epoch: token.epoch };
      },
    },
  };
}

let cached: NextAuthOptions | undefined;
export function authOptions(): NextAuthOptions {
  cached ??= buildAuthOptions();
  return cached;
}
