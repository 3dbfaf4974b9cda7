/**
 * When the server stops accepting a user, the open workspace follows (app/_components/session-end.ts): a
 * 401 on any call — the waiting page's poll, a submission — clears the page and sends the browser to the
 * sign-in page with the reason; a removed member's poll (404) turns the workspace into "no longer have
 * access" with their projects. Also the screens that told a user something untrue: "1 remaining" beside
 * "nothing left" while a colleague holds the last case, My queue's "not a member" for a data scientist with
 * projects, and pages outside a role's navigation. Users and projects of its own (scripts/e2e-session-fixtures.ts).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { DEMO_PROJECT_NAME } from "../prisma/demo/narratives";
import { DEMO_USERS, e2eDatabaseUrl, signInAndWait } from "./fixtures";

test.describe.configure({ mode: "serial" });

const root = path.resolve(import.meta.dirname, "..");

interface Seeded {
  projectId: string;
  otherProjectId: string;
  tag: string;
  password: string;
  users: Record<"clinA" | "clinB" | "clinC" | "scientist", { id: string; email: string }>;
}
let seeded: Seeded;
const pages: Page[] = [];

test.beforeAll(() => {
  const out = execFileSync(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/e2e-session-fixtures.ts"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: e2eDatabaseUrl(), LOG_LEVEL: "error" },
    encoding: "utf8",
  });
  seeded = JSON.parse(out.trim().split("\n").at(-1)!) as Seeded;
});

test.afterAll(async () => {
  for (const page of pages) await page.context().close();
});

/** A signed-in page in a browser context of its own (kept open across the serial tests). */
async function asUser(browser: Browser, email: string, password: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  pages.push(page);
  await signInAndWait(page, email, password);
  return page;
}

/** A tRPC mutation with the page's session; expects 200. */
async function mutate(page: Page, pathName: string, input: unknown): Promise<void> {
  const origin = test.info().project.use.baseURL!;
  const response = await page.request.post(`/api/trpc/${pathName}`, { headers: { origin, "content-type": "application/json" }, data: { json: input } });
  expect(response.status(), `${pathName}: ${await response.text()}`).toBe(200);
}

let clinA: Page;
let clinB: Page;

test("a colleague holds the last case: the waiting page says who and until when, not only 'nothing left'", async ({ browser }) => {
  clinA = await asUser(browser, seeded.users.clinA.email, seeded.password);
  await clinA.goto(`/queue/${seeded.projectId}`);
  await expect(clinA.getByTestId("narrative")).toContainText("Session report");

  clinB = await asUser(browser, seeded.users.clinB.email, seeded.password);
  await clinB.goto(`/queue/${seeded.projectId}`);
  await expect(clinB.getByTestId("narrative")).toContainText("Session report");
  await clinB.getByRole("group", { name: "Labels" }).getByRole("button", { name: "Normal" }).click();
  await clinB.getByRole("button", { name: /^Submit/ }).click();

  const finished = clinB.getByTestId("queue-finished");
  await expect(finished).toBeVisible();
  await expect(clinB.getByTestId("queue-counts")).toContainText("1 remaining for you");
  await expect(finished).not.toContainText("Nothing left in your queue for this round");
  await expect(finished.getByTestId("held-cases")).toContainText(`1 case is held by a colleague (Carl ClinA ${seeded.tag}, lease until `);
  await expect(finished.getByTestId("held-cases")).toContainText("comes back to your queue if they don't finish it");
});

test("removed from the project while waiting: the poll's 404 says they no longer have access and offers their projects", async ({ browser }) => {
  const lead = await asUser(browser, seeded.users.scientist.email, seeded.password);
  await mutate(lead, "members.remove", { projectId: seeded.projectId, userId: seeded.users.clinB.id });
  // No click, no reload: the waiting page's own poll finds out.
  const refused = clinB.getByTestId("project-access-refused");
  await expect(refused).toBeVisible({ timeout: 15_000 });
  await expect(refused).toContainText("You no longer have access to");
  await expect(refused.getByRole("link", { name: "Your projects" })).toHaveAttribute("href", "/projects");
  await expect(clinB.getByTestId("queue-finished")).toHaveCount(0);
  await expect(clinB.getByText("Nothing left in your queue")).toHaveCount(0);
});

test("deactivated while waiting: the poll's 401 clears the page and sends them to sign in with the reason", async ({ browser }) => {
  const clinC = await asUser(browser, seeded.users.clinC.email, seeded.password);
  await clinC.goto(`/queue/${seeded.projectId}`);
  await expect(clinC.getByTestId("queue-finished")).toBeVisible();
  const admin = await asUser(browser, DEMO_USERS.ADMIN, "demo-password");
  await mutate(admin, "users.setActive", { userId: seeded.users.clinC.id, active: false });
  await expect(clinC).toHaveURL(/\/signin\?reason=session-ended/, { timeout: 15_000 });
  await expect(clinC.getByTestId("signin-reason")).toHaveText("Your session ended — sign in again.");
  await expect(clinC.getByTestId("queue-finished")).toHaveCount(0);
});

test("deactivated with a case on screen: the next call's 401 takes the patient text off the screen and sends them to sign in", async ({ browser }) => {
  await expect(clinA.getByTestId("narrative")).toContainText("Session report");
  const admin = await asUser(browser, DEMO_USERS.ADMIN, "demo-password");
  await mutate(admin, "users.setActive", { userId: seeded.users.clinA.id, active: false });
  await clinA.getByRole("group", { name: "Labels" }).getByRole("button", { name: "Finding" }).click();
  await clinA.getByRole("button", { name: /^Submit/ }).click();
  await expect(clinA).toHaveURL(/\/signin\?reason=session-ended/, { timeout: 15_000 });
  await expect(clinA.getByTestId("signin-reason")).toBeVisible();
  await expect(clinA.getByText("Session report")).toHaveCount(0);
  // Signing in again is refused (the account is deactivated), as before.
  await clinA.getByLabel("E-mail").fill(seeded.users.clinA.email);
  await clinA.getByLabel("Password").fill(seeded.password);
  await clinA.getByRole("button", { name: "Sign in" }).click();
  await expect(clinA.getByTestId("signin-error")).toBeVisible();
});

test("a data scientist with projects but no annotating role: My queue says so, and a project's queue says why it is not theirs", async ({ browser }) => {
  const lead = await asUser(browser, seeded.users.scientist.email, seeded.password);
  await lead.goto("/queue");
  const reason = lead.getByTestId("empty-queue-reason");
  await expect(reason).toContainText("You are a member of 2 projects, but your role there (Data scientist) does not include annotating");
  await expect(reason).not.toContainText("not a member");
  await lead.goto(`/queue/${seeded.projectId}`);
  await expect(lead.getByTestId("project-access-refused")).toContainText("does not include annotating");
});

test("a clinician at /models or a project's members page is told the page is not for their role", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.CLINICIAN);
  await page.goto("/models");
  await expect(page.getByText("Not available")).toBeVisible();
  await expect(page.getByTestId("role-gate-reason")).toContainText("Reviewer, Data scientist or Admin");
  await expect(page.getByText("No model has been trained yet")).toHaveCount(0);
  const list = await page.request.get("/api/trpc/projects.listMine");
  const demo = ((await list.json()).result.data.json as { id: string; name: string }[]).find((p) => p.name === DEMO_PROJECT_NAME)!;
  await page.goto(`/projects/${demo.id}/members`);
  await expect(page.getByTestId("role-gate-reason")).toContainText("Your role in this project does not give access to this page");
});
