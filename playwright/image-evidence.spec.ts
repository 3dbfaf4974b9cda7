/**
 * Image evidence (issue 11 item 6) end to end: a clinician draws a rectangle and an ellipse on two
 * frames of a demo case's multi-frame CT, reloads (the draft keeps them), submits, sees them in the
 * history, and the data scientist's export carries them with the right frame numbers and image
 * pixel coordinates. Also the viewer habits (item 5): at 1440×900 image, report and labels on one
 * screen; wheel = next frame, Ctrl+wheel = zoom (read from the zoom readout), cine, a CT window preset
 * (read from the window readout and the canvas pixels).
 */
import { expect, test, type Page } from "@playwright/test";
import { DEMO_PROJECT_NAME } from "../prisma/demo/narratives";
import { queryE2eDb, signInAndWait } from "./fixtures";

const CLINICIAN = "clinician@demo.local";
const SCIENTIST = "scientist@demo.local";

/** A demo POOL case with a multi-frame image that no round queued and nobody annotated (other specs leave it alone), queued now. */
async function multiFrameCase() {
  const rows = await queryE2eDb<{ caseId: string; projectId: string; externalId: string; imageId: string; frames: number; attributes: { rows: number; columns: number } }>(
    `SELECT c.id AS "caseId", c."projectId", c."externalId", i.id AS "imageId", i.frames, i.attributes
       FROM "Case" c JOIN "Project" p ON p.id = c."projectId" JOIN "CaseImage" i ON i."caseId" = c.id
      WHERE p.name = $1 AND i.frames >= 4 AND c.split = 'POOL'
        AND NOT EXISTS (SELECT 1 FROM "QueueItem" q WHERE q."caseId" = c.id)
        AND NOT EXISTS (SELECT 1 FROM "Annotation" a WHERE a."caseId" = c.id)
      ORDER BY c."externalId" DESC LIMIT 1`,
    [DEMO_PROJECT_NAME],
  );
  expect(rows, "the demo has an unqueued multi-frame case").toHaveLength(1);
  // The workspace annotates only what the queue offers (annotation-service.ts): the case becomes a PENDING item at the
  // end of the demo's latest round, so the clinician takes its free slot; other specs lease from the round's front.
  await queryE2eDb(
    `INSERT INTO "QueueItem" (id, "roundId", "caseId", rank)
     SELECT 'e2e-evidence-' || md5(random()::text), r.id, $2, (SELECT coalesce(max(rank), 0) + 1 FROM "QueueItem" WHERE "roundId" = r.id)
       FROM (SELECT id FROM "SelectionRound" WHERE "projectId" = $1 ORDER BY number DESC LIMIT 1) r`,
    [rows[0]!.projectId, rows[0]!.caseId],
  );
  return rows[0]!;
}

/** Mean of the viewport canvas's red channel (what cornerstone drew). */
const canvasMean = (page: Page) =>
  page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewport"] canvas')!;
    const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += data[i]!;
    return sum / (data.length / 4);
  });

