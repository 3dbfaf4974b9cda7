/**
 * Issue 10's proof: a team's own project from an EMPTY platform (`SEED_DEMO=false`, started by this
 * spec beside the demo platform — playwright/empty-platform.ts), everything through the UI as each
 * role, no SQL and no seed. The first admin changes the printed password and creates a data
 * scientist, two clinicians and a reviewer; the data scientist creates "Neurology vs rest" (3 labels,
 * 1 minority class, B = 10), sets a small RADS episode count, adds the others with project roles,
 * imports 400 labelled MTSamples rows (specialties mapped to the 3 classes through the import's
 * unknown-label offer; a TEST split) and 300 unlabelled rows, and sees the cold-start round; the
 * clinicians label it; the worker retrains and a candidate model appears; the reviewer approves it;
 * the worker's next round is a RADS round over the imported pool. The data scientist then imports a
 * DICOM file, finds its case in the case browser and opens it (the image is drawn).
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { csvField, readCsvRecords } from "../server/import/csv-records";
import { startEmptyPlatform, EMPTY_PLATFORM_URL, type EmptyPlatform } from "./empty-platform";

const SHARED = path.resolve(import.meta.dirname, "../../shared/data");
const PROJECT = "Neurology vs rest";
const PASSWORD = "a-long-test-password-10";

test.use({ baseURL: EMPTY_PLATFORM_URL });
test.describe.configure({ mode: "serial" });

let platform: EmptyPlatform;
test.beforeAll(async () => {
  test.setTimeout(300_000);
  platform = await startEmptyPlatform();
});
test.afterAll(async () => {
  await platform?.stop();
});

const users = {
  scientist: { email: "sam.scientist@team.local", name: "Sam Scientist", role: "DATA_SCIENTIST" },
  clinicianA: { email: "cleo.clinician@team.local", name: "Cleo Clinician", role: "CLINICIAN" },
  clinicianB: { email: "cai.clinician@team.local", name: "Cai Clinician", role: "CLINICIAN" },
  reviewer: { email: "rae.reviewer@team.local", name: "Rae Reviewer", role: "REVIEWER" },
} as const;

/**
 * The two CSVs from the real MTSamples file: distinct non-empty transcriptions in note_id order;
 * 400 labelled rows (60 Neurology, 120 Surgery, 220 of the other specialties; every 4th row TEST,
 * the rest SEED) with the ORIGINAL specialty as label, and the next 300 rows unlabelled (POOL).
 */
function mtsamplesCsvs(): { labelled: string; unlabelled: string; others: Set<string> } {
  const doc = readCsvRecords(fs.readFileSync(path.join(SHARED, "text/mtsamples/mtsamples.csv"), "utf8"));
  const col = (name: string) => doc.header.indexOf(name);
  const [idCol, specialtyCol, textCol] = [col("note_id"), col("medical_specialty"), col("transcription")];
  const seen = new Set<string>();
  const rows: { id: string; specialty: string; text: string }[] = [];
  for (const r of doc.records) {
    const text = r.fields[textCol]!.trim();
    if (text.length < 200 || seen.has(text)) continue;
    seen.add(text);
    rows.push({ id: r.fields[idCol]!, specialty: r.fields[specialtyCol]!.trim(), text });
  }
  // The file is sorted by specialty: a fixed shuffle gives the "other" class many specialties.
  rows.sort((a, b) => ((Number(a.id) * 7919) % 4999) - ((Number(b.id) * 7919) % 4999));
  const want: Record<string, number> = { Neurology: 60, Surgery: 120 };
  let others = 220;
  const labelled: typeof rows = [];
  const rest: typeof rows = [];
  for (const row of rows) {
    const quota = want[row.specialty];
    if (quota !== undefined && quota > 0) {
      want[row.specialty] = quota - 1;
      labelled.push(row);
    } else if (quota === undefined && others > 0) {
      others--;
      labelled.push(row);
    } else rest.push(row);
  }
  expect(labelled).toHaveLength(400);
  const labelledCsv = ["note_id,transcription,medical_specialty,split", ...labelled.map((r, i) => [r.id, csvField(r.text), csvField(r.specialty), i % 4 === 0 ? "TEST" : "SEED"].join(","))].join("\n");
  const unlabelledCsv = ["note_id,transcription", ...rest.slice(0, 300).map((r) => [r.id, csvField(r.text)].join(","))].join("\n");
  // Neurology and Surgery are the classes' display names (the import matches them); the others are not.
  const otherSpecialties = new Set(labelled.map((r) => r.specialty).filter((s) => s !== "Neurology" && s !== "Surgery"));
  return { labelled: labelledCsv + "\n", unlabelled: unlabelledCsv + "\n", others: otherSpecialties };
}

