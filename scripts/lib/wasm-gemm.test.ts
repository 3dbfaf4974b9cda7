import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GEMM_WASM_BASE64 } from "../../workers/ml/wasm/gemm-wasm-bytes";
import { buildGemmWasm, renderBytesModule } from "./wasm-gemm";

describe("generated wasm kernels", () => {
  it("the checked-in bytes are exactly what the generator builds (run npm run build:wasm after editing it)", () => {
    const built = buildGemmWasm();
    const bin = atob(GEMM_WASM_BASE64);
    expect(Array.from(bin, (c) => c.charCodeAt(0))).toEqual(Array.from(built));
    const file = readFileSync(new URL("../../workers/ml/wasm/gemm-wasm-bytes.ts", import.meta.url), "utf8");
    expect(file).toBe(renderBytesModule(built));
  });

  it("is a valid module exporting the memory and the kernels", () => {
    const bytes = buildGemmWasm();
    expect(WebAssembly.validate(bytes)).toBe(true);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => `${e.kind}:${e.name}`);
    expect(exports).toEqual(["memory:mem", "function:gemm_nt", "function:gemm_tn", "function:gemm_nn", "function:adam", "function:transpose"]);
  });
});
