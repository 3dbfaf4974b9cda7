/**
 * The real files the import fuzzer mutates, read once from ../shared/data: small DICOM files of
 * several transfer syntaxes, two chest X-rays (JPEG, PNG) and the first narratives of
 * mtsamples.csv (as its original CSV bytes and as JSONL). Small on purpose: hundreds of cases run
 * in CI in well under a minute, and each case still exercises the real parsers on real structure.
 */
import fs from "node:fs";
import path from "node:path";
import { parseCsv } from "@/scripts/lib/csv";

export const SHARED_DATA = path.resolve(import.meta.dirname, "../../../../shared/data");

/** Valid files the viewer decodes (server/import/dicom.ts accepts every one of them unmodified). */
const DICOM_FILES = [
  "CT_small.dcm", // explicit VR LE
  "MR_small.dcm",
  "MR_small_implicit.dcm",
  "MR_small_bigendian.dcm",
  "MR_small_RLE.dcm",
  "MR_small_jp2klossless.dcm",
  "MR_small_jpeg_ls_lossless.dcm",
  "image_dfl.dcm", // deflated dataset
  "SC_rgb_jpeg_dcmtk.dcm",
  "SC_rgb_small_odd.dcm",
  "JPEG2000.dcm",
  "SC_rgb_rle_2frame.dcm",
] as const;

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export interface FuzzMaterials {
  dicom: NamedBytes[];
  jpeg: NamedBytes;
  png: NamedBytes;
  /** mtsamples.csv's header and first records with a transcription, as the original bytes. */
  csv: { text: string; header: string[]; records: string[]; ids: string[] };
  /** The same records as JSONL lines. */
  jsonl: string[];
}

let cached: FuzzMaterials | null = null;

export function loadFuzzMaterials(records = 12): FuzzMaterials {
  if (cached) return cached;
  const read = (rel: string): NamedBytes => ({ name: path.basename(rel), bytes: new Uint8Array(fs.readFileSync(path.join(SHARED_DATA, rel))) });
  const raw = fs.readFileSync(path.join(SHARED_DATA, "text/mtsamples/mtsamples.csv"), "utf8");
  const table = parseCsv(raw, { file: "mtsamples.csv" });
  const lines = raw.split("\n");
  const textCol = table.header.indexOf("transcription");
  const idCol = table.header.indexOf("note_id");
  const picked: string[] = [];
  const ids: string[] = [];
  const objects: string[] = [];
  for (let r = 0; r < table.rows.length && picked.length < records; r++) {
    const row = table.rows[r]!;
    if (row[textCol]!.trim() === "") continue;
    const end = r + 1 < table.rows.length ? table.rowLines[r + 1]! - 1 : lines.length;
    picked.push(lines.slice(table.rowLines[r]! - 1, end).join("\n"));
    ids.push(row[idCol]!);
    objects.push(JSON.stringify(Object.fromEntries(table.header.map((h, c) => [h, row[c]]))));
  }
  const headerLine = lines.slice(0, table.rowLines[0]! - 1).join("\n");
  cached = {
    dicom: DICOM_FILES.map((name) => read(`dicom/${name}`)),
    jpeg: read("images/covid_chestxray/images/000005-5-a.jpg"),
    png: read("images/covid_chestxray/images/16745_3_1.png"),
    csv: { text: `${headerLine}\n${picked.join("\n")}\n`, header: table.header, records: picked, ids },
    jsonl: objects,
  };
  return cached;
}
