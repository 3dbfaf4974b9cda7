/**
 * De-identification of DICOM files on import, following DICOM PS3.15 Annex E, the Basic
 * Application Level Confidentiality Profile (Table E.1-1), optionally with the Retain Longitudinal
 * Temporal Information with Modified Dates Option.
 *
 * What happens to a file:
 *   - every attribute of Table E.1-1 gets the profile's action: X (removed), Z (emptied), D (a dummy
 *     value), U (a replaced UID), K (kept; its sequence items are cleaned too); where the table gives a
 *     choice ("X/Z/D") the strongest one the attribute's type allows is taken (X before Z before D);
 *   - beyond the table: every private (odd-group) element is removed, every person name (VR PN)
 *     anywhere is removed, every UID that is not a UID of the standard (root 1.2.840.10008) is
 *     replaced, overlay/curve data and comments are removed, and dcmjs's own anonymizer list
 *     (`anonymizer.getTagsNameToEmpty`) is applied as Z to whatever the table does not name;
 *   - replaced UIDs are "2.25." + a 128-bit HMAC-SHA256 of the original under the project's secret:
 *     the same original UID gives the same new UID in one project (studies, series, frames and
 *     references still group), and unrelated UIDs in another;
 *   - with `keepIntervals`, dates (DA, and the date of DT) are shifted by a per-patient offset of
 *     1–3650 days back (HMAC of the Patient ID under the secret) instead of being removed, so
 *     intervals within a patient are kept; the birth date is removed all the same;
 *   - Patient Identity Removed (0012,0062) = YES, De-identification Method (0012,0063) and its Code
 *     Sequence (0012,0064: DCM 113100, and 113107 with keepIntervals), Longitudinal Temporal
 *     Information Modified (0028,0303) are written; the file meta is rebuilt (no source AE titles),
 *     the 128-byte preamble zeroed.
 *
 * The file is rewritten at the byte level (dicom-parser's element offsets, parsed as the viewer
 * parses it: models/dicom/decode.ts parseDicomFile): every kept element, Pixel Data (or Float /
 * Double Float Pixel Data) above all, is copied byte for byte, so compressed (encapsulated) frames, their
 * fragments and offset table are unchanged. Group lengths (gggg,0000) are dropped (retired).
 * dcmjs's PS3.6 data dictionary gives the VR of implicit-VR elements and resolves the table's
 * keywords to tags.
 *
 * Burned-in text: Burned In Annotation (0028,0301) = YES, modality US, or a Secondary Capture SOP
 * class sets `burnedInReview` — the pixels are not changed, the case is flagged for review.
 *
 * Errors: DeidentifyError (a DicomRejection: the importer refuses the file rather than store it
 * with identifiers) when the dataset cannot be rewritten.
 */
import crypto from "node:crypto";
import zlib from "node:zlib";
import dcmjs from "dcmjs";
import type dicomParser from "dicom-parser";
import { parseDicomFile } from "@/models/dicom/decode";
import { DicomRejection } from "./dicom";

export interface DeidentifyOptions {
  /** The project's de-identification secret (Project.deidSecret): keys UIDs and date offsets. */
  secret: string;
  /** Retain Longitudinal Temporal Information with Modified Dates: shift dates per patient instead of removing them. */
  keepIntervals?: boolean;
}

export type BurnedInReason = "burned-in-annotation" | "ultrasound" | "secondary-capture";

export interface DeidentifiedDicom {
  bytes: Uint8Array;
  /** Why the pixels may carry burned-in identifiers (the case is flagged for review), or null. */
  burnedInReview: BurnedInReason | null;
  /** Elements removed / replaced or emptied (counts only; never values). */
  removed: number;
  replaced: number;
}

export class DeidentifyError extends DicomRejection {}

/** The profile and option as De-identification Method (0012,0063) names them. */
export const DEIDENTIFICATION_METHOD = "RADS Annotate: DICOM PS3.15 E.1-1 Basic Application Level Confidentiality Profile";

/** Action codes of PS3.15 Table E.1-1 (the Basic Profile column). */
type ActionCode = "X" | "Z" | "D" | "U" | "K" | "C" | "X/Z" | "X/D" | "Z/D" | "X/Z/D" | "X/Z/U*";