async function signIn(page: Page, email: string, password: string) {
  await page.goto("/signin");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Passwords the team chose at their first sign-in (the admin's initial one is must-change: issue 12, fault 5). */
const ownPasswords = new Map<string, string>();

async function asUser(browser: Browser, email: string, password = PASSWORD): Promise<Page> {
  const context = await browser.newContext({ baseURL: EMPTY_PLATFORM_URL });
  const page = await context.newPage();
  const own = ownPasswords.get(email);
  await signIn(page, email, own ?? password);
  if (!own) {
    // First sign-in with the password the admin typed: the user must choose their own first.
    await expect(page).toHaveURL(/\/change-password/, { timeout: 30_000 });
    const chosen = `${password}-own`;
    const change = page.getByRole("form", { name: "Change password" });
    await change.getByLabel("Current password").fill(password);
    await change.getByLabel("New password (at least 12 characters)").fill(chosen);
    await change.getByLabel("New password again").fill(chosen);
    await change.getByRole("button", { name: "Change password" }).click();
    await expect(page).toHaveURL(/\/signin/, { timeout: 30_000 });
    ownPasswords.set(email, chosen);
    await signIn(page, email, chosen);
  }
  await expect(page.getByTestId("current-user")).toBeVisible({ timeout: 30_000 });
  return page;
}

/** Reloads `page` until `check` passes (the worker's jobs land in the database, not in the open page). */
async function reloadUntil(page: Page, check: () => Promise<unknown>, timeout: number) {
  await expect(async () => {
    await page.reload();
    await check();
  }).toPass({ timeout, intervals: [2_000, 3_000, 5_000] });
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

/** Labels cases of the open round until `count` are done by this clinician or the queue is finished. */
async function labelCases(page: Page, count: number): Promise<number> {
  let done = 0;
  while (done < count) {
    const finished = page.getByTestId("queue-finished");
    const caseView = page.getByTestId("case-view");
    await expect(finished.or(caseView)).toBeVisible({ timeout: 30_000 });
    if (await finished.isVisible()) break;
    const caseId = await page.locator(".workspace").getAttribute("data-case-id");
    const narrative = ((await page.getByTestId("narrative").textContent()) ?? "").toLowerCase();
    const label = /neurolog|seizure|brain|migraine|headache/.test(narrative) ? /Neurology/ : /surgery|incision|operative|anesthesia/.test(narrative) ? /Surgery/ : /Other/;
    await page.getByRole("group", { name: "Labels" }).getByRole("button", { name: label }).click();
    await page.getByRole("button", { name: /^Submit/ }).click();
    await expect.poll(async () => (await finished.isVisible()) || (await page.locator(".workspace").getAttribute("data-case-id")) !== caseId, { timeout: 30_000 }).toBe(true);
    done++;
  }
  return done;
}

test("a team sets up its own project on an empty platform and runs a cold-start round, a model review and a RADS round", async ({ browser }) => {
  test.setTimeout(300_000);
  const csvs = mtsamplesCsvs();

  // ── The first admin: the printed password must be changed at first sign-in.
  const admin = await browser.newContext({ baseURL: EMPTY_PLATFORM_URL }).then((c) => c.newPage());
  await signIn(admin, platform.admin.email, platform.admin.password);
  await expect(admin).toHaveURL(/\/change-password/, { timeout: 30_000 });
  const change = admin.getByRole("form", { name: "Change password" });
  await change.getByLabel("Current password").fill(platform.admin.password);
  await change.getByLabel("New password (at least 12 characters)").fill(PASSWORD);
  await change.getByLabel("New password again").fill(PASSWORD);
  await change.getByRole("button", { name: "Change password" }).click();
  await expect(admin).toHaveURL(/\/signin/, { timeout: 30_000 });
  await signIn(admin, platform.admin.email, PASSWORD);
  await expect(admin.getByTestId("current-user")).toBeVisible({ timeout: 30_000 });

  // ── The admin creates the team (no project exists yet).
  await admin.goto("/admin/users");
  const invite = admin.getByRole("form", { name: "Invite a user" });
  for (const user of Object.values(users)) {
    await invite.getByLabel("E-mail").fill(user.email);
    await invite.getByLabel("Name", { exact: true }).fill(user.name);
    await invite.locator(`select[name="role"]`).selectOption(user.role);
    await invite.getByLabel("Initial password (optional)").fill(PASSWORD);
    await invite.getByRole("button", { name: "Invite" }).click();
    await expect(admin.getByRole("status")).toContainText(`Created ${user.email}`);
  }
  await admin.context().close();

  // ── The data scientist creates the project: 3 labels, Neurology the minority class, B = 10.
  const ds = await asUser(browser, users.scientist.email);
  await ds.goto("/projects");
  await ds.getByRole("link", { name: "New project" }).first().click();
  await expect(ds.getByRole("heading", { name: "New project" })).toBeVisible();
  const form = ds.getByRole("form", { name: "New project" });
  await form.getByLabel("Name", { exact: true }).fill(PROJECT);
  await form.getByLabel("Cases per round (B)").fill("10");
  await form.getByLabel("Selection strategy").selectOption("rads");
  await form.getByLabel("Description").fill("Which transcriptions are neurology? MTSamples, specialties grouped into three classes.");
  await form.getByLabel("Narrative and images").check();
  const classes = [
    { key: "neuro", name: "Neurology", guideline: "Brain, spinal cord, nerves: seizures, stroke, headache, neuropathy.", minority: true },
    { key: "surgery", name: "Surgery", guideline: "Operative notes and surgical consultations.", minority: false },
    { key: "other", name: "Other", guideline: "Every other specialty.", minority: false },
  ];
  for (const [i, c] of classes.entries()) {
    const n = i + 1;
    if ((await form.getByLabel(`Key of label ${n}`).count()) === 0) await form.getByRole("button", { name: "Add a label" }).click();
    await form.getByLabel(`Key of label ${n}`).fill(c.key);
    await form.getByLabel(`Name of label ${n}`).fill(c.name);
    await form.getByLabel(`Guideline of label ${n}`).fill(c.guideline);
    if (c.minority) await form.getByLabel(`Label ${n} is a minority class`).check();
  }
  await form.getByLabel("ρ (between 0 and 1)").fill("0.3");
  await form.getByRole("button", { name: "Create project" }).click();
  await expect(ds.getByRole("heading", { name: PROJECT })).toBeVisible({ timeout: 30_000 });
  await expect(ds.getByTestId("overview-label")).toHaveCount(3);
  const projectId = ds.url().match(/\/projects\/([^/?#]+)/)?.[1];
  expect(projectId).toBeTruthy();

  // A small RADS episode count keeps the worker's round short on a small machine (set on the page).
  await ds.goto(`/projects/${projectId}/settings/selection`);
  const selection = ds.getByRole("form", { name: "Selection and loop settings" });
  await expect(selection.getByLabel("Budget B per round")).toHaveValue("10");
  await selection.getByLabel("RADS episodes").fill("20");
  await selection.getByRole("button", { name: "Save selection and loop settings" }).click();
  await expect(selection.getByRole("status")).toContainText("Saved (1 change)");

  // ── Members with their project roles.
  await ds.goto(`/projects/${projectId}/members`);
  const add = ds.getByRole("form", { name: "Add a member" });
  for (const user of [users.clinicianA, users.clinicianB, users.reviewer]) {
    await add.getByLabel("User to add").selectOption({ label: `${user.name} (${user.email})` });
    await add.getByLabel("Role of the new member").selectOption(user.role);
    await add.getByRole("button", { name: "Add" }).click();
    await expect(ds.getByLabel(`Project role of ${user.email}`)).toHaveValue(user.role);
  }

  // ── Import: the labelled rows name their specialty; the offer maps the unknown labels to the classes.
  await ds.goto(`/projects/${projectId}/import`);
  await expect(ds.getByRole("heading", { name: `Import data — ${PROJECT}` })).toBeVisible();
  const importForm = ds.getByRole("form", { name: "Import" });
  await importForm.getByLabel("Files").setInputFiles([{ name: "mtsamples-labelled.csv", mimeType: "text/csv", buffer: Buffer.from(csvs.labelled) }]);
  await importForm.getByLabel("Text column").fill("transcription");
  await importForm.getByLabel("Label column").fill("medical_specialty");
  await importForm.getByRole("button", { name: "Import" }).click();
  const offer = ds.getByTestId("unknown-labels");
  await expect(offer).toBeVisible({ timeout: 60_000 });
  // Once per distinct value with its row count; "Neurology" and "Surgery" are class names already.
  await expect(offer.getByRole("heading", { level: 2 })).toHaveText(`${csvs.others.size} labels not in the schema (220 rows)`);
  await expect(offer.getByTestId("unknown-label")).toHaveCount(csvs.others.size);
  await expect(offer.getByTestId("unknown-label").filter({ hasText: /^Neurology|^Surgery/ })).toHaveCount(0);
  // Proposed by default: the schema's rest class ("Other", not a minority class); adding stays one click away.
  await expect(offer.getByLabel("What to do with Radiology", { exact: true })).toHaveValue("other");
  await expect(offer.getByLabel("What to do with Radiology", { exact: true }).getByRole("option", { name: "Add to the schema as a new class" })).toHaveCount(1);
  await offer.getByLabel("Set every value to").selectOption("other");
  await expect(offer.getByLabel("What to do with Radiology", { exact: true })).toHaveValue("other");
  await offer.getByRole("button", { name: "Apply and import again" }).click();
  // Some rows name clinicians ("Dr. …"): the identifier scan holds the batch until it is imported as written (audited).
  const identifiers = ds.getByTestId("identifiers-offer");
  await expect(identifiers).toBeVisible({ timeout: 90_000 });
  await identifiers.getByRole("button", { name: "Import as written (recorded in the audit)" }).click();
  const result = ds.getByTestId("import-result");
  await expect(result.getByRole("heading", { name: "Imported" })).toBeVisible({ timeout: 90_000 });
  await expect(result.getByTestId("count-cases")).toHaveText("400");

  await importForm.getByLabel("Files").setInputFiles([{ name: "mtsamples-unlabelled.csv", mimeType: "text/csv", buffer: Buffer.from(csvs.unlabelled) }]);
  await importForm.getByLabel("Label column").fill("");
  await importForm.getByRole("button", { name: "Import" }).click();
  await expect(identifiers).toBeVisible({ timeout: 90_000 });
  await identifiers.getByRole("button", { name: "Import as written (recorded in the audit)" }).click();
  await expect(result.getByRole("heading", { name: "Imported" })).toBeVisible({ timeout: 90_000 });
  await expect(result.getByTestId("count-cases")).toHaveText("300");
  await expect(ds.getByTestId("import-batch")).toHaveCount(2);

  // The case browser counts what was imported: 100 TEST, 300 unlabelled in the pool.
  await ds.goto(`/projects/${projectId}/cases?split=TEST`);
  await expect(ds.getByTestId("case-count")).toHaveText("100 cases");
  await ds.goto(`/projects/${projectId}/cases?split=POOL`);
  await expect(ds.getByTestId("case-count")).toHaveText("300 cases");

  // ── The worker writes the cold-start round over the pool (its check runs every minute).
  await ds.goto(`/projects/${projectId}/selection`);
  await reloadUntil(ds, () => expect(ds.getByTestId("round-row-1")).toContainText("cold-start", { timeout: 2_000 }), 150_000);

  // ── The clinicians label it: one takes five cases, the other the rest.
  const cleo = await asUser(browser, users.clinicianA.email);
  await cleo.goto("/queue");
  await cleo.getByTestId("project-queue").filter({ hasText: PROJECT }).getByRole("link", { name: /Start labelling/ }).click();
  await expect(cleo.getByTestId("cold-start-badge")).toBeVisible({ timeout: 30_000 });
  await expect(cleo.getByTestId("label-guidelines")).toContainText("Brain, spinal cord, nerves");
  expect(await labelCases(cleo, 5)).toBe(5);
  const cai = await asUser(browser, users.clinicianB.email);
  await cai.goto(`/queue/${projectId}`);
  // The case Cleo has open stays leased to her: Cai labels the others, then Cleo finishes hers.
  const byCai = await labelCases(cai, 10);
  await expect(cai.getByTestId("queue-finished")).toBeVisible();
  await cleo.reload();
  const rest = await labelCases(cleo, 10);
  await expect(cleo.getByTestId("queue-finished")).toBeVisible();
  expect(5 + byCai + rest).toBe(10);

  // ── The finished round retrains; the reviewer finds the candidate and approves it.
  const rae = await asUser(browser, users.reviewer.email);
  await rae.goto("/models");
  await reloadUntil(rae, () => expect(rae.getByTestId("model-row-v1")).toContainText("CANDIDATE", { timeout: 2_000 }), 150_000);
  await rae.getByTestId("model-row-v1").getByRole("link", { name: "Review" }).click();
  await expect(rae.getByRole("heading", { level: 1 })).toContainText("Review model v1");
  await expect(rae.getByTestId("per-class")).toContainText("Neurology");
  const decision = rae.getByTestId("decision");
  await decision.getByLabel("Review note (required)").fill("First model of the project; minority recall acceptable for a start.");
  await decision.getByRole("button", { name: "Approve" }).click();
  await expect(decision.getByRole("status")).toContainText("Model v1 approved");

  // ── The next round is a RADS round over the imported pool, chosen by the approved model.
  await ds.goto(`/projects/${projectId}/selection`);
  await reloadUntil(ds, () => expect(ds.getByTestId("round-row-2")).toContainText("rads", { timeout: 2_000 }), 150_000);
  await expect(ds.getByTestId("round-row-2")).toContainText("v1");
  await cleo.goto(`/queue/${projectId}`);
  await expect(cleo.getByTestId("case-view")).toBeVisible({ timeout: 30_000 });
  await expect(cleo.getByTestId("cold-start-badge")).toHaveCount(0);
  await expect(cleo.getByText(/Round 2 · rads/)).toBeVisible();

  // ── A DICOM file: imported, found in the case browser (cases with images) and opened, image drawn.
  await ds.goto(`/projects/${projectId}/import`);
  await ds.getByRole("form", { name: "Import" }).getByLabel("Files").setInputFiles(path.join(SHARED, "dicom/CT_small.dcm"));
  await ds.getByRole("form", { name: "Import" }).getByRole("button", { name: "Import" }).click();
  await expect(result.getByRole("heading", { name: "Imported" })).toBeVisible({ timeout: 60_000 });
  await expect(result.getByTestId("count-images")).toContainText("DICOM 1");
  await ds.goto(`/projects/${projectId}/cases`);
  const filters = ds.getByTestId("case-filters");
  await filters.locator(`select[name="hasImages"]`).selectOption("true");
  await filters.getByTestId("apply-filters").click();
  await expect(ds.getByTestId("case-count")).toHaveText("1 case");
  const row = ds.getByTestId("case-row").first();
  const externalId = await row.getAttribute("data-case-id");
  await row.getByRole("link", { name: externalId! }).click();
  await expect(ds.getByTestId("case-view")).toBeVisible();
  await expect(ds.getByTestId("image-attributes")).toContainText("CT");
  await expect.poll(() => litPixels(ds), { timeout: 30_000 }).toBeGreaterThan(1000);
});
