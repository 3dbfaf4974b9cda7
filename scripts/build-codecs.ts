/**
 * Builds the case viewer's DICOM decode worker and puts it, with the codecs' WebAssembly, under
 * public/codecs/ (git-ignored), so both are served from our own origin: the CSP then needs only
 * worker-src 'self' and script-src 'wasm-unsafe-eval' — no blob: workers and no data: URLs.
 *   npx tsx scripts/build-codecs.ts      (run by postinstall and prebuild; a second run is cheap)
 * Output: public/codecs/dicom-decode-worker.js (one classic-worker script: our pipeline in
 * models/dicom, dicom-parser, fflate and the codecs' emscripten glue) and the five .wasm files (the
 * fifth, dcmjs-codecs' 12-bit JPEG codec, is fetched by the worker only for a 12-bit JPEG frame).
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { build } from "esbuild";
import { CODEC_FILES, JPEG12_CODEC } from "../models/dicom/codecs";

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
  return { files };
}


if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const { files } = await buildCodecs();
  console.log(`public/codecs: ${files.join(", ")}`);
}
