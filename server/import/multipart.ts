/**
 * Streams a multipart/form-data request body to a temporary folder, with a cap on the total size:
 * busboy parses the stream (boundaries, part headers, RFC 5987 file names) under part, field and
 * header limits; this module adds the policy — the whole body counted against `maxBytes` and
 * reading stopped the moment it is passed, file parts written to `dir/<n>` (never to a path built
 * from the client's file name, which is kept only as a label), and every parser complaint turned
 * into BadUpload with a message a person can act on.
 *
 * Nothing is held in memory beyond busboy's buffers: a file part is piped to disk as it arrives,
 * with backpressure (the request is read no faster than the disk takes it).
 */
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";

export class UploadTooLarge extends Error {}
export class BadUpload extends Error {}
/**
 * The body ended cleanly before the length its Content-Length declared: something between the
 * client and the route cut it at a size limit of its own (Next.js's proxy passes on only the first
 * 10 MB of a body it buffers; a reverse proxy may do the same). A client whose transfer breaks
 * aborts the request instead, which is an error on the stream, not a clean end.
 */
export class UploadCutOff extends Error {
  constructor(
    readonly receivedBytes: number,
    readonly declaredBytes: number,
  ) {
    super(`the upload was cut off after ${receivedBytes} of its ${declaredBytes} bytes`);
  }
}

export interface ReceivedFile {
  /** The client's file name without any folder part (a label; never used as a path). */
  name: string;
  path: string;
  size: number;
}

export interface ReceivedUpload {
  fields: Map<string, string>;
  files: ReceivedFile[];
}

const MAX_HEADER_PAIRS = 100;
const MAX_FIELD_BYTES = 64 * 1024;
const MAX_PARTS = 10_000;

/**
 * Counts the parts of a body as it streams by (occurrences of CRLF "--boundary" CRLF, the first one
 * without its CRLF), so a part that busboy skips — it drops one whose Content-Disposition it cannot
 * decode, such as a broken filename*= — is noticed instead of silently missing from the import.
 */
class PartCounter {
  private readonly delimiter: Buffer;
  private tail: Buffer = Buffer.from("\r\n");
  count = 0;
  constructor(boundary: string) {
    this.delimiter = Buffer.from(`\r\n--${boundary}\r\n`);
  }
  push(chunk: Uint8Array): void {
    const data = Buffer.concat([this.tail, chunk]);
    for (let at = data.indexOf(this.delimiter); at >= 0; at = data.indexOf(this.delimiter, at + 1)) this.count++;
    this.tail = data.subarray(Math.max(0, data.length - (this.delimiter.length - 1)));
  }
}

/** The client's file name as a label: no folders, no control characters, never empty. */
function labelOf(filename: string | undefined): string {
  // Browsers send the bare name; anything with folders is cut to its last part.
  // eslint-disable-next-line no-control-regex -- control characters are what is being removed
  return (filename ?? "").split(/[\\/]/).pop()!.replace(/[\u0000-\u001f]/g, "").trim() || "upload";
}

/** busboy's complaint, worded for the person uploading. */
function badUpload(error: unknown): BadUpload {
  const message = error instanceof Error ? error.message : String(error);
  if (/unexpected end of form/i.test(message)) return new BadUpload("the upload ended before its closing boundary (the transfer was cut off)");
  if (/malformed part header/i.test(message)) return new BadUpload("a part of the upload has a malformed header");
  return new BadUpload(`the multipart body is malformed (${message.replace(/\s+/g, " ").slice(0, 120)})`);
}

/**
 * Reads `body` into `dir` (which must exist). Throws UploadTooLarge as soon as more than
 * `maxBytes` arrive, UploadCutOff when the body ends short of `declaredBytes` (its Content-Length,
 * when it has one), BadUpload for a malformed body (a wrong content type, a body without its closing
 * boundary, a field over 64 KiB, more than 10,000 parts); an error writing to disk is thrown as it is.
 */
export async function receiveMultipart(
  body: ReadableStream<Uint8Array>,
  contentType: string | null,
  dir: string,
  maxBytes: number,
  declaredBytes?: number,
): Promise<ReceivedUpload> {
  if (!/^multipart\/form-data\s*;/i.test(contentType ?? "")) throw new BadUpload("expected a multipart/form-data upload");
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": contentType! },
      // Browsers send UTF-8 file names raw in filename="…"; busboy's default would read them as Latin-1.
      defParamCharset: "utf8",
      limits: { fieldSize: MAX_FIELD_BYTES, parts: MAX_PARTS, headerPairs: MAX_HEADER_PAIRS },
    });
  } catch {
    throw new BadUpload("expected a multipart/form-data upload with a boundary");
  }

  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType!);
  const parts = new PartCounter(boundary?.[1] ?? boundary?.[2] ?? "");
  const fields = new Map<string, string>();
  const files: ReceivedFile[] = [];
  const writes: Promise<void>[] = [];
  let failure: Error | null = null;
  const fail = (error: Error) => {
    failure ??= error;
  };

  let fieldParts = 0;
  parser.on("field", (name, value, info) => {
    fieldParts++;
    if (info.valueTruncated) fail(new BadUpload(`the form field "${name}" is too long`));
    else fields.set(name, value);
  });
  parser.on("file", (_name, stream, info) => {
    const file: ReceivedFile = { name: labelOf(info.filename), path: path.join(dir, String(files.length)), size: 0 };
    files.push(file);
    stream.on("data", (chunk: Buffer) => {
      file.size += chunk.length;
    });
    const write = pipeline(stream, fs.createWriteStream(file.path, { flags: "wx", mode: 0o600 }));
    // Seen by Promise.all below; the handler keeps an early failure from being unhandled meanwhile.
    write.catch((error: NodeJS.ErrnoException) => {
      // A system error (EEXIST, ENOSPC, …) is ours and stays as it is; anything else came from the parse.
      const system = typeof error.code === "string" && !error.code.startsWith("ERR_");
      fail(system ? error : badUpload(error));
    });
    writes.push(write);
  });
  parser.on("partsLimit", () => fail(new BadUpload(`the upload has more than ${MAX_PARTS} parts`)));
  parser.on("error", (error: Error) => fail(badUpload(error)));
  const closed = once(parser, "close").catch(() => undefined);

  const reader = body.getReader();
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        // Before busboy's complaint about the missing closing boundary: that is the symptom, not the cause.
        if (declaredBytes !== undefined && received < declaredBytes) throw new UploadCutOff(received, declaredBytes);
        break;
      }
      received += value.length;
      if (received > maxBytes) throw new UploadTooLarge(`the upload is larger than ${Math.round(maxBytes / (1024 * 1024))} MB`);
      if (failure) throw failure;
      parts.push(value);
      if (!parser.write(value)) {
        // Wait for the disk to take what busboy buffered, unless the parse fails meanwhile.
        await Promise.race([once(parser, "drain").catch(() => undefined), closed]);
      }
    }
    if (failure) throw failure;
    parser.end();
    await closed;
    await Promise.allSettled(writes);
    if (failure) throw failure;
    const skipped = parts.count - fieldParts - files.length;
    if (skipped > 0) {
      throw new BadUpload(`${skipped} part(s) of the upload could not be read (a malformed Content-Disposition header or file name)`);
    }
    return { fields, files };
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    parser.destroy();
    await Promise.allSettled(writes);
    throw error;
  }
}