/**
 * PS3.15 Table E.1-1, Basic Profile column, by PS3.6 keyword (resolved to tags with dcmjs's
 * dictionary; `deidentify-dicom.test.ts` fails on a keyword it does not know). The attributes that
 * identify patients, staff, institutions, devices, visits, requests and times, and the UIDs.
 */
const BASIC_PROFILE: Record<string, ActionCode> = {
  // Patient
  PatientName: "Z", PatientID: "Z", IssuerOfPatientID: "X", TypeOfPatientID: "X", IssuerOfPatientIDQualifiersSequence: "X",
  PatientBirthDate: "Z", PatientBirthTime: "X", PatientBirthDateInAlternativeCalendar: "X", PatientDeathDateInAlternativeCalendar: "X", PatientAlternativeCalendar: "X",
  PatientSex: "Z", PatientAge: "X", PatientSize: "X", PatientWeight: "X", PatientAddress: "X", PatientMotherBirthName: "X", PatientBirthName: "X",
  OtherPatientIDs: "X", OtherPatientNames: "X", OtherPatientIDsSequence: "X", MilitaryRank: "X", BranchOfService: "X", MedicalRecordLocator: "X",
  MedicalAlerts: "X", Allergies: "X", CountryOfResidence: "X", RegionOfResidence: "X", PatientTelephoneNumbers: "X", PatientTelecomInformation: "X",
  EthnicGroup: "X", Occupation: "X", SmokingStatus: "X", AdditionalPatientHistory: "X", PregnancyStatus: "X", LastMenstrualDate: "X",
  PatientReligiousPreference: "X", PatientSexNeutered: "X/Z", ResponsiblePerson: "X", ResponsiblePersonRole: "X", ResponsibleOrganization: "X", PatientComments: "X",
  PatientInsurancePlanCodeSequence: "X", PatientPrimaryLanguageCodeSequence: "X", PatientPrimaryLanguageModifierCodeSequence: "X",
  PatientState: "X", PatientInstitutionResidence: "X", ReferencedPatientSequence: "X", ReferencedPatientPhotoSequence: "X", ReferencedPatientAliasSequence: "X",
  PatientSpeciesDescription: "K", PatientBreedDescription: "K", BreedRegistrationNumber: "X",
  ClinicalTrialSubjectID: "Z", ClinicalTrialSubjectReadingID: "Z", ClinicalTrialSponsorName: "D", ClinicalTrialProtocolID: "D", ClinicalTrialProtocolName: "Z",
  ClinicalTrialSiteID: "Z", ClinicalTrialSiteName: "Z", ClinicalTrialTimePointID: "Z", ClinicalTrialTimePointDescription: "X", ClinicalTrialCoordinatingCenterName: "Z",
  ClinicalTrialProtocolEthicsCommitteeName: "D", ClinicalTrialProtocolEthicsCommitteeApprovalNumber: "X", ConsentForClinicalTrialUseSequence: "X",
  PersonName: "D", PersonAddress: "X", PersonTelephoneNumbers: "X", PersonTelecomInformation: "X", PersonIdentificationCodeSequence: "D",
  // Study, series, instance
  StudyInstanceUID: "U", SeriesInstanceUID: "U", SOPInstanceUID: "U", FrameOfReferenceUID: "U", SynchronizationFrameOfReferenceUID: "U",
  ReferencedSOPInstanceUID: "U", ReferencedFrameOfReferenceUID: "U", RelatedFrameOfReferenceUID: "U", InstanceCreatorUID: "U", IrradiationEventUID: "U",
  ConcatenationUID: "U", DimensionOrganizationUID: "U", StorageMediaFileSetUID: "U", TransactionUID: "U", UID: "U", DeviceUID: "U",
  DoseReferenceUID: "U", FiducialUID: "U", TargetUID: "U", TemplateExtensionOrganizationUID: "U", TemplateExtensionCreatorUID: "U",
  SourceFrameOfReferenceUID: "U", ReferencedGeneralPurposeScheduledProcedureStepTransactionUID: "U",
  AccessionNumber: "Z", IssuerOfAccessionNumberSequence: "X", StudyID: "Z", StudyDescription: "X", SeriesDescription: "X",
  StudyDate: "Z", StudyTime: "Z", SeriesDate: "X/D", SeriesTime: "X/D", AcquisitionDate: "X/Z", AcquisitionTime: "X/Z", AcquisitionDateTime: "X/D",
  ContentDate: "Z/D", ContentTime: "Z/D", InstanceCreationDate: "X/D", InstanceCreationTime: "X/Z/D", InstanceCoercionDateTime: "X",
  OverlayDate: "X", OverlayTime: "X", CurveDate: "X", CurveTime: "X", FrameComments: "X", ImageComments: "X", DerivationDescription: "X",
  ProtocolName: "X/D", SeriesDescriptionCodeSequence: "X", AcquisitionComments: "X", AcquisitionDeviceProcessingDescription: "X/D",
  AcquisitionProtocolDescription: "X", ContributionDescription: "X", ContributingEquipmentSequence: "X", ContentCreatorName: "Z",
  ContentCreatorIdentificationCodeSequence: "X", ReferencedStudySequence: "X/Z", ReferencedPerformedProcedureStepSequence: "X/Z/D",
  ReferencedImageSequence: "X/Z/U*", SourceImageSequence: "X/Z/U*", IconImageSequence: "X", OriginalAttributesSequence: "X", ModifiedAttributesSequence: "X",
  DigitalSignaturesSequence: "X", DataSetTrailingPadding: "X", TextString: "X", TextComments: "X", ContentSequence: "X", AcquisitionContextSequence: "X",
  TimezoneOffsetFromUTC: "X", SpecimenAccessionNumber: "X", SpecimenDescriptionSequence: "X", ContainerIdentifier: "Z",
  // Staff
  ReferringPhysicianName: "Z", ReferringPhysicianAddress: "X", ReferringPhysicianTelephoneNumbers: "X", ReferringPhysicianIdentificationSequence: "X",
  ConsultingPhysicianName: "X", ConsultingPhysicianIdentificationSequence: "X", PhysiciansOfRecord: "X", PhysiciansOfRecordIdentificationSequence: "X",
  PerformingPhysicianName: "X", PerformingPhysicianIdentificationSequence: "X", NameOfPhysiciansReadingStudy: "X", PhysiciansReadingStudyIdentificationSequence: "X",
  OperatorsName: "X/Z/D", OperatorIdentificationSequence: "X/D", RequestingPhysician: "X", RequestingService: "X", RequestingPhysicianIdentificationSequence: "X",
  ScheduledPerformingPhysicianName: "X", ScheduledPerformingPhysicianIdentificationSequence: "X", HumanPerformerName: "X", HumanPerformerOrganization: "X",
  ActualHumanPerformersSequence: "X", ScheduledHumanPerformersSequence: "X", VerifyingObserverName: "D", VerifyingObserverSequence: "D", VerifyingOrganization: "X",
  VerifyingObserverIdentificationCodeSequence: "Z", AuthorObserverSequence: "X", ParticipantSequence: "X", CustodialOrganizationSequence: "X",
  ReviewerName: "X/Z", SecondaryReviewerName: "X", EvaluatorName: "X", OrderEnteredBy: "X", OrderEntererLocation: "X",
  OrderCallbackPhoneNumber: "X", OrderCallbackTelecomInformation: "X", NamesOfIntendedRecipientsOfResults: "X", IntendedRecipientsOfResultsIdentificationSequence: "X",
  // Institution, station, device
  InstitutionName: "X/Z/D", InstitutionAddress: "X", InstitutionCodeSequence: "X/Z/D", InstitutionalDepartmentName: "X", InstitutionalDepartmentTypeCodeSequence: "X",
  StationName: "X/Z/D", DeviceSerialNumber: "X/Z/D", DetectorID: "X/D", PlateID: "X", GantryID: "X", GeneratorID: "X", CassetteID: "X",
  DeviceDescription: "X", DeviceLabel: "X", DeviceAlternateIdentifier: "X", ManufacturerDeviceIdentifier: "X", LongDeviceDescription: "X", SourceSerialNumber: "X",
  ModifyingDeviceID: "X", ModifyingDeviceManufacturer: "X", ModifiedImageDescription: "X",
  DateOfLastCalibration: "X", TimeOfLastCalibration: "X", DateOfLastDetectorCalibration: "X", TimeOfLastDetectorCalibration: "X",
  // Visit, request, procedure step
  AdmissionID: "X", IssuerOfAdmissionIDSequence: "X", AdmittingDate: "X", AdmittingTime: "X", AdmittingDiagnosesDescription: "X", AdmittingDiagnosesCodeSequence: "X",
  DischargeDiagnosisDescription: "X", CurrentPatientLocation: "X", ServiceEpisodeID: "X", ServiceEpisodeDescription: "X", IssuerOfServiceEpisodeIDSequence: "X",
  VisitComments: "X", SpecialNeeds: "X", ScheduledPatientInstitutionResidence: "X", ReferencedVisitSequence: "X",
  RequestAttributesSequence: "X", RequestedProcedureID: "X", RequestedProcedureDescription: "X/Z", RequestedProcedureComments: "X", RequestedProcedureLocation: "X",
  RequestedContrastAgent: "X", ReasonForTheRequestedProcedure: "X", ReasonForRequestedProcedureCodeSequence: "X", ImagingServiceRequestComments: "X",
  PlacerOrderNumberImagingServiceRequest: "Z", FillerOrderNumberImagingServiceRequest: "Z", PatientTransportArrangements: "X", PreMedication: "X",
  ScheduledProcedureStepDescription: "X", ScheduledProcedureStepLocation: "X", ScheduledProcedureStepStartDate: "X", ScheduledProcedureStepStartTime: "X",
  ScheduledProcedureStepEndDate: "X", ScheduledProcedureStepEndTime: "X", ScheduledStationAETitle: "X", ScheduledStationName: "X", ScheduledProcedureStepID: "X",
  ScheduledStationNameCodeSequence: "X", ScheduledStationGeographicLocationCodeSequence: "X",
  PerformedProcedureStepID: "X", PerformedProcedureStepDescription: "X", PerformedProcedureStepStartDate: "X", PerformedProcedureStepStartTime: "X",
  PerformedProcedureStepEndDate: "X", PerformedProcedureStepEndTime: "X", PerformedStationAETitle: "X", PerformedStationName: "X", PerformedLocation: "X",
  PerformedStationNameCodeSequence: "X", PerformedStationGeographicLocationCodeSequence: "X", CommentsOnThePerformedProcedureStep: "X",
  ContrastBolusAgent: "D", DistributionAddress: "X", DistributionName: "X",
  StudyArrivalDate: "X", StudyArrivalTime: "X", StudyCompletionDate: "X", StudyCompletionTime: "X",
  StudyVerifiedDate: "X", StudyVerifiedTime: "X", StudyReadDate: "X", StudyReadTime: "X",
  StudyComments: "X", ReasonForStudy: "X", RequestedProcedureCodeSequence: "K",
  // Results (retired interpretation module), graphics
  InterpretationRecorder: "X", InterpretationTranscriber: "X", InterpretationText: "X", InterpretationAuthor: "X", InterpretationApproverSequence: "X",
  PhysicianApprovingInterpretation: "X", InterpretationDiagnosisDescription: "X", ResultsDistributionListSequence: "X", InterpretationIDIssuer: "X",
  Impressions: "X", ResultsComments: "X", ResultsIDIssuer: "X", GraphicAnnotationSequence: "D", OverlayComments: "X",
};

