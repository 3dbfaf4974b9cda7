/**
 * The demo project's label schema, its case plan (labels, splits, which cases get images) and the
 * synthetic radiology reports, all derived from one seed.
 *
 * The reports are written to be awkward in the ways real ones are: normal reports say "no
 * pneumothorax" and "no suspicious nodule", benign ones talk about (benign) nodules, a normal
 * study may mention a pneumothorax that has resolved. A keyword matcher should do poorly.
 *
 * Every identifier in here is fake on purpose and obviously so ("DEMO^PATIENT^0007",
 * "MRN DEMO-0007", "Jane Demo-Sample"): some reports carry them so later tests can check that
 * patient identifiers never reach logs, metadata or image attributes.
 */
import { createPrng, deriveSeed, type Lobe, type PhantomFinding, type Prng, type Side } from "./phantom";

export const DEMO_PROJECT_NAME = "Demo — rare findings";
/** Changing it changes every generated report and image (and so every blob key). */
export const DEMO_SEED = 20_240_607;

export const DEMO_LABELS = [
  { key: "normal", name: "Normal", shortcut: "1" },
  { key: "benign", name: "Benign finding", shortcut: "2" },
  { key: "suspicious-nodule", name: "Suspicious nodule", shortcut: "3" },
  { key: "pneumothorax", name: "Pneumothorax", shortcut: "4" },
] as const;

export type DemoLabel = (typeof DEMO_LABELS)[number]["key"];
export type DemoSplit = "POOL" | "TEST" | "SEED";

export const DEMO_LABEL_SCHEMA = {
  labels: DEMO_LABELS.map((l) => ({ key: l.key, name: l.name, shortcut: l.shortcut })),
  multiLabel: false,
};
export const DEMO_MINORITY_CLASSES: DemoLabel[] = ["suspicious-nodule", "pneumothorax"];

/**
 * How many cases of each label go to each split, and how many of them have an image (and how
 * many of those are 8-frame stacks). Fixed counts rather than random draws, so the demo always
 * has its minority cases where they are needed: some in the pool for selection to find, one of
 * each in the test split so minority metrics are defined. SEED has none, as in a real cold start.
 * Totals: 48 cases; normal 26, benign 17, suspicious-nodule 3, pneumothorax 2 (5/48 ≈ 10%);
 * 16 with an image, 4 of them multi-frame.
 */
const COMPOSITION: readonly { label: DemoLabel; split: DemoSplit; count: number; images: number; stacks: number }[] = [
  { label: "normal", split: "SEED", count: 3, images: 1, stacks: 0 },
  { label: "benign", split: "SEED", count: 2, images: 1, stacks: 0 },
  { label: "normal", split: "TEST", count: 5, images: 2, stacks: 0 },
  { label: "benign", split: "TEST", count: 3, images: 1, stacks: 0 },
  { label: "suspicious-nodule", split: "TEST", count: 1, images: 1, stacks: 0 },
  { label: "pneumothorax", split: "TEST", count: 1, images: 0, stacks: 0 },
  { label: "normal", split: "POOL", count: 18, images: 5, stacks: 1 },
  { label: "benign", split: "POOL", count: 12, images: 3, stacks: 1 },
  { label: "suspicious-nodule", split: "POOL", count: 2, images: 1, stacks: 1 },
  { label: "pneumothorax", split: "POOL", count: 1, images: 1, stacks: 1 },
];

/** Obviously fake people: no real name or record number can be mistaken for one of these. */
const FAKE_GIVEN_NAMES = ["Jane", "John", "Alex", "Sam", "Riley", "Casey", "Morgan", "Jordan"];
const FAKE_FAMILY_NAMES = ["Demo-Sample", "Demo-Example", "Test-Patient", "Fake-Person", "Demo-Synthetic"];
const FAKE_CLINICIANS = ["Dr. Robin Demo-Physician", "Dr. Taylor Fake-Resident", "Dr. Quinn Demo-Attending"];

