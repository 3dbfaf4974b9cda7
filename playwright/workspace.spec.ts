/**
 * The annotation workspace against the real platform: the demo project's cold-start round (written
 * by `npm start`), a clinician labelling three cases (one with a DICOM image) mostly by keyboard,
 * persistence after reload, a conflict between two clinicians editing one case, and a submission
 * that did not reach the server sent again by itself.
 */
import { expect, test, type Page } from "@playwright/test";
import { queryE2eDb, signInAndWait } from "./fixtures";

const CLINICIAN = "clinician@demo.local";
const CLINICIAN2 = "clinician2@demo.local";

async function openDemoQueue(page: Page): Promise<string> {
  await page.goto("/queue");
  const link = page.getByTestId("project-queue").filter({ hasText: "Demo" }).getByRole("link", { name: "Start labelling" });
  const href = await link.getAttribute("href");
  await link.click();
  await expect(page.getByTestId("case-view")).toBeVisible();
  return href!.split("/").pop()!;
}

const currentCaseId = (page: Page) => page.locator(".workspace").getAttribute("data-case-id");

/** Sum and count of non-black pixels of the viewport's canvas (what cornerstone drew). */
function canvasPixels(page: Page) {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewport"] canvas');
    if (!canvas || canvas.width === 0) return { sum: 0, lit: 0 };
    const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    let lit = 0;
    for (let i = 0; i < data.length; i += 4) {
      const v = data[i]! + data[i + 1]! + data[i + 2]!;
      sum += v;
      if (v > 0) lit++;
    }
    return { sum, lit };
  });
}

/** Selects `length` characters of the narrative starting at `start` (what a mouse selection does). */
async function selectNarrative(page: Page, start: number, length: number): Promise<string> {
  return page.evaluate(
    ({ start, length }) => {
      const root = document.querySelector('[data-testid="narrative"]')!;
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      let offset = 0;
      const range = document.createRange();
      let node: Node | null;
      let begun = false;
      while ((node = walker.nextNode())) {
        const len = node.textContent!.length;
        if (!begun && start < offset + len) {
          range.setStart(node, start - offset);
          begun = true;
        }
        if (begun && start + length <= offset + len) {
          range.setEnd(node, start + length - offset);
          break;
        }
        offset += len;
      }
      const selection = window.getSelection()!;
      selection.removeAllRanges();
      selection.addRange(range);
      return selection.toString();
    },
    { start, length },
  );
}

/** "N done" of the queue's counts line (your cases in this round), as a number. */
async function doneCount(page: Page): Promise<number> {
  const text = (await page.getByTestId("queue-counts").textContent()) ?? "";
  const digits = /(\d[\d,]*) done/.exec(text)?.[1];
  if (digits === undefined) throw new Error(`no "done" count in the queue's counts line: ${JSON.stringify(text)}`);
  return Number(digits.replace(/,/g, ""));
}

