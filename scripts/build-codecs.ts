/**
 * Builds the case viewer's DICOM decode worker and puts it, with the codecs' WebAssembly, under
 * public/codecs/ (git-ignored), so both are served from our own origin: the CSP then needs only
 * worker-src 'self' and script-src 'wasm-unsafe-eval' — no blob: workers and no data: URLs.
 *   npx tsx scripts/build-codecs.ts      (run by postinstall and prebuild; a second run is cheap)
 * Output: public/codecs/dicom-decode-worker.js (one classic-worker script: our pipeline in
 * models/dicom, dicom-parser, fflate and the codecs' emscripten glue) and the five .wasm files (the
 * fifth, dcmjs-codecs' 12-bit JPEG codec, is fetched by the worker only for a 12-bit JPEG frame), and
 * two small warm-up codestreams (JPEG 2000, HTJ2K) the worker decodes once when it starts.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { build } from "esbuild";
import { CODEC_FILES, JPEG12_CODEC, WARMUP_FILES } from "../models/dicom/codecs";

const root = path.resolve(import.meta.dirname, "..");
const require = createRequire(import.meta.url);

export async function buildCodecs(out = path.join(root, "public/codecs")): Promise<{ files: string[] }> {
  fs.mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [path.join(root, "app/(app)/queue/[projectId]/dicom-decode-worker.ts")],
    outfile: path.join(out, "dicom-decode-worker.js"),
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: false,
    tsconfig: path.join(root, "tsconfig.json"),
    // The emscripten glue and dicom-parser require Node modules on their Node code path only:
    // in the worker those requires get an empty object.
    plugins: [
      {
        name: "no-node-builtins",
        setup(build) {
          build.onResolve({ filter: /^(node:)?(fs|path|module|url|crypto|worker_threads|zlib|perf_hooks)$/ }, (args) => ({ path: args.path, namespace: "node-builtin-stub" }));
          build.onLoad({ filter: /.*/, namespace: "node-builtin-stub" }, () => ({ contents: "module.exports = {};", loader: "js" }));
        },
      },
    ],
    logLevel: "warning",
    legalComments: "none",
  });
  const files = ["dicom-decode-worker.js"];
  for (const codec of Object.values(CODEC_FILES)) {
    const dist = path.dirname(require.resolve(codec.pkg));
    fs.copyFileSync(path.join(dist, codec.wasm), path.join(out, codec.wasm));
    files.push(codec.wasm);
  }
  // dcmjs-codecs' WebAssembly (12-bit JPEG); its main entry lies in build/, beside the .wasm.
  fs.copyFileSync(path.join(path.dirname(require.resolve(JPEG12_CODEC.pkg)), JPEG12_CODEC.wasm), path.join(out, JPEG12_CODEC.wasm));
  files.push(JPEG12_CODEC.wasm);
  for (const [name, bytes] of Object.entries(warmupCodestreams())) {
    fs.writeFileSync(path.join(out, name), bytes);
    files.push(name);
  }
  return { files };
}

/**
 * Small codestreams the decode worker decodes once at start (WARMUP_FILES in models/dicom/codecs.ts):
 * V8 first runs new WebAssembly in its baseline tier and optimises functions only once they are hot,
 * so without a warm-up the first real frame decodes several times slower. Made here, with the codec
 * packages' own encoders, from a seeded 256×256 16-bit pattern: nothing is committed.
 */
function warmupCodestreams(): Record<string, Uint8Array> {
  const width = 256;
  const height = 256;
  const pixels = new Uint16Array(width * height);
  let seed = 7;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      pixels[y * width + x] = Math.round(1000 + 800 * Math.sin(x / 17) * Math.cos(y / 23)) + ((seed >>> 24) % 64);
    }
  }
  const frameInfo = { width, height, bitsPerSample: 16, componentCount: 1, isSigned: false, isUsingColorTransform: false };
  const encode = (pkg: string, js: string, wasm: string, encoderName: string, setup: (encoder: Record<string, (...args: unknown[]) => unknown>) => void) => {
    const dist = path.dirname(require.resolve(pkg));
    const factory = require(path.join(dist, js)) as (module: Record<string, unknown>) => Promise<unknown>;
    const module: Record<string, unknown> = {
      instantiateWasm(imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance) => void) {
        const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(path.join(dist, wasm))), imports);
        receive(instance);
        return instance.exports;
      },
      print: () => undefined,
      printErr: () => undefined,
    };
    void factory(module).catch(() => undefined);
    const encoder = new (module[encoderName] as new () => Record<string, (...args: unknown[]) => unknown>)();
    try {
      (encoder.getDecodedBuffer!(frameInfo) as Uint8Array).set(new Uint8Array(pixels.buffer));
      setup(encoder);
      encoder.encode!();
      return (encoder.getEncodedBuffer!() as Uint8Array).slice();
    } finally {
      encoder.delete!();
    }
  };
  return {
    [WARMUP_FILES.openjpeg]: encode("@cornerstonejs/codec-openjpeg", "openjpegwasm.js", "openjpegwasm.wasm", "J2KEncoder", (e) => {
      e.setDecompositions!(5);
      e.setQuality!(true, 0);
    }),
    [WARMUP_FILES.openjph]: encode("@cornerstonejs/codec-openjph", "openjphjs.js", "openjphjs.wasm", "HTJ2KEncoder", (e) => e.setQuality!(true, 0)),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const { files } = await buildCodecs();
  console.log(`public/codecs: ${files.join(", ")}`);
}
