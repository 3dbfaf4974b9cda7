/**
 * Limits on a tRPC request checked BEFORE anything is parsed (issue 12, fault 8): the number of
 * procedures in one batch (from the URL path, `/api/trpc/a,b,c?batch=1`) and the body's size
 * (the declared Content-Length first, then the bytes really read, so a chunked body cannot slip
 * past). A refused request is answered at once: 400 for too many calls, 413 for a body too large.
 *
 * Two callers read the body: the Next.js route (`npm start -- --dev`) hands over a Request whose body
 * is still a stream, read here under the cap; the production server (server/web/trpc-node.ts) reads
 * the body from node's socket under the same cap before it builds its one Request and says what it
 * read in LIMITED_BODY (issue 16: one Request per call instead of two), so the body is not copied
 * into a second Request here.
 */

import { TRPC_MAX_BATCH, TRPC_MAX_BODY_BYTES } from "@/contracts/request-limits";

export interface TrpcLimits {
  maxBatch: number;
  maxBodyBytes: number;
}

export const DEFAULT_TRPC_LIMITS: TrpcLimits = { maxBatch: TRPC_MAX_BATCH, maxBodyBytes: TRPC_MAX_BODY_BYTES };

/**
 * What the production server's own reader (server/web/trpc-node.ts `readLimitedBody`) found, set on
 * the Request it builds: `complete` with the body's length (the body is the Request's), or not
 * complete when the body passed the cap (declared or counted; the Request then has no body). A symbol
 * from the global registry, because that server's module and the build's compiled copy of this one
 * are two module instances; a client cannot set it (it is a property of the object, not a header).
 */
export const LIMITED_BODY = Symbol.for("rads.trpc.limitedBody");

export interface LimitedBody {
  /** Whether the whole body was read; false: it passed the cap and reading stopped. */
  complete: boolean;
  /** Bytes read (the body's length when complete). */
  bytes: number;
}

type MarkedRequest = Request & { [LIMITED_BODY]?: LimitedBody };

/** Marks `request` as carrying a body already read under the cap (see LIMITED_BODY); returns it. */
export function markLimitedBody(request: Request, read: LimitedBody): Request {
  (request as MarkedRequest)[LIMITED_BODY] = read;
  return request;
}

function refusal(status: 400 | 413, message: string): Response {
  return Response.json({ error: { message } }, { status, headers: { "Cache-Control": "no-store", Connection: "close" } });
}

/** How many procedures the request names: the comma-separated list after `endpoint/` in the path. */
export function batchLength(url: URL, endpoint: string): number {
  const rest = url.pathname.startsWith(`${endpoint}/`) ? url.pathname.slice(endpoint.length + 1) : "";
  if (rest === "") return 0;
  return decodeURIComponent(rest).split(",").length;
}

/**
 * Either a refusal (Response) or the request to hand to tRPC, its body read in full under the cap
 * (a new Request carrying the same method, URL and headers). Never reads more than
 * `maxBodyBytes + one chunk`: the reader is cancelled as soon as the cap is passed. A request whose
 * body was already read under the cap (LIMITED_BODY) is passed on as it is, or refused with the
 * same 413 when that reading found the body too large.
 */
export async function limitTrpcRequest(request: Request, endpoint: string, limits: TrpcLimits = DEFAULT_TRPC_LIMITS): Promise<Response | Request> {
  const url = new URL(request.url);
  const calls = batchLength(url, endpoint);
  if (calls > limits.maxBatch) return refusal(400, `A batch may hold at most ${limits.maxBatch} calls; this one has ${calls}.`);
  if (request.method !== "POST") return request;
  const tooLarge = () => refusal(413, `The request body is larger than ${Math.floor(limits.maxBodyBytes / 1024)} KiB.`);
  const read = (request as MarkedRequest)[LIMITED_BODY];
  if (read) return read.complete && read.bytes <= limits.maxBodyBytes ? request : tooLarge();
  if (!request.body) return request;
  const declared = Number(request.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
    await request.body.cancel().catch(() => undefined);
    return tooLarge();
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limits.maxBodyBytes) {
      await reader.cancel().catch(() => undefined);
      return tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const headers = new Headers(request.headers);
  headers.delete("content-length");
  return new Request(request.url, { method: request.method, headers, body, signal: request.signal });
}
