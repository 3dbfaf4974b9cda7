import { expect, test } from "@playwright/test";
import { DEMO_USERS, signInAndWait } from "./fixtures";

test("the admin reads the audit log, which records sign-ins and changes", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.ADMIN);
  await page.goto("/admin/audit");
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  await expect(page.getByTestId("audit-row").filter({ hasText: "auth.sign-in" }).first()).toBeVisible();
  await page.getByLabel("Action starts with").fill("demo.");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.getByTestId("audit-row").filter({ hasText: "demo.seed" })).toHaveCount(1);
});
