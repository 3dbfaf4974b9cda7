/**
 * Reads an uploaded .zip defensively, with yauzl underneath: the central directory is read first
 * (every entry's name, sizes, method, flags and external attributes — where a symlink shows) and
 * every entry is checked BEFORE anything is inflated; then the accepted entries are inflated one at
 * a time, lazily, through yauzl's streams, which stop an entry that inflates past its declared size.
 *
 * Names: decoded as UTF-8 when the entry's general-purpose flag bit 11 is set (or from an Info-ZIP
 * Unicode Path extra field), otherwise as the DOS code page 437 — what Windows' and older tools'
 * archives hold — and then normalised to Unicode NFC, so a macOS (NFD) name matches an NFC manifest.
 *
 * Refused: path traversal ("..", absolute paths, drive letters, backslashes), symlinks, nested
 * archives, encrypted entries, unknown compression methods, an uncompressed total above the cap,
 * an entry or a whole archive whose compression ratio is above the cap (zip bomb), entries holding
 * more or fewer bytes than declared, and CRC-32 mismatches (yauzl does not check CRCs; we do).
 */
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import yauzl from "yauzl";
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
  /** Path inside the archive (forward slashes, Unicode NFC). */
  path: string;
  bytes: Uint8Array;
}

const RATIO_CHECK_FROM = 1024 * 1024;

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
 * The entry's name as its creator meant it: UTF-8 when flag bit 11 is set or an Info-ZIP Unicode
 * Path field (0x7075) vouches for it, else CP437 (yauzl's decoder; backslashes kept so they are
 * refused), in NFC.
 */
export function entryName(entry: yauzl.Entry): string {
  const raw = Buffer.isBuffer(entry.fileNameRaw) ? entry.fileNameRaw : Buffer.from(entry.fileName as unknown as Uint8Array);
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, true).normalize("NFC");
}

function openZip(data: Uint8Array): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(
      Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: false },
      (error, zipfile) => (error ? reject(error) : resolve(zipfile)),
    );
  });
}

function readEntries(zipfile: yauzl.ZipFile, maxEntries: number): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zipfile.on("entry", (entry: yauzl.Entry) => {
      entries.push(entry);
      if (entries.length > maxEntries) return resolve(entries);
      zipfile.readEntry();
    });
    zipfile.once("end", () => resolve(entries));
    zipfile.once("error", reject);
    zipfile.readEntry();
  });
}

/** The entry's bytes, inflated; refused (thrown) as soon as it holds more than `entry.uncompressedSize`. */
function inflateEntry(zipfile: yauzl.ZipFile, entry: yauzl.Entry): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    zipfile.openReadStream(entry, (error, stream: Readable) => {
      if (error) return reject(error);
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.once("error", reject);
      stream.once("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    });
  });
}

/** yauzl's message, worded for a person: what is wrong with the archive, never a stack. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/end of central directory record signature not found/i.test(message)) return "not a readable zip archive (no end-of-central-directory record; the file may be truncated)";
  if (/too many bytes in the stream/i.test(message)) return "the entry holds more bytes than its header declares: refused as a possible zip bomb";
  if (/not enough bytes in the stream/i.test(message)) return "the entry holds fewer bytes than its header declares";
  return `the archive is damaged (${message.replace(/\s+/g, " ").slice(0, 200)})`;
}

/**
 * Returns the archive's files (folders and macOS "__MACOSX" resource forks left out) or the issues
 * that refuse it. `archive` is the name used in issues ("upload.zip"); entries are reported as
 * "upload.zip/inner/path".
 */
export async function readZip(archive: string, data: Uint8Array, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<{ files: ZipEntryFile[]; issues: ImportIssue[] }> {
  const fail = (message: string) => ({ files: [], issues: [{ file: archive, message }] });
  let zipfile: yauzl.ZipFile;
  try {
    zipfile = await openZip(data);
  } catch (error) {
    return fail(describe(error));
  }
  try {
    if (zipfile.entryCount > limits.maxEntries) return fail(`the archive has ${zipfile.entryCount} entries; at most ${limits.maxEntries} are accepted`);
    let all: yauzl.Entry[];
    try {
      all = await readEntries(zipfile, limits.maxEntries);
    } catch (error) {
      return fail(describe(error));
    }

    const issues: ImportIssue[] = [];
    const accepted: { name: string; entry: yauzl.Entry }[] = [];
    let total = 0;
    for (const entry of all) {
      const name = entryName(entry);
      const entryIssue = (message: string) => issues.push({ file: `${archive}/${name}`, message });
      const unsafe = unsafeEntryName(name);
      if (unsafe) {
        entryIssue(unsafe);
        continue;
      }
      // Unix "made by" (3): the file type lives in the high 16 bits of the external attributes.
      if (entry.versionMadeBy >> 8 === 3 && ((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000) {
        entryIssue("the entry is a symbolic link; links are not imported");
        continue;
      }
      if (name.endsWith("/")) continue;
      if (name.startsWith("__MACOSX/") || name.split("/").pop()!.startsWith("._")) continue;
      if (/\.zip$/i.test(name)) {
        entryIssue("nested zip archives are not supported: unpack the inner archive and put its files in the outer one");
        continue;
      }
      if (entry.isEncrypted()) {
        entryIssue("the entry is encrypted");
        continue;
      }
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
        entryIssue(`compression method ${entry.compressionMethod} is not supported (use deflate or store)`);
        continue;
      }
      const size = entry.uncompressedSize;
      if (size >= RATIO_CHECK_FROM && size / Math.max(1, entry.compressedSize) > limits.maxRatio) {
        entryIssue(`the entry expands ${Math.round(size / Math.max(1, entry.compressedSize))}-fold (over ${limits.maxRatio}×): refused as a possible zip bomb`);
        continue;
      }
      total += size;
      accepted.push({ name, entry });
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
    for (const { name, entry } of accepted) {
      const where = `${archive}/${name}`;
      let bytes: Uint8Array;
      try {
        bytes = await inflateEntry(zipfile, entry);
      } catch (error) {
        issues.push({ file: where, message: /^the /.test(describe(error)) && !/archive is damaged/.test(describe(error)) ? describe(error) : `the entry cannot be read: ${describe(error)}` });
        continue;
      }
      if (bytes.length !== entry.uncompressedSize) {
        issues.push({ file: where, message: `the entry holds ${bytes.length > entry.uncompressedSize ? "more" : "fewer"} bytes than its header declares (${entry.uncompressedSize})` });
        continue;
      }
      if (zlib.crc32(bytes) !== entry.crc32) {
        issues.push({ file: where, message: "the entry's checksum (CRC-32) does not match: the archive is damaged" });
        continue;
      }
      files.push({ path: name, bytes });
    }
    return issues.length ? { files: [], issues } : { files, issues };
  } finally {
    if (zipfile.isOpen) zipfile.close();
  }
}
