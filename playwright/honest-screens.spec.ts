/**
 * Issue 15 — every screen tells the truth, in the browser against the real platform. A project whose
 * active model predicts no minority case is seeded by the test-only scripts/e2e-honest-fixtures.ts
 * (server/testing/honest-screens-fixtures.ts); the chart check also reads the demo project after the
 * review spec gave it models, rounds and a what-if run.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect as baseExpect, test, type Browser, type Page } from "@playwright/test";
import { DEMO_USERS, e2eDatabaseUrl, queryE2eDb as query, signInAndWait } from "./fixtures";

test.describe.configure({ mode: "serial", timeout: 120_000 });
// Pages here poll and lease; on a loaded CI machine they may take longer than the default 10 s.
const expect = baseExpect.configure({ timeout: 20_000 });

const root = path.resolve(import.meta.dirname, "..");

function fixtures<T>(...args: string[]): T {
  const out = execFileSync(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/e2e-honest-fixtures.ts", ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: e2eDatabaseUrl(), LOG_LEVEL: "error" },
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").at(-1)!) as T;
}

interface Blind {
  projectId: string;
  name: string;
  activeId: string;
  candidateId: string;
  candidateVersion: number;
  firstCaseId: string;
}
let blind: Blind;

test.beforeAll(() => {
  blind = fixtures<Blind>("blind");
});

/** A signed-in page of its own (a fresh browser context: the sign-in page redirects a signed-in user). */
async function pageAs(browser: Browser, email: string, viewport = { width: 1440, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await signInAndWait(page, email);
  return page;
}

test("3 · metrics carry their TEST support: too few cases cannot pass, and minority recall 0 never passes", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.REVIEWER);
  await page.goto("/models");
  const row = page.getByTestId(`model-row-v${blind.candidateVersion}`).filter({ hasText: blind.name });
  await expect(row.getByTestId("minority-recall")).toContainText("0.000");
  await expect(row.getByTestId("minority-recall")).toContainText("6 TEST cases");
  await expect(row.getByTestId("minority-recall")).toContainText("too few cases to judge");

  await page.goto(`/models/${blind.candidateId}`);
  const guard = page.getByTestId("guard");
  await expect(guard).toHaveAttribute("data-status", "failed");
  await expect(guard).not.toContainText("Guard passed");
  await expect(guard.getByTestId("guard-floor")).toContainText("Suspicious: recall 0");
  await expect(guard.getByTestId("guard-thin")).toContainText("its metrics rest on 6 TEST cases; the project asks for at least 10");
  const recall = page.getByTestId("delta-Minority recall");
  await expect(recall).toContainText("Suspicious 6");
  await expect(recall).toContainText("too few cases to judge");
  // Counts are integers: the support column never reads "6.000".
  await expect(page.getByTestId("class-row-suspicious").locator("td").nth(1)).toHaveText(/^6\s+too few cases to judge$/);
  await expect(page.getByTestId("per-class")).not.toContainText(/\d\.000\s+too few/);
  await expect(page.getByTestId("decision-guard-note")).toContainText("guard did not pass");
});

test("2 · a selector that sees no minority says so on the selection, jobs and review pages, with what helps", async ({ page, browser }) => {
  await signInAndWait(page, DEMO_USERS.DATA_SCIENTIST);
  for (const url of [`/projects/${blind.projectId}/selection`, `/projects/${blind.projectId}/jobs`]) {
    await page.goto(url);
    const warning = page.getByTestId("minority-warning");
    await expect(warning).toContainText("The selector sees no minority case");
    await expect(warning).toContainText("0 of 12 pool cases");
    await expect(warning).toContainText("π̂₊");
    await expect(warning).toContainText("seed positives");
    await expect(warning.getByRole("link", { name: "Case browser" })).toHaveAttribute("href", `/projects/${blind.projectId}/cases`);
  }
  // The data scientist's per-case detail says why and links to the case.
  await page.goto(`/projects/${blind.projectId}/selection`);
  const first = page.getByTestId("selected-cases").locator("tbody tr").first();
  await expect(first).toContainText("Likely rare finding: Suspicious");
  await expect(first.getByRole("link", { name: "case-0000" })).toHaveAttribute("href", `/projects/${blind.projectId}/cases/${blind.firstCaseId}`);

  const reviewer = await pageAs(browser, DEMO_USERS.REVIEWER);
  await reviewer.goto(`/models/${blind.candidateId}`);
  await expect(reviewer.getByTestId("minority-warning")).toContainText("sees almost no minority case");
  await reviewer.context().close();
});

async function openQueue(page: Page) {
  await page.goto(`/queue/${blind.projectId}`);
  await expect(page.getByTestId("case-view")).toBeVisible({ timeout: 30_000 });
}

