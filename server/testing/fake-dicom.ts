/**
 * A small DICOM Part-10 file (explicit VR little endian, 4×4 8-bit MONOCHROME2, modality US) that
 * carries known FAKE identifiers in the places Annex E names — top level, a private block and a
 * nested sequence item — and a person name outside the table written with VR UN, for the
 * de-identification tests.
 */

/** Every identifying value the file holds (none may survive de-identification). */
export const FAKE_IDENTIFIERS = {
  patientName: "DOE^JANE^FAKEPATIENT",
  patientId: "MRN-99817263",
  birthDate: "19700401",
  accessionNumber: "ACC-55501234",
  institution: "Fakeville General Hospital",
  institutionAddress: "12 Nowhere Lane, Fakeville",
  referringPhysician: "HOUSE^GREGORY^FAKEDOC",
  deviceSerial: "SN-FAKE-7781",
  stationName: "FAKESTATION01",
  operator: "OPERATOR^FAKE",
  otherPatientId: "OTHERID-4477",
  privateValue: "SECRET-PRIVATE-VALUE",
  nestedName: "NESTED^FAKEPERSON",
  studyDescription: "Doe family screening",
  /** ROI Interpreter (3006,00A6), a person name outside Table E.1-1, written with VR UN. */
  unknownVrName: "INTERPRETER^FAKEUNVR",
} as const;

export const FAKE_UIDS = {
  study: "1.2.826.0.1.3680043.8.498.111111111",
  series: "1.2.826.0.1.3680043.8.498.222222222",
  instance: "1.2.826.0.1.3680043.8.498.333333333",
  referenced: "1.2.826.0.1.3680043.8.498.444444444",
};

const LONG = new Set(["OB", "OW", "SQ", "UN", "UT"]);

function element(tag: number, vr: string, value: Uint8Array | string): Buffer {
  let bytes = typeof value === "string" ? Buffer.from(value, "latin1") : Buffer.from(value);
  if (bytes.length % 2) bytes = Buffer.concat([bytes, Buffer.from([vr === "UI" ? 0 : 0x20])]);
  const head = Buffer.alloc(LONG.has(vr) ? 12 : 8);
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  head.write(vr, 4, "latin1");
  if (LONG.has(vr)) head.writeUInt32LE(bytes.length, 8);
  else head.writeUInt16LE(bytes.length, 6);
  return Buffer.concat([head, bytes]);
}

function sequence(tag: number, items: Buffer[][]): Buffer {
  const body = Buffer.concat(
    items.map((item) => {
      const content = Buffer.concat(item);
      const head = Buffer.alloc(8);
      head.writeUInt16LE(0xfffe, 0);
      head.writeUInt16LE(0xe000, 2);
      head.writeUInt32LE(content.length, 4);
      return Buffer.concat([head, content]);
    }),
  );
  return element(tag, "SQ", body);
}

const us = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
};

/** The file; `overrides` changes identifiers (e.g. another patient) or UIDs (another instance of the same study). */
export function fakeIdentifiedDicom(overrides: { patientId?: string; instanceUid?: string; seriesUid?: string; studyDate?: string } = {}): Uint8Array {
  const id = FAKE_IDENTIFIERS;
  const instance = overrides.instanceUid ?? FAKE_UIDS.instance;
  const sopClass = "1.2.840.10008.5.1.4.1.1.6.1";
  const dataset = [
    element(0x00080016, "UI", sopClass),
    element(0x00080018, "UI", instance),
    element(0x00080020, "DA", overrides.studyDate ?? "20240315"),
    element(0x00080021, "DA", "20240315"),
    element(0x00080030, "TM", "101500"),
    element(0x00080050, "SH", id.accessionNumber),
    element(0x00080060, "CS", "US"),
    element(0x00080080, "LO", id.institution),
    element(0x00080081, "ST", id.institutionAddress),
    element(0x00080090, "PN", id.referringPhysician),
    element(0x00081010, "SH", id.stationName),
    element(0x00081030, "LO", id.studyDescription),
    element(0x00081070, "PN", id.operator),
    sequence(0x00081140, [[element(0x00081150, "UI", sopClass), element(0x00081155, "UI", FAKE_UIDS.referenced), element(0x0040a123, "PN", id.nestedName)]]),
    element(0x00090010, "LO", "ACME PRIVATE"),
    element(0x00091001, "LO", id.privateValue),
    element(0x00100010, "PN", id.patientName),
    element(0x00100020, "LO", overrides.patientId ?? id.patientId),
    element(0x00100030, "DA", id.birthDate),
    element(0x00100040, "CS", "F"),
    element(0x00101000, "LO", id.otherPatientId),
    element(0x00181000, "LO", id.deviceSerial),
    element(0x0020000d, "UI", FAKE_UIDS.study),
    element(0x0020000e, "UI", overrides.seriesUid ?? FAKE_UIDS.series),
    element(0x00200013, "IS", "1"),
    element(0x00280002, "US", us(1)),
    element(0x00280004, "CS", "MONOCHROME2"),
    element(0x00280010, "US", us(4)),
    element(0x00280011, "US", us(4)),
    element(0x00280100, "US", us(8)),
    element(0x00280101, "US", us(8)),
    element(0x00280102, "US", us(7)),
    element(0x00280103, "US", us(0)),
    element(0x300600a6, "UN", id.unknownVrName),
    element(0x7fe00010, "OB", Uint8Array.from({ length: 16 }, (_, i) => i * 16)),
  ];
  const metaBody = Buffer.concat([
    element(0x00020001, "OB", new Uint8Array([0, 1])),
    element(0x00020002, "UI", sopClass),
    element(0x00020003, "UI", instance),
    element(0x00020010, "UI", "1.2.840.10008.1.2.1"),
    element(0x00020012, "UI", "1.2.826.0.1.3680043.8.498.1"),
    element(0x00020016, "AE", "FAKE_SOURCE_AE"),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(metaBody.length);
  return new Uint8Array(Buffer.concat([Buffer.alloc(128), Buffer.from("DICM"), element(0x00020000, "UL", groupLength), metaBody, ...dataset]));
}
