import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLocalBlobStore, DIR_MODE, FILE_MODE } from "./blob-store";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rads-blobs-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("local blob store at rest (issue 12, fault 10)", () => {
  it("writes files 0600 and the folders it creates 0700, even under a permissive umask", async () => {
    const previous = process.umask(0o000);
    try {
      const root = path.join(work, "storage");
      const store = createLocalBlobStore(root);
      await store.put("images/ab/abcdef.dcm", new Uint8Array([1, 2, 3]));
      await store.put("models/p1/head.onnx", new Uint8Array([4]));
      expect(fs.statSync(path.join(root, "images/ab/abcdef.dcm")).mode & 0o777).toBe(FILE_MODE);
      expect(fs.statSync(path.join(root, "models/p1/head.onnx")).mode & 0o777).toBe(FILE_MODE);
      for (const dir of ["", "images", "images/ab", "models", "models/p1"]) expect(fs.statSync(path.join(root, dir)).mode & 0o777, dir || "root").toBe(DIR_MODE);
      expect(Buffer.from(await store.get("images/ab/abcdef.dcm"))).toEqual(Buffer.from([1, 2, 3]));
    } finally {
      process.umask(previous);
    }
  });
});
