/**
 * Model review and selection statistics in the browser, against the real platform. Candidate
 * models (and, after approval, the follow-up round) are seeded by the test-only script
 * scripts/e2e-fixtures.ts into the e2e platform's own temporary database.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { DEMO_USERS, e2eDatabaseUrl, queryE2eDb as query, signInAndWait } from "./fixtures";

test.describe.configure({ mode: "serial" });

const root = path.resolve(import.meta.dirname, "..");

function fixtures<T>(...args: string[]): T {
  const out = execFileSync(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/e2e-fixtures.ts", ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: e2eDatabaseUrl(), LOG_LEVEL: "error" },
    encoding: "utf8",
  });
  // The result is the last line; anything before it is log output.
  return JSON.parse(out.trim().split("\n").at(-1)!) as T;
}


interface Seeded {
  projectId: string;
  activeVersion: number;
  rejectId: string;
  rejectVersion: number;
  approveId: string;
  approveVersion: number;
}
let seeded: Seeded;

test.beforeAll(() => {
  seeded = fixtures<Seeded>("candidates");
});

interface StoredLabelError {
  caseId: string;
  given: string;
  suggested: string;
  pGiven: number;
  pSuggested: number;
  margin: number;
}

/**
 * Suspected label errors on a candidate, as the train job stores them in ModelVersion.metrics
 * (`labelErrors: { cases, flaggedCount, folds }`, largest margin first): `count` of the demo's
 * non-TEST cases, with out-of-fold probabilities spread so that ordering by p(suggested) differs
 * from ordering by margin. Returns the stored list with each case's external id.
 */
async function seedLabelErrors(modelVersionId: string, projectId: string, count: number) {
  const cases = await query<{ id: string; externalId: string; importedLabel: string | null }>(
    `SELECT id, "externalId", "importedLabel" FROM "Case" WHERE "projectId" = $1 AND split <> 'TEST' ORDER BY "externalId" LIMIT $2`,
    [projectId, count],
  );
  expect(cases).toHaveLength(count);
  const list: (StoredLabelError & { externalId: string })[] = cases.map((c, i) => {
    const pSuggested = Math.round((0.4 + 0.45 * (((i * 7) % count) / count)) * 1000) / 1000;
    const pGiven = Math.round(Math.min(1 - pSuggested, 0.4 * (((i * 13) % count) / count)) * 1000) / 1000;
    const given = c.importedLabel ?? "normal";
    return { caseId: c.id, externalId: c.externalId, given, suggested: given === "normal" ? "benign" : "normal", pGiven, pSuggested, margin: Math.round((pSuggested - pGiven) * 1000) / 1000 };
  });
  list.sort((a, b) => b.margin - a.margin);
  const stored = { cases: list.map(({ caseId, given, suggested, pGiven, pSuggested, margin }): StoredLabelError => ({ caseId, given, suggested, pGiven, pSuggested, margin })), flaggedCount: count, folds: 5 };
  await query(`UPDATE "ModelVersion" SET metrics = metrics || jsonb_build_object('labelErrors', $2::jsonb) WHERE id = $1`, [modelVersionId, JSON.stringify(stored)]);
  return list;
}

