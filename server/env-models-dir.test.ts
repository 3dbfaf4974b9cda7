import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadServerEnv } from "./env";

const base = { DATABASE_URL: "postgresql://u:p@localhost:5432/db" };

describe("MODELS_DIR", () => {
  it("is optional, and when set must name an existing folder", () => {
    expect(loadServerEnv(base).MODELS_DIR).toBeUndefined();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-models-env-"));
    try {
      expect(loadServerEnv({ ...base, MODELS_DIR: dir }).MODELS_DIR).toBe(dir);
      const file = path.join(dir, "model.onnx");
      fs.writeFileSync(file, "x");
      expect(() => loadServerEnv({ ...base, MODELS_DIR: file })).toThrow(/MODELS_DIR must name an existing folder/);
      expect(() => loadServerEnv({ ...base, MODELS_DIR: path.join(dir, "missing") })).toThrow(/MODELS_DIR must name an existing folder/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