test("a clinician marks image evidence on two frames; it survives a reload, is submitted, shown in history and exported", async ({ page, browser, baseURL }) => {
  const target = await multiFrameCase();
  const { columns, rows } = target.attributes;
  await signInAndWait(page, CLINICIAN);
  await page.goto(`/queue/${target.projectId}?case=${target.caseId}`);
  const viewport = page.getByTestId("viewport");
  await expect(viewport).toHaveAttribute("data-window", /\d+\/-?\d+/, { timeout: 20_000 });
  await expect(page.getByTestId("viewer-frame")).toHaveText(`Frame 1 / ${target.frames}`);

  // At 1440×900 the image, the report and the labels with Submit are all on screen, no scrolling.
  await page.setViewportSize({ width: 1440, height: 900 });
  await expect.poll(async () => (await viewport.boundingBox())!.y + (await viewport.boundingBox())!.height).toBeLessThanOrEqual(900);
  await expect(page.getByRole("button", { name: /^Submit/ })).toBeInViewport({ ratio: 1 });
  await expect(page.getByTestId("narrative")).toBeInViewport();
  expect(await page.evaluate(() => document.scrollingElement!.scrollTop)).toBe(0);

  // Viewer habits: wheel steps a frame, Ctrl+wheel zooms, a CT preset sets the window.
  const box = (await viewport.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, 100);
  await expect(page.getByTestId("viewer-frame")).toHaveText(`Frame 2 / ${target.frames}`);
  await page.mouse.wheel(0, -100);
  await expect(page.getByTestId("viewer-frame")).toHaveText(`Frame 1 / ${target.frames}`);
  const zoomBefore = await page.getByTestId("viewer-zoom").textContent();
  await page.keyboard.down("Control");
  await page.mouse.wheel(0, -200);
  await page.keyboard.up("Control");
  await expect(page.getByTestId("viewer-zoom")).not.toHaveText(zoomBefore!);
  await expect(page.getByTestId("viewer-frame")).toHaveText(`Frame 1 / ${target.frames}`);
  // Cine plays through the stack until paused; the slider brings frame 1 back.
  await page.getByTestId("viewer-cine").click();
  await expect(page.getByTestId("viewer-frame")).not.toHaveText(`Frame 1 / ${target.frames}`);
  await page.getByTestId("viewer-cine").click();
  await page.getByRole("slider", { name: "Frame" }).fill("0");
  await expect(page.getByTestId("viewer-frame")).toHaveText(`Frame 1 / ${target.frames}`);
  await page.getByTestId("viewer-reset").click();
  const windowBefore = await canvasMean(page);
  await page.getByTestId("preset-lung").click();
  await expect(page.getByTestId("viewer-window")).toHaveText("W 1500 L -600");
  await expect.poll(() => canvasMean(page)).not.toBeCloseTo(windowBefore, 0);
  await page.getByTestId("viewer-reset").click();

  // The demo CT is fitted to the viewport (square pixels, centred): canvas → image pixel.
  const scale = Math.min(box.width / columns, box.height / rows);
  const toPixel = (cx: number, cy: number) => ({ x: (cx - box.width / 2) / scale + columns / 2, y: (cy - box.height / 2) / scale + rows / 2 });
  const drag = async (from: [number, number], to: [number, number]) => {
    await page.mouse.move(box.x + from[0], box.y + from[1]);
    await page.mouse.down();
    await page.mouse.move(box.x + (from[0] + to[0]) / 2, box.y + (from[1] + to[1]) / 2, { steps: 3 });
    await page.mouse.move(box.x + to[0], box.y + to[1], { steps: 3 });
    await page.mouse.up();
  };
  const cx = box.width / 2;
  const cy = box.height / 2;
  const rectFrom: [number, number] = [cx - 0.3 * scale * columns, cy - 0.25 * scale * rows];
  const rectTo: [number, number] = [cx - 0.05 * scale * columns, cy + 0.1 * scale * rows];
  const ellFrom: [number, number] = [cx + 0.05 * scale * columns, cy - 0.2 * scale * rows];
  const ellTo: [number, number] = [cx + 0.35 * scale * columns, cy + 0.3 * scale * rows];

  await page.getByRole("group", { name: "Labels" }).getByRole("button", { name: /Suspicious nodule/ }).click();
  await page.getByTestId("draw-rectangle").click();
  await drag(rectFrom, rectTo);
  await expect(page.getByTestId("region-shape")).toHaveCount(1);
  await expect(page.getByTestId("region-shape")).toHaveAttribute("data-shape", "rectangle");

  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await expect(page.getByTestId("viewer-frame")).toHaveText(`Frame 3 / ${target.frames}`);
  await expect(page.getByTestId("region-shape")).toHaveCount(0); // the rectangle belongs to frame 1
  await page.getByTestId("draw-ellipse").click();
  await page.getByLabel("Evidence label").selectOption("pneumothorax");
  await drag(ellFrom, ellTo);
  await expect(page.getByTestId("region-shape")).toHaveAttribute("data-shape", "ellipse");
  await expect(page.getByTestId("region-shape")).toHaveAttribute("data-label", "pneumothorax");
  await expect(page.getByTestId("region-item")).toHaveCount(2);
  await expect(page.getByTestId("region-item").nth(0)).toContainText("frame 1");
  await expect(page.getByTestId("region-item").nth(1)).toContainText("frame 3");

  // A third region, removed again: listed regions are removable.
  await drag([cx - 10, cy - 10], [cx + 10, cy + 10]);
  await expect(page.getByTestId("region-item")).toHaveCount(3);
  await page.getByRole("button", { name: "Remove region 3" }).click();
  await expect(page.getByTestId("region-item")).toHaveCount(2);

  await expect(page.getByTestId("autosave-status")).toHaveText("Draft saved", { timeout: 15_000 });
  await page.reload();
  await expect(page.getByTestId("region-item")).toHaveCount(2, { timeout: 20_000 });
  await expect(page.getByTestId("region-item").nth(1)).toContainText("Pneumothorax");

  await page.keyboard.press("Control+Enter");
  await expect(page.getByTestId("workspace-notice")).toContainText("Saved as your version 1");
  await expect(page.getByTestId("history-regions").first()).toContainText("2 image regions (frames 1, 3)");

  // The export, as the data scientist.
  const context = await browser.newContext({ baseURL });
  const scientist = await context.newPage();
  await signInAndWait(scientist, SCIENTIST);
  const response = await scientist.request.post(`/api/projects/${target.projectId}/export?format=jsonl&history=0`, { headers: { Origin: new URL(baseURL!).origin } });
  expect(response.status()).toBe(200);
  const row = (await response.text())
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line))
    .find((r) => r.caseId === target.externalId);
  expect(row.regions).toHaveLength(2);
  const [rect, ellipse] = row.regions;
  expect(rect).toMatchObject({ shape: "rectangle", frame: 1, label: "suspicious-nodule", imageId: target.imageId });
  expect(ellipse).toMatchObject({ shape: "ellipse", frame: 3, label: "pneumothorax", imageId: target.imageId });
  expect(rect.sopInstanceUid).toMatch(/^[0-9.]+$/);
  const near = (actual: number, expected: number) => expect(Math.abs(actual - expected), `${actual} ≈ ${expected}`).toBeLessThan(0.75);
  const [r0, r1, e0, e1] = [toPixel(...rectFrom), toPixel(...rectTo), toPixel(...ellFrom), toPixel(...ellTo)];
  near(rect.x, r0.x);
  near(rect.y, r0.y);
  near(rect.width, r1.x - r0.x);
  near(rect.height, r1.y - r0.y);
  near(ellipse.x, e0.x);
  near(ellipse.y, e0.y);
  near(ellipse.width, e1.x - e0.x);
  near(ellipse.height, e1.y - e0.y);
  const csv = await scientist.request.post(`/api/projects/${target.projectId}/export?format=csv&history=0`, { headers: { Origin: new URL(baseURL!).origin } });
  expect(await csv.text()).toContain(`""frame"":3,""shape"":""ellipse""`);
  await context.close();
});
