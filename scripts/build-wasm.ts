/**
 * npm run build:wasm [-- --check]
 * Regenerates workers/ml/wasm/gemm-wasm-bytes.ts from scripts/lib/wasm-gemm.ts. With --check it only
 * compares and exits 1 when the checked-in module is stale (the unit test does the same comparison).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildGemmWasm, renderBytesModule } from "./lib/wasm-gemm";

const target = fileURLToPath(new URL("../workers/ml/wasm/gemm-wasm-bytes.ts", import.meta.url));
const bytes = buildGemmWasm();
if (!WebAssembly.validate(bytes)) {
  process.stderr.write("build-wasm: the generated module does not validate\n");
  process.exit(1);
}
const source = renderBytesModule(bytes);
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {
    current = "";
  }
  if (current !== source) {
    process.stderr.write(`build-wasm: ${target} is stale; run npm run build:wasm\n`);
    process.exit(1);
  }
  process.stdout.write(`build-wasm: ${target} is up to date (${bytes.length} bytes)\n`);
} else {
  writeFileSync(target, source);
  process.stdout.write(`build-wasm: wrote ${target} (${bytes.length} bytes)\n`);
}
