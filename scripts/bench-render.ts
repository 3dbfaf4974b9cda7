/**
 * First render of real DICOM files in headless Chromium, stage by stage (issue 11 item 7), without
 * the web app: the case viewer's own cornerstone setup and decode workers (scripts/lib/render-harness.ts,
 * public/codecs/) on a bare page served with the app's CSP, the files from ../shared/data/dicom.
 *   npm run bench:render [-- --runs 15 --files explicit_VR-UN.dcm,RG3_J2KR.dcm]
 * Two situations per file:
 *   - "warm": the case view has been open a while (its decode workers started and compiled the codecs
 *     when it mounted); each run is a file the worker has not seen (a fresh URL);
 *   - "new page beside an open one": a new page per run while the warm one stays open (a case opened
 *     in another tab): the decode workers are shared workers, so it finds them warm;
 *   - "cold page": a new page per run with no other open, the render asked for at once — worker start
 *     and codec compile race the file's bytes.
 * Stages (page time): bytes arrived in the worker → codec ready (parse, and waiting for the codec's
 * compile) → decoded → reply received on the page (transfer) → rendered by cornerstone. Reports the
 * median and p95 of each, with the load average at the start and end (the machine is shared).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { chromium, type Page } from "@playwright/test";
import { build } from "esbuild";
import { CSP_DIRECTIVES } from "../next.config";
import { openDicom } from "../models/dicom/decode";
import { buildCodecs } from "./build-codecs";

const root = path.resolve(import.meta.dirname, "..");
const DICOM_DIR = path.resolve(root, "../shared/data/dicom");

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}
const runs = Number(arg("runs", "15"));
const files = arg("files", "explicit_VR-UN.dcm,RG3_J2KR.dcm").split(",");

interface Sample {
  /** Bytes arrived → first picture on the canvas (the preview when there is one). */
  firstPicture: number;
  /** Bytes arrived → the full-resolution image rendered. */
  firstRender: number;
  codecWait: number;
  decode: number;
  transfer: number;
  draw: number;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function harnessScript(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(root, "scripts/lib/render-harness.ts")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: true,
    write: false,
    tsconfig: path.join(root, "tsconfig.json"),
    logLevel: "warning",
  });
  return result.outputFiles[0]!.text;
}

function serve(harness: string, codecDir: string): Promise<{ url: string; close: () => void }> {
  const page = `<!doctype html><html><body style="margin:0;background:#000"><div id="viewport" style="width:700px;height:500px"></div><script src="/harness.js"></script></body></html>`;
  const headers = { "content-security-policy": CSP_DIRECTIVES.join("; "), "cache-control": "no-store" };
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname === "/") return void response.writeHead(200, { ...headers, "content-type": "text/html" }).end(page);
    if (url.pathname === "/harness.js") return void response.writeHead(200, { ...headers, "content-type": "text/javascript" }).end(harness);
    const codec = /^\/codecs\/([\w.-]+)$/.exec(url.pathname);
    if (codec && fs.existsSync(path.join(codecDir, codec[1]!))) {
      const type = codec[1]!.endsWith(".wasm") ? "application/wasm" : "text/javascript";
      const body = fs.readFileSync(path.join(codecDir, codec[1]!));
      // As Next serves public/: revalidated by ETag, so the browser may reuse the WebAssembly it compiled (its code cache).
      const etag = `"${createHash("sha1").update(body).digest("hex")}"`;
      const cacheHeaders = { ...headers, "cache-control": "public, max-age=0", etag, "content-type": type };
      if (request.headers["if-none-match"] === etag) return void response.writeHead(304, cacheHeaders).end();
      return void response.writeHead(200, cacheHeaders).end(body);
    }
    const image = /^\/api\/images\/([\w.-]+\.dcm)$/.exec(url.pathname);
    if (image && fs.existsSync(path.join(DICOM_DIR, image[1]!))) return void response.writeHead(200, { ...headers, "content-type": "application/dicom" }).end(fs.readFileSync(path.join(DICOM_DIR, image[1]!)));
    response.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() })));
}

type Preview = { transferSyntax: string; columns: number; rows: number } | undefined;

