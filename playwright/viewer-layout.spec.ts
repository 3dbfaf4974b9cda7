/**
 * The case view's layout for an image case without narrative, and the viewer's overlay legibility
 * (issue 11 item 5, found in a new-user tryout): a case holding only the bright 1760×1760 CR of
 * ../shared/data/dicom has no report column and no text-evidence buttons, its image takes most of
 * the width at 1280×720, and the label panel with Submit stays on screen without scrolling at
 * 1280×720 and 1440×900. The window/level and zoom readout sits on a dark, semi-opaque box, so the
 * text keeps its contrast on a bright image. Screenshots go to test-results/viewer-layout-*.png.
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { referenceDir } from "../models/dicom/reference";
import { createProjectLikeDemo, DEMO_USERS, queryE2eDb, signInAndWait } from "./fixtures";

const { dicom: DICOM_DIR } = referenceDir(path.resolve(import.meta.dirname, ".."));
/** A bright chest CR (lossless JPEG 2000), imported as a case with no narrative. */
const BRIGHT = "RG3_J2KR.dcm";
const SHOTS = path.resolve(import.meta.dirname, "../test-results");

/** Relative luminance (WCAG) of an `rgb(...)`/`rgba(...)` colour composited over `under` (0–255 grey). */
function luminanceOver(css: string, under: number): number {
  const [r, g, b, a = 1] = css.match(/[\d.]+/g)!.map(Number);
  const channel = (c: number) => {
    const v = (c * a + under * (1 - a)) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r!) + 0.7152 * channel(g!) + 0.0722 * channel(b!);
}

test("an image case without narrative: no report column, the image gets the width, readable overlay", async ({ page }) => {
  test.setTimeout(120_000);
  await signInAndWait(page, DEMO_USERS.ADMIN);
  const projectId = await createProjectLikeDemo(page, `Viewer layout ${Date.now().toString(36)}`);
  await page.goto(`/projects/${projectId}/import`);
  await page.getByLabel("Files").setInputFiles([{ name: BRIGHT, mimeType: "application/dicom", buffer: fs.readFileSync(path.join(DICOM_DIR, BRIGHT)) }]);
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByTestId("import-result").getByRole("heading", { name: "Imported" })).toBeVisible({ timeout: 60_000 });
  const [target] = await queryE2eDb<{ caseId: string; narrative: string | null }>(`SELECT id AS "caseId", narrative FROM "Case" WHERE "projectId" = $1`, [projectId]);
  expect((target?.narrative ?? "").trim()).toBe("");

  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(`/queue/${projectId}?case=${target!.caseId}`);
  const viewport = page.getByTestId("viewport");
  await expect(viewport).toHaveAttribute("data-window", /\d+\/-?\d+/, { timeout: 30_000 });

  // No report column and no text-evidence controls; the case line stays.
  await expect(page.getByTestId("case-position")).toBeVisible();
  await expect(page.getByTestId("narrative")).toHaveCount(0);
  await expect(page.getByTestId("text-evidence-actions")).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^Evidence:/ })).toHaveCount(0);

  for (const size of [
    { width: 1280, height: 720 },
    { width: 1440, height: 900 },
  ]) {
    await page.setViewportSize(size);
    // The image takes the main column's whole width (beside the 220 px navigation and the 320 px label
    // panel): about half the window at 1280×720, where the report column left it about 370 px (0.29).
    await expect.poll(async () => (await viewport.boundingBox())!.width / size.width, { message: `viewport width share at ${size.width}×${size.height}` }).toBeGreaterThan(0.45);
    // The label panel with Submit is on screen without scrolling, and so is the whole image.
    await expect(page.getByRole("group", { name: "Labels" })).toBeInViewport({ ratio: 1 });
    await expect(page.getByRole("button", { name: /^Submit/ })).toBeInViewport({ ratio: 1 });
    const box = (await viewport.boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(size.height);
    expect(await page.evaluate(() => document.scrollingElement!.scrollTop)).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, `viewer-layout-${size.width}x${size.height}.png`) });
  }

  // The readout: text on a dark box — contrast of the text against the box over a white pixel ≥ 4.5:1.
  const readout = page.getByTestId("viewer-readout");
  await expect(page.getByTestId("viewer-window")).toBeVisible();
  const style = await readout.evaluate((el) => ({ color: getComputedStyle(el).color, background: getComputedStyle(el).backgroundColor }));
  const boxOverWhite = style.background.match(/[\d.]+/g)!.map(Number);
  const [r, g, b, a = 1] = boxOverWhite;
  const composite = `rgb(${r! * a + 255 * (1 - a)}, ${g! * a + 255 * (1 - a)}, ${b! * a + 255 * (1 - a)})`;
  const text = luminanceOver(style.color, 0);
  const backing = luminanceOver(composite, 0);
  expect((Math.max(text, backing) + 0.05) / (Math.min(text, backing) + 0.05)).toBeGreaterThanOrEqual(4.5);
  await readout.screenshot({ path: path.join(SHOTS, "viewer-layout-readout.png") });
});
