import { describe, expect, it } from "vitest";
import { initHead, mcDropoutLogProbs, predictProba, trainHead } from "@/workers/ml/mlp-head";
import { createRng } from "@/workers/ml/rng";
import type { HeadWeights, Matrix } from "@/workers/ml/types";
import { headMcDropoutLogProbs, headPredictProba, sessionFromBytes } from "../registry";
import { exportHeadToOnnx, headOnnxSignature } from "./head-export";
import { encodeOnnxModel } from "./onnx-builder";
import { ProtoWriter } from "./protobuf-writer";

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const rng = createRng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, rows, cols };
}

/** Two Gaussian blobs (class 1 shifted on the first 4 features) so the trained head is not trivial. */
function blobs(rows: number, cols: number, seed: number): { x: Matrix; y: Int32Array } {
  const x = randomMatrix(rows, cols, seed);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    y[r] = r % 5 === 0 ? 1 : 0;
    if (y[r] === 1) for (let j = 0; j < 4; j++) x.data[r * cols + j]! += 2;
  }
  return { x, y };
}

function shapeOf(w: HeadWeights) {
  return { inputDim: w.inputDim, hidden: w.hidden, numClasses: w.numClasses, dropout: w.dropout };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("protobuf writer", () => {
  it("encodes varints, negative int64, floats and strings in the wire format", () => {
    const w = new ProtoWriter();
    w.int(1, 300); // tag 08, varint AC 02
    w.int(2, -1); // tag 10, ten bytes of two's complement
    w.float(3, 1.5); // tag 1D, 00 00 C0 3F
    w.string(4, "hé"); // tag 22, length 3, UTF-8
    expect(Array.from(w.finish())).toEqual([
      0x08, 0xac, 0x02,
      0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
      0x1d, 0x00, 0x00, 0xc0, 0x3f,
      0x22, 0x03, 0x68, 0xc3, 0xa9,
    ]);
  });

  it("refuses a non-integer for an integer field", () => {
    expect(() => new ProtoWriter().int(1, 1.5)).toThrow(/needs an integer/);
  });
});

describe("ONNX builder", () => {
  it("refuses a graph whose node reads a value nothing produces", () => {
    expect(() =>
      encodeOnnxModel({
        irVersion: 7, opsetVersion: 13, producerName: "t", producerVersion: "1",
        graph: { name: "g", nodes: [{ opType: "Relu", name: "r", inputs: ["missing"], outputs: ["y"] }], initializers: [], inputs: [], outputs: [{ name: "y", shape: [1] }] },
      }),
    ).toThrow(/reads "missing"/);
  });

  it("refuses an initializer whose data does not fill its dims", () => {
    expect(() =>
      encodeOnnxModel({
        irVersion: 7, opsetVersion: 13, producerName: "t", producerVersion: "1",
        graph: { name: "g", nodes: [], initializers: [{ name: "w", dims: [2, 3], data: new Float32Array(5) }], inputs: [], outputs: [{ name: "w", shape: [2, 3] }] },
      }),
    ).toThrow(/5 values for dims \[2, 3\]/);
  });
});

describe("exported head in onnxruntime", () => {
  const { x, y } = blobs(600, 24, 11);

  for (const hidden of [[16], [], [12, 8]]) {
    it(`hidden [${hidden.join(", ")}]: probabilities equal predictProba within 1e-5 and MC dropout equals mcDropoutLogProbs`, async () => {
      const { weights } = trainHead(x, y, 2, { hidden, dropout: 0.3, maxEpochs: 5 }, createRng(3));
      const bytes = exportHeadToOnnx(weights, { modelVersion: "test" });
      const head = await sessionFromBytes(bytes, shapeOf(weights));
      try {
        // 600 rows cross the 256-row chunk boundary twice.
        const expected = predictProba(weights, x);
        const actual = await headPredictProba(head, x);
        expect(maxAbsDiff(actual, expected)).toBeLessThan(1e-5);

        const k = 4;
        const mcExpected = mcDropoutLogProbs(weights, x, k, createRng(99));
        const mcActual = await headMcDropoutLogProbs(head, x, k, createRng(99));
        expect([mcActual.n, mcActual.k, mcActual.c]).toEqual([600, 4, 2]);
        // Same masks from the same seed: per-pass probabilities agree to float32 rounding.
        const pe = mcExpected.data.map(Math.exp);
        const pa = mcActual.data.map(Math.exp);
        expect(maxAbsDiff(pa, pe)).toBeLessThan(1e-5);
        if (hidden.length > 0) {
          // With dropout the K passes really differ (otherwise the comparison above proves little).
          let spread = 0;
          for (let i = 0; i < 600; i++) spread = Math.max(spread, Math.abs(pa[i * k * 2]! - pa[(i * k + 1) * 2]!));
          expect(spread).toBeGreaterThan(1e-3);
        }
      } finally {
        await head.session.release();
      }
    });
  }

  it("declares its inputs and outputs, and refuses embeddings of the wrong width", async () => {
    const weights = initHead(8, [4], 3, 0.2, createRng(1));
    const head = await sessionFromBytes(exportHeadToOnnx(weights), shapeOf(weights));
    try {
      expect(head.session.inputNames).toEqual(["embedding", "dropout_mask_0"]);
      expect(head.session.outputNames).toEqual(["probabilities", "log_probabilities"]);
      expect(headOnnxSignature(weights).masks).toEqual([{ name: "dropout_mask_0", shape: ["mask_rows", 4] }]);
      await expect(headPredictProba(head, randomMatrix(2, 9, 1))).rejects.toThrow(/expects 8-d embeddings, got 9-d/);
      await expect(headMcDropoutLogProbs(head, randomMatrix(2, 8, 1), 1, createRng(1))).rejects.toThrow(/K >= 2/);
    } finally {
      await head.session.release();
    }
  });
});
