/**
 * The codec modules in Node (importer, embedding decoder, tests, bench), instantiated synchronously
 * from the packages in node_modules on first use: a synchronous WebAssembly compile is allowed in
 * Node, so callers such as the importer's checks and the embedding decoder stay synchronous.
 */
import fs from "node:fs";
import path from "node:path";
import { CODEC_FILES, JPEG12_CODEC, jpeg12Codec, jpeg12Imports, type CodecModules, type Jpeg12Codec } from "./codecs";

// Node's own require, out of the bundler's sight: in the Next server bundle these packages are loaded
// from node_modules at run time, exactly as under tsx and vitest.
const nodeModule = process.getBuiltinModule("node:module") as typeof import("node:module");
const require = nodeModule.createRequire(import.meta.url);
let loaded: CodecModules | null = null;
let jpeg12: Jpeg12Codec | null = null;

type Factory = (module: Record<string, unknown>) => Promise<unknown>;

function instantiate(name: keyof typeof CODEC_FILES): Record<string, unknown> {
  const files = CODEC_FILES[name];
  // Each package's main entry lies in its dist/ folder, beside the decode-only glue and WebAssembly.
  const dist = path.dirname(require.resolve(files.pkg));
  const factory = require(path.join(dist, files.js)) as Factory;
  const module: Record<string, unknown> = {
    // Emscripten calls this instead of fetching and compiling asynchronously; receiving the
    // instance at once lets the runtime finish initialising before the factory returns.
    instantiateWasm(imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance) => void) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(path.join(dist, files.wasm))), imports);
      receive(instance);
      return instance.exports;
    },
    print: () => undefined,
    printErr: () => undefined,
  };
  void factory(module).catch(() => undefined);
  return module;
}

/** dcmjs-codecs' WebAssembly (12-bit JPEG), compiled synchronously on first use (about 0.2 s: 4 MB). */
function instantiateJpeg12(): Jpeg12Codec {
  const dist = path.dirname(require.resolve(JPEG12_CODEC.pkg));
  let memory: WebAssembly.Memory | null = null;
  const instance = new WebAssembly.Instance(
    new WebAssembly.Module(fs.readFileSync(path.join(dist, JPEG12_CODEC.wasm))),
    jpeg12Imports(() => memory!),
  );
  memory = instance.exports.memory as WebAssembly.Memory;
  return jpeg12Codec(instance);
}

/** The codec modules, instantiated once per process (the 12-bit JPEG codec on first use). */
export function nodeCodecs(): CodecModules {
  loaded ??= {
    openjpeg: instantiate("openjpeg") as unknown as CodecModules["openjpeg"],
    openjph: instantiate("openjph") as unknown as CodecModules["openjph"],
    charls: instantiate("charls") as unknown as CodecModules["charls"],
    libjpegTurbo: instantiate("libjpegTurbo") as unknown as CodecModules["libjpegTurbo"],
    get jpeg12() {
      jpeg12 ??= instantiateJpeg12();
      return jpeg12;
    },
  };
  return loaded;
}
