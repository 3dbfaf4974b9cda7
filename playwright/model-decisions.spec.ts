/**
 * New-user tryout findings in the browser, against the real platform: an older candidate is
 * superseded once a newer model is approved (shown, not approvable, audited); a decided model's page
 * shows the decision instead of inviting one; the change-password text and its confirmation; the
 * admin users page's confirmations and messages; an empty list in the audit log's details.
 * The model history is seeded by the test-only scripts/e2e-superseded-fixtures.ts in a project of its own
 * (with a reviewer of its own: the demo reviewer's model list, read by version elsewhere, stays as it was).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { DEMO_USERS, e2eDatabaseUrl, queryE2eDb as query, signIn, signInAndWait } from "./fixtures";

const root = path.resolve(import.meta.dirname, "..");

interface Seeded {
  projectId: string;
  name: string;
  reviewer: { email: string; name: string; password: string };
  v1: { id: string; version: number };
  v2: { id: string; version: number };
  v3: { id: string; version: number };
}

function seed(): Seeded {
  const out = execFileSync(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/e2e-superseded-fixtures.ts"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: e2eDatabaseUrl(), LOG_LEVEL: "error" },
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").at(-1)!) as Seeded;
}

test("approving a newer model supersedes the older candidate: shown as such, not approvable, and decided pages show the decision", async ({ page }) => {
  const s = seed();
  await signInAndWait(page, s.reviewer.email, s.reviewer.password);

  // Before: v2 has no test metrics, so its page claims no comparison with the active model.
  await page.goto(`/models/${s.v2.id}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("CANDIDATE");
  await expect(page.getByText(`The active model is v${s.v1.version}; this model has no recorded test metrics, so nothing is compared with it.`)).toBeVisible();
  await expect(page.getByText("on the same TEST split")).toHaveCount(0);

  // The reviewer approves v3: the notice names v2 as superseded.
  await page.goto(`/models/${s.v3.id}`);
  const decision = page.getByTestId("decision");
  await decision.getByLabel("Review note (required)").fill("Trained on the new TEST cases; approve.");
  await decision.getByRole("button", { name: "Approve" }).click();
  await expect(decision.getByRole("status")).toContainText(`v${s.v1.version} retired; older candidate v${s.v2.version} superseded (no longer approvable)`);
  // v3 decided: the decision with who and the note; nothing invites a decision any more.
  await expect(decision.getByTestId("decision-record")).toContainText(`Approved by ${s.reviewer.name}`);
  await expect(decision.getByTestId("decision-record")).toContainText("Trained on the new TEST cases; approve.");
  await expect(decision.getByRole("button", { name: "Approve" })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Before you decide" })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "What this model rests on" })).toBeVisible();
  await expect(page.getByTestId("guard")).not.toContainText("you may still decide");
  await page.screenshot({ path: test.info().outputPath("approved-v3.png"), fullPage: true });

  // v2: superseded, by whose approval and why; no decision form; the list says so too.
  await page.goto(`/models/${s.v2.id}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("SUPERSEDED");
  const record = page.getByTestId("decision-record");
  await expect(record).toHaveAttribute("data-status", "SUPERSEDED");
  await expect(record).toContainText(`Superseded when v${s.v3.version} was approved by ${s.reviewer.name}`);
  await expect(record).toContainText("It cannot be approved or rejected.");
  await expect(page.getByTestId("decision").getByRole("button")).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Before you decide" })).toHaveCount(0);
  await expect(page.getByText(`this model has no recorded test metrics, so nothing is compared with it`)).toBeVisible();
  await page.screenshot({ path: test.info().outputPath("superseded-v2.png"), fullPage: true });
  await page.goto("/models");
  await expect(page.getByTestId(`model-row-v${s.v2.version}`).filter({ hasText: s.name })).toContainText("SUPERSEDED");

  // The server refuses it too, with the reason.
  const baseURL = test.info().project.use.baseURL!;
  const refused = await page.request.post("/api/trpc/review.decide", {
    headers: { origin: baseURL, "content-type": "application/json" },
    data: { json: { modelVersionId: s.v2.id, decision: "approve", note: "approving the stale v2 after v3" } },
  });
  expect(refused.status()).toBe(409);
  expect(await refused.text()).toContain(`Model v${s.v2.version} is superseded: v${s.v3.version}, trained after it, was approved`);
  const rows = await query<{ version: number; status: string }>(`SELECT version, status::text FROM "ModelVersion" WHERE "projectId" = $1 ORDER BY version`, [s.projectId]);
  expect(rows.map((r) => r.status)).toEqual(["RETIRED", "SUPERSEDED", "APPROVED"]);
  const audit = await query<{ action: string }>(`SELECT action FROM "AuditEvent" WHERE "targetId" = $1`, [s.v2.id]);
  expect(audit.map((a) => a.action)).toEqual(["model.supersede"]);

  // v1, retired: its approval and that it was retired, nothing to decide.
  await page.goto(`/models/${s.v1.id}`);
  await expect(page.getByTestId("decision-record")).toContainText("since retired, when a newer model was approved");
  await expect(page.getByRole("heading", { name: "Before you decide" })).toHaveCount(0);
});

test("admin users: role change and deactivation ask first and confirm; the change-password text is true and the change is confirmed; empty lists in the audit log read 'none'", async ({ page, browser }) => {
  const email = `tryout-${Date.now()}@demo.local`;
  const typed = "a-typed-initial-password";
  await signInAndWait(page, DEMO_USERS.ADMIN);
  await page.goto("/admin/users");
  const form = page.getByRole("form", { name: "Invite a user" });
  await form.getByLabel("E-mail").fill(email);
  await form.getByLabel("Name", { exact: true }).fill("Tryout Person");
  await form.getByLabel("Initial password (optional)").fill(typed);
  await form.getByRole("button", { name: "Invite" }).click();
  await expect(page.getByRole("status")).toContainText(`Created ${email}`);

  // The admin typed the password: the page does not claim it was generated; after the change the sign-in page says so.
  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  await signIn(user, email, typed);
  await expect(user).toHaveURL(/\/change-password/, { timeout: 30_000 });
  await expect(user.getByTestId("must-change-password")).toContainText("your current password was set for you (by an administrator");
  await expect(user.getByTestId("must-change-password")).not.toContainText("generated");
  const change = user.getByRole("form", { name: "Change password" });
  await change.getByLabel("Current password").fill(typed);
  await change.getByLabel("New password (at least 12 characters)").fill("tryout-own-password");
  await change.getByLabel("New password again").fill("tryout-own-password");
  await change.getByRole("button", { name: "Change password" }).click();
  await expect(user).toHaveURL(/\/signin/, { timeout: 30_000 });
  await expect(user.getByTestId("password-changed")).toHaveText("Your password was changed and every session of yours was ended. Sign in with your new password.");
  await signInAndWait(user, email, "tryout-own-password");

  // Role: dismissed, nothing changes; accepted, it changes, says so, and the user's session ended.
  await page.reload();
  const row = page.getByTestId(`user-row-${email}`);
  const role = row.getByLabel(`Role of ${email}`);
  await expect(role).toHaveValue("CLINICIAN");
  const asked: string[] = [];
  page.once("dialog", (dialog) => {
    asked.push(dialog.message());
    void dialog.dismiss();
  });
  await role.selectOption("REVIEWER");
  await expect(role).toHaveValue("CLINICIAN");
  expect(asked[0]).toBe("Change Tryout Person's platform role from Clinician to Reviewer? This signs Tryout Person out at once; they sign in again with the new role.");
  page.once("dialog", (dialog) => void dialog.accept());
  await role.selectOption("REVIEWER");
  await expect(page.getByTestId("users-message")).toHaveText("Tryout Person is now Reviewer; they were signed out and sign in again with the new role.");
  await expect(role).toHaveValue("REVIEWER");
  await user.goto("/");
  await expect(user).toHaveURL(/\/signin/);

  // Deactivate: dismissed, still active; accepted, deactivated with a message.
  page.once("dialog", (dialog) => {
    asked.push(dialog.message());
    void dialog.dismiss();
  });
  await row.getByRole("button", { name: "Deactivate" }).click();
  expect(asked[1]).toContain(`Deactivate Tryout Person (${email})? This signs Tryout Person out at once`);
  await expect(row).toContainText("active");
  await expect(row.getByRole("button", { name: "Deactivate" })).toBeVisible();
  page.once("dialog", (dialog) => void dialog.accept());
  await row.getByRole("button", { name: "Deactivate" }).click();
  await expect(page.getByTestId("users-message")).toHaveText("Tryout Person is deactivated and was signed out.");
  await expect(row).toContainText("deactivated");
  await page.screenshot({ path: test.info().outputPath("admin-users.png"), fullPage: true });
  await userContext.close();

  // The audit log: the new user joined no project — "projects: none", not "[0]".
  await page.goto("/admin/audit");
  await page.getByLabel("Action starts with").fill("user.create");
  await page.getByRole("button", { name: "Apply filters" }).click();
  const created = page.getByTestId("audit-row").filter({ hasText: email });
  await expect(created.locator("summary")).toHaveText("role: CLINICIAN, projects: none, mustChange: true");
  await page.screenshot({ path: test.info().outputPath("audit.png"), fullPage: true });
});