test("1, 5, 6 · why this case, messages that clear with their cause, and who holds a leased case until when", async ({ page, browser }) => {
  // Earlier specs left the clinician signed in elsewhere; a holder signed in anywhere is present, so
  // those sessions end first and this page's session is the holder's only one.
  await query(`UPDATE "AuthSession" SET "revokedAt" = now() WHERE "revokedAt" IS NULL AND "userId" = (SELECT id FROM "User" WHERE email = $1)`, [DEMO_USERS.CLINICIAN]);
  await signInAndWait(page, DEMO_USERS.CLINICIAN);
  await openQueue(page);
  await expect(page.getByTestId("why-this-case")).toHaveText("Why this case: Likely rare finding: Suspicious (model 38 %)");

  // 5: the "choose a label" message goes as soon as a label is chosen.
  await page.keyboard.press("Control+Enter");
  await expect(page.getByTestId("workspace-error")).toHaveText("Choose a label before submitting.");
  await page.getByRole("group", { name: "Labels" }).getByRole("button", { name: /Normal/ }).click();
  await expect(page.getByTestId("workspace-error")).toHaveCount(0);

  // 6: a colleague sees who holds case #1 and until when.
  const other = await browser.newContext();
  const colleague = await other.newPage();
  await signInAndWait(colleague, "clinician2@demo.local");
  await openQueue(colleague);
  await colleague.locator("summary", { hasText: "Queue (" }).click();
  const holder = colleague.getByTestId("lease-holder");
  await expect(holder).toHaveCount(1);
  await expect(holder).toContainText(/by Chris Clinician until \d{1,2}:\d{2}/);

  // The holder signs out: the lease no longer blocks the round.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  await colleague.reload();
  await colleague.locator("summary", { hasText: "Queue (" }).click();
  await expect(colleague.getByTestId("lease-holder")).toHaveCount(0);
  await other.close();

  // 1: without shown predictions the reason names no class and no probability.
  const settings = (await query<{ settings: Record<string, unknown> }>(`SELECT settings FROM "Project" WHERE id = $1`, [blind.projectId]))[0]!.settings;
  await query(`UPDATE "Project" SET settings = $2 WHERE id = $1`, [blind.projectId, JSON.stringify({ ...settings, showPredictions: false })]);
  await signInAndWait(page, DEMO_USERS.CLINICIAN);
  await openQueue(page);
  await expect(page.getByTestId("why-this-case")).toHaveText(/^Why this case: Chosen for (rarity|uncertainty)$/);
  await query(`UPDATE "Project" SET settings = $2 WHERE id = $1`, [blind.projectId, JSON.stringify(settings)]);
});

test("4, 9 · after the last case the page says what the next round waits for, and shows the new round without a reload", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.CLINICIAN);
  await openQueue(page);
  // 9: "Z" reopens the case just submitted (edit mode), "N" returns to the queue.
  const workspace = page.locator(".workspace");
  const firstId = (await workspace.getAttribute("data-case-id"))!;
  const normalFirst = page.getByRole("group", { name: "Labels" }).getByRole("button", { name: /Normal/ });
  if ((await normalFirst.getAttribute("aria-pressed")) !== "true") await normalFirst.click();
  await page.keyboard.press("Control+Enter");
  await expect(workspace).not.toHaveAttribute("data-case-id", firstId);
  await expect(page.getByTestId("case-position")).toContainText(/case \d of 4 in round 3/);
  await page.keyboard.press("z");
  await expect(workspace).toHaveAttribute("data-case-id", firstId);
  await expect(page.getByRole("heading", { name: /Report/ })).toContainText("editing");
  await page.keyboard.press("n");
  await expect(workspace).not.toHaveAttribute("data-case-id", firstId);
  await expect(workspace).not.toHaveAttribute("data-case-id", "");

  // Label whatever is left of round #3 for this clinician.
  for (let i = 0; i < 4 && (await page.getByTestId("case-view").isVisible()); i++) {
    // A draft may already hold the label (test 6 chose it): pressing it again would clear it.
    const normal = page.getByRole("group", { name: "Labels" }).getByRole("button", { name: /Normal/ });
    if ((await normal.getAttribute("aria-pressed")) !== "true") await normal.click();
    await page.keyboard.press("Control+Enter");
    await expect(page.getByTestId("case-view").or(page.getByTestId("queue-finished"))).toBeVisible();
    await page.waitForTimeout(150);
  }
  await expect(page.getByTestId("queue-finished")).toBeVisible();
  // A selection job at 40 %: the page names it with its progress (polling, no reload).
  const [job] = await query<{ id: string }>(
    `INSERT INTO "JobRun" (id, "projectId", kind, status, stage, percent, "createdAt", "startedAt") VALUES ('e2e-' || md5(random()::text), $1, 'select', 'RUNNING', 'training the agent', 40, now(), now()) RETURNING id`,
    [blind.projectId],
  );
  const jobId = job!.id;
  const progress = page.getByTestId("next-round-progress");
  await expect(progress).toContainText("The next round is being chosen");
  await expect(progress.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "40");
  await query(`UPDATE "JobRun" SET status = 'SUCCEEDED', percent = 100, stage = 'done', "finishedAt" = now() WHERE id = $1`, [jobId]);
  const round = fixtures<{ number: number; cases: number }>("next-round", blind.projectId);
  expect(round.cases).toBeGreaterThan(0);
  await expect(page.getByTestId("case-view")).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId("queue-counts")).toBeVisible();
  await expect(page.locator(".workspace-head")).toContainText(`Round ${round.number}`);
});