async function renderOnce(page: Page, url: string, preview: Preview): Promise<Sample> {
  return page.evaluate(async ({ imageUrl, preview }) => {
    const timing = await window.benchRender!(`dicom:${imageUrl}`, preview);
    const stages = (window.__radsDecodeStages ?? []).filter((s) => s.url === imageUrl && s.reduced === 0).at(-1);
    if (!stages) throw new Error(`no decode stages for ${imageUrl}`);
    return {
      firstPicture: (timing.previewAt ?? timing.renderedAt) - stages.bytesAt,
      firstRender: timing.renderedAt - stages.bytesAt,
      codecWait: stages.codecReadyAt - stages.bytesAt,
      decode: stages.decodedAt - stages.codecReadyAt,
      transfer: stages.receivedAt - stages.decodedAt,
      draw: timing.renderedAt - stages.receivedAt,
    };
  }, { imageUrl: url, preview });
}

/** The file's transfer syntax and size, for the viewer's preview decision. */
function describe(file: string): NonNullable<Preview> {
  const { info } = openDicom(new Uint8Array(fs.readFileSync(path.join(DICOM_DIR, file))), (bytes) => zlib.inflateRawSync(bytes));
  return { transferSyntax: info.transferSyntax.uid, columns: info.columns, rows: info.rows };
}

async function main() {
  // The worker and codecs as scripts/build-codecs.ts builds them, into a folder of our own (public/codecs may be in use).
  const codecDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-render-codecs-"));
  await buildCodecs(codecDir);
  const { url: origin, close } = await serve(await harnessScript(), codecDir);
  const load0 = os.loadavg();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  const context = await browser.newContext();
  const results: { file: string; situation: string; samples: Sample[] }[] = [];
  try {
    let serial = 0;
    for (const file of files) {
      const viewer = describe(file);
      // Warm: one page whose workers have compiled the codecs; a file URL the worker has not seen per run,
      // alternately full resolution only and as the case viewer draws it (a preview first when the image is large).
      const warm = await context.newPage();
      await warm.goto(origin);
      await warm.evaluate(() => window.benchWarm!());
      await warm.waitForTimeout(3000);
      await renderOnce(warm, `/api/images/${file}?run=warmup-${serial++}`, undefined);
      const fullOnly: Sample[] = [];
      const asViewer: Sample[] = [];
      for (let i = 0; i < runs; i++) {
        fullOnly.push(await renderOnce(warm, `/api/images/${file}?run=${serial++}`, undefined));
        asViewer.push(await renderOnce(warm, `/api/images/${file}?run=${serial++}`, viewer));
      }
      results.push({ file, situation: "warm, full resolution only", samples: fullOnly });
      results.push({ file, situation: "warm, as the viewer draws it", samples: asViewer });

      // A new page while that one stays open (a case opened in another tab): the shared decode workers are warm.
      const tabSamples: Sample[] = [];
      for (let i = 0; i < runs; i++) {
        const tab = await context.newPage();
        await tab.goto(origin);
        tabSamples.push(await renderOnce(tab, `/api/images/${file}?run=${serial++}`, viewer));
        await tab.close();
      }
      results.push({ file, situation: "new page beside an open one, as the viewer draws it", samples: tabSamples });
      await warm.close();

      // Cold page (no other page open): worker start and codec compile race the bytes.
      const coldSamples: Sample[] = [];
      for (let i = 0; i < runs; i++) {
        const cold = await context.newPage();
        await cold.goto(origin);
        coldSamples.push(await renderOnce(cold, `/api/images/${file}?run=${serial++}`, viewer));
        await cold.close();
      }
      results.push({ file, situation: "cold page (no other open), as the viewer draws it", samples: coldSamples });
    }
  } finally {
    await browser.close();
    close();
    fs.rmSync(codecDir, { recursive: true, force: true });
  }
  const load1 = os.loadavg();
  const fmt = (v: number) => v.toFixed(0);
  console.log(`\nAfter the bytes arrived, ms (viewport 700×500, the case view's at 1440×900) — ${runs} runs each; ${os.cpus().length} cores, load average ${load0[0]!.toFixed(1)} at start, ${load1[0]!.toFixed(1)} at end`);
  console.log("| file | situation | first picture p50 | p95 | full resolution rendered p50 | p95 | bytes → codec ready p50 | full decode p50 | transfer p50 | to cornerstone + draw p50 |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const { file, situation, samples } of results) {
    const of = (key: keyof Sample) => samples.map((s) => s[key]);
    const cells = [quantile(of("firstPicture"), 0.5), quantile(of("firstPicture"), 0.95), quantile(of("firstRender"), 0.5), quantile(of("firstRender"), 0.95), quantile(of("codecWait"), 0.5), quantile(of("decode"), 0.5), quantile(of("transfer"), 0.5), quantile(of("draw"), 0.5)];
    console.log(`| ${file} | ${situation} | ${cells.map(fmt).join(" | ")} |`);
  }
}

await main();