test("a clinician labels three queue cases, including a DICOM case, and everything persists", async ({ page, request }) => {
  await signInAndWait(page, CLINICIAN);
  const projectId = await openDemoQueue(page);
  await expect(page.getByTestId("cold-start-badge")).toBeVisible();
  // Other specs' clinician work in the demo's round (image-evidence.spec.ts answers a case queued at its end) counts too.
  await expect(page.getByTestId("queue-counts")).toContainText(/\d+ done/);
  const doneBefore = await doneCount(page);

  // Case 1, keyboard only: highlight evidence, choose a label, submit.
  const first = await currentCaseId(page);
  const quoted = await selectNarrative(page, 0, 12);
  expect(quoted.length).toBe(12);
  await page.keyboard.press("2"); // with a selection: evidence span for "Benign finding"
  await expect(page.getByTestId("spans")).toContainText(quoted.trim());
  await page.keyboard.press("1"); // no selection: the case label "Normal"
  await expect(page.getByRole("button", { name: /Normal/, pressed: true })).toBeVisible();
  await page.keyboard.press("?");
  await expect(page.getByTestId("help-overlay")).toContainText("Skip");
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+Enter");
  await expect.poll(() => currentCaseId(page)).not.toBe(first);

  // Case 2 has a DICOM image: it is drawn, and dragging changes window/level.
  const second = await currentCaseId(page);
  await expect(page.getByTestId("image-attributes")).toContainText("CT");
  await expect(page.getByTestId("image-attributes")).not.toContainText(/Patient|MRN/i);
  await expect.poll(async () => (await canvasPixels(page)).lit, { timeout: 15_000 }).toBeGreaterThan(1000);
  const before = await canvasPixels(page);
  const windowBefore = await page.getByTestId("viewport").getAttribute("data-window");
  expect(windowBefore).toMatch(/^\d+\/-?\d+$/);
  await page.getByTestId("viewport").scrollIntoViewIfNeeded();
  const box = (await page.getByTestId("viewport").boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 60, { steps: 6 });
  await page.mouse.up();
  await expect.poll(() => page.getByTestId("viewport").getAttribute("data-window")).not.toBe(windowBefore);
  await expect.poll(async () => (await canvasPixels(page)).sum).not.toBe(before.sum);
  await page.getByRole("group", { name: "Labels" }).getByRole("button", { name: /Benign finding/ }).click();
  await page.getByRole("button", { name: /^Submit/ }).click();
  await expect.poll(() => currentCaseId(page)).not.toBe(second);

  // Case 3.
  const third = await currentCaseId(page);
  await page.keyboard.press("1");
  await page.keyboard.press("u");
  await page.keyboard.press("Control+Enter");
  await expect.poll(() => currentCaseId(page)).not.toBe(third);

  // Reload: the first case shows its label, its span and its version in the history.
  await page.goto(`/queue/${projectId}?case=${first}`);
  await expect(page.getByTestId("case-view")).toBeVisible();
  await expect(page.getByRole("button", { name: /Normal/, pressed: true })).toBeVisible();
  await expect(page.getByTestId("spans")).toContainText(quoted.trim());
  await expect(page.getByTestId("history-entry")).toHaveCount(1);
  await expect(page.getByTestId("history-entry").first()).toContainText("v1");
  await page.goto(`/queue/${projectId}?case=${third}`);
  await expect(page.getByRole("checkbox", { name: /Uncertain/ })).toBeChecked();
  await expect.poll(() => doneCount(page)).toBe(doneBefore + 3);

  // The image route: members only, no identifiers in headers; anonymous callers are refused.
  // The decode workers are shared between the app's pages (and keep what they fetched), so the URL comes from the case's images.
  await page.goto(`/queue/${projectId}?case=${second}`);
  await expect.poll(async () => (await canvasPixels(page)).lit, { timeout: 15_000 }).toBeGreaterThan(1000);
  const [image] = await queryE2eDb<{ id: string }>(`SELECT id FROM "CaseImage" WHERE "caseId" = $1 ORDER BY position LIMIT 1`, [second]);
  const imageUrl = image ? `/api/images/${encodeURIComponent(image.id)}` : undefined;
  expect(imageUrl).toBeTruthy();
  const response = await page.request.get(imageUrl!);
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toBe("application/dicom");
  expect(response.headers()["cache-control"]).toBe("no-store"); // nothing left in the browser cache after sign-out (issue 12)
  expect(response.headers()["content-disposition"]).toBeUndefined();
  expect((await page.request.get("/api/images/doesnotexist")).status()).toBe(404);

  // A multi-frame DICOM in the queue scrolls frame by frame (↓) and every frame decodes.
  await expect(page.locator(".queue-list li").first()).toBeAttached();
  const withImages = await page.locator(".queue-list li").filter({ hasText: "images" }).locator("a").evaluateAll((links) => links.map((a) => a.getAttribute("href")!));
  let stackFound = false;
  for (const href of withImages) {
    await page.goto(href);
    await expect.poll(async () => (await canvasPixels(page)).lit, { timeout: 15_000 }).toBeGreaterThan(1000);
    const frameLabel = page.getByTestId("viewer-frame");
    if (!(await frameLabel.isVisible())) continue;
    stackFound = true;
    const total = Number((await frameLabel.textContent())!.split("/")[1]);
    for (let i = 1; i < total; i++) await page.keyboard.press("ArrowDown");
    await expect(frameLabel).toHaveText(`Frame ${total} / ${total}`);
    await expect.poll(async () => (await canvasPixels(page)).lit).toBeGreaterThan(1000);
    await expect(page.locator(".viewer .error")).toHaveCount(0);
    break;
  }
  expect(stackFound, `a multi-frame case among ${withImages.length} queue cases with images`).toBe(true);
  expect((await request.get("/api/images/doesnotexist")).status()).toBe(401);
});

