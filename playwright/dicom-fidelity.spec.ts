/**
 * DICOM fidelity in Chromium (issue 11): every file of ../shared/data/dicom goes through the import
 * page; the files the independent reference could not render (index.json ok: false) and any file
 * our codecs do not read (KNOWN_UNDECODABLE, none at present) are refused with a specific reason; every accepted file's
 * middle frame is drawn by the case view's cornerstone (our decode worker, under the real CSP) at
 * native size (scale 1, no smoothing) and its canvas pixels are compared with
 * ../shared/data/dicom-reference/<stem>.png: MAD ≤ 4 of 255 and correlation ≥ 0.96 (lossy codecs:
 * LOSSY_FIDELITY). Images larger than the viewport are compared over the part the canvas shows.
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { isLossy } from "../models/dicom/capabilities";
import { compareSamples, FIDELITY, KNOWN_UNDECODABLE, LOSSY_FIDELITY, readReferenceIndex, readReferencePng, referenceDir } from "../models/dicom/reference";
import { createProjectLikeDemo, DEMO_USERS, queryE2eDb, signInAndWait } from "./fixtures";

const { dicom: DICOM_DIR, reference: REFERENCE_DIR } = referenceDir(path.resolve(import.meta.dirname, ".."));
const entries = readReferenceIndex(REFERENCE_DIR);
const refused = new Set([...entries.filter((e) => !e.ok).map((e) => e.file), ...Object.keys(KNOWN_UNDECODABLE)]);
const accepted = entries.filter((e) => !refused.has(e.file));

/** Why each refused file is refused (a fragment of the import page's message). */
const REASONS: Record<string, RegExp> = {
  "MR_truncated.dcm": /truncated/,
  "emri_small_jpeg_2k_lossless_too_short.dcm": /cut short/,
  "meta_missing_tsyntax.dcm": /no Transfer Syntax UID/,
  "no_meta.dcm": /not a DICOM file/,
  "JPEG2000-embedded-sequence-delimiter.dcm": /JPEG 2000 codestream is damaged/,
  "chrJapMultiExplicitIR6.dcm": /no Pixel Data/,
  "reportsi.dcm": /no Pixel Data/,
  ...KNOWN_UNDECODABLE,
};

const fileInput = (file: string) => ({ name: file, mimeType: "application/dicom", buffer: fs.readFileSync(path.join(DICOM_DIR, file)) });

interface Drawn {
  ok: boolean;
  message?: string;
  width?: number;
  height?: number;
  /** Image pixel of the canvas region's top-left corner, and the region's size. */
  x0?: number;
  y0?: number;
  w?: number;
  h?: number;
  /** The region's canvas pixels as R, G, B bytes, base64. */
  rgb?: string;
}

