/**
 * Reads an uploaded .zip defensively. The central directory is read here (fflate does not expose
 * an entry's external attributes, which is where a symlink shows), every entry is checked BEFORE
 * anything is inflated, and fflate inflates each entry into a buffer of its declared size + 1, so
 * an entry that lies about its size cannot grow past the caps.
 *
 * Refused: path traversal ("..", absolute paths, drive letters, backslashes), symlinks, nested
 * archives, encrypted entries, unknown compression methods, zip64, an uncompressed total above the
 * cap, an entry or a whole archive whose compression ratio is above the cap (zip bomb), and CRC
 * mismatches.
 */
import { inflateSync } from "fflate";
import type { ImportIssue } from "./issues";

export interface ZipLimits {
  /** Sum of the entries' uncompressed sizes. */
  maxTotalBytes: number;
  /** Uncompressed ÷ compressed, checked for entries over 1 MiB (small files compress oddly). */
  maxRatio: number;
  maxEntries: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxTotalBytes: 1024 * 1024 * 1024, maxRatio: 200, maxEntries: 50_000 };

export interface ZipEntryFile {
  /** Path inside the archive (forward slashes). */
  path: string;
  bytes: Uint8Array;
}

const RATIO_CHECK_FROM = 1024 * 1024;

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Why an entry name is unsafe, or null. */
export function unsafeEntryName(name: string): string | null {
  if (name.includes("\\")) return "the entry name contains a backslash (zip entries use forward slashes; it may be a path-traversal attempt)";
  if (name.startsWith("/")) return "the entry has an absolute path";
  if (/^[A-Za-z]:/.test(name)) return "the entry has a drive-letter path";
  if (name.split("/").some((part) => part === "..")) return "the entry path leaves the archive ('..')";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(name)) return "the entry name contains control characters";
  return null;
}

/**
 * Returns the archive's files (folders and macOS "__MACOSX" resource forks left out) or the issues
 * that refuse it. `archive` is the name used in issues ("upload.zip"); entries are reported as
 * "upload.zip/inner/path".
 */
export function readZip(archive: string, data: Uint8Array, limits: ZipLimits = DEFAULT_ZIP_LIMITS): { files: ZipEntryFile[]; issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  const fail = (message: string) => ({ files: [], issues: [{ file: archive, message }] });
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return fail("not a readable zip archive (no end-of-central-directory record; the file may be truncated)");
  const count = view.getUint16(eocd + 10, true);
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === 0xffffffff) return fail("zip64 archives are not supported (archives over 4 GiB or 65,535 entries)");
  if (count > limits.maxEntries) return fail(`the archive has ${count} entries; at most ${limits.maxEntries} are accepted`);
  if (cdOffset + cdSize > data.length) return fail("the zip central directory points past the end of the file (truncated archive)");

  interface Entry { name: string; method: number; compressed: number; size: number; crc: number; local: number }
  const entries: Entry[] = [];
  let at = cdOffset;
  let total = 0;
  for (let k = 0; k < count; k++) {
    if (at + 46 > data.length || view.getUint32(at, true) !== 0x02014b50) return fail("the zip central directory is damaged");
    const madeBy = view.getUint16(at + 4, true) >> 8;
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const compressed = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const external = view.getUint32(at + 38, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(data.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;

    const entryIssue = (message: string) => issues.push({ file: `${archive}/${name}`, message });
    const unsafe = unsafeEntryName(name);
    if (unsafe) {
      entryIssue(unsafe);
      continue;
    }
    // Unix "made by" (3): the file type lives in the high 16 bits of the external attributes.
    if (madeBy === 3 && ((external >>> 16) & 0o170000) === 0o120000) {
      entryIssue("the entry is a symbolic link; links are not imported");
      continue;
    }
    if (name.endsWith("/")) continue;
    if (name.startsWith("__MACOSX/") || name.split("/").pop()!.startsWith("._")) continue;
    if (/\.zip$/i.test(name)) {
      entryIssue("nested zip archives are not supported: unpack the inner archive and put its files in the outer one");
      continue;
    }
    if (flags & 1) {
      entryIssue("the entry is encrypted");
      continue;
    }
    if (method !== 0 && method !== 8) {
      entryIssue(`compression method ${method} is not supported (use deflate or store)`);
      continue;
    }
    if (compressed === 0xffffffff || size === 0xffffffff) {
      entryIssue("zip64 entries are not supported");
      continue;
    }
    if (size >= RATIO_CHECK_FROM && size / Math.max(1, compressed) > limits.maxRatio) {
      entryIssue(`the entry expands ${Math.round(size / Math.max(1, compressed))}-fold (over ${limits.maxRatio}×): refused as a possible zip bomb`);
      continue;
    }
    total += size;
    entries.push({ name, method, compressed, size, crc, local });
  }
  if (total > limits.maxTotalBytes) {
    issues.push({ file: archive, message: `the archive unpacks to ${total} bytes, more than the ${limits.maxTotalBytes}-byte limit` });
  } else if (total >= RATIO_CHECK_FROM && total / Math.max(1, data.length) > limits.maxRatio) {
    // The per-entry check skips entries under 1 MiB; a thousand such entries of zeros still make a
    // bomb (a 1 MiB upload unpacking to 1 GiB), so the archive as a whole has the same ratio cap.
    issues.push({ file: archive, message: `the archive expands ${Math.round(total / Math.max(1, data.length))}-fold in total (over ${limits.maxRatio}×): refused as a possible zip bomb` });
  }
  if (issues.length) return { files: [], issues };

  const files: ZipEntryFile[] = [];
  for (const entry of entries) {
    const where = `${archive}/${entry.name}`;
    if (entry.local + 30 > data.length || view.getUint32(entry.local, true) !== 0x04034b50) {
      issues.push({ file: where, message: "the entry's local header is missing or damaged" });
      continue;
    }
    const start = entry.local + 30 + view.getUint16(entry.local + 26, true) + view.getUint16(entry.local + 28, true);
    if (start + entry.compressed > data.length) {
      issues.push({ file: where, message: "the entry's data runs past the end of the archive (truncated archive)" });
      continue;
    }
    const raw = data.subarray(start, start + entry.compressed);
    let bytes: Uint8Array;
    if (entry.method === 0) {
      bytes = raw.slice();
    } else {
      try {
        // One byte of headroom shows an entry that holds more than it declares.
        bytes = inflateSync(raw, { out: new Uint8Array(entry.size + 1) });
      } catch (error) {
        issues.push({ file: where, message: `the entry cannot be decompressed (${(error as Error).message})` });
        continue;
      }
    }
    if (bytes.length !== entry.size) {
      issues.push({ file: where, message: `the entry holds ${bytes.length > entry.size ? "more" : "fewer"} bytes than its header declares (${entry.size})` });
      continue;
    }
    if (crc32(bytes) !== entry.crc) {
      issues.push({ file: where, message: "the entry's checksum (CRC-32) does not match: the archive is damaged" });
      continue;
    }
    files.push({ path: entry.name, bytes });
  }
  return issues.length ? { files: [], issues } : { files, issues };
}