export interface DemoPatient {
  /** DICOM Patient's Name, e.g. "DEMO^PATIENT^0007". */
  dicomName: string;
  /** DICOM Patient ID and the report's MRN, e.g. "DEMO-0007". */
  patientId: string;
  /** How a report might name the patient, e.g. "Jane Demo-Sample". */
  displayName: string;
}

export function demoPatient(number: number): DemoPatient {
  const padded = String(number).padStart(4, "0");
  return {
    dicomName: `DEMO^PATIENT^${padded}`,
    patientId: `DEMO-${padded}`,
    displayName: `${FAKE_GIVEN_NAMES[number % FAKE_GIVEN_NAMES.length]} ${FAKE_FAMILY_NAMES[number % FAKE_FAMILY_NAMES.length]}`,
  };
}

/**
 * Matches every fake identifier the demo generates (patient names, IDs/MRNs, display names,
 * clinician names). Tests scan logs, metadata and attributes with it.
 */
export const DEMO_IDENTIFIER_PATTERN = new RegExp(
  [
    "DEMO\\^PATIENT\\^\\d{4}",
    "DEMO-\\d{4}",
    ...FAKE_FAMILY_NAMES,
    "Demo-Physician",
    "Fake-Resident",
    "Demo-Attending",
  ].join("|"),
);

export interface DemoImagePlan {
  frames: 1 | 8;
  size: 128 | 256;
  finding?: PhantomFinding;
}

export interface DemoCasePlan {
  /** 1-based position in the demo. */
  number: number;
  externalId: string;
  /** The truth for every case, including POOL cases (whose label is not imported). */
  label: DemoLabel;
  split: DemoSplit;
  /** Imported ground truth: set for TEST and SEED, null for POOL (that is what annotators are for). */
  importedLabel: DemoLabel | null;
  patient: DemoPatient;
  /** YYYY-MM-DD */
  studyDate: string;
  exam: string;
  /** Whether the report text names the (fake) patient or MRN. */
  narrativeHasIdentifiers: boolean;
  narrative: string;
  image: DemoImagePlan | null;
  seed: number;
}

const EXAM_CT = "CT CHEST WITHOUT CONTRAST";
const EXAMS_WITHOUT_IMAGE = [EXAM_CT, "CT CHEST WITH CONTRAST", "CHEST RADIOGRAPH, PA AND LATERAL", "PORTABLE CHEST RADIOGRAPH"];

function isoDate(dayOffset: number): string {
  // Whole days from a fixed UTC date: no local time zone can shift it.
  const date = new Date(Date.UTC(2024, 0, 1) + dayOffset * 86_400_000);
  return date.toISOString().slice(0, 10);
}

function lobeName(side: Side, lobe: Lobe): string {
  return `${side} ${lobe} lobe`;
}

