/**
 * Streams a multipart/form-data request body to a temporary folder, with a cap on the total size.
 *
 * Why our own: the upload route must not hold a large upload in memory twice (Request.formData()
 * buffers all of it) and must stop reading the moment the cap is passed. File parts are written to
 * `dir/<n>` — never to a path built from the client's file name, which is kept only as a label.
 */
import fs from "node:fs";
import path from "node:path";

export class UploadTooLarge extends Error {}
export class BadUpload extends Error {}

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

const MAX_HEADER_BYTES = 16 * 1024;
const MAX_FIELD_BYTES = 64 * 1024;
const MAX_PARTS = 10_000;

export function boundaryOf(contentType: string | null): string {
  const m = /^multipart\/form-data\s*;.*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary || boundary.length > 200) throw new BadUpload("expected a multipart/form-data upload");
  return boundary;
}

function parseDisposition(headers: string): { name: string; filename: string | null } {
  const line = headers.split("\r\n").find((h) => /^content-disposition:/i.test(h));
  if (!line) throw new BadUpload("a part of the upload has no Content-Disposition header");
  const name = /\bname="([^"]*)"/i.exec(line)?.[1];
  if (name === undefined) throw new BadUpload("a part of the upload has no name");
  const star = /\bfilename\*=UTF-8''([^;\s]+)/i.exec(line)?.[1];
  const plain = /\bfilename="([^"]*)"/i.exec(line)?.[1];
  let filename: string | null = null;
  if (star !== undefined) filename = decodeURIComponent(star);
  else if (plain !== undefined) filename = plain;
  if (filename !== null) {
    // Browsers send the bare name; anything with folders is cut to its last part.
    // eslint-disable-next-line no-control-regex -- control characters are what is being removed
    filename = filename.split(/[\\/]/).pop()!.replace(/[\u0000-\u001f]/g, "").trim() || "upload";
  }
  return { name, filename };
}

/**
 * Reads `body` into `dir` (which must exist). Throws UploadTooLarge as soon as more than
 * `maxBytes` arrive, BadUpload for a malformed body.
 */
export async function receiveMultipart(body: ReadableStream<Uint8Array>, contentType: string | null, dir: string, maxBytes: number): Promise<ReceivedUpload> {
  const boundary = boundaryOf(contentType);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const fields = new Map<string, string>();
  const files: ReceivedFile[] = [];
  // The body starts with "--boundary"; prefixing CRLF lets one delimiter pattern find every boundary.
  let buffer: Buffer = Buffer.from("\r\n");
  // Cast, not annotation: the closures below change these, which TypeScript's narrowing cannot see.
  let state = "preamble" as "preamble" | "headers" | "body" | "done";
  let received = 0;
  let parts = 0;
  let current = null as { field: string; chunks: Buffer[]; size: number } | { file: ReceivedFile; stream: fs.WriteStream } | null;

  const write = async (data: Buffer) => {
    if (!current || data.length === 0) return;
    if ("stream" in current) {
      current.file.size += data.length;
      if (!current.stream.write(data)) await new Promise<void>((resolve) => current && "stream" in current && current.stream.once("drain", resolve));
    } else {
      current.size += data.length;
      if (current.size > MAX_FIELD_BYTES) throw new BadUpload(`the form field "${current.field}" is too long`);
      current.chunks.push(data);
    }
  };
  const finishPart = async () => {
    if (!current) return;
    if ("stream" in current) {
      const stream = current.stream;
      await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
      files.push(current.file);
    } else {
      fields.set(current.field, Buffer.concat(current.chunks).toString("utf8"));
    }
    current = null;
  };

  const process = async (final: boolean) => {
    for (;;) {
      if (state === "preamble" || state === "body") {
        const at = buffer.indexOf(delimiter);
        if (at < 0) {
          // Keep enough bytes to recognise a delimiter split across chunks.
          const keep = final ? 0 : delimiter.length + 1;
          if (state === "body" && buffer.length > keep) await write(buffer.subarray(0, buffer.length - keep));
          if (buffer.length > keep) buffer = buffer.subarray(buffer.length - keep);
          if (final) throw new BadUpload("the upload ended before its closing boundary (the transfer was cut off)");
          return;
        }
        if (buffer.length < at + delimiter.length + 2) {
          if (final) throw new BadUpload("the upload ended inside a boundary");
          if (state === "body") {
            await write(buffer.subarray(0, at));
            buffer = buffer.subarray(at);
          }
          return;
        }
        if (state === "body") {
          await write(buffer.subarray(0, at));
          await finishPart();
        }
        const after = buffer.subarray(at + delimiter.length, at + delimiter.length + 2).toString("latin1");
        buffer = buffer.subarray(at + delimiter.length + 2);
        if (after === "--") {
          state = "done";
          return;
        }
        if (after !== "\r\n") throw new BadUpload("malformed multipart boundary");
        state = "headers";
      } else if (state === "headers") {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) {
          if (buffer.length > MAX_HEADER_BYTES) throw new BadUpload("a part's headers are too long");
          if (final) throw new BadUpload("the upload ended inside a part's headers");
          return;
        }
        const { name, filename } = parseDisposition(buffer.subarray(0, end).toString("utf8"));
        buffer = buffer.subarray(end + 4);
        if (++parts > MAX_PARTS) throw new BadUpload(`the upload has more than ${MAX_PARTS} parts`);
        if (filename !== null) {
          const target = path.join(dir, String(files.length));
          const stream = fs.createWriteStream(target, { flags: "wx", mode: 0o600 });
          // Errors surface through end() below; a listener keeps them from crashing the process.
          stream.on("error", () => undefined);
          current = { file: { name: filename, path: target, size: 0 }, stream };
        } else {
          current = { field: name, chunks: [], size: 0 };
        }
        state = "body";
      } else {
        return;
      }
    }
  };

  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
      if (received > maxBytes) throw new UploadTooLarge(`the upload is larger than ${Math.round(maxBytes / (1024 * 1024))} MB`);
      if (state === "done") continue; // an epilogue after the closing boundary is ignored
      buffer = Buffer.concat([buffer, Buffer.from(value.buffer, value.byteOffset, value.byteLength)]);
      await process(false);
    }
    if (state !== "done") await process(true);
    return { fields, files };
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (current && "stream" in current) {
      const stream = current.stream;
      await new Promise<void>((resolve) => {
        stream.once("close", () => resolve());
        stream.destroy();
      });
    }
    throw error;
  }
}