/** Retired keywords dcmjs prefixes with "RETIRED_". */
function dictionaryEntry(keyword: string) {
  const map = dcmjs.data.DicomMetaDictionary.nameMap;
  return map[keyword] ?? map[`RETIRED_${keyword}`];
}

/** "(0010,0010)" → 0x00100010; null for a repeating-group entry or garbage. */
function tagNumber(text: string): number | null {
  const m = /^\(([0-9A-F]{4}),([0-9A-F]{4})\)$/i.exec(text);
  return m ? parseInt(m[1]! + m[2]!, 16) >>> 0 : null;
}

/** Keywords of BASIC_PROFILE (and of dcmjs's list) that the dictionary does not know — the test asserts none of the first. */
export function unknownProfileKeywords(): string[] {
  return Object.keys(BASIC_PROFILE).filter((k) => !dictionaryEntry(k));
}

let resolved: Map<number, ActionCode> | null = null;
function profileActions(): Map<number, ActionCode> {
  if (resolved) return resolved;
  const map = new Map<number, ActionCode>();
  // dcmjs's anonymizer list first (emptied), then the Basic Profile overrides it where both name an attribute.
  for (const keyword of dcmjs.anonymizer.getTagsNameToEmpty()) {
    const entry = dictionaryEntry(keyword);
    const tag = entry ? tagNumber(entry.tag) : null;
    if (tag !== null && entry!.version !== "PrivateTag") map.set(tag, entry!.vr === "SQ" ? "X" : "Z");
  }
  for (const [keyword, code] of Object.entries(BASIC_PROFILE)) {
    const entry = dictionaryEntry(keyword);
    const tag = entry ? tagNumber(entry.tag) : null;
    if (tag !== null) map.set(tag, code);
  }
  resolved = map;
  return map;
}