test("the decision is at hand at 1280×720, and suspected label errors are counted, paged, sorted and name their case", async ({ page }) => {
  const errors = await seedLabelErrors(seeded.rejectId, seeded.projectId, 25);
  await page.setViewportSize({ width: 1280, height: 720 });
  await signInAndWait(page, DEMO_USERS.REVIEWER);
  await page.goto(`/models/${seeded.rejectId}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(`Review model v${seeded.rejectVersion}`);

  // Without scrolling: the guard, the four-eyes notice, the note and both buttons.
  const decision = page.getByTestId("decision");
  await expect(decision.getByRole("heading", { name: "Decision" })).toBeInViewport();
  await expect(page.getByTestId("guard")).toBeInViewport();
  await expect(decision.getByText("Four-eyes rule")).toBeInViewport();
  await expect(decision.getByTestId("decision-guard-note")).toBeInViewport();
  await expect(decision.getByLabel("Review note (required)")).toBeInViewport({ ratio: 1 });
  await expect(decision.getByRole("button", { name: "Approve" })).toBeInViewport({ ratio: 1 });
  await expect(decision.getByRole("button", { name: "Reject" })).toBeInViewport({ ratio: 1 });
  expect(await page.evaluate(() => window.scrollY)).toBe(0);
  // Nothing runs off the right edge (charts and matrices fit the 1280 px window or wrap).
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
  await page.screenshot({ path: test.info().outputPath("review-1280x720.png") });
  // What to look at, each with what it rests on.
  const summary = page.getByTestId("review-summary");
  await expect(summary.getByTestId("summary-minority-suspicious-nodule")).toContainText("on 1 TEST case");
  await expect(summary.getByTestId("summary-minority-suspicious-nodule")).toContainText("too few cases to judge");
  await expect(summary.getByTestId("summary-label-errors")).toContainText("25 suspected label errors");

  // The list: a count, the first 10 by margin, each row and button naming its case.
  const section = page.getByTestId("suspected-label-errors");
  const rows = section.getByTestId("label-error-row");
  await expect(section.getByTestId("label-errors-count")).toContainText("25 suspected label errors — showing 10 of 25");
  await expect(rows).toHaveCount(10);
  expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-case")))).toEqual(errors.slice(0, 10).map((e) => e.externalId));
  await expect(section.getByRole("button", { name: "Send to adjudication", exact: true })).toHaveCount(0);
  for (const e of errors.slice(0, 10)) {
    const row = rows.filter({ has: page.getByRole("rowheader", { name: `Case ${e.externalId}` }) });
    await expect(row.getByRole("button", { name: `Send to adjudication: case ${e.externalId}`, exact: true })).toHaveCount(1);
  }
  await section.getByRole("button", { name: "Show 10 more" }).click();
  await expect(rows).toHaveCount(20);
  await section.getByRole("button", { name: "Show 5 more" }).click();
  await expect(rows).toHaveCount(25);
  await expect(section.getByRole("button", { name: /more$/ })).toHaveCount(0);
  await section.getByRole("button", { name: "Show the first 10 only" }).click();
  await expect(rows).toHaveCount(10);

  // By p(suggested), highest first: the ten highest, in order (column 5).
  await section.getByLabel("Sort by").selectOption({ label: "p(suggested), highest first" });
  const bySuggested = [...errors].sort((a, b) => b.pSuggested - a.pSuggested).slice(0, 10);
  expect(bySuggested.map((e) => e.externalId)).not.toEqual(errors.slice(0, 10).map((e) => e.externalId));
  await expect(rows.first()).toHaveAttribute("data-case", bySuggested[0]!.externalId);
  expect(await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.children[4]!.textContent)))).toEqual(bySuggested.map((e) => e.pSuggested));

  // Sending one case: its row says so, the count says so, the database has it; it can be hidden.
  const first = bySuggested[0]!;
  await section.getByRole("button", { name: `Send to adjudication: case ${first.externalId}` }).click();
  await expect(rows.first()).toContainText("In the adjudication queue");
  await expect(section.getByTestId("label-errors-count")).toContainText("1 already in the adjudication queue");
  const [requested] = await query<{ adjudicationRequestedAt: Date | null }>(`SELECT "adjudicationRequestedAt" FROM "Case" WHERE id = $1`, [first.caseId]);
  expect(requested?.adjudicationRequestedAt).not.toBeNull();
  await section.getByLabel("Hide the 1 case already in the adjudication queue").check();
  await expect(section.getByTestId("label-errors-count")).toContainText("showing 10 of 24 not yet in the queue");
  await expect(rows.filter({ hasText: "In the adjudication queue" })).toHaveCount(0);
});

test("a reviewer compares candidates with the active model, rejects one with a note and approves another", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.REVIEWER);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Models", exact: true }).click();
  await expect(page.getByTestId(`model-row-v${seeded.rejectVersion}`)).toContainText("CANDIDATE");
  await page.getByTestId(`model-row-v${seeded.rejectVersion}`).getByRole("link", { name: "Review" }).click();

  await expect(page.getByRole("heading", { level: 1 })).toContainText(`Review model v${seeded.rejectVersion}`);
  // The guard flags the minority regression; metrics, deltas and charts are on the page.
  await expect(page.getByTestId("guard")).toContainText("Guard failed");
  await expect(page.getByTestId("guard")).toContainText("worse than the active model");
  await expect(page.getByTestId("per-class")).toContainText("Suspicious nodule");
  await expect(page.getByTestId("metric-deltas")).toContainText("Minority recall");
  await expect(page.getByTestId("metric-deltas").locator(".delta.worse").first()).toBeVisible();
  await expect(page.getByTestId("training-summary")).toContainText("16 labels");
  for (const id of ["chart-recall", "chart-pr", "chart-reliability", "confusion-candidate", "confusion-active"]) {
    await expect(page.getByTestId(id)).toBeVisible();
  }
  await expect(page.getByTestId("chart-pr").locator(".recharts-line").first()).toBeVisible();
  await expect(page.getByTestId("chart-reliability")).toContainText("mean confidence");

  // The note is required; the reviewer started this training, so four eyes refuses their approval.
  const decision = page.getByTestId("decision");
  await decision.getByRole("button", { name: "Reject" }).click();
  await expect(decision.getByText("Write a note of at least 3 characters")).toBeVisible();
  await decision.getByLabel("Review note (required)").fill("Minority recall collapsed on both rare findings.");
  await decision.getByRole("button", { name: "Approve" }).click();
  await expect(decision.getByRole("alert")).toContainText("Four-eyes rule");
  await decision.getByRole("button", { name: "Reject" }).click();
  await expect(decision.getByRole("status")).toContainText(`Model v${seeded.rejectVersion} rejected`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("REJECTED");

  await page.goto(`/models/${seeded.approveId}`);
  // One TEST case per minority class in the demo: too few to judge, so the guard cannot pass.
  await expect(page.getByTestId("guard")).toContainText("too few cases to judge");
  await expect(page.getByTestId("guard")).not.toContainText("Guard passed");
  await page.getByTestId("decision").getByLabel("Review note (required)").fill("Same minority performance with more labels; approve.");
  await page.getByTestId("decision").getByRole("button", { name: "Approve" }).click();
  await expect(page.getByTestId("decision").getByRole("status")).toContainText(`v${seeded.activeVersion} retired`);

  const rows = await query<{ id: string; status: string; reviewNote: string | null }>(`SELECT id, status, "reviewNote" FROM "ModelVersion" WHERE "projectId" = $1 ORDER BY version`, [seeded.projectId]);
  expect(rows.find((r) => r.id === seeded.rejectId)).toMatchObject({ status: "REJECTED", reviewNote: "Minority recall collapsed on both rare findings." });
  expect(rows.find((r) => r.id === seeded.approveId)?.status).toBe("APPROVED");
  expect(rows.filter((r) => r.status === "APPROVED")).toHaveLength(1);
  const jobs = await query<{ kind: string }>(`SELECT kind FROM "JobRun" WHERE "dedupeKey" = $1`, [`select:${seeded.projectId}:approved:${seeded.approveId}`]);
  expect(jobs).toEqual([{ kind: "select" }]);
  const audit = await query<{ action: string }>(`SELECT action FROM "AuditEvent" WHERE "targetId" = ANY($1) ORDER BY id`, [[seeded.rejectId, seeded.approveId]]);
  expect(audit.map((a) => a.action)).toEqual(["model.reject", "model.approve"]);
});

test("a clinician is refused the review page and its procedures by the server", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.CLINICIAN);
  await page.goto(`/models/${seeded.approveId}`);
  await expect(page.getByText("Not available")).toBeVisible();
  const input = encodeURIComponent(JSON.stringify({ json: { modelVersionId: seeded.approveId } }));
  expect((await page.request.get(`/api/trpc/review.get?input=${input}`)).status()).toBe(403);
  // Roles are per project: the list answers every signed-in user, with the models of the projects where
  // their role may see models — none for a clinician of the demo project.
  const list = await page.request.get("/api/trpc/review.list");
  expect(list.status()).toBe(200);
  expect((await list.json()).result.data.json).toEqual([]);
  const baseURL = test.info().project.use.baseURL!;
  const decide = await page.request.post("/api/trpc/review.decide", {
    headers: { origin: baseURL, "content-type": "application/json" },
    data: { json: { modelVersionId: seeded.approveId, decision: "reject", note: "not allowed to do this" } },
  });
  expect(decide.status()).toBe(403);
  expect(await decide.text()).toMatch(/Your role (in this project )?may not/);
});

test("after approval a data scientist sees the new round's statistics and runs a what-if simulation", async ({ page }) => {
  const round = fixtures<{ number: number; selected: number }>("round", seeded.approveId);
  await signInAndWait(page, DEMO_USERS.DATA_SCIENTIST);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Selection", exact: true }).click();
  await page.getByRole("link", { name: "Demo — rare findings" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Selection — Demo — rare findings");

  const row = page.getByTestId(`round-row-${round.number}`);
  await expect(row).toContainText("rads");
  await expect(row).toContainText(`v${seeded.approveVersion}`);
  await expect(row).toContainText("90.0%");
  // The newest round is shown by default; another may be newer (the worker also reacts to the approval).
  const show = row.getByRole("button", { name: "Show" });
  if (await show.isEnabled()) await show.click();
  const detail = page.getByTestId("round-detail");
  await expect(detail.getByRole("heading", { level: 2 })).toContainText(`Round #${round.number}: rads`);
  await expect(page.getByTestId("round-summary")).toContainText("Pool prior π̂₊");
  await expect(page.getByTestId("round-hit-rate")).toContainText("expected at random");
  await expect(page.getByTestId("selected-cases").locator("tbody tr")).toHaveCount(round.selected);
  for (const id of ["chart-return", "chart-hist-bald", "chart-hist-entropy", "chart-hit-rate", "chart-labels", "chart-learning"]) {
    await expect(page.getByTestId(id)).toBeVisible();
  }
  await expect(page.getByTestId("chart-hist-bald")).toContainText("selected vs pool at selection time");

  // What-if: a small simulation on the worker, with a progress bar, then curves and a table.
  const whatIf = page.getByTestId("what-if");
  await whatIf.getByLabel("Budgets per round").fill("2");
  await whatIf.getByLabel("Rounds").fill("2");
  await whatIf.getByLabel("Seeds").fill("1");
  await whatIf.getByLabel("RADS episodes").fill("20");
  // The demo has 11 labelled non-TEST cases: a seed set of 4 leaves room for two rounds of 2.
  await whatIf.getByLabel("Seed set").fill("4");
  await whatIf.getByRole("button", { name: "Run simulation" }).click();
  await expect(page.getByRole("progressbar").or(page.getByTestId("simulation-table"))).toBeVisible();
  await expect(page.getByTestId("simulation-table")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("simulation-table").locator("tbody tr")).toHaveCount(3);
  await expect(page.getByTestId("chart-sim-2")).toBeVisible();
});
