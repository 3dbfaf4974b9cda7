/**
 * Image evidence (contracts/annotations.ts ZImageRegion) checked against the case's images before a
 * draft or a submission is stored: the image must be one of the case's, the frame within its frames,
 * every coordinate within its columns × rows, the label one of the project's. The SOP Instance UID
 * of each region is set here from the stored DICOM file (null for PNG/JPEG) — never taken from the
 * client. Image facts (size, frames, UID) are read once per stored file (blobs are content-addressed
 * and never change) and kept in a small in-process cache.
 */
import dicomParser from "dicom-parser";
import type { ImageRegion } from "@/contracts/annotations";
import { regionBounds } from "@/contracts/annotations";
import { loadServerEnv } from "../env";
import { DomainError } from "../errors";
import { createLocalBlobStore, type BlobStore } from "../storage/blob-store";

/** A case image as the case query returns it. */
export interface CaseImageRow {
  id: string;
  mimeType: string;
  frames: number;
  storageKey: string;
  attributes: unknown;
}

/** What a region is checked against: size in pixels, frame count, and the SOP Instance UID (DICOM only). */
export interface ImageFacts {
  columns: number;
  rows: number;
  frames: number;
  sopInstanceUid: string | null;
}

const CACHE_LIMIT = 500;
const cache = new Map<string, ImageFacts>();

let store: BlobStore | undefined;
function defaultBlobs(): BlobStore {
  store ??= createLocalBlobStore(loadServerEnv().STORAGE_DIR);
  return store;
}

function positiveInt(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
}

/** Width and height from a PNG's IHDR or a JPEG's first SOFn marker; null when neither is found. */
export function webImageSize(bytes: Uint8Array): { columns: number; rows: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return { columns: view.getUint32(16), rows: view.getUint32(20) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let at = 2;
    while (at + 9 < bytes.length) {
      if (bytes[at] !== 0xff) return null;
      const marker = bytes[at + 1]!;
      if (marker === 0xff) {
        at += 1;
        continue;
      }
      const length = view.getUint16(at + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { rows: view.getUint16(at + 5), columns: view.getUint16(at + 7) };
      }
      at += 2 + length;
    }
  }
  return null;
}

/** The SOP Instance UID (0008,0018) of a DICOM file, read up to the pixel data; null when unreadable. */
export function dicomSopInstanceUid(bytes: Uint8Array): string | null {
  try {
    const ds = dicomParser.parseDicom(bytes, { untilTag: "x7fe00010" });
    const uid = ds.string("x00080018")?.replace(/\0/g, "").trim();
    return uid ? uid : null;
  } catch {
    return null;
  }
}

async function imageFacts(image: CaseImageRow, blobs: BlobStore): Promise<ImageFacts> {
  const cached = cache.get(image.storageKey);
  if (cached) return cached;
  const attributes = (image.attributes ?? {}) as Record<string, unknown>;
  const bytes = new Uint8Array(await blobs.get(image.storageKey));
  const dicom = image.mimeType.startsWith("application/dicom");
  let columns = positiveInt(attributes.columns);
  let rows = positiveInt(attributes.rows);
  if (columns === null || rows === null) {
    const size = dicom ? null : webImageSize(bytes);
    columns = size?.columns ?? null;
    rows = size?.rows ?? null;
  }
  if (columns === null || rows === null) throw new DomainError("BAD_INPUT", "The image's size is unknown, so no region can be drawn on it.", { field: "regions" });
  const facts: ImageFacts = { columns, rows, frames: Math.max(1, image.frames), sopInstanceUid: dicom ? dicomSopInstanceUid(bytes) : null };
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(image.storageKey, facts);
  return facts;
}

/**
 * Why `region` does not fit an image of `facts` (null when it does): frame out of range or a
 * coordinate outside [0, columns] × [0, rows]. Pure; the caller names the region.
 */
export function regionProblem(region: ImageRegion, facts: Pick<ImageFacts, "columns" | "rows" | "frames">): string | null {
  if (region.frame > facts.frames) return `frame ${region.frame} is out of range (the image has ${facts.frames} frame${facts.frames === 1 ? "" : "s"})`;
  const [minX, minY, maxX, maxY] = regionBounds(region);
  if (minX < 0 || minY < 0 || maxX > facts.columns || maxY > facts.rows) {
    return `it reaches outside the image (${facts.columns}×${facts.rows} pixels; the region spans x ${minX}–${maxX}, y ${minY}–${maxY})`;
  }
  return null;
}

/**
 * Checks every region against the case's images and the project's label keys and returns them with
 * the server's SOP Instance UID. Throws DomainError BAD_INPUT naming `regions[i]` and what is wrong.
 */
export async function checkRegions(regions: readonly ImageRegion[], images: readonly CaseImageRow[], labelKeys: ReadonlySet<string>, blobs: BlobStore = defaultBlobs()): Promise<ImageRegion[]> {
  const byId = new Map(images.map((image) => [image.id, image]));
  const out: ImageRegion[] = [];
  for (const [i, region] of regions.entries()) {
    if (!labelKeys.has(region.label)) throw new DomainError("BAD_INPUT", `regions[${i}]: unknown label "${region.label}".`, { field: "regions" });
    const image = byId.get(region.imageId);
    if (!image) throw new DomainError("BAD_INPUT", `regions[${i}]: the image is not one of this case's images.`, { field: "regions" });
    const facts = await imageFacts(image, blobs);
    const problem = regionProblem(region, facts);
    if (problem) throw new DomainError("BAD_INPUT", `regions[${i}]: ${problem}.`, { field: "regions" });
    out.push({ ...region, sopInstanceUid: facts.sopInstanceUid });
  }
  return out;
}
