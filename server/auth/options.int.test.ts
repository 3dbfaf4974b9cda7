import { afterAll, describe, expect, it } from "vitest";
import { testDb, uniqueEmail } from "../testing/fixtures";
import { resolveOidcUser } from "../services/auth-service";
import { loadServerEnv } from "../env";
import { buildAuthOptions } from "./options";

afterAll(async () => {
  await testDb().$disconnect();
});

describe("hospital single sign-on (generic OIDC)", () => {
  it("is offered only when all OIDC variables are set", () => {
    const base = { DATABASE_URL: "postgresql://u:p@localhost/db", NEXTAUTH_SECRET: "s".repeat(40) };
    expect(buildAuthOptions(loadServerEnv(base)).providers.map((p) => p.id)).toEqual(["credentials"]);
    const withSso = loadServerEnv({ ...base, OIDC_ISSUER: "https://sso.hospital.example", OIDC_CLIENT_ID: "rads", OIDC_CLIENT_SECRET: "x" });
    const providers = buildAuthOptions(withSso).providers;
    expect(providers.map((p) => p.id)).toEqual(["credentials", "oidc"]);
    expect((providers[1] as { wellKnown?: string }).wellKnown).toBe("https://sso.hospital.example/.well-known/openid-configuration");
  });

  it("creates a user with the default role on first sign-in, links by e-mail, and refuses deactivated users", async () => {
    const email = uniqueEmail("sso");
    const first = await resolveOidcUser(testDb(), { subject: `sub-${email}`, email, name: "Sso User" }, "CLINICIAN");
    expect(first).toMatchObject({ email, role: "CLINICIAN" });
    const again = await resolveOidcUser(testDb(), { subject: `sub-${email}`, email, name: "Sso User" }, "REVIEWER");
    expect(again?.id).toBe(first?.id);

    const existingEmail = uniqueEmail("linked");
    const existing = await testDb().user.create({ data: { email: existingEmail, name: "Has Password", role: "REVIEWER", passwordHash: null } });
    const linked = await resolveOidcUser(testDb(), { subject: "sub-linked-" + existingEmail, email: existingEmail.toUpperCase(), name: "X" }, "CLINICIAN");
    expect(linked).toMatchObject({ id: existing.id, role: "REVIEWER" });

    await testDb().user.update({ where: { id: existing.id }, data: { active: false } });
    expect(await resolveOidcUser(testDb(), { subject: "sub-linked-" + existingEmail, email: existingEmail, name: "X" }, "CLINICIAN")).toBeNull();
  });
});
