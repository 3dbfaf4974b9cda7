import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BadUpload, receiveMultipart, UploadCutOff, UploadTooLarge } from "./multipart";

const CT = fs.readFileSync(path.resolve(import.meta.dirname, "../../../shared/data/dicom/CT_small.dcm"));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "rads-mp-"));
  dirs.push(d);
  return d;
}

/** Builds a real multipart body with the platform's own FormData and streams it in small chunks. */
async function body(form: FormData, chunk = 7): Promise<{ stream: ReadableStream<Uint8Array>; type: string }> {
  const request = new Request("http://x/", { method: "POST", body: form });
  const bytes = new Uint8Array(await request.arrayBuffer());
  const type = request.headers.get("content-type")!;
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
  return { stream, type };
}

describe("receiveMultipart", () => {
  it("writes files byte for byte (delimiters split across chunks) and reads fields", async () => {
    const form = new FormData();
    form.append("mapping", JSON.stringify({ idCol: "note_id" }));
    form.append("files", new Blob([CT]), "CT_small.dcm");
    form.append("files", new Blob(["id,text\r\n1,a\r\n"]), "../../etc/cases.csv");
    for (const chunk of [1, 7, 4096]) {
      const dir = tempDir();
      const { stream, type } = await body(form, chunk);
      const upload = await receiveMultipart(stream, type, dir, 10 * 1024 * 1024);
      expect(upload.fields.get("mapping")).toBe('{"idCol":"note_id"}');
      expect(upload.files.map((f) => [f.name, f.size])).toEqual([["CT_small.dcm", CT.length], ["cases.csv", 14]]);
      expect(Buffer.compare(fs.readFileSync(upload.files[0]!.path), CT)).toBe(0);
      expect(path.dirname(upload.files[1]!.path)).toBe(dir);
    }
  });

  it("stops at the size cap and refuses a cut-off body", async () => {
    const form = new FormData();
    form.append("files", new Blob([CT]), "CT_small.dcm");
    const big = await body(form, 1024);
    await expect(receiveMultipart(big.stream, big.type, tempDir(), 10_000)).rejects.toBeInstanceOf(UploadTooLarge);
    const request = new Request("http://x/", { method: "POST", body: form });
    const bytes = new Uint8Array(await request.arrayBuffer()).slice(0, 5000);
    const cut = new ReadableStream<Uint8Array>({ start: (c) => { c.enqueue(bytes); c.close(); } });
    await expect(receiveMultipart(cut, request.headers.get("content-type"), tempDir(), 1e7)).rejects.toBeInstanceOf(BadUpload);
    await expect(receiveMultipart(cut, "application/json", tempDir(), 1e7)).rejects.toThrow(/multipart/);
  });

  it("names a body that ends cleanly short of its Content-Length as cut off (a limit in front), not as malformed", async () => {
    const form = new FormData();
    form.append("files", new Blob([CT]), "CT_small.dcm");
    const request = new Request("http://x/", { method: "POST", body: form });
    const whole = new Uint8Array(await request.arrayBuffer());
    const type = request.headers.get("content-type");
    const stream = (bytes: Uint8Array) => new ReadableStream<Uint8Array>({ start: (c) => { c.enqueue(bytes); c.close(); } });
    const cut = receiveMultipart(stream(whole.slice(0, 5000)), type, tempDir(), 1e7, whole.length);
    await expect(cut).rejects.toBeInstanceOf(UploadCutOff);
    await expect(cut).rejects.toMatchObject({ receivedBytes: 5000, declaredBytes: whole.length });
    // The whole body with its true length is read as before.
    const upload = await receiveMultipart(stream(whole), type, tempDir(), 1e7, whole.length);
    expect(upload.files.map((f) => f.size)).toEqual([CT.length]);
  });

  it("reads raw UTF-8 and RFC 5987 file names, survives broken percent-encoding, and refuses an over-long field", async () => {
    const raw = (parts: string[]) => {
      const text = parts.map((p) => `--B\r\n${p}\r\n`).join("") + "--B--\r\n";
      const bytes = new TextEncoder().encode(text);
      return new ReadableStream<Uint8Array>({ start: (c) => { c.enqueue(bytes); c.close(); } });
    };
    const type = "multipart/form-data; boundary=B";
    const good = [
      'Content-Disposition: form-data; name="files"; filename="R\u00f6ntgen-01.png"\r\n\r\nA',
      "Content-Disposition: form-data; name=\"files\"; filename*=UTF-8''L%C3%A9sion.csv\r\n\r\nB",
    ];
    const upload = await receiveMultipart(raw(good), type, tempDir(), 1e6);
    expect(upload.files.map((f) => f.size)).toEqual([1, 1]);
    expect(upload.files[0]!.name).toBe("R\u00f6ntgen-01.png");
    expect(upload.files[1]!.name).toBe("L\u00e9sion.csv");
    // busboy drops a part whose file name it cannot decode: refused, not silently left out.
    const broken = "Content-Disposition: form-data; name=\"files\"; filename*=UTF-8''bad%E0%A4%A\r\n\r\nC";
    await expect(receiveMultipart(raw([...good, broken]), type, tempDir(), 1e6)).rejects.toThrow(/1 part\(s\) of the upload could not be read/);
    const long = `Content-Disposition: form-data; name="mapping"\r\n\r\n${"x".repeat(70 * 1024)}`;
    await expect(receiveMultipart(raw([long]), type, tempDir(), 1e6)).rejects.toThrow(/"mapping" is too long/);
  });
});
