import { expect, test } from "@playwright/test";
import { DEMO_PROJECT_NAME } from "../prisma/demo/narratives";
import { DEMO_USERS, signInAndWait, signInWithTemporaryPassword } from "./fixtures";

/** The demo project's id, from the projects page (no SQL). */
async function demoProjectId(page: import("@playwright/test").Page): Promise<string> {
  await page.goto("/projects");
  const link = page.getByTestId("project").filter({ hasText: DEMO_PROJECT_NAME }).getByRole("link").first();
  const href = await link.getAttribute("href");
  const id = href?.match(/\/projects\/([^/]+)/)?.[1];
  if (!id) throw new Error(`no link to the demo project (got ${href})`);
  return id;
}

test("an admin creates a user and adds them to a project in one step; the new user lands in it, a user without a project sees who to ask", async ({ page, browser }) => {
  const email = `joined-${Date.now()}@demo.local`;
  const loner = `loner-${Date.now()}@demo.local`;
  await signInAndWait(page, DEMO_USERS.ADMIN);
  const projectId = await demoProjectId(page);
  await page.goto("/admin/users");
  const form = page.getByRole("form", { name: "Invite a user" });
  await form.getByLabel("E-mail").fill(email);
  await form.getByLabel("Name", { exact: true }).fill("Joined Reviewer");
  await form.locator(`select[name="role"]`).selectOption("CLINICIAN");
  await form.getByLabel(DEMO_PROJECT_NAME, { exact: true }).check();
  await form.getByLabel(`Role in ${DEMO_PROJECT_NAME}`).selectOption("REVIEWER");
  await form.getByRole("button", { name: "Invite" }).click();
  const created = page.getByRole("status");
  await expect(created).toContainText(`Created ${email}`);
  await expect(created).toContainText("and added them to 1 project.");
  const password = (await created.textContent())!.match(/shown once\): (\S+)$/)?.[1];
  expect(password).toBeTruthy();

  // The members page shows the new member with the project role chosen at creation.
  await page.goto(`/projects/${projectId}/members`);
  await expect(page.getByRole("heading", { name: "Members", level: 1 })).toBeVisible();
  await expect(page.getByLabel(`Project role of ${email}`)).toHaveValue("REVIEWER");

  // The new user signs in and finds the project (no dead end).
  const joined = await browser.newContext();
  const joinedPage = await joined.newPage();
  // The password was handed out by the admin: the new user must choose their own first.
  await signInWithTemporaryPassword(joinedPage, email, password!, "joined-reviewer-own-password");
  await expect(joinedPage.getByTestId("who-to-ask")).toHaveCount(0);
  await joinedPage.goto("/projects");
  await expect(joinedPage.getByTestId("project").filter({ hasText: DEMO_PROJECT_NAME })).toBeVisible();
  await joined.close();

  // Changing a member's role asks first (issue 15 item 9): dismissed, nothing changes; confirmed, it does.
  await page.goto(`/projects/${projectId}/members`);
  const roleSelect = page.getByLabel(`Project role of ${email}`);
  await expect(roleSelect).toHaveValue("REVIEWER"); // rendered before its options are read (evaluateAll does not wait)
  const otherRole = (await roleSelect.locator("option").evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))).find((v) => v !== "REVIEWER");
  expect(otherRole, "another project role to change to").toBeTruthy();
  const asked: string[] = [];
  page.once("dialog", (dialog) => {
    asked.push(dialog.message());
    void dialog.dismiss();
  });
  await roleSelect.selectOption(otherRole!);
  await expect(roleSelect).toHaveValue("REVIEWER");
  expect(asked[0]).toMatch(/^Change .+'s role in this project from Reviewer to /);
  page.once("dialog", (dialog) => void dialog.accept());
  await roleSelect.selectOption(otherRole!);
  await expect(roleSelect).toHaveValue(otherRole!);
  // …and says so once it is done.
  await expect(page.getByRole("status").filter({ hasText: /is now .+ in this project\./ })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel(`Project role of ${email}`)).toHaveValue(otherRole!);

  // A user in no project sees whom to ask instead of "You are not a member of any project yet".
  await page.goto("/admin/users");
  await form.getByLabel("E-mail").fill(loner);
  await form.getByLabel("Name", { exact: true }).fill("Lone Clinician");
  await form.getByLabel("Initial password (optional)").fill("a-long-initial-password");
  await form.getByRole("button", { name: "Invite" }).click();
  await expect(page.getByRole("status")).toContainText(`Created ${loner}`);
  const lonely = await browser.newContext();
  const lonelyPage = await lonely.newPage();
  await signInWithTemporaryPassword(lonelyPage, loner, "a-long-initial-password", "lone-clinician-own-password");
  const ask = lonelyPage.getByTestId("who-to-ask");
  await expect(ask).toContainText("These people can add you to a project");
  // Each with the e-mail address to write to (and only people who can add members: admins, managers of a project).
  await expect(ask.getByTestId("contact").filter({ hasText: "Dana Admin" })).toContainText(DEMO_USERS.ADMIN);
  await expect(ask.getByTestId("contact").filter({ hasText: "Sasha Scientist" })).toContainText(DEMO_USERS.DATA_SCIENTIST);
  await lonely.close();
});

test("a data scientist changes the budget, with a field error for B = 0 and for B larger than the pool", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.DATA_SCIENTIST);
  const projectId = await demoProjectId(page);
  await page.goto(`/projects/${projectId}/settings/selection`);
  const form = page.getByRole("form", { name: "Selection and loop settings" });
  const budget = form.getByLabel("Budget B per round");
  const original = await budget.inputValue();
  await expect(form.getByText("B — cases per round; at most the number of pool cases.")).toBeVisible();

  await budget.fill("0");
  await form.getByRole("button", { name: "Save selection and loop settings" }).click();
  await expect(form.getByTestId("field-error")).toHaveText("B must be a whole number between 1 and 10,000");

  // The server knows the pool: a B larger than it is refused on the same field.
  await budget.fill("5000");
  await form.getByRole("button", { name: "Save selection and loop settings" }).click();
  await expect(form.getByTestId("field-error")).toContainText("is larger than the pool");

  await budget.fill("7");
  await form.getByRole("button", { name: "Save selection and loop settings" }).click();
  await expect(form.getByRole("status")).toContainText("Saved (1 change)");
  await expect(form.getByTestId("field-error")).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("form", { name: "Selection and loop settings" }).getByLabel("Budget B per round")).toHaveValue("7");

  // Put the demo's budget back for the specs that run after this one.
  await page.getByRole("form", { name: "Selection and loop settings" }).getByLabel("Budget B per round").fill(original);
  await page.getByRole("form", { name: "Selection and loop settings" }).getByRole("button", { name: "Save selection and loop settings" }).click();
  await expect(page.getByRole("form", { name: "Selection and loop settings" }).getByRole("status")).toContainText("Saved (1 change)");
});