/** UIDs of the standard itself (SOP classes, transfer syntaxes, coding schemes): never replaced. */
const STANDARD_UID_ROOT = "1.2.840.10008.";
/** UI attributes that name a thing, not an instance: kept as written. */
const KEEP_UID_TAGS = new Set([
  0x00020002, // Media Storage SOP Class UID
  0x00020010, // Transfer Syntax UID
  0x00080016, // SOP Class UID
  0x0008001a, // Related General SOP Class UID
  0x0008001b, // Original Specialized SOP Class UID
  0x0008010c, // Coding Scheme UID
  0x0008010d, // Context Group Extension Creator UID
  0x00080117, // Context UID
  0x00080118, // Mapping Resource UID
  0x00081150, // Referenced SOP Class UID
  0x00041510, // Referenced SOP Class UID in File
  0x00041512, // Referenced Transfer Syntax UID in File
]);

const LONG_HEADER_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]);
const STRING_VRS = new Set(["AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"]);

interface Encoding {
  explicit: boolean;
  littleEndian: boolean;
}

interface Context {
  options: DeidentifyOptions;
  bytes: Uint8Array;
  enc: Encoding;
  dayOffset: number;
  removed: number;
  replaced: number;
}

/** "2.25." + 128 bits of HMAC-SHA256(secret, uid), as a UUID-derived UID (PS3.5 B.2). */
export function replacementUid(secret: string, uid: string): string {
  const digest = crypto.createHmac("sha256", secret).update(`uid:${uid}`).digest().subarray(0, 16);
  digest[6] = (digest[6]! & 0x0f) | 0x80; // version 8 (custom)
  digest[8] = (digest[8]! & 0x3f) | 0x80; // RFC 4122 variant
  return `2.25.${BigInt(`0x${digest.toString("hex")}`).toString(10)}`;
}

