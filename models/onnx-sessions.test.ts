/** Session cache and execution-provider errors (on the real MobileNetV2 file in ../shared/models). */
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fileSha256, getOnnxSession, OnnxModelError, ort, releaseOnnxSessions } from "./onnx-sessions";

const MODEL = path.resolve("../shared/models/mobilenetv2-12-int8/mobilenetv2-12-int8.onnx");
afterAll(() => releaseOnnxSessions());

describe("onnx sessions", () => {
  it("creates one session per model file and provider, and checksums the file", async () => {
    const a = await getOnnxSession(MODEL);
    const b = await getOnnxSession(path.relative(process.cwd(), MODEL), "cpu");
    expect(b).toBe(a);
    expect(a.inputNames).toEqual(["input"]);
    expect(fileSha256(MODEL)).toBe("cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f");
  });

  it("names a missing model file", async () => {
    await expect(getOnnxSession("/nonexistent/model.onnx")).rejects.toThrow(OnnxModelError);
    await expect(getOnnxSession("/nonexistent/model.onnx")).rejects.toThrow("ONNX model /nonexistent/model.onnx does not exist");
  });

  it("cuda: loads where the CUDA build is installed, otherwise says how to install it", async () => {
    const cuda = ort.listSupportedBackends().find((backend) => backend.name === "cuda");
    if (cuda?.bundled) {
      const session = await getOnnxSession(MODEL, "cuda");
      expect(session.outputNames).toEqual(["output"]);
    } else {
      await expect(getOnnxSession(MODEL, "cuda")).rejects.toThrow(/ONNX_EXECUTION_PROVIDER=cuda, but the CUDA execution provider could not be loaded.*ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
      // A failed load is not cached: the CPU session still works.
      expect((await getOnnxSession(MODEL, "cpu")).inputNames).toEqual(["input"]);
    }
  });
});
