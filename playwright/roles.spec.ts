import { expect, test } from "@playwright/test";
import { navItemsFor } from "../contracts/navigation";
import { ROLE_LABELS, type RoleName } from "../contracts/roles";
import { DEMO_USERS, signInAndWait } from "./fixtures";

for (const [role, email] of Object.entries(DEMO_USERS) as [RoleName, string][]) {
  test(`${role} signs in, sees the navigation of the role, and signs out`, async ({ page }) => {
    await signInAndWait(page, email);
    await expect(page.getByTestId("current-role")).toHaveText(ROLE_LABELS[role]);
    const nav = page.getByRole("navigation", { name: "Main" });
    // The role's navigation, then the account's own link (every user may change their password).
    const expected = [...navItemsFor(role).map((item) => item.label), "Change password"];
    await expect(nav.getByRole("link")).toHaveText(expected);
    for (const item of navItemsFor(role)) {
      await nav.getByRole("link", { name: item.label, exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`${item.href === "/" ? "/$" : item.href}`));
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      await expect(page.getByText("Not available")).toHaveCount(0);
    }
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/signin/);
    await page.goto("/");
    await expect(page).toHaveURL(/\/signin/);
  });
}

test("a clinician is refused by the server, not only by hidden links", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.CLINICIAN);
  await page.goto("/admin/users");
  await expect(page.getByText("Not available")).toBeVisible();
  const response = await page.request.get("/api/trpc/users.list");
  expect(response.status()).toBe(403);
  const anonymous = await page.context().browser()!.newContext();
  const anonymousResponse = await anonymous.request.get(`${test.info().project.use.baseURL}/api/trpc/users.list`);
  expect(anonymousResponse.status()).toBe(401);
  await anonymous.close();
});