/** Days (1–3650) every date of one patient moves back, from the patient's original ID under the secret. */
export function patientDayOffset(secret: string, patientKey: string): number {
  const digest = crypto.createHmac("sha256", secret).update(`date-offset:${patientKey}`).digest();
  return 1 + (digest.readUInt32BE(0) % 3650);
}

function latin1(bytes: Uint8Array, start: number, length: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString("latin1");
}

function shiftDate(value: string, days: number): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(value);
  if (!m) return null;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (Number.isNaN(date.getTime())) return null;
  date.setUTCDate(date.getUTCDate() - days);
  const y = String(date.getUTCFullYear()).padStart(4, "0");
  return `${y}${String(date.getUTCMonth() + 1).padStart(2, "0")}${String(date.getUTCDate()).padStart(2, "0")}${value.slice(8)}`;
}

class Writer {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  constructor(private readonly enc: Encoding) {}
  raw(bytes: Uint8Array) {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
  private u16(v: number) {
    const b = Buffer.alloc(2);
    if (this.enc.littleEndian) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    this.raw(b);
  }
  private u32(v: number) {
    const b = Buffer.alloc(4);
    if (this.enc.littleEndian) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    this.raw(b);
  }
  /** An element header; `length` 0xFFFFFFFF for undefined length. */
  header(tag: number, vr: string, length: number) {
    this.u16(tag >>> 16);
    this.u16(tag & 0xffff);
    if (!this.enc.explicit) return this.u32(length);
    this.raw(Buffer.from(vr, "latin1"));
    if (LONG_HEADER_VRS.has(vr)) {
      this.u16(0);
      this.u32(length);
    } else {
      this.u16(length);
    }
  }
  /** Item / delimiter tags (FFFE,xxxx) have no VR in any syntax. */
  marker(element: number, length: number) {
    this.u16(0xfffe);
    this.u16(element);
    this.u32(length);
  }
  text(tag: number, vr: string, value: string) {
    let bytes = Buffer.from(value, "latin1");
    if (bytes.length % 2) bytes = Buffer.concat([bytes, Buffer.from(vr === "UI" ? [0] : [0x20])]);
    this.header(tag, vr, bytes.length);
    this.raw(bytes);
  }
  concat(): Uint8Array {
    return Buffer.concat(this.chunks, this.length);
  }
}

type Element = dicomParser.Element & { hadUndefinedLength?: boolean; items?: (dicomParser.Element & { dataSet?: dicomParser.DataSet })[] };

/** The element's VR: as written (explicit VR), else — implicit VR, or "UN" — the dictionary's, so the name and UID rules still apply. */
function vrOf(element: Element, tag: number): string {
  if (element.vr && element.vr !== "UN") return element.vr;
  const hex = tag.toString(16).toUpperCase().padStart(8, "0");
  const entry = dcmjs.data.DicomMetaDictionary.dictionary[`(${hex.slice(0, 4)},${hex.slice(4)})`];
  if (entry) {
    // dcmjs writes the ambiguous VRs as "xs" (US or SS) and "ox" (OB or OW).
    const vr = entry.vr.split(/[ |]/)[0]!;
    return vr === "xs" ? "US" : vr === "ox" ? "OW" : vr;
  }
  return element.items ? "SQ" : element.vr ?? "UN";
}

function headerLength(element: Element, enc: Encoding): number {
  if (!enc.explicit) return 8;
  return LONG_HEADER_VRS.has(element.vr ?? "") ? 12 : 8;
}

/** The bytes an element occupies: its header, value, and the delimiter of an undefined-length sequence. */
function elementRange(element: Element, enc: Encoding): [number, number] {
  const start = element.dataOffset - headerLength(element, enc);
  const delimiter = element.hadUndefinedLength && (element.items !== undefined || element.vr === "SQ") ? 8 : 0;
  return [start, element.dataOffset + element.length + delimiter];
}

/**
 * Where the table offers a choice, the strongest: X, then Z, then D — except "X/Z/U*" (references
 * to other images), kept with every UID inside replaced, so references still resolve.
 */
const strongest = (code: ActionCode): "X" | "Z" | "D" | "U" | "K" | "C" =>
  code === "X/Z/U*" ? "K" : code.startsWith("X") ? "X" : code.startsWith("Z") ? "Z" : (code as "D" | "U" | "K" | "C");

/**
 * The action for one element: the generic removals (private, group length, curves, overlays), the
 * profile, else the generic rules for names and UIDs. "C" (clean) = shift a date by the patient's
 * offset: with keepIntervals, for every date outside the Patient module's own (birth date and the
 * like stay removed).
 */
function actionFor(tag: number, vr: string, keepIntervals: boolean): "X" | "Z" | "D" | "U" | "K" | "C" {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  if (group % 2 === 1) return "X"; // private
  if (element === 0 && group !== 0x0002) return "X"; // group length (retired; wrong after rewriting)
  if (group >= 0x5000 && group <= 0x50ff) return "X"; // curves (retired)
  if (group >= 0x6000 && group <= 0x60ff && (element === 0x3000 || element === 0x4000)) return "X"; // overlay data, comments
  const code = profileActions().get(tag);
  if (keepIntervals && (vr === "DA" || vr === "DT") && group !== 0x0010) return "C";
  if (code) return strongest(code);
  if (vr === "PN") return "X";
  if (vr === "UI" && !KEEP_UID_TAGS.has(tag)) return "U";
  return "K";
}

function dummy(vr: string): string {
  switch (vr) {
    case "PN":
      return "ANONYMOUS";
    case "DA":
      return "19000101";
    case "TM":
      return "000000";
    case "DT":
      return "19000101000000";
    case "AS":
      return "000Y";
    case "IS":
    case "DS":
      return "0";
    case "CS":
      return "REMOVED";
    default:
      return "REMOVED";
  }
}

interface Insert {
  tag: number;
  write: (w: Writer) => void;
}

function rewriteDataSet(ds: dicomParser.DataSet, ctx: Context, w: Writer, inserts: Insert[], skipMeta: boolean) {
  const elements = (Object.values(ds.elements) as Element[])
    .filter((e) => !(skipMeta && e.tag.startsWith("x0002")))
    .sort((a, b) => a.dataOffset - b.dataOffset);
  const pending = [...inserts].sort((a, b) => a.tag - b.tag);
  const flushBefore = (tag: number) => {
    while (pending.length && pending[0]!.tag < tag) pending.shift()!.write(w);
  };
  for (const element of elements) {
    const tag = parseInt(element.tag.slice(1), 16) >>> 0;
    if (tag >>> 16 === 0xfffe) continue; // dicom-parser lists an item's delimiter as an element; items are rewritten with their own
    flushBefore(tag);
    if (pending.length && pending[0]!.tag === tag) {
      // Replaced by an insert (e.g. an existing Patient Identity Removed).
      pending.shift()!.write(w);
      ctx.replaced++;
      continue;
    }
    const vr = vrOf(element, tag);
    const action = actionFor(tag, vr, ctx.options.keepIntervals === true);
    if (action === "X") {
      ctx.removed++;
      continue;
    }
    if (action === "K") {
      if (element.items && vr !== "UN") {
        w.header(tag, "SQ", 0xffffffff);
        for (const item of element.items) {
          w.marker(0xe000, 0xffffffff);
          if (item.dataSet) rewriteDataSet(item.dataSet, ctx, w, [], false);
          w.marker(0xe00d, 0);
        }
        w.marker(0xe0dd, 0);
        continue;
      }
      const [start, end] = elementRange(element, ctx.enc);
      w.raw(ctx.bytes.subarray(start, end));
      continue;
    }
    ctx.replaced++;
    if (action === "Z" || (action === "D" && !STRING_VRS.has(vr) && vr !== "SQ")) {
      w.header(tag, vr === "UN" ? "UN" : vr, 0);
      continue;
    }
    if (vr === "SQ") {
      // A dummy sequence: one empty item is as much as the profile can promise without knowing the macro.
      w.header(tag, "SQ", 0);
      continue;
    }
    const original = latin1(ctx.bytes, element.dataOffset, element.hadUndefinedLength ? 0 : element.length).replace(/[\0 ]+$/, "");
    if (action === "U") {
      const values = original.split("\\").map((v) => v.trim()).filter(Boolean);
      w.text(tag, "UI", values.map((v) => (v.startsWith(STANDARD_UID_ROOT) ? v : replacementUid(ctx.options.secret, v))).join("\\"));
      continue;
    }
    // C: the date shifted by the patient's offset (emptied when it is not a date); D: a dummy of the VR.
    if (action === "C") {
      const shifted = original.split("\\").map((v) => v.split("-").map((part) => (part === "" ? "" : shiftDate(part.trim(), ctx.dayOffset))));
      if (shifted.every((v) => v.every((p) => p !== null))) {
        w.text(tag, vr, shifted.map((v) => v.join("-")).join("\\"));
      } else {
        w.header(tag, vr, 0);
      }
      continue;
    }
    w.text(tag, vr, dummy(vr));
  }
  while (pending.length) pending.shift()!.write(w);
}

function metaElement(w: Writer, tag: number, vr: string, value: string | Uint8Array) {
  if (typeof value === "string") return w.text(tag, vr, value);
  w.header(tag, vr, value.length);
  w.raw(value);
}

const CODE_MEANINGS: [string, string][] = [
  ["113100", "Basic Application Confidentiality Profile"],
  ["113107", "Retain Longitudinal Temporal Information Modified Dates Option"],
];

/**
 * De-identifies one DICOM Part-10 file (already accepted by checkDicom). See the file comment.
 * @throws DeidentifyError when the dataset cannot be parsed or rewritten.
 */
export function deidentifyDicom(bytes: Uint8Array, options: DeidentifyOptions): DeidentifiedDicom {
  let ds: dicomParser.DataSet;
  try {
    // The viewer's parser (models/dicom/decode.ts): a file without preamble or meta is read as Part 10
    // with a meta group naming implicit VR; the output is always a Part-10 file.
    ds = parseDicomFile(bytes, (deflated) => zlib.inflateRawSync(deflated, { maxOutputLength: 1024 * 1024 * 1024 }));
  } catch {
    throw new DeidentifyError("the file could not be parsed for de-identification");
  }
  const ts = (ds.string("x00020010") ?? "").replace(/\0/g, "").trim();
  const deflated = ts === "1.2.840.10008.1.2.1.99";
  const enc: Encoding = { explicit: ts !== "1.2.840.10008.1.2", littleEndian: ts !== "1.2.840.10008.1.2.2" };
  const source = ds.byteArray;
  const patientKey = `${(ds.string("x00100020") ?? "").trim()}\u0000${(ds.string("x00100010") ?? "").trim()}`;
  const ctx: Context = { options, bytes: source, enc, dayOffset: patientDayOffset(options.secret, patientKey), removed: 0, replaced: 0 };

  const modality = (ds.string("x00080060") ?? "").trim().toUpperCase();
  const sopClass = (ds.string("x00080016") ?? "").replace(/\0/g, "").trim();
  const burnedIn = (ds.string("x00280301") ?? "").trim().toUpperCase();
  const burnedInReview: BurnedInReason | null =
    burnedIn === "YES" ? "burned-in-annotation" : modality === "US" ? "ultrasound" : sopClass.startsWith("1.2.840.10008.5.1.4.1.1.7") ? "secondary-capture" : null;

  const codes = options.keepIntervals ? CODE_MEANINGS : CODE_MEANINGS.slice(0, 1);
  const inserts: Insert[] = [
    { tag: 0x00120062, write: (w) => w.text(0x00120062, "CS", "YES") },
    { tag: 0x00120063, write: (w) => w.text(0x00120063, "LO", options.keepIntervals ? `${DEIDENTIFICATION_METHOD}, Modified Dates` : DEIDENTIFICATION_METHOD) },
    {
      tag: 0x00120064,
      write: (w) => {
        w.header(0x00120064, "SQ", 0xffffffff);
        for (const [value, meaning] of codes) {
          w.marker(0xe000, 0xffffffff);
          w.text(0x00080100, "SH", value);
          w.text(0x00080102, "SH", "DCM");
          w.text(0x00080104, "LO", meaning);
          w.marker(0xe00d, 0);
        }
        w.marker(0xe0dd, 0);
      },
    },
    { tag: 0x00280303, write: (w) => w.text(0x00280303, "CS", options.keepIntervals ? "MODIFIED" : "REMOVED") },
  ];

  const body = new Writer(enc);
  try {
    rewriteDataSet(ds, ctx, body, inserts, true);
  } catch (error) {
    if (error instanceof DeidentifyError) throw error;
    throw new DeidentifyError("the dataset could not be rewritten for de-identification");
  }
  let dataset = body.concat();
  if (deflated) dataset = zlib.deflateRawSync(dataset);

  // File meta (always explicit VR little endian), rebuilt with the new SOP Instance UID.
  const metaOut = new Writer({ explicit: true, littleEndian: true });
  const metaString = (tag: string) => (ds.string(tag) ?? "").replace(/\0/g, "").trim();
  const sopInstance = metaString("x00020003") || metaString("x00080018");
  metaElement(metaOut, 0x00020001, "OB", new Uint8Array([0, 1]));
  metaElement(metaOut, 0x00020002, "UI", metaString("x00020002") || sopClass);
  metaElement(metaOut, 0x00020003, "UI", sopInstance ? replacementUid(options.secret, sopInstance) : "");
  metaElement(metaOut, 0x00020010, "UI", ts);
  metaElement(metaOut, 0x00020012, "UI", metaString("x00020012") || "1.2.826.0.1.3680043.8.498.1");
  if (metaString("x00020013")) metaElement(metaOut, 0x00020013, "SH", metaString("x00020013"));
  const metaBody = metaOut.concat();
  const groupLength = new Writer({ explicit: true, littleEndian: true });
  groupLength.header(0x00020000, "UL", 4);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(metaBody.length);
  groupLength.raw(len);

  const out = Buffer.concat([Buffer.alloc(128), Buffer.from("DICM", "latin1"), groupLength.concat(), metaBody, dataset]);
  return { bytes: new Uint8Array(out.buffer, out.byteOffset, out.length), burnedInReview, removed: ctx.removed, replaced: ctx.replaced };
}