test("every DICOM the importer accepts is drawn like the reference rendering; the rest are refused with a reason", async ({ page }) => {
  test.setTimeout(240_000);
  await page.setViewportSize({ width: 1600, height: 1000 });
  const cspViolations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
  });
  await signInAndWait(page, DEMO_USERS.ADMIN);

  // A project of its own (the demo's configuration under another name), so no other spec sees these cases.
  // The demo is picked by name (other specs create projects too), and the copy holds images whatever the demo says.
  const projectId = await createProjectLikeDemo(page, `DICOM fidelity ${Date.now().toString(36)}`);

  // All 60 files at once: nothing is imported, and each refused file is named with its reason.
  await page.goto(`/projects/${projectId}/import`);
  await page.getByLabel("Files").setInputFiles(entries.map((e) => fileInput(e.file)));
  await page.getByRole("button", { name: "Import" }).click();
  const rejected = page.getByTestId("import-rejected");
  await expect(rejected.getByRole("heading", { name: "Nothing was imported" })).toBeVisible({ timeout: 120_000 });
  await expect(rejected.getByTestId("import-issue")).toHaveCount(refused.size);
  for (const file of refused) await expect(rejected.getByTestId("import-issue").filter({ hasText: file })).toContainText(REASONS[file]!);

  // The accepted ones, one case each (a manifest maps file → case id).
  const manifest = `case_id,file\n${accepted.map((e) => `${e.file.replace(/\.dcm$/, "")},${e.file}`).join("\n")}\n`;
  await page.getByLabel("Files").setInputFiles([...accepted.map((e) => fileInput(e.file)), { name: "manifest.csv", mimeType: "text/csv", buffer: Buffer.from(manifest) }]);
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByTestId("import-result").getByRole("heading", { name: "Imported" })).toBeVisible({ timeout: 120_000 });

  const images = await queryE2eDb<{ externalId: string; caseId: string; imageId: string; frames: number }>(
    `SELECT c."externalId", c.id AS "caseId", i.id AS "imageId", i.frames FROM "Case" c JOIN "CaseImage" i ON i."caseId" = c.id WHERE c."projectId" = $1`,
    [projectId],
  );
  expect(images).toHaveLength(accepted.length);
  const byStem = new Map(images.map((row) => [row.externalId, row]));

  // The case view of the first case: its viewport's cornerstone draws every file in turn.
  await page.goto(`/queue/${projectId}?case=${images[0]!.caseId}`);
  await expect(page.getByTestId("case-view")).toBeVisible();
  // Wait until the viewer has drawn the case's own image at full resolution (a large JPEG 2000 image
  // shows a reduced-resolution preview first), so that its render cannot land on top of ours.
  await page.waitForFunction(() => {
    const cs = (window as unknown as { cornerstone?: { getEnabledElements(): { element: HTMLElement; image?: { preview?: number } }[] } }).cornerstone;
    return cs !== undefined && cs.getEnabledElements().some((e) => e.element.isConnected && e.image !== undefined && !e.image.preview);
  });

  const results: string[] = [];
  let passed = 0;
  for (const entry of accepted) {
    const row = byStem.get(entry.file.replace(/\.dcm$/, ""))!;
    const frame = Math.floor(row.frames / 2);
    const imageId = `dicom:/api/images/${encodeURIComponent(row.imageId)}${row.frames > 1 ? `?frame=${frame}` : ""}`;
    const drawn: Drawn = await page.evaluate(async (id) => {
      type El = { element: HTMLElement; canvas: HTMLCanvasElement };
      type Img = { width: number; height: number; windowWidth: number; windowCenter: number; invert: boolean };
      const cs = (window as unknown as { cornerstone: { getEnabledElements(): El[]; loadAndCacheImage(id: string): Promise<Img>; displayImage(el: HTMLElement, img: Img, viewport: object): void } }).cornerstone;
      const enabled = cs.getEnabledElements().find((e) => e.element.isConnected)!;
      let image: Img;
      try {
        image = await cs.loadAndCacheImage(id);
      } catch (error) {
        return { ok: false, message: error instanceof Error ? error.message : String(error) };
      }
      const { canvas, element } = enabled;
      // Scale 1 with the image's first pixel on a whole canvas pixel, no smoothing: native size.
      const tx = (canvas.width - image.width) % 2 === 0 ? 0 : 0.5;
      const ty = (canvas.height - image.height) % 2 === 0 ? 0 : 0.5;
      // Resolve on the render of this image only (a render the viewer itself queued may come first).
      await new Promise<void>((resolve) => {
        const onRendered = (event: Event) => {
          const shown = (event as CustomEvent<{ image?: { imageId?: string } }>).detail?.image?.imageId;
          if (shown !== undefined && shown !== id) return;
          element.removeEventListener("cornerstoneimagerendered", onRendered);
          resolve();
        };
        element.addEventListener("cornerstoneimagerendered", onRendered);
        cs.displayImage(element, image, { scale: 1, translation: { x: tx, y: ty }, voi: { windowWidth: image.windowWidth, windowCenter: image.windowCenter }, invert: image.invert, pixelReplication: true, rotation: 0, hflip: false, vflip: false });
      });
      const ox = canvas.width / 2 + tx - image.width / 2;
      const oy = canvas.height / 2 + ty - image.height / 2;
      const cx0 = Math.max(0, ox);
      const cy0 = Math.max(0, oy);
      const w = Math.min(canvas.width, ox + image.width) - cx0;
      const h = Math.min(canvas.height, oy + image.height) - cy0;
      const data = canvas.getContext("2d")!.getImageData(cx0, cy0, w, h).data;
      let binary = "";
      for (let i = 0; i < data.length; i += 4) binary += String.fromCharCode(data[i]!, data[i + 1]!, data[i + 2]!);
      return { ok: true, width: image.width, height: image.height, x0: cx0 - ox, y0: cy0 - oy, w, h, rgb: btoa(binary) };
    }, imageId);
    if (!drawn.ok) {
      results.push(`${entry.file}: not drawn (${drawn.message})`);
      continue;
    }
    const ref = readReferencePng(REFERENCE_DIR, entry.file);
    const shown = new Uint8Array(Buffer.from(drawn.rgb!, "base64"));
    const expected = new Uint8Array(drawn.w! * drawn.h! * 3);
    for (let y = 0; y < drawn.h!; y++) expected.set(ref.rgb.subarray(((drawn.y0! + y) * ref.width + drawn.x0!) * 3, ((drawn.y0! + y) * ref.width + drawn.x0! + drawn.w!) * 3), y * drawn.w! * 3);
    const { mad, correlation } = compareSamples(shown, expected);
    const limits = isLossy(entry.ts ?? "") ? LOSSY_FIDELITY : FIDELITY;
    const size = `${drawn.width}×${drawn.height}${drawn.w! < drawn.width! || drawn.h! < drawn.height! ? ` (${drawn.w}×${drawn.h} shown)` : ""}`;
    const ok = drawn.width === ref.width && drawn.height === ref.height && mad <= limits.maxMad && correlation >= limits.minCorrelation;
    if (ok) passed++;
    results.push(`${ok ? "ok " : "BAD"} ${entry.file}: ${size} MAD ${mad.toFixed(2)} r ${correlation.toFixed(4)}`);
  }
  console.log(`DICOM fidelity in Chromium: ${passed} of ${accepted.length} accepted files match the reference\n${results.join("\n")}`);
  expect(results.filter((line) => !line.startsWith("ok "))).toEqual([]);

  // Bad input in the viewport: a frame that does not exist is refused with its reason, not drawn black.
  const multi = images.find((row) => row.frames > 1)!;
  const outOfRange = await page.evaluate(async (id) => {
    const cs = (window as unknown as { cornerstone: { loadAndCacheImage(id: string): Promise<unknown> } }).cornerstone;
    return cs.loadAndCacheImage(id).then(
      () => "drawn",
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
  }, `dicom:/api/images/${encodeURIComponent(multi.imageId)}?frame=${multi.frames + 5}`);
  expect(outOfRange).toBe(`frame ${multi.frames + 6} does not exist (the image has ${multi.frames} frame(s))`);
  expect(cspViolations).toEqual([]);
});