function pickLobe(rng: Prng, side: Side): Lobe {
  // Only the right lung has a middle lobe.
  return side === "right" ? rng.pick(["upper", "middle", "lower"] as const) : rng.pick(["upper", "lower"] as const);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The finding details of one case: the same object drives the report and the phantom. */
type Detail =
  | { label: "normal"; resolvedPneumothorax: Side | null }
  | { label: "benign"; kind: "granuloma" | "perifissural" | "stable-nodule" | "atelectasis" | "hiatal-hernia"; side: Side; lobe: Lobe; sizeMm: number }
  | { label: "suspicious-nodule"; side: Side; lobe: Lobe; sizeMm: number; character: string; isNew: boolean }
  | { label: "pneumothorax"; side: Side; depthMm: number; cause: "post-biopsy" | "spontaneous" | "trauma" };

function chooseDetail(label: DemoLabel, rng: Prng, hasImage: boolean): Detail {
  const side: Side = rng.next() < 0.5 ? "left" : "right";
  switch (label) {
    case "normal":
      return { label, resolvedPneumothorax: rng.next() < 0.1 ? side : null };
    case "benign": {
      // An image can only show what the phantom draws: a calcified granuloma.
      const kind = hasImage ? "granuloma" : rng.pick(["granuloma", "perifissural", "stable-nodule", "atelectasis", "hiatal-hernia"] as const);
      return { label, kind, side, lobe: pickLobe(rng, side), sizeMm: 3 + rng.int(3) };
    }
    case "suspicious-nodule":
      return {
        label,
        side,
        lobe: pickLobe(rng, side),
        sizeMm: 9 + rng.int(14),
        character: rng.pick(["spiculated", "irregular", "lobulated", "part-solid"]),
        isNew: rng.next() < 0.6,
      };
    case "pneumothorax":
      return { label, side, depthMm: rng.pick([12, 18, 25, 35, 45]), cause: rng.pick(["post-biopsy", "spontaneous", "trauma"] as const) };
  }
}

function phantomFinding(detail: Detail): PhantomFinding | undefined {
  switch (detail.label) {
    case "benign":
      return detail.kind === "granuloma" ? { kind: "calcified-granuloma", side: detail.side, lobe: detail.lobe, diameterMm: detail.sizeMm } : undefined;
    case "suspicious-nodule":
      return { kind: "nodule", side: detail.side, lobe: detail.lobe, diameterMm: detail.sizeMm };
    case "pneumothorax":
      return { kind: "pneumothorax", side: detail.side, depthMm: detail.depthMm };
    default:
      return undefined;
  }
}

function indication(detail: Detail, rng: Prng): string {
  const common = [
    "Cough for three weeks.",
    "Shortness of breath.",
    "Chest pain, evaluate for acute process.",
    "Pre-operative evaluation.",
    "Fever and productive cough.",
    "Follow-up of prior imaging finding.",
  ];
  if (detail.label === "pneumothorax") {
    return detail.cause === "post-biopsy"
      ? "Status post CT-guided lung biopsy, evaluate for complication."
      : detail.cause === "trauma"
        ? `Fall from standing with ${detail.side}-sided chest pain.`
        : "Sudden onset pleuritic chest pain and dyspnea.";
  }
  if (detail.label === "suspicious-nodule" && rng.next() < 0.6) {
    return rng.pick(["Lung cancer screening, 30 pack-year smoking history.", "Weight loss and hemoptysis.", "Abnormal chest radiograph."]);
  }
  // Minority-looking indications also appear on normal studies, so the indication alone decides nothing.
  if (detail.label === "normal" && rng.next() < 0.15) return "Status post CT-guided lung biopsy, evaluate for complication.";
  return rng.pick(common);
}

function technique(exam: string, rng: Prng): string {
  if (exam.startsWith("CT")) {
    const contrast = exam.includes("WITH CONTRAST") ? "following intravenous contrast" : "without intravenous contrast";
    return rng.pick([
      `Axial CT images of the chest were obtained ${contrast}. Multiplanar reformats were reviewed.`,
      `Helical CT of the chest ${contrast}, reconstructed at 3 mm.`,
    ]);
  }
  return exam.startsWith("PORTABLE") ? "Single frontal portable view of the chest." : "Frontal and lateral views of the chest.";
}

/** A report that says "new", "unchanged" or "resolved" must name a prior study to compare with. */
function comparison(detail: Detail, rng: Prng): string {
  const needsPrior =
    (detail.label === "normal" && detail.resolvedPneumothorax !== null) ||
    (detail.label === "benign" && detail.kind === "stable-nodule") ||
    (detail.label === "suspicious-nodule" && detail.isNew);
  return needsPrior ? rng.pick(["CT chest from the prior year.", "CT chest from two years ago."]) : rng.pick(["None.", "Prior chest radiograph.", "CT chest from the prior year."]);
}

function normalLungs(rng: Prng): string {
  return rng.pick([
    "The lungs are clear. No focal consolidation.",
    "No focal airspace opacity. No suspicious pulmonary nodule or mass.",
    "Lungs are well expanded and clear. No suspicious nodule.",
  ]);
}

function normalPleura(rng: Prng): string {
  return rng.pick(["No pleural effusion or pneumothorax.", "No pneumothorax. No pleural effusion.", "Pleural spaces are clear; no pneumothorax."]);
}

function normalMediastinum(rng: Prng): string {
  return rng.pick([
    "Heart size is normal. No mediastinal or hilar lymphadenopathy.",
    "The cardiomediastinal silhouette is within normal limits.",
    "Normal heart size. No pericardial effusion.",
  ]);
}

function bones(rng: Prng): string {
  return rng.pick(["No acute osseous abnormality.", "Mild degenerative changes of the thoracic spine.", "Osseous structures are intact."]);
}

function findingsAndImpression(detail: Detail, rng: Prng, clinician: string): { findings: string[]; impression: string[] } {
  switch (detail.label) {
    case "normal": {
      const pleura = detail.resolvedPneumothorax
        ? `Interval resolution of the previously seen ${detail.resolvedPneumothorax} pneumothorax. No residual pneumothorax.`
        : normalPleura(rng);
      return {
        findings: [normalLungs(rng), pleura, normalMediastinum(rng), bones(rng)],
        impression: [rng.pick(["No acute cardiopulmonary abnormality.", "Normal study.", "No acute findings. No suspicious pulmonary nodule."])],
      };
    }
    case "benign": {
      const where = lobeName(detail.side, detail.lobe);
      const benign = {
        granuloma: [`A ${detail.sizeMm} mm densely calcified nodule in the ${where}, consistent with a granuloma.`, "Calcified granuloma, benign. No follow-up needed."],
        perifissural: [
          `A ${detail.sizeMm} mm triangular perifissural nodule along the ${detail.side} major fissure, most consistent with an intrapulmonary lymph node.`,
          "Perifissural nodule with benign morphology; no follow-up imaging required.",
        ],
        "stable-nodule": [
          `A ${detail.sizeMm} mm solid nodule in the ${where} is unchanged from the prior examination.`,
          "Stable small pulmonary nodule, compatible with a benign etiology.",
        ],
        atelectasis: ["Mild dependent atelectasis at both lung bases.", "Bibasilar atelectasis. No consolidation."],
        "hiatal-hernia": ["Small sliding hiatal hernia.", "Small hiatal hernia, otherwise no acute abnormality."],
      }[detail.kind];
      return {
        findings: [benign[0]!, normalPleura(rng), normalMediastinum(rng), bones(rng)],
        impression: [benign[1]!, ...(rng.next() < 0.4 ? ["No pneumothorax."] : [])],
      };
    }
    case "suspicious-nodule": {
      const where = lobeName(detail.side, detail.lobe);
      const newness = detail.isNew ? ", new compared with the prior examination" : "";
      const category = detail.sizeMm >= 15 ? "Lung-RADS 4B" : "Lung-RADS 4A";
      return {
        findings: [
          `There is a ${detail.sizeMm} mm ${detail.character} nodule in the ${where}${newness}.`,
          normalPleura(rng),
          rng.pick(["No mediastinal or hilar lymphadenopathy.", `A mildly prominent ${detail.side} hilar lymph node measures 9 mm in short axis.`]),
          bones(rng),
        ],
        impression: [
          `${capitalise(detail.character)} ${detail.sizeMm} mm nodule in the ${where}, suspicious for malignancy (${category}).`,
          rng.pick(["Recommend PET-CT and tissue sampling.", "Recommend multidisciplinary review and tissue sampling."]),
          `Findings were communicated to ${clinician}.`,
        ],
      };
    }
    case "pneumothorax": {
      const size = detail.depthMm < 20 ? "small" : detail.depthMm < 40 ? "moderate" : "large";
      const shift = size === "large" ? "Mild contralateral mediastinal shift." : "No mediastinal shift.";
      return {
        findings: [
          rng.pick([
            `There is a ${size} ${detail.side} pneumothorax measuring ${detail.depthMm} mm from the chest wall.`,
            `A visceral pleural line is seen in the ${detail.side} hemithorax with absent lung markings peripherally, measuring up to ${detail.depthMm} mm.`,
          ]),
          shift,
          rng.pick(["No suspicious pulmonary nodule.", "Underlying lungs are clear."]),
          bones(rng),
        ],
        impression: [
          `${capitalise(size)} ${detail.side} pneumothorax${detail.cause === "post-biopsy" ? " following biopsy" : ""}.`,
          `Findings were communicated to ${clinician} at the time of interpretation.`,
        ],
      };
    }
  }
}

function writeReport(plan: { exam: string; patient: DemoPatient; withIdentifiers: boolean }, detail: Detail, rng: Prng): string {
  const clinician = rng.pick(FAKE_CLINICIANS);
  const { findings, impression } = findingsAndImpression(detail, rng, clinician);
  const lines: string[] = [];
  // Where the identifiers sit varies, as in real exports: a header line or the sign-off footer.
  const identifiersInHeader = plan.withIdentifiers && rng.next() < 0.5;
  if (identifiersInHeader) lines.push(`Patient: ${plan.patient.displayName}   MRN ${plan.patient.patientId}`, "");
  lines.push(`EXAM: ${plan.exam}`, "");
  lines.push(`INDICATION: ${indication(detail, rng)}`, "");
  lines.push(`TECHNIQUE: ${technique(plan.exam, rng)}`, "");
  lines.push(`COMPARISON: ${comparison(detail, rng)}`, "");
  lines.push("FINDINGS:", ...findings, "");
  lines.push("IMPRESSION:", ...impression.map((line, i) => `${i + 1}. ${line}`));
  if (plan.withIdentifiers && !identifiersInHeader) {
    lines.push("", `Electronically signed by ${clinician}. Patient ${plan.patient.displayName}, MRN ${plan.patient.patientId}.`);
  }
  return lines.join("\n");
}

/** The whole demo, case by case. Pure: the same seed gives the same plan. */
export function planDemoCases(seed: number = DEMO_SEED): DemoCasePlan[] {
  type Slot = { label: DemoLabel; split: DemoSplit; image: null | { stack: boolean } };
  const slots: Slot[] = [];
  for (const row of COMPOSITION) {
    for (let i = 0; i < row.count; i++) {
      slots.push({ label: row.label, split: row.split, image: i < row.images ? { stack: i < row.stacks } : null });
    }
  }
  // Shuffle (Fisher–Yates) so case numbers do not reveal labels or splits.
  const order = createPrng(deriveSeed(seed, "order"));
  for (let i = slots.length - 1; i > 0; i--) {
    const j = order.int(i + 1);
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }

  return slots.map((slot, index) => {
    const number = index + 1;
    const caseSeed = deriveSeed(seed, "case", number);
    const rng = createPrng(caseSeed);
    const hasImage = slot.image !== null;
    const detail = chooseDetail(slot.label, rng, hasImage);
    const exam = hasImage ? EXAM_CT : rng.pick(EXAMS_WITHOUT_IMAGE);
    const patient = demoPatient(number);
    const withIdentifiers = rng.next() < 0.3;
    const narrative = writeReport({ exam, patient, withIdentifiers }, detail, rng);
    const image: DemoImagePlan | null = slot.image
      ? {
          frames: slot.image.stack ? 8 : 1,
          // Minority findings get the finer grid on single slices, so small nodules are still visible.
          size: !slot.image.stack && (slot.label === "suspicious-nodule" || slot.label === "pneumothorax" || number % 3 === 0) ? 256 : 128,
          finding: phantomFinding(detail),
        }
      : null;
    return {
      number,
      externalId: `DEMO-CASE-${String(number).padStart(3, "0")}`,
      label: slot.label,
      split: slot.split,
      importedLabel: slot.split === "POOL" ? null : slot.label,
      patient,
      studyDate: isoDate(rng.int(366)),
      exam,
      narrativeHasIdentifiers: withIdentifiers,
      narrative,
      image,
      seed: caseSeed,
    };
  });
}
