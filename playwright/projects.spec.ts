import { expect, test } from "@playwright/test";
import { DEMO_USERS, signInAndWait } from "./fixtures";

test("a data scientist creates a project, edits its labels, and sees field errors for a duplicate key and a taken name", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.DATA_SCIENTIST);
  await page.goto("/projects");
  await page.getByRole("link", { name: "New project" }).click();
  await expect(page.getByRole("heading", { name: "New project" })).toBeVisible();

  const name = `Neurology vs rest ${Date.now().toString(36)}`;
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Description").fill("Which transcriptions are neurology?");
  await page.getByLabel("Key of label 1").fill("neuro");
  await page.getByLabel("Name of label 1").fill("Neurology");
  await page.getByLabel("Guideline of label 1").fill("Brain, spinal cord and nerves.");
  await page.getByLabel("Label 1 is a minority class").check();
  await page.getByLabel("Key of label 2").fill("other");
  await page.getByLabel("Name of label 2").fill("Other");
  await page.getByLabel("ρ", { exact: true }).fill("0.3");
  await page.getByRole("button", { name: "Create project" }).click();

  // The overview of the new project, under its tabs.
  await expect(page.getByRole("heading", { name })).toBeVisible();
  await expect(page.getByTestId("overview-label")).toHaveCount(2);
  await expect(page.getByTestId("overview-label").first()).toContainText("Brain, spinal cord and nerves.");
  const tabs = page.getByRole("navigation", { name: "Project" });
  await expect(tabs.getByRole("link", { name: "Settings" })).toBeVisible();
  await tabs.getByRole("link", { name: "Settings" }).click();

  // A third class with a key already used: a message on that key's field, nothing saved.
  const labels = page.getByRole("form", { name: "Label schema" });
  await expect(labels.getByTestId("label-row")).toHaveCount(2);
  await expect(labels.getByLabel("Key of label 1")).toHaveAttribute("readonly", "");
  await labels.getByRole("button", { name: "Add a label" }).click();
  await labels.getByLabel("Key of label 3").fill("neuro");
  await labels.getByLabel("Name of label 3").fill("Orthopedic");
  await labels.getByRole("button", { name: "Save labels" }).click();
  const keyCell = labels.getByTestId("label-row").nth(2).locator("td").first();
  await expect(keyCell.getByTestId("field-error")).toHaveText('The key "neuro" is used twice');
  await page.reload();
  await expect(page.getByRole("form", { name: "Label schema" }).getByTestId("label-row")).toHaveCount(2);

  // Fixed: a new class, and a rename that keeps the key.
  await labels.getByRole("button", { name: "Add a label" }).click();
  await labels.getByLabel("Key of label 3").fill("ortho");
  await labels.getByLabel("Name of label 3").fill("Orthopedic");
  await labels.getByLabel("Name of label 2").fill("Everything else");
  await labels.getByRole("button", { name: "Save labels" }).click();
  await expect(labels.getByRole("status")).toHaveText("Saved.");
  await page.reload();
  await expect(labels.getByTestId("label-row")).toHaveCount(3);
  await expect(labels.getByLabel("Key of label 2")).toHaveValue("other");
  await expect(labels.getByLabel("Name of label 2")).toHaveValue("Everything else");

  // The same name again (other case) is refused on the name field.
  await page.goto("/projects/new");
  await page.getByLabel("Name", { exact: true }).fill(name.toUpperCase());
  await page.getByLabel("Key of label 1").fill("a");
  await page.getByLabel("Name of label 1").fill("A");
  await page.getByLabel("Label 1 is a minority class").check();
  await page.getByLabel("Key of label 2").fill("b");
  await page.getByLabel("Name of label 2").fill("B");
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByTestId("field-error").first()).toContainText("already exists");
  await page.goto("/projects");
  await expect(page.getByTestId("project").filter({ hasText: name })).toHaveCount(1);
});

test("a clinician cannot create projects and gets no settings tab", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.CLINICIAN);
  await page.goto("/projects");
  await expect(page.getByTestId("project").first()).toBeVisible();
  await expect(page.getByRole("link", { name: "New project" })).toHaveCount(0);
  await page.getByTestId("project").first().getByRole("link", { name: "Open" }).click();
  const tabs = page.getByRole("navigation", { name: "Project" });
  await expect(tabs.getByRole("link", { name: "Overview" })).toBeVisible();
  await expect(tabs.getByRole("link", { name: "Settings" })).toHaveCount(0);
  await page.goto("/projects/new");
  await expect(page.getByRole("heading", { name: "Not available" })).toBeVisible();
});
