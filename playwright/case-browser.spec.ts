/**
 * The case browser in Chromium against the real platform: a data scientist filters the demo
 * project's cases, searches the narratives (hits highlighted), pages, puts a case into the next
 * round with priority (and withdraws it), and opens a DICOM case read-only: the cornerstone viewer
 * draws its image and the read is in the audit log. A clinician cannot open the browser.
 */
import { expect, test, type Page } from "@playwright/test";
import { DEMO_PROJECT_NAME } from "../prisma/demo/narratives";
import { DEMO_USERS, queryE2eDb, signInAndWait } from "./fixtures";

async function count(sql: string, params: unknown[]): Promise<number> {
  return (await queryE2eDb<{ n: number }>(sql, params))[0]!.n;
}

async function demoProjectId(): Promise<string> {
  const rows = await queryE2eDb<{ id: string }>(`SELECT id FROM "Project" WHERE name = $1`, [DEMO_PROJECT_NAME]);
  return rows[0]!.id;
}

/** Non-black pixels of the viewport's canvas (what cornerstone drew). */
function litPixels(page: Page) {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewport"] canvas');
    if (!canvas || canvas.width === 0) return 0;
    const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
    let lit = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i]! + data[i + 1]! + data[i + 2]! > 0) lit++;
    return lit;
  });
}

const rowSplits = (page: Page) => page.getByTestId("case-row").locator("td:nth-child(3) .badge").allTextContents();

test("a data scientist filters, searches and opens a DICOM case read-only", async ({ page }) => {
  const projectId = await demoProjectId();
  const total = await count(`SELECT count(*)::int AS n FROM "Case" WHERE "projectId" = $1`, [projectId]);
  const tests = await count(`SELECT count(*)::int AS n FROM "Case" WHERE "projectId" = $1 AND split = 'TEST'`, [projectId]);
  await signInAndWait(page, DEMO_USERS.DATA_SCIENTIST);
  await page.goto(`/projects/${projectId}/cases`);
  await expect(page.getByTestId("case-count")).toHaveText(`${total} cases`);
  await expect(page.getByTestId("case-row")).toHaveCount(Math.min(total, 50));

  // Every filter is named by its own label alone (a label wrapping a select would add the option texts to its name).
  const filters = page.getByTestId("case-filters");
  await expect(filters.getByRole("searchbox", { name: "Search narratives", exact: true })).toBeVisible();
  for (const name of ["Split", "Labelled", "Label", "Annotator", "Disagreement", "Round", "Images", "Narrative", "Import batch"]) {
    await expect(filters.getByRole("combobox", { name, exact: true }), name).toBeVisible();
  }

  // Filter: the TEST split.
  await filters.getByLabel("Split", { exact: true }).selectOption("TEST");
  await filters.getByTestId("apply-filters").click();
  await expect(page).toHaveURL(/split=TEST/);
  await expect(page.getByTestId("case-count")).toHaveText(`${tests} case${tests === 1 ? "" : "s"}`);
  await expect(page.getByTestId("case-row")).toHaveCount(tests);
  expect(new Set(await rowSplits(page))).toEqual(new Set(["TEST"]));

  // Full-text search (stemmed: "nodules" finds "nodule"), with the hits highlighted; the filter above is kept.
  await filters.getByTestId("case-search").fill("nodules");
  await filters.getByLabel("Split", { exact: true }).selectOption("");
  await filters.getByTestId("apply-filters").click();
  await expect(page).toHaveURL(/search=nodules/);
  const matching = await count(`SELECT count(*)::int AS n FROM "Case" WHERE "projectId" = $1 AND "searchVector" @@ websearch_to_tsquery('english', 'nodules')`, [projectId]);
  expect(matching).toBeGreaterThan(0);
  await expect(page.getByTestId("case-row")).toHaveCount(Math.min(matching, 50));
  const marks = await page.getByTestId("case-row").locator("mark").allTextContents();
  expect(marks.length).toBeGreaterThanOrEqual(Math.min(matching, 50));
  expect(marks.every((m) => /^nodules?$/i.test(m))).toBe(true);

  // Priority for the next round: one unlabelled POOL case, then withdrawn again (the demo stays as it was).
  // (A case waiting in the open round is refused, so take one no round has selected: Rounds "—".)
  await page.goto(`/projects/${projectId}/cases?split=POOL&labelled=no`);
  const first = page.getByTestId("case-row").filter({ has: page.locator("td:nth-child(5)", { hasText: "—" }) }).first();
  await expect(first).toBeVisible();
  await first.getByRole("checkbox").check();
  await page.getByTestId("prioritize").click();
  await expect(page.getByTestId("bulk-message")).toContainText("1 case(s) will be queued first in the next round");
  await expect(first.getByText("next round")).toBeVisible();
  await first.getByRole("checkbox").check();
  await page.getByRole("button", { name: "Withdraw priority" }).click();
  await expect(page.getByTestId("bulk-message")).toContainText("Priority withdrawn for 1 case(s)");

  // Cases with images (the demo's are DICOM): open the first one.
  await page.goto(`/projects/${projectId}/cases?hasImages=true`);
  const withImage = page.getByTestId("case-row").first();
  await expect(withImage.getByTitle("Images")).toHaveText(/^\d+ images?$/);
  const externalId = await withImage.getAttribute("data-case-id");
  await withImage.getByRole("link", { name: externalId! }).click();
  await expect(page.getByTestId("case-view")).toBeVisible();
  await expect(page.getByTestId("case-external-id")).toHaveText(externalId!);
  await expect(page.getByTestId("image-attributes")).toContainText("CT");
  await expect.poll(() => litPixels(page), { timeout: 30_000 }).toBeGreaterThan(1000);
  await expect(page.getByTestId("case-narrative")).toBeVisible();

  // The read is audited.
  const caseId = page.url().split("/").pop()!;
  const events = await count(
    `SELECT count(*)::int AS n FROM "AuditEvent" e JOIN "User" u ON u.id = e."actorId" WHERE e.action = 'case.viewed' AND e."targetId" = $1 AND u.email = $2`,
    [caseId, DEMO_USERS.DATA_SCIENTIST],
  );
  expect(events).toBeGreaterThanOrEqual(1);
});

test("a clinician does not get the case browser", async ({ page }) => {
  const projectId = await demoProjectId();
  await signInAndWait(page, DEMO_USERS.CLINICIAN);
  await page.goto(`/projects/${projectId}/cases`);
  await expect(page.getByText("does not give access to this page")).toBeVisible();
  await expect(page.getByTestId("case-table")).toHaveCount(0);
});
