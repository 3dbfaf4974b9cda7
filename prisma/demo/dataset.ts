/**
 * Puts the demo together: the case plan and reports (narratives.ts), the phantom pixels
 * (phantom.ts) and the DICOM files (dicom-writer.ts). Pure and deterministic; the database and
 * blob-store side lives in prisma/seed.ts.
 */
import crypto from "node:crypto";
import { contentKey } from "../../server/storage/blob-store";
import { uidFromName, writeDicom } from "./dicom-writer";
import { DEMO_SEED, planDemoCases, type DemoCasePlan } from "./narratives";
import { CT_OFFSET, chestPhantom, type PhantomRegion } from "./phantom";

/** What a CaseImage row may say about its file: nothing that identifies a patient. */
// A type alias (not an interface) so it is assignable to Prisma's JSON input type.
export type DemoImageAttributes = {
  modality: string;
  bodyPart: string;
  /** YYYY-MM-DD */
  studyDate: string;
  seriesDescription: string;
  rows: number;
  columns: number;
};

export interface DemoImage {
  bytes: Uint8Array;
  sha256: string;
  storageKey: string;
  mimeType: "application/dicom";
  frames: number;
  attributes: DemoImageAttributes;
  /** Where the drawn finding is, per frame (empty for images without one). Not stored in the database. */
  regions: PhantomRegion[];
}

export interface DemoCase extends DemoCasePlan {
  images: DemoImage[];
}

/** Lung window for the stored values of both kinds of file (see below). */
const LUNG_WINDOW = { center: -600, width: 1500 };

function buildImage(plan: DemoCasePlan, seed: number): DemoImage {
  const spec = plan.image!;
  const phantom = chestPhantom({ seed: plan.seed, size: spec.size, frames: spec.frames, finding: spec.finding });
  const stack = spec.frames > 1;
  const seriesDescription = stack ? "Synthetic axial chest stack" : "Synthetic axial chest slice";
  const studyUid = uidFromName(`demo/${seed}/${plan.externalId}/study`);
  // Single slices carry the CT offset as a rescale (viewers show Hounsfield-like units and the
  // window is in those units). Multi-frame Secondary Capture must use intercept 0, so there the
  // window is expressed in stored values instead. Both display the same picture.
  const rescaleIntercept = stack ? 0 : -CT_OFFSET;
  const bytes = writeDicom({
    sopInstanceUid: uidFromName(`demo/${seed}/${plan.externalId}/instance/1`),
    studyInstanceUid: studyUid,
    seriesInstanceUid: uidFromName(`demo/${seed}/${plan.externalId}/series/1`),
    patientName: plan.patient.dicomName,
    patientId: plan.patient.patientId,
    modality: "CT",
    bodyPartExamined: "CHEST",
    studyDate: plan.studyDate.replaceAll("-", ""),
    studyTime: "090000",
    studyId: "1",
    seriesDescription,
    seriesNumber: 1,
    instanceNumber: 1,
    rows: phantom.rows,
    columns: phantom.columns,
    numberOfFrames: phantom.frames,
    bitsStored: 12,
    pixelSpacing: [phantom.pixelSpacingMm, phantom.pixelSpacingMm],
    // Window values are in output units (stored + intercept); the stored values are CT number + offset.
    windowCenter: LUNG_WINDOW.center + CT_OFFSET + rescaleIntercept,
    windowWidth: LUNG_WINDOW.width,
    rescaleSlope: 1,
    rescaleIntercept,
    sliceLocations: stack ? phantom.sliceLocationsMm : undefined,
    pixelData: phantom.pixels,
  });
  return {
    bytes,
    sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
    storageKey: contentKey("images", bytes, ".dcm"),
    mimeType: "application/dicom",
    frames: phantom.frames,
    attributes: {
      modality: "CT",
      bodyPart: "CHEST",
      studyDate: plan.studyDate,
      seriesDescription,
      rows: phantom.rows,
      columns: phantom.columns,
    },
    regions: phantom.regions,
  };
}

/** All 48 demo cases with their DICOM files (about 2.5 MB in all). */
export function buildDemoDataset(seed: number = DEMO_SEED): DemoCase[] {
  return planDemoCases(seed).map((plan) => ({ ...plan, images: plan.image ? [buildImage(plan, seed)] : [] }));
}

/**
 * Case metadata as stored: where the case came from and what kind of exam it is. No patient
 * name, ID or date of birth, and no label (annotators must not see the answer).
 */
export function demoCaseMetadata(demoCase: DemoCase): Record<string, string | number | boolean> {
  return {
    source: "synthetic-demo",
    generator: "prisma/demo",
    exam: demoCase.exam,
    imageCount: demoCase.images.length,
  };
}
