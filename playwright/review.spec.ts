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
