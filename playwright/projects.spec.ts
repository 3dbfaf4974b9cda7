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
  await page.getByLabel("ρ (between 0 and 1)").fill("0.3");
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

test("New project: minority flags follow their row, not the key; the encoder follows what a case holds", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.DATA_SCIENTIST);
  await page.goto("/projects/new");
  // Two rows with the same key keep one flag each; retyping row 2's key leaves row 1's flag where it is.
  await page.getByLabel("Key of label 1").fill("a");
  await page.getByLabel("Label 1 is a minority class").check();
  await page.getByLabel("Key of label 2").fill("a");
  await expect(page.getByLabel("Label 1 is a minority class")).toBeChecked();
  await expect(page.getByLabel("Label 2 is a minority class")).not.toBeChecked();
  await page.getByLabel("Key of label 2").fill("b");
  await expect(page.getByLabel("Label 1 is a minority class")).toBeChecked();
  await expect(page.getByLabel("Label 2 is a minority class")).not.toBeChecked();

  // Narrative: the LSA text encoder. Images only: there is no built-in image encoder, so the form asks for one.
  await expect(page.getByTestId("encoder-default")).toContainText("LSA");
  await page.getByLabel("Name", { exact: true }).fill(`Chest films ${Date.now().toString(36)}`);
  await page.getByLabel("Name of label 1").fill("A");
  await page.getByLabel("Name of label 2").fill("B");
  await page.getByLabel("Images (DICOM, PNG, JPEG)").check();
  await expect(page.getByTestId("encoder-default")).toHaveCount(0);
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByLabel("Image encoder (.onnx file in the models folder)").locator("..").getByTestId("field-error")).toContainText("needs an image encoder");
  await expect(page).toHaveURL(/\/projects\/new$/);
});

test("a platform admin sees every project and joins one to help; an archived project says read-only up front; invites offer only manageable projects", async ({ page, browser }) => {
  // A data scientist's new project, which the admin is not a member of.
  await signInAndWait(page, DEMO_USERS.DATA_SCIENTIST);
  await page.goto("/projects/new");
  const name = `Admin help ${Date.now().toString(36)}`;
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Key of label 1").fill("rare");
  await page.getByLabel("Name of label 1").fill("Rare");
  await page.getByLabel("Label 1 is a minority class").check();
  await page.getByLabel("Key of label 2").fill("other");
  await page.getByLabel("Name of label 2").fill("Other");
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByRole("heading", { name })).toBeVisible();
  const projectUrl = page.url();

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAndWait(admin, DEMO_USERS.ADMIN);
  // Invites offer only projects whose members the admin manages: not this one yet.
  await admin.goto("/admin/users");
  await expect(admin.getByRole("group", { name: "Add to projects" })).toBeVisible();
  await expect(admin.getByRole("group", { name: "Add to projects" }).getByLabel(name)).toHaveCount(0);
  await admin.goto("/projects");
  const row = admin.getByTestId(`other-project-${name}`);
  await expect(row).toContainText(DEMO_USERS.DATA_SCIENTIST);
  await row.getByRole("button", { name: "Join as Admin" }).click();
  await expect(admin.getByRole("status").filter({ hasText: `You joined "${name}" as Admin.` })).toBeVisible();
  await expect(admin.getByTestId("project").filter({ hasText: name })).toHaveCount(1);
  await admin.goto("/admin/users");
  await expect(admin.getByRole("group", { name: "Add to projects" }).getByLabel(name)).toHaveCount(1);

  // Members: the Add form lists the same roles as a member's row; Admin is for platform admins only.
  await admin.goto(`${projectUrl}/members`);
  const addRole = admin.getByLabel("Role of the new member");
  await expect(addRole.locator("option")).toHaveText(["Clinician", "Data scientist", "Reviewer", "Admin (platform admins only)"]);
  await expect(addRole.locator("option", { hasText: "Admin" })).toBeDisabled();

  // Archived: the Import tab and page say so before anything is uploaded, and the form is disabled.
  await page.goto(`${projectUrl}/settings`);
  await page.getByRole("button", { name: "Archive project…" }).click();
  await page.getByRole("button", { name: "Yes, archive it" }).click();
  await expect(page.getByRole("button", { name: "Unarchive project" })).toBeVisible();
  await page.goto(`${projectUrl}/import`);
  const tabs = page.getByRole("navigation", { name: "Project" });
  await expect(tabs.getByRole("link", { name: "Import (archived — read-only)" })).toBeVisible();
  await expect(tabs.getByTestId("tab-not-for-role")).toHaveCount(0);
  await expect(page.getByTestId("archived-read-only")).toContainText("archived — read-only");
  await expect(page.getByRole("form", { name: "Import" }).locator('input[type="file"]')).toBeDisabled();
  // An archived project is no longer offered for invites either.
  await admin.goto("/admin/users");
  await expect(admin.getByRole("group", { name: "Add to projects" })).toBeVisible();
  await expect(admin.getByRole("group", { name: "Add to projects" }).getByLabel(name)).toHaveCount(0);
  await adminContext.close();
});