test("a case another clinician holds is read-only; one clinician in two tabs gets the conflict and can resubmit on top", async ({ browser }) => {
  const a = await browser.newContext();
  const b = await browser.newContext();
  const pageA = await a.newPage();
  const pageB = await b.newPage();
  const pageB2 = await b.newPage();
  await signInAndWait(pageA, CLINICIAN);
  await signInAndWait(pageB, CLINICIAN2);
  const projectId = await openDemoQueue(pageB);
  const caseId = await currentCaseId(pageB);

  // CLINICIAN2 holds the case (one annotation per case): CLINICIAN may read it but not answer it, and the server says why.
  await pageA.goto(`/queue/${projectId}?case=${caseId}`);
  await expect(pageA.getByTestId("case-view")).toBeVisible();
  await expect(pageA.getByTestId("annotation-refused")).toContainText("Another clinician is working on this case.");
  await expect(pageA.getByRole("button", { name: /^Submit/ })).toBeDisabled();
  await pageA.keyboard.press("2");
  await pageA.keyboard.press("Control+Enter");
  await expect(pageA.getByTestId("workspace-error")).toContainText("Another clinician is working on this case.");

  // CLINICIAN2's second tab opens the same case: it is theirs, so it may be answered there.
  await pageB2.goto(`/queue/${projectId}?case=${caseId}`);
  await expect(pageB2.getByTestId("case-view")).toBeVisible();
  await expect(pageB2.getByTestId("annotation-refused")).toHaveCount(0);
  await pageB.keyboard.press("3"); // Suspicious nodule
  await pageB2.keyboard.press("2"); // Benign finding
  await pageB2.keyboard.press("Control+Enter");
  await expect(pageB2.getByTestId("workspace-notice")).toContainText("version 1");

  await pageB.keyboard.press("Control+Enter");
  await expect(pageB.getByTestId("conflict")).toBeVisible();
  await expect(pageB.getByTestId("conflict")).toContainText("You submitted this case in another tab");
  await expect(pageB.getByTestId("conflict-theirs")).toContainText("Benign finding");
  await expect(pageB.getByTestId("conflict-yours")).toContainText("Suspicious nodule");
  await pageB.getByRole("button", { name: "Submit mine on top" }).click();
  await expect(pageB.getByTestId("conflict")).toBeHidden();

  await pageB2.reload();
  await expect(pageB2.getByTestId("history-entry")).toHaveCount(2);
  await expect(pageB2.getByTestId("history-entry").first()).toContainText("Suspicious nodule");
  // Answered by CLINICIAN2 (the item is done): still not CLINICIAN's to answer.
  await pageA.reload();
  await expect(pageA.getByTestId("annotation-refused")).toContainText("This case is not in your queue.");
  await a.close();
  await b.close();
});

test("a submission that does not reach the server is kept and sent again by itself once the server is back", async ({ page }) => {
  await signInAndWait(page, CLINICIAN2);
  // A case this clinician already answered (the conflict test above): editing it adds a version, no queue item is taken.
  const [answered] = await queryE2eDb<{ caseId: string; projectId: string }>(
    `SELECT a."caseId", c."projectId" FROM "Annotation" a JOIN "User" u ON u.id = a."authorId" JOIN "Case" c ON c.id = a."caseId"
     WHERE u.email = $1 AND a.kind = 'SUBMITTED' ORDER BY a."createdAt" DESC LIMIT 1`,
    [CLINICIAN2],
  );
  expect(answered).toBeDefined();
  await page.goto(`/queue/${answered!.projectId}?case=${answered!.caseId}`);
  await expect(page.getByTestId("case-view")).toBeVisible();
  const versionsBefore = await page.getByTestId("history-entry").count();

  // The network drops every submission until the route is lifted.
  let dropped = 0;
  const drop = async (route: import("@playwright/test").Route) => {
    dropped++;
    await route.abort("connectionreset");
  };
  await page.route("**/api/trpc/annotations.submit**", drop);
  await page.keyboard.press("1");
  await page.keyboard.press("Control+Enter");
  await expect(page.getByTestId("offline-banner")).toContainText("Not submitted yet");
  await expect(page.getByTestId("workspace-error")).toContainText("Could not reach the server");
  await expect.poll(() => dropped, { timeout: 10_000 }).toBeGreaterThanOrEqual(2); // the first automatic resubmission came after ~2 s

  await page.unroute("**/api/trpc/annotations.submit**", drop);
  await expect(page.getByTestId("workspace-notice")).toContainText("Saved as your version", { timeout: 15_000 });
  await expect(page.getByTestId("offline-banner")).toBeHidden();
  await page.reload();
  await expect(page.getByTestId("history-entry")).toHaveCount(versionsBefore + 1);
});
