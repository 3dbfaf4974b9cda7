import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { DEMO_USERS, signInAndWait } from "./fixtures";

const DICOM_DIR = path.resolve(import.meta.dirname, "../../shared/data/dicom");

test("a data scientist sees per-file errors for a bad batch (nothing imported), then imports a valid CSV", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.DATA_SCIENTIST);
  await page.goto("/projects");
  await page.getByTestId("project").filter({ hasText: "Demo — rare findings" }).getByRole("link", { name: "Import data" }).click();
  await expect(page.getByRole("heading", { name: /Import data — Demo — rare findings/ })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Import batches" })).toBeVisible();

  const stamp = Date.now().toString(36);
  const badCsv = `id,text,split\ne2e-${stamp}-1,"A fine report.",POOL\ne2e-${stamp}-2,bro"ken quote,POOL\ne2e-${stamp}-3,,TEST\n`;
  await page.getByLabel("Files").setInputFiles([
    { name: "reports.csv", mimeType: "text/csv", buffer: Buffer.from(badCsv) },
    { name: "MR_truncated.dcm", mimeType: "application/dicom", buffer: fs.readFileSync(path.join(DICOM_DIR, "MR_truncated.dcm")) },
  ]);
  await page.getByRole("button", { name: "Import" }).click();
  const rejected = page.getByTestId("import-rejected");
  await expect(rejected.getByRole("heading", { name: "Nothing was imported" })).toBeVisible();
  const issues = rejected.getByTestId("import-issue");
  await expect(issues).toHaveCount(3);
  await expect(issues.filter({ hasText: "reports.csv" }).filter({ hasText: /quote inside unquoted field/ })).toContainText("3");
  await expect(issues.filter({ hasText: "reports.csv" }).filter({ hasText: "the text is empty" })).toContainText("4");
  await expect(issues.filter({ hasText: "MR_truncated.dcm" })).toContainText(/truncated/);
  await expect(page.getByTestId("import-batch")).toHaveCount(0);

  const goodCsv = `case_id,narrative,split,site\ne2e-${stamp}-1,"Chest CT: no nodule, lungs clear.",pool,north\ne2e-${stamp}-2,"Small pneumothorax, right apex.",TEST,south\n`;
  await page.getByLabel("Files").setInputFiles([{ name: "good.csv", mimeType: "text/csv", buffer: Buffer.from(goodCsv) }]);
  await page.getByRole("button", { name: "Import" }).click();
  const result = page.getByTestId("import-result");
  await expect(result.getByRole("heading", { name: "Imported" })).toBeVisible();
  await expect(result.getByTestId("count-cases")).toHaveText("2");
  await expect(result.getByTestId("count-narratives")).toHaveText("2");
  // What next (issue 15 item 10): where the round and the embedding show up, with links; no stale progress line.
  const next = result.getByTestId("import-next-steps");
  await expect(next).toContainText("What happens next");
  await expect(next.getByRole("link", { name: "Jobs" })).toHaveAttribute("href", /\/projects\/[^/]+\/jobs$/);
  await expect(next.getByRole("link", { name: "Case browser" })).toHaveAttribute("href", /\/projects\/[^/]+\/cases$/);
  await expect(page.getByRole("button", { name: "Import" })).toBeVisible();
  await expect(page.getByText("Uploaded; checking every file and row…")).toHaveCount(0);
  await expect(page.getByTestId("import-batch")).toHaveCount(1);
  await expect(page.getByTestId("import-batch").first()).toContainText("upload: good.csv");
  await expect(page.getByTestId("import-batch").first()).toContainText("Sasha Scientist");

  // The same file again is recognised and changes nothing.
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByTestId("import-result").getByRole("heading", { name: "Already imported" })).toBeVisible();
  await expect(page.getByTestId("import-batch")).toHaveCount(1);
});

test("a clinician gets no import page and the upload route refuses them", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.CLINICIAN);
  await page.goto("/projects");
  await expect(page.getByTestId("project").first()).toBeVisible();
  await expect(page.getByRole("link", { name: "Import data" })).toHaveCount(0);
  const projectId = await page.evaluate(async () => {
    const response = await fetch("/api/trpc/projects.listMine");
    const body = await response.json();
    return body.result.data.json[0].id as string;
  });
  const status = await page.evaluate(async (id) => {
    const form = new FormData();
    form.append("files", new Blob(["id,text\nx,y\n"]), "x.csv");
    return (await fetch(`/api/projects/${id}/import`, { method: "POST", body: form })).status;
  }, projectId);
  expect(status).toBe(403);
});
