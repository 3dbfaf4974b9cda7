/**
 * The case viewer with several images (issue 11 item 5): a case holding a CT slice, a 10-frame MR
 * and an MR slice (three files of ../shared/data/dicom imported into one case through a manifest)
 * shows a thumbnail strip — one drawn thumbnail per image; a click on one shows that image (frame
 * counter, size readout, canvas pixels), the wheel scrolls on through its frames into the next
 * image, and the active thumbnail follows. The CT's window presets (brain, bone) set the window
 * (readout and canvas pixels); an MR shows no CT presets. A large JPEG 2000 image (the 1760×1760 CR,
 * a case of its own) shows a reduced-resolution preview first, then its full-resolution image.
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { referenceDir } from "../models/dicom/reference";
import { createProjectLikeDemo, DEMO_USERS, queryE2eDb, signInAndWait } from "./fixtures";

const { dicom: DICOM_DIR } = referenceDir(path.resolve(import.meta.dirname, ".."));
/** In import order: CT 128×128 (1 frame), MR 64×64 (10 frames), MR 64×64 (1 frame). */
const FILES = ["CT_small.dcm", "emri_small.dcm", "MR_small.dcm"] as const;
const TOTAL_FRAMES = 12;
/** 1760×1760 lossless JPEG 2000 CR: at 1440×900 the viewport shows less than half its pixels. */
const LARGE = "RG3_J2KR.dcm";

/** Sum and mean of a canvas's red channel; `selector` names the canvas. */
const canvasStats = (page: Page, selector: string) =>
  page.evaluate((sel) => {
    const canvas = document.querySelector<HTMLCanvasElement>(sel);
    if (!canvas || canvas.width === 0 || canvas.height === 0) return { mean: 0, lit: 0 };
    const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    let lit = 0;
    for (let i = 0; i < data.length; i += 4) {
      sum += data[i]!;
      if (data[i]! > 0) lit++;
    }
    return { mean: sum / (data.length / 4), lit };
  }, selector);
const viewportMean = async (page: Page) => (await canvasStats(page, '[data-testid="viewport"] canvas')).mean;

