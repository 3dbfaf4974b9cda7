/**
 * Label quality (issue 14) in the browser, against the real platform, in a project of its own seeded by
 * scripts/e2e-gold-fixtures.ts: a data scientist marks gold cases in the case browser; a clinician's queue
 * holds gold cases at the project's rate over the seeded round (the exact slots of gold-mixing.ts for that
 * round and clinician), with nothing saying which; the data scientist reads the agreement figures with their
 * support and the gold section's flag; at the adjudication address they are told who adjudicates; a reviewer
 * adjudicates a case, its final label shows, and the labels export carries the final label and its rule.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { goldPhase, goldSlots } from "../server/services/gold-mixing";
import { GOLD_MIN_ANSWERS } from "../contracts/gold";
import { DEMO_USERS, e2eDatabaseUrl, signInAndWait } from "./fixtures";

test.describe.configure({ mode: "serial" });

const root = path.resolve(import.meta.dirname, "..");

interface Seeded {
  projectId: string;
  name: string;
  goldRate: number;
  roundId: string;
  clinicianId: string;
  goldExternalIds: string[];
  goldCaseIds: string[];
}
let seeded: Seeded;

test.beforeAll(() => {
  const out = execFileSync(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/e2e-gold-fixtures.ts"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: e2eDatabaseUrl(), LOG_LEVEL: "error" },
    encoding: "utf8",
  });
  seeded = JSON.parse(out.trim().split("\n").at(-1)!) as Seeded;
});

/** A tRPC call with the page's session (superjson envelope), returning the result's json. */
async function call<T>(request: APIRequestContext, kind: "query" | "mutation", pathName: string, input: unknown): Promise<T> {
  const origin = test.info().project.use.baseURL!;
  const response =
    kind === "query"
      ? await request.get(`/api/trpc/${pathName}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`)
      : await request.post(`/api/trpc/${pathName}`, { headers: { origin, "content-type": "application/json" }, data: { json: input } });
  expect(response.status(), `${pathName}: ${await response.text()}`).toBe(200);
  return (await response.json()).result.data.json as T;
}

test("a data scientist marks cases with a known answer as gold in the case browser", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.DATA_SCIENTIST);
  await page.goto(`/projects/${seeded.projectId}/cases`);
  await expect(page.getByTestId("case-row")).toHaveCount(32);
  for (const id of seeded.goldExternalIds) await page.getByLabel(`Select ${id}`, { exact: true }).check();
  await page.getByTestId("mark-gold").click();
  await expect(page.getByTestId("bulk-message")).toContainText("6 case(s) marked as gold");
  await expect(page.getByTestId("gold-badge")).toHaveCount(6);
  // A case without a known answer is refused, naming it.
  await page.getByLabel("Select q-00", { exact: true }).check();
  await page.getByTestId("mark-gold").click();
  await expect(page.getByTestId("bulk-message")).toContainText("have no known answer (q-00)");
  await expect(page.getByTestId("gold-badge")).toHaveCount(6);
});

test("a clinician's queue holds gold cases at the set rate over the seeded round, and nothing says which", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.CLINICIAN);
  const served: string[] = [];
  for (let i = 0; i < 60; i++) {
    const lease = await call<{ caseId: string } | null>(page.request, "mutation", "queue.next", { projectId: seeded.projectId });
    if (!lease) break;
    served.push(lease.caseId);
    const view = await call<{ caseVersion: number }>(page.request, "query", "annotations.case", { caseId: lease.caseId });
    // The clinician answers every case "benign": right on half the gold cases, never on the minority ones.
    await call(page.request, "mutation", "annotations.submit", { caseId: lease.caseId, expectedVersion: view.caseVersion, content: { labels: ["benign"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 1500 });
  }
  const gold = new Set(seeded.goldCaseIds);
  const positions = served.flatMap((caseId, k) => (gold.has(caseId) ? [k] : []));
  // All 20 round cases, and gold exactly at this round's and clinician's gold slots: ⌊n·r + φ⌋ of n.
  expect(served.length - positions.length).toBe(20);
  const phase = goldPhase(seeded.roundId, seeded.clinicianId);
  expect(positions).toEqual(goldSlots(served.length, seeded.goldRate, phase));
  expect(positions.length).toBe(Math.floor(served.length * seeded.goldRate + phase));
  // A gold case is served only while regular cases remain, so 20 regular cases at rate r hold at least ⌊20·r⌋ gold ones.
  expect(positions.length).toBeGreaterThanOrEqual(Math.floor(20 * seeded.goldRate));
  expect(new Set(served).size).toBe(served.length);

  // The clinician's queue lists every case they were given, numbered 1…n, and says nothing about gold.
  await page.goto(`/queue/${seeded.projectId}`);
  await expect(page.getByText(`Queue (${served.length} cases)`)).toBeVisible();
  await expect(page.getByTestId("queue-finished")).toBeVisible();
  expect(await page.locator("body").innerText()).not.toMatch(/gold/i);
});

/** How many gold cases the clinician answered over the 20-case round: the g with g = |goldSlots(20 + g)| at the round's phase. */
function clinicianGoldAnswers(): number {
  const phase = goldPhase(seeded.roundId, seeded.clinicianId);
  return [0, 1, 2, 3, 4, 5, 6].find((g) => goldSlots(20 + g, seeded.goldRate, phase).length === g)!;
}

