/**
 * The codec modules in Node (importer, embedding decoder, tests, bench), instantiated synchronously
 * from the packages in node_modules on first use: a synchronous WebAssembly compile is allowed in
 * Node, so callers such as the importer's checks and the embedding decoder stay synchronous.
 */
import fs from "node:fs";
import path from "node:path";
import { CODEC_FILES, type CodecModules } from "./codecs";

// Node's own require, out of the bundler's sight: in the Next server bundle these packages are loaded
// from node_modules at run time, exactly as under tsx and vitest.
const nodeModule = process.getBuiltinModule("node:module") as typeof import("node:module");
const require = nodeModule.createRequire(import.meta.url);
let loaded: CodecModules | null = null;

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

/** The codec modules, instantiated once per process. */
export function nodeCodecs(): CodecModules {
  loaded ??= {
    openjpeg: instantiate("openjpeg") as unknown as CodecModules["openjpeg"],
    openjph: instantiate("openjph") as unknown as CodecModules["openjph"],
    charls: instantiate("charls") as unknown as CodecModules["charls"],
    libjpegTurbo: instantiate("libjpegTurbo") as unknown as CodecModules["libjpegTurbo"],
  };
  return loaded;
}
