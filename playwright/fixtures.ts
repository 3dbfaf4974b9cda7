import { expect, type Page } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { DEMO_PROJECT_NAME } from "../prisma/demo/narratives";

export const DEMO_PASSWORD = "demo-password";

export const DEMO_USERS = {
  ADMIN: "admin@demo.local",
  CLINICIAN: "clinician@demo.local",
  DATA_SCIENTIST: "scientist@demo.local",
  REVIEWER: "reviewer@demo.local",
} as const;

export async function signIn(page: Page, email: string, password = DEMO_PASSWORD) {
  await page.goto("/signin");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function signInAndWait(page: Page, email: string, password = DEMO_PASSWORD) {
  await signIn(page, email, password);
  await expect(page.getByTestId("current-user")).toBeVisible();
}

/**
 * A project of its own for a spec (so no other spec sees its cases): the demo project's configuration,
 * exported and created again under `name` through the API, holding narratives and images. The signed-in
 * user must be allowed to export and create projects (ADMIN or DATA_SCIENTIST). Returns the new id.
 */
export async function createProjectLikeDemo(page: Page, name: string): Promise<string> {
  return page.evaluate(
    async ({ name, demoName }) => {
      const list = await (await fetch("/api/trpc/projects.listMine")).json();
      const demo = (list.result.data.json as { id: string; name: string }[]).find((p) => p.name === demoName);
      if (!demo) throw new Error(`the demo project "${demoName}" is not listed`);
      const input = encodeURIComponent(JSON.stringify({ json: { projectId: demo.id } }));
      const exported = await (await fetch(`/api/trpc/projectAdmin.exportConfig?input=${input}`)).json();
      const config = { ...exported.result.data.json, name, caseContent: "both" };
      const response = await fetch("/api/trpc/projectAdmin.create", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ json: config }) });
      const created = await response.json();
      const id = created.result?.data?.json?.id ?? created.result?.data?.json?.project?.id;
      if (!id) throw new Error(`project not created: ${JSON.stringify(created).slice(0, 300)}`);
      return id as string;
    },
    { name, demoName: DEMO_PROJECT_NAME },
  );
}

/**
 * First sign-in with a password an admin handed out (must-change, issue 12 fault 5): the app sends
 * the user to /change-password; they choose `newPassword`, are signed out, and sign in with it.
 */
export async function signInWithTemporaryPassword(page: Page, email: string, temporary: string, newPassword: string) {
  await signIn(page, email, temporary);
  await expect(page).toHaveURL(/\/change-password/, { timeout: 30_000 });
  const change = page.getByRole("form", { name: "Change password" });
  await change.getByLabel("Current password").fill(temporary);
  await change.getByLabel("New password (at least 12 characters)").fill(newPassword);
  await change.getByLabel("New password again").fill(newPassword);
  await change.getByRole("button", { name: "Change password" }).click();
  await expect(page).toHaveURL(/\/signin/, { timeout: 30_000 });
  await signInAndWait(page, email, newPassword);
}

/**
 * The e2e platform's embedded database (scripts/e2e.ts picks the data folder and port; see
 * playwright.config.ts), as its application role: the password is the data folder's own, read from
 * `<DATA_DIR>/postgres.credentials.json` (server/db/embedded-postgres.ts) once the platform started.
 */
export function e2eDatabaseUrl(): string {
  const dataDir = path.resolve(import.meta.dirname, "..", process.env.E2E_DATA_DIR ?? ".data/e2e");
  const { appPassword } = JSON.parse(fs.readFileSync(path.join(dataDir, "postgres.credentials.json"), "utf8")) as { appPassword: string };
  return `postgresql://rads_app:${appPassword}@127.0.0.1:${process.env.E2E_PG_PORT ?? "54341"}/rads`;
}

/** One query against the e2e database, on a connection of its own. */
export async function queryE2eDb<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: e2eDatabaseUrl() });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