test("7 · the audit log names people, shows system events, filters, expands details and exports CSV", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.ADMIN);
  await page.goto("/admin/audit");
  const filters = page.getByTestId("audit-filters");
  await filters.getByLabel("Actor").fill("clinician@demo.local");
  await filters.getByLabel("Action starts with").fill("queue.");
  await filters.getByRole("button", { name: "Apply filters" }).click();
  const rows = page.getByTestId("audit-row");
  await expect(rows.first()).toContainText("Chris Clinician <clinician@demo.local>");
  for (const actor of await page.getByTestId("audit-actor").allTextContents()) expect(actor).toContain("clinician@demo.local");
  await expect(page.getByTestId("audit-actor").first()).toHaveAttribute("title", /^c[a-z0-9]+$/);
  await rows.first().locator("summary").click();
  await expect(rows.first().locator("pre")).toBeVisible();

  const download = page.waitForEvent("download");
  await filters.getByRole("button", { name: "Export CSV" }).click();
  const file = await (await download).path();
  const csv = (await import("node:fs")).readFileSync(file, "utf8").trim().split(/\r\n/);
  expect(csv[0]).toBe("id,at,actor,actorId,actorRole,action,targetType,targetId,target,project,details");
  expect(csv.length).toBeGreaterThan(1);
  expect(csv.slice(1).every((line) => line.includes("clinician@demo.local") && line.includes(",queue."))).toBe(true);

  // Events without a user (the worker, the seeding) read "system (worker)", never "(null)".
  await filters.getByLabel("Actor").fill("system");
  await filters.getByLabel("Action starts with").fill("");
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.getByTestId("audit-actor").first()).toHaveText("system (worker)");
  await expect(page.getByTestId("audit-row").first()).not.toContainText("(null)");
});

/** Boxes of every text in each chart (SVG text, legend items, titles) that overlap another one in the same chart. */
function overlappingTexts(page: Page) {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const chart of document.querySelectorAll<HTMLElement>("figure.chart")) {
      const boxes = [...chart.querySelectorAll<HTMLElement | SVGElement>("svg text, .recharts-legend-item-text, .axis-title, figcaption, table.confusion th, table.confusion td")]
        .filter((el) => (el.textContent ?? "").trim() !== "")
        .map((el) => ({ text: (el.textContent ?? "").trim(), r: el.getBoundingClientRect() }))
        .filter((b) => b.r.width > 0 && b.r.height > 0);
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i]!.r;
          const b = boxes[j]!.r;
          const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
          const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
          if (w > 1 && h > 1) out.push(`${chart.dataset.testid ?? chart.getAttribute("aria-label")}: "${boxes[i]!.text}" × "${boxes[j]!.text}"`);
        }
      }
    }
    return out;
  });
}

test("8 · every chart type is readable at 1440×900 and 1280×720: no two text boxes overlap", async ({ browser }) => {
  const demo = (await query<{ id: string }>(`SELECT id FROM "Project" WHERE name = 'Demo — rare findings'`))[0]!.id;
  const targets = [
    { name: "review", url: `/models/${blind.candidateId}`, charts: ["chart-recall", "chart-pr", "chart-reliability", "confusion-candidate", "confusion-active"], as: DEMO_USERS.REVIEWER },
    { name: "selection", url: `/projects/${demo}/selection`, charts: ["chart-hit-rate", "chart-labels", "chart-learning", "chart-hist-bald", "chart-hist-entropy"], as: DEMO_USERS.DATA_SCIENTIST },
  ];
  for (const size of [{ width: 1440, height: 900 }, { width: 1280, height: 720 }]) {
    for (const target of targets) {
      const page = await pageAs(browser, target.as, size);
      await page.goto(target.url);
      for (const id of target.charts) await expect(page.getByTestId(id).locator("svg, table").first()).toBeVisible();
      await page.waitForTimeout(300); // ResponsiveContainer measures after the first paint
      await page.screenshot({ path: test.info().outputPath(`charts-${target.name}-${size.width}x${size.height}.png`), fullPage: true });
      const count = await page.locator("figure.chart").count();
      expect(count).toBeGreaterThanOrEqual(target.charts.length);
      expect(await overlappingTexts(page), `${target.name} at ${size.width}×${size.height}`).toEqual([]);
      // A number on an axis is never cut short ("0.…"): a crowded histogram labels every k-th bin instead.
      const cutNumbers = await page.locator("figure.chart svg text").evaluateAll((texts) => texts.map((t) => t.textContent ?? "").filter((t) => /^[-+]?\d[\d.]*…$/.test(t.trim())));
      expect(cutNumbers, `${target.name} at ${size.width}×${size.height}`).toEqual([]);
      await page.context().close();
    }
  }
});
