import { afterAll, describe, expect, it } from "vitest";
import { testDb, uniqueEmail } from "../testing/fixtures";
import { resolveOidcUser, type OidcPolicy } from "../services/auth-service";
import { loadServerEnv } from "../env";
import { buildAuthOptions } from "./options";

afterAll(async () => {
  await testDb().$disconnect();
});

const open: OidcPolicy = { defaultRole: "CLINICIAN", allowedDomains: [] };

describe("hospital single sign-on (generic OIDC)", () => {
  it("is offered only when all OIDC variables are set", () => {
    const base = { DATABASE_URL: "postgresql://u:p@localhost/db", NEXTAUTH_SECRET: "s".repeat(40) };
    expect(buildAuthOptions(loadServerEnv(base)).providers.map((p) => p.id)).toEqual(["credentials"]);
    const withSso = loadServerEnv({ ...base, OIDC_ISSUER: "https://sso.hospital.example", OIDC_CLIENT_ID: "rads", OIDC_CLIENT_SECRET: "x" });
    const providers = buildAuthOptions(withSso).providers;
    expect(providers.map((p) => p.id)).toEqual(["credentials", "oidc"]);
    expect((providers[1] as { wellKnown?: string }).wellKnown).toBe("https://sso.hospital.example/.well-known/openid-configuration");
  });

  it("creates a user with the default role on first sign-in, links a verified e-mail, and refuses deactivated users", async () => {
    const email = uniqueEmail("sso");
    const first = await resolveOidcUser(testDb(), { subject: `sub-${email}`, email, emailVerified: true, name: "Sso User" }, open);
    expect(first).toMatchObject({ user: { email, role: "CLINICIAN" } });
    const again = await resolveOidcUser(testDb(), { subject: `sub-${email}`, email, emailVerified: true, name: "Sso User" }, { ...open, defaultRole: "REVIEWER" });
    expect("user" in again && "user" in first && again.user.id === first.user.id).toBe(true);

    const existingEmail = uniqueEmail("linked");
    const existing = await testDb().user.create({ data: { email: existingEmail, name: "Has Password", role: "REVIEWER", passwordHash: null } });
    const linked = await resolveOidcUser(testDb(), { subject: "sub-linked-" + existingEmail, email: existingEmail.toUpperCase(), emailVerified: true, name: "X" }, open);
    expect(linked).toMatchObject({ user: { id: existing.id, role: "REVIEWER" } });
    expect(await testDb().auditEvent.count({ where: { action: "user.link-oidc", targetId: existing.id } })).toBe(1);

    await testDb().user.update({ where: { id: existing.id }, data: { active: false } });
    expect(await resolveOidcUser(testDb(), { subject: "sub-linked-" + existingEmail, email: existingEmail, emailVerified: true, name: "X" }, open)).toEqual({ refused: "AccountDisabled" });
  });

  it("never links an existing account (an admin, say) by an e-mail the IdP has not verified, nor provisions one", async () => {
    const adminEmail = uniqueEmail("admin");
    const admin = await testDb().user.create({ data: { email: adminEmail, name: "Admin", role: "ADMIN", passwordHash: null } });
    const attacker = await resolveOidcUser(testDb(), { subject: "attacker-sub-" + adminEmail, email: adminEmail, emailVerified: false, name: "Mallory" }, open);
    expect(attacker).toEqual({ refused: "OidcEmailNotVerified" });
    expect((await testDb().user.findUniqueOrThrow({ where: { id: admin.id } })).oidcSubject).toBeNull();

    const newcomer = uniqueEmail("unverified");
    expect(await resolveOidcUser(testDb(), { subject: "sub-" + newcomer, email: newcomer, emailVerified: false, name: "N" }, open)).toEqual({ refused: "OidcEmailNotVerified" });
    expect(await testDb().user.count({ where: { email: newcomer } })).toBe(0);
  });

  it("with an allowed-domain list, refuses other domains (also for an already linked subject)", async () => {
    const policy: OidcPolicy = { defaultRole: "CLINICIAN", allowedDomains: ["hospital.example"] };
    const outsider = `someone-${Date.now()}@elsewhere.example`;
    expect(await resolveOidcUser(testDb(), { subject: "sub-" + outsider, email: outsider, emailVerified: true, name: "O" }, policy)).toEqual({ refused: "OidcDomainNotAllowed" });
    expect(await testDb().user.count({ where: { email: outsider } })).toBe(0);
    const insider = `someone-${Date.now()}@hospital.example`;
    expect(await resolveOidcUser(testDb(), { subject: "sub-" + insider, email: insider, emailVerified: true, name: "I" }, policy)).toMatchObject({ user: { email: insider, role: "CLINICIAN" } });
    // The same identity later under a domain that is no longer allowed.
    expect(await resolveOidcUser(testDb(), { subject: "sub-" + insider, email: insider, emailVerified: true, name: "I" }, { ...policy, allowedDomains: ["other.example"] })).toEqual({
      refused: "OidcDomainNotAllowed",
    });
  });

  it("never provisions admins: OIDC_DEFAULT_ROLE=ADMIN is refused at start-up, and by the service", async () => {
    const base = { DATABASE_URL: "postgresql://u:p@localhost/db", NEXTAUTH_SECRET: "s".repeat(40) };
    expect(() => loadServerEnv({ ...base, OIDC_DEFAULT_ROLE: "ADMIN" })).toThrow(/OIDC_DEFAULT_ROLE may not be ADMIN/);
    expect(loadServerEnv({ ...base, OIDC_ALLOWED_DOMAINS: " Hospital.example, @uni.example " }).OIDC_ALLOWED_DOMAINS).toEqual(["hospital.example", "uni.example"]);
    expect(() => loadServerEnv({ ...base, OIDC_ALLOWED_DOMAINS: "not a domain" })).toThrow(/OIDC_ALLOWED_DOMAINS/);
    const email = uniqueEmail("would-be-admin");
    await expect(resolveOidcUser(testDb(), { subject: "sub-" + email, email, emailVerified: true, name: "W" }, { defaultRole: "ADMIN", allowedDomains: [] })).rejects.toThrow(/ADMIN/);
    expect(await testDb().user.count({ where: { email } })).toBe(0);
  });
});