test("a case with several images: thumbnail strip, wheel scrolling across images, CT window presets", async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  await signInAndWait(page, DEMO_USERS.ADMIN);

  // A project of its own (the demo's configuration under another name), so no other spec sees the case.
  const projectId = await createProjectLikeDemo(page, `Viewer series ${Date.now().toString(36)}`);

  // Three files, one case (the manifest maps each file to the same case id); the large CR in a case of its own.
  const manifest = `case_id,file\n${FILES.map((file) => `series-case,${file}`).join("\n")}\nlarge-case,${LARGE}\n`;
  await page.goto(`/projects/${projectId}/import`);
  await page.getByLabel("Files").setInputFiles([
    ...[...FILES, LARGE].map((file) => ({ name: file, mimeType: "application/dicom", buffer: fs.readFileSync(path.join(DICOM_DIR, file)) })),
    { name: "manifest.csv", mimeType: "text/csv", buffer: Buffer.from(manifest) },
  ]);
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByTestId("import-result").getByRole("heading", { name: "Imported" })).toBeVisible({ timeout: 60_000 });
  const cases = await queryE2eDb<{ caseId: string; externalId: string; images: number }>(
    `SELECT c.id AS "caseId", c."externalId", count(i.id)::int AS images FROM "Case" c JOIN "CaseImage" i ON i."caseId" = c.id WHERE c."projectId" = $1 GROUP BY c.id`,
    [projectId],
  );
  const target = cases.find((c) => c.externalId === "series-case");
  const large = cases.find((c) => c.externalId === "large-case");
  expect(target?.images).toBe(3);
  expect(large?.images).toBe(1);

  await page.goto(`/queue/${projectId}?case=${target!.caseId}`);
  const viewport = page.getByTestId("viewport");
  await expect(viewport).toHaveAttribute("data-window", /\d+\/-?\d+/, { timeout: 30_000 });
  const frame = page.getByTestId("viewer-frame");
  await expect(frame).toHaveText(`Frame 1 / ${TOTAL_FRAMES}`);

  // One thumbnail per image, each drawn (its canvas has lit pixels), labelled with position and frames.
  const thumbs = page.getByTestId("viewer-thumbnail");
  await expect(thumbs).toHaveCount(3);
  await expect(thumbs.nth(1)).toContainText("10 fr");
  for (let i = 0; i < 3; i++) {
    await expect.poll(async () => (await canvasStats(page, `[data-testid="viewer-thumbnail"]:nth-child(${i + 1}) canvas`)).lit, { message: `thumbnail ${i + 1} drawn` }).toBeGreaterThan(50);
  }
  await expect(thumbs.nth(0)).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("viewer-readout")).toContainText("128×128");

  // CT presets: brain, then bone — the window readout and the pixels follow.
  const ctDefault = await viewportMean(page);
  await page.getByTestId("preset-brain").click();
  await expect(page.getByTestId("viewer-window")).toHaveText("W 80 L 40");
  await expect.poll(() => viewportMean(page)).not.toBeCloseTo(ctDefault, 0);
  const brain = await viewportMean(page);
  await page.getByTestId("preset-bone").click();
  await expect(page.getByTestId("viewer-window")).toHaveText("W 2000 L 300");
  await expect.poll(() => viewportMean(page)).not.toBeCloseTo(brain, 0);

  // The MR's thumbnail: its first frame, its size; no CT presets on an MR.
  const ctPixels = await viewportMean(page);
  await thumbs.nth(1).click();
  await expect(frame).toHaveText(`Frame 2 / ${TOTAL_FRAMES}`);
  await expect(thumbs.nth(1)).toHaveAttribute("aria-pressed", "true");
  await expect(thumbs.nth(0)).toHaveAttribute("aria-pressed", "false");
  await expect(page.getByTestId("viewer-readout")).toContainText("64×64");
  await expect.poll(() => viewportMean(page)).not.toBeCloseTo(ctPixels, 0);
  await expect(page.getByTestId("preset-brain")).toHaveCount(0);

  // The wheel scrolls through the MR's frames (pixels change) and on into the last image.
  const box = (await viewport.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const mrFirst = await viewportMean(page);
  await page.mouse.wheel(0, 100);
  await expect(frame).toHaveText(`Frame 3 / ${TOTAL_FRAMES}`);
  await expect.poll(() => viewportMean(page)).not.toBeCloseTo(mrFirst, 1);
  for (let f = 4; f <= 12; f++) {
    await page.mouse.wheel(0, 100);
    await expect(frame).toHaveText(`Frame ${f} / ${TOTAL_FRAMES}`);
  }
  await expect(thumbs.nth(2)).toHaveAttribute("aria-pressed", "true");
  await expect(thumbs.nth(1)).toHaveAttribute("aria-pressed", "false");

  // Back to the CT by its thumbnail: frame 1 and the CT presets again.
  await thumbs.nth(0).click();
  await expect(frame).toHaveText(`Frame 1 / ${TOTAL_FRAMES}`);
  await expect(page.getByTestId("preset-lung")).toBeVisible();

  // The large JPEG 2000 image: a preview (one resolution level down, the image's own size) is drawn
  // first, then the full-resolution image replaces it.
  await page.goto(`/queue/${projectId}?case=${large!.caseId}`);
  await expect(page.getByTestId("viewer-readout")).toContainText("1760×1760", { timeout: 30_000 });
  await page.waitForFunction(() => (window.__radsImageTimings ?? []).some((t) => t.imageId.startsWith("dicom:") && !t.preview), undefined, { timeout: 60_000 });
  const timings = await page.evaluate(() => (window.__radsImageTimings ?? []).map((t) => ({ preview: t.preview, renderedAt: t.renderedAt })));
  expect(timings.map((t) => t.preview)).toEqual([1, 0]);
  expect(timings[0]!.renderedAt).toBeLessThan(timings[1]!.renderedAt);
  const shown = await page.evaluate(() => {
    const cs = (window as unknown as { cornerstone: { getEnabledElements(): { element: HTMLElement; image?: { preview?: number; width: number } }[] } }).cornerstone;
    const image = cs.getEnabledElements().find((e) => e.element.isConnected)!.image!;
    return { preview: image.preview ?? 0, width: image.width };
  });
  expect(shown).toEqual({ preview: 0, width: 1760 });
  expect((await canvasStats(page, '[data-testid="viewport"] canvas')).lit).toBeGreaterThan(1000);
});