test("a data scientist reads the agreement figures with their support, and the gold section flags the clinician", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.DATA_SCIENTIST);
  await page.goto(`/projects/${seeded.projectId}/agreement`);
  await expect(page.getByTestId("agreement-support")).toContainText("with two or more annotators, 2 of those with a disagreement");
  await expect(page.getByTestId("agreement-support")).toContainText("6 with two or more annotators");
  await expect(page.getByTestId("overall-percent")).toContainText("6 cases");
  await expect(page.getByTestId("overall-alpha")).toContainText("6 cases");
  await expect(page.getByTestId("agreement-matrix")).toBeVisible();
  const goldSection = page.getByTestId("gold-section");
  await expect(goldSection.getByTestId("gold-summary")).toContainText("6 gold cases");
  const row = goldSection.getByTestId("gold-annotator").filter({ hasText: "Chris Clinician" });
  // The clinician answered the gold cases of their slots over the 20-case round: 4 or 5 at r 0.2, by phase
  // (the g with g = |goldSlots(20 + g)|). Flagged only with at least GOLD_MIN_ANSWERS answers.
  const goldAnswers = clinicianGoldAnswers();
  expect(goldAnswers).toBeGreaterThanOrEqual(4);
  await expect(row).toHaveAttribute("data-flagged", goldAnswers >= GOLD_MIN_ANSWERS ? "true" : "false");
  await expect(row).toContainText(/\b0% \(0 of [23]\)/); // minority recall: every suspicious gold case answered "benign"
  if (goldAnswers >= GOLD_MIN_ANSWERS) await expect(goldSection.getByTestId("gold-flagged")).toContainText("Chris Clinician");
  else await expect(goldSection.getByTestId("gold-flagged")).toHaveCount(0);
  await expect(goldSection.getByTestId("gold-accuracy-chart")).toBeVisible();
});

test("a data scientist at the adjudication address is told who adjudicates, on the Adjudication tab", async ({ page }) => {
  await signInAndWait(page, DEMO_USERS.DATA_SCIENTIST);
  await page.goto(`/projects/${seeded.projectId}/adjudication`);
  await expect(page.getByRole("heading", { name: "Not available" })).toBeVisible();
  await expect(page.getByTestId("role-gate-reason")).toContainText("It is for members whose role in the project is Reviewer or Admin; your role here is Data scientist.");
  await expect(page.getByTestId("adjudication-who")).toContainText("reviewers");
  const tabs = page.getByRole("navigation", { name: "Project" });
  await expect(tabs.getByRole("link", { name: /Adjudication/ })).toHaveAttribute("aria-current", "page");
  await expect(tabs.getByRole("link", { name: "Overview" })).not.toHaveAttribute("aria-current", "page");
});

test("a reviewer adjudicates a case, its final label shows, and the export carries the final label and its rule", async ({ page, browser }) => {
  await signInAndWait(page, DEMO_USERS.REVIEWER);
  await page.goto(`/projects/${seeded.projectId}/adjudication`);
  const section = page.getByTestId("adjudication-case-a-4");
  await expect(section).toContainText("Suspicious");
  await expect(page.getByTestId("adjudication-case-a-5")).toBeVisible();
  await section.getByLabel("Suspicious").check();
  await section.getByRole("textbox").fill("Spiculated margin on the report: suspicious.");
  await section.getByRole("button", { name: "Record the final label" }).click();
  await expect(section).toHaveCount(0);
  await expect(page.getByTestId("adjudication-case-a-5")).toBeVisible();
  // The case's history shows the final label with its reason.
  await page.goto(`/projects/${seeded.projectId}/cases`);
  await page.getByRole("link", { name: "a-4", exact: true }).click();
  const history = page.getByTestId("case-history");
  await expect(history).toContainText("Rae Reviewer");
  await expect(history).toContainText("Spiculated margin on the report: suspicious.");

  const scientist = await browser.newPage();
  await signInAndWait(scientist, DEMO_USERS.DATA_SCIENTIST);
  const response = await scientist.request.post(`/api/projects/${seeded.projectId}/export?format=jsonl&history=0`, { headers: { Origin: new URL(test.info().project.use.baseURL!).origin } });
  expect(response.status()).toBe(200);
  const rows = (await response.text()).trim().split("\n").map((line) => JSON.parse(line) as { caseId: string; kind: string; finalLabel: string | null; finalLabelRule: string });
  const finalOf = (externalId: string) => {
    const mine = rows.filter((r) => r.caseId === externalId);
    expect(mine.length, externalId).toBeGreaterThan(0);
    expect(new Set(mine.map((r) => `${r.finalLabel}|${r.finalLabelRule}`)).size).toBe(1);
    return { finalLabel: mine[0]!.finalLabel, rule: mine[0]!.finalLabelRule };
  };
  expect(finalOf("a-4")).toEqual({ finalLabel: "suspicious", rule: "adjudicated" });
  expect(finalOf("a-5")).toEqual({ finalLabel: null, rule: "excluded" });
  expect(finalOf("a-0")).toEqual({ finalLabel: "normal", rule: "consensus" });
  // A gold case the clinician answered "benign" keeps its own label: gold answers never vote.
  const answeredGold = seeded.goldExternalIds.filter((id) => rows.some((r) => r.caseId === id));
  expect(answeredGold.length).toBe(clinicianGoldAnswers()); // 4 or 5 by the round's phase (see above)
  for (const id of answeredGold) expect(finalOf(id)).toEqual({ finalLabel: Number(id.slice(2)) % 2 === 0 ? "suspicious" : "benign", rule: "imported" });
  await scientist.close();
});
