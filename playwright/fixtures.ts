import { expect, type Page } from "@playwright/test";

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
