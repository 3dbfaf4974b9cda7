/**
 * tRPC's HTTP answer for the common calls, computed from plain data instead of Fetch `Request` and
 * `Response` objects (issue 16: building those and their web streams — undici's Request,
 * extractBody, consumeBody, Response, ReadableStream — cost ~0.3 ms of the web process's ~2 ms per
 * call). The production server (server/web/trpc-node.ts) hands over node's request as a
 * `TrpcNodeCall`; `createTrpcAnswer` checks it as server/api/trpc-http.ts `handleTrpcRequest`
 * does (same-origin POST, batch length, body cap) and answers it as tRPC v11's fetch adapter does
 * (`fetchRequestHandler` → `resolveResponse`, @trpc/server 11.22.1, its JSON path): the same
 * procedure lookup, method check, lazily parsed input (a procedure's middleware runs before its
 * input is parsed), one context per request, errors shaped by the router's errorFormatter
 * (`getErrorShape`), the status tRPC derives from the results (`getHTTPStatusCode`: one status, or
 * 207 for a mixed batch), the body serialized with the router's transformer (superjson here), and
 * the same two answer headers (`content-type: application/json`, `vary: trpc-accept, accept`).
 *
 * It answers `null` — "take the Fetch path" — BEFORE anything runs (no context made, no procedure
 * called) for every request it does not reproduce itself: a refusal (cross-site POST 403, batch
 * too long 400, body over the cap 413), an undecodable path, a content type other than JSON on a
 * POST (form data, octet stream, none), streaming (`trpc-accept` / `accept: application/jsonl`),
 * `connectionParams`, a subscription, or a batch mixing queries and mutations. The Fetch path
 * (handleTrpcRequest) then answers exactly as before. Differences, none visible to a client: the
 * procedure gets no abort signal (the Fetch path's never fires: its Request has none and nothing
 * streams), and tRPC's `onError`/`responseMeta` hooks are not called (this app sets neither). One deliberate
 * difference a client sees: a single call whose input is JSON but not an object (a JSON array body) is refused
 * with 400 "must be a JSON object" (TRPC_INPUT_NOT_OBJECT_MESSAGE), where tRPC's adapter passes no input on and
 * the procedure's schema answered "expected object, received undefined". Refused before tRPC on both paths
 * (trpcRequestRefusal): a path that does not percent-decode (400) and a POST that is not JSON (415).
 * Tests: server/api/trpc-resolve.test.ts compares both paths answer for answer.
 */
import {
  getErrorShape,
  getHTTPStatusCode,
  getProcedureAtPath,
  getTRPCErrorFromUnknown,
  isAsyncIterable,
  isObject,
  isPromise,
  transformTRPCResponse,
  TRPCError,
  type AnyProcedure,
  type AnyRouter,
  type ProcedureType,
} from "@trpc/server/unstable-core-do-not-import";
import superjson from "superjson";
import { batchLength, DEFAULT_TRPC_LIMITS, type LimitedBody } from "@/server/api/request-limits";
import { hasSameOrigin } from "@/server/http-guards";

/** node's request as the production server hands it over (no Fetch objects). */
export interface TrpcNodeCall {
  /** "GET" for queries (HEAD is answered as GET), "POST" for mutations and batches. */
  method: "GET" | "POST";
  /** The request's absolute URL (its target resolved against the Host header). */
  url: URL;
  /** node's request headers: lower-case names, repeated ones already merged by node (set-cookie an array). */
  headers: Record<string, string | string[] | undefined>;
  /** POST: the body read under the cap (server/web/trpc-node.ts readLimitedBody); null when it passed the cap. GET: null. */
  body: Uint8Array | null;
  /** POST: what reading the body found. */
  read?: LimitedBody;
}

/** A complete tRPC answer: status, tRPC's own headers as node's flat list [name, value, …], the JSON body. */
export interface TrpcAnswer {
  status: number;
  headers: readonly string[];
  body: string;
}

/** Answers a call, or null when the Fetch path must answer it (see the module comment). */
export type TrpcAnswerFn = (call: TrpcNodeCall) => Promise<TrpcAnswer | null>;

/** What a client reads for a tRPC path that is not valid percent-encoding (e.g. `/api/trpc/%ZZ`). */
export const TRPC_MALFORMED_PATH_MESSAGE = "The request's path is not valid percent-encoding: a % must be followed by two hexadecimal digits that spell UTF-8.";

/** What a client reads for a POST whose body is not declared JSON (form data, octet stream, text, none). */
export const TRPC_JSON_ONLY_MESSAGE = "The tRPC API takes JSON: send the body with Content-Type: application/json.";

/** What a client reads when a call's input is JSON but not an object (an array, a string, a number, null). */
export const TRPC_INPUT_NOT_OBJECT_MESSAGE = {
  POST: 'The request body must be a JSON object in tRPC\'s format ({"json": …}).',
  GET: 'The "input" parameter must be a JSON object in tRPC\'s format ({"json": …}).',
} as const;

/** Whether `path` percent-decodes (decodeURIComponent would not throw). */
export function percentDecodes(path: string): boolean {
  if (!path.includes("%")) return true;
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** A refusal of a tRPC request before tRPC reads it: its status and the client's message. */
export interface TrpcRefusal {
  status: 400 | 415;
  message: string;
}

/**
 * What server/api/trpc-http.ts `handleTrpcRequest` refuses itself before tRPC reads the request (after the
 * same-origin check, before the batch and body limits): a path that does not percent-decode (400; tRPC's
 * adapter answers that 400 too, but the batch check would throw on it first), and a POST whose content type is
 * not application/json (415: tRPC's adapter would read form data or an octet stream, or answer 415 without a
 * JSON content type). null: go on. `createTrpcAnswer` leaves these to that handler (answers null).
 */
export function trpcRequestRefusal(method: string, pathname: string, contentType: string | null): TrpcRefusal | null {
  if (!percentDecodes(pathname)) return { status: 400, message: TRPC_MALFORMED_PATH_MESSAGE };
  if (method === "POST" && contentType?.toLowerCase().split(";", 1)[0]?.trim() !== "application/json") return { status: 415, message: TRPC_JSON_ONLY_MESSAGE };
  return null;
}

/** A TrpcRefusal as its answer: `{ error: { message } }`, as the other refusals (server/api/request-limits.ts), never cached. */
export function trpcRefusalResponse(refusal: TrpcRefusal): Response {
  return Response.json({ error: { message: refusal.message } }, { status: refusal.status, headers: { "Cache-Control": "no-store" } });
}

/**
 * tRPC's fetch adapter answers an error found before any call ran (its request-info step: an unsupported
 * content type, a batch mixing procedure types, a path that does not decode) with a JSON body but no content
 * type, so the Response's default `text/plain;charset=UTF-8` went out. Its bodies are always JSON: this marks
 * such an answer `application/json`, as every other tRPC answer is. Other answers are returned as they are.
 */
export function withJsonContentType(response: Response): Response {
  if (response.body && response.headers.get("content-type")?.startsWith("text/plain")) response.headers.set("content-type", "application/json");
  return response;
}

/** tRPC's headers on every JSON answer, in the order a Fetch Response lists them (sorted by name). */
const ANSWER_HEADERS: readonly string[] = Object.freeze(["content-type", "application/json", "vary", "trpc-accept, accept"]);

/** Which HTTP methods a procedure type accepts (resolveResponse TYPE_ACCEPTED_METHOD_MAP, no method override). */
const ACCEPTED_METHOD: Record<ProcedureType, string> = { query: "GET", mutation: "POST", subscription: "GET" };

/** WHATWG "UTF-8 decode" (BOM dropped, bad bytes replaced), as Fetch's `Request.json()` decodes a body. */
const UTF8 = new TextDecoder();

/** A header as one string, as Fetch's `Headers.get` gives it (repeats joined by ", "), or null. */
export function nodeHeader(headers: TrpcNodeCall["headers"], name: string): string | null {
  const value = headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
}

function trimSlashes(path: string): string {
  const start = path.startsWith("/") ? path.slice(1) : path;
  return start.endsWith("/") ? start.slice(0, -1) : start;
}

/** resolveResponse's isDataStream: an async iterable, or an object holding a promise or an async iterable. */
function isDataStream(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (isAsyncIterable(value)) return true;
  const values = Object.values(value);
  return values.some(isPromise) || values.some(isAsyncIterable);
}

/** A value plainSerialize cannot write as superjson would without superjson's own walk. */
const NOT_PLAIN = Symbol("not plain");
/** superjson's annotation of one value ("Date", "undefined"), or of a plain object's/array's values by escaped path. */
type Annotations = readonly string[] | { [path: string]: Annotations };
const DATE: readonly string[] = Object.freeze(["Date"]);
const UNDEFINED: readonly string[] = Object.freeze(["undefined"]);
/** The annotations of the value walkPlain last answered (undefined: none), beside its JSON value. */
let walked: Annotations | undefined;

/** superjson's escapeKey (pathstringifier): backslashes doubled, dots escaped. */
function escapeKey(key: string): string {
  return key.replace(/\\/g, "\\\\").replace(/\./g, "\\.");
}

/** superjson's walker adding a child's annotations to its parent's: one entry, or the child's entries under "key.". */
function annotate(inner: Record<string, Annotations>, key: string, child: Annotations): void {
  if (Array.isArray(child)) inner[escapeKey(key)] = child;
  else for (const [path, tree] of Object.entries(child)) inner[`${escapeKey(key)}.${path}`] = tree;
}

/**
 * superjson's walker (plainer.ts, superjson 2.2) for the values it writes without a transformer of its own: the JSON
 * value (a copy only where a Date was replaced by its ISO text or undefined by null) and, in `walked`, the annotations superjson builds —
 * the same objects with their keys in the same order. NOT_PLAIN for anything else: NaN, ±Infinity, -0, bigint,
 * symbols, functions, an invalid Date, a Map/Set/RegExp/Error/typed array or any object that is neither a plain object
 * nor an array, an array with holes, a key superjson refuses (__proto__, constructor, prototype), and an object met
 * twice (superjson would write referentialEqualities).
 */
function walkPlain(value: unknown, seen: Set<object>): unknown {
  walked = undefined;
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0) ? value : NOT_PLAIN;
    case "undefined":
      // superjson writes undefined as null, annotated (so an object keeps the key).
      walked = UNDEFINED;
      return null;
    case "object":
      if (value === null) return null;
      break;
    default:
      return NOT_PLAIN;
  }
  const object = value as object;
  if (seen.has(object)) return NOT_PLAIN;
  seen.add(object);
  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) return NOT_PLAIN;
    walked = DATE;
    return object.toISOString();
  }
  let inner: Record<string, Annotations> | null = null;
  if (Array.isArray(object)) {
    if (Object.getPrototypeOf(object) !== Array.prototype) return NOT_PLAIN;
    const array = object as unknown[];
    let copy: unknown[] | null = null;
    for (let i = 0; i < array.length; i++) {
      if (!(i in array)) return NOT_PLAIN;
      const item = array[i];
      const json = walkPlain(item, seen);
      if (json === NOT_PLAIN) return NOT_PLAIN;
      if (walked !== undefined) annotate((inner ??= {}), String(i), walked);
      if (copy) copy.push(json);
      else if (json !== item) (copy = array.slice(0, i)).push(json);
    }
    walked = inner ?? undefined;
    return copy ?? array;
  }
  const prototype: unknown = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) return NOT_PLAIN;
  const record = object as Record<string, unknown>;
  const keys = Object.keys(record);
  let copy: Record<string, unknown> | null = null;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key === "__proto__" || key === "constructor" || key === "prototype") return NOT_PLAIN;
    const item = record[key];
    const json = walkPlain(item, seen);
    if (json === NOT_PLAIN) return NOT_PLAIN;
    if (walked !== undefined) annotate((inner ??= {}), key, walked);
    if (copy) copy[key] = json;
    else if (json !== item) {
      copy = {};
      for (let j = 0; j < i; j++) copy[keys[j]!] = record[keys[j]!];
      copy[key] = json;
    }
  }
  walked = inner ?? undefined;
  return copy ?? record;
}

/** Whether nothing is registered on superjson's default instance that could change how it writes plain values. */
function superjsonPlain(): boolean {
  const instance = (superjson as unknown as { defaultInstance?: { customTransformerRegistry?: { transfomers?: object }; classRegistry?: { kv?: { keyToValue?: Map<unknown, unknown> } } } }).defaultInstance;
  const custom = instance?.customTransformerRegistry?.transfomers;
  const classes = instance?.classRegistry?.kv?.keyToValue;
  return custom !== undefined && Object.keys(custom).length === 0 && classes instanceof Map && classes.size === 0;
}

/**
 * superjson.serialize(data) — `{ json }`, and `meta: { values, v: 1 }` when a value is annotated — when `data` is made of
 * the plain values walkPlain writes; null otherwise (then superjson itself must write it). Issue 16: superjson's walk
 * (a path array and identity map entry per value) cost ~0.05 ms per submit-and-take-the-next answer.
 */
export function plainSuperjson(data: unknown): { json: unknown; meta?: { values: Annotations; v: 1 } } | null {
  const json = walkPlain(data, new Set());
  if (json === NOT_PLAIN) return null;
  return walked === undefined ? { json } : { json, meta: { values: walked, v: 1 } };
}

type ResponseItem = { result: { data: unknown } } | { error: unknown };

/**
 * JSON.stringify(transformTRPCResponse(config, items)): a result's data written by plainSuperjson when the router's
 * transformer is superjson's default instance with nothing registered, every other item as tRPC writes it.
 */
function answerText(config: AnyRouter["_def"]["_config"], items: ResponseItem | ResponseItem[]): string {
  if (config.transformer.output !== superjson || !superjsonPlain()) return JSON.stringify(transformTRPCResponse(config, items as never));
  const one = (item: ResponseItem): unknown => {
    if ("result" in item) {
      const data = plainSuperjson(item.result.data);
      if (data) return { result: { data } };
    }
    return transformTRPCResponse(config, item as never);
  };
  return JSON.stringify(Array.isArray(items) ? items.map(one) : one(items));
}

type CallResult = [TRPCError, undefined] | [undefined, { data: unknown }];

/**
 * tRPC's answer to a JSON call (fetchRequestHandler's, see the module comment), or null when the
 * call is not one of the common shapes. `endpoint`: where tRPC is mounted ("/api/trpc");
 * `createContext`: the request's context, made once after the call is known to be answerable here
 * (its failure becomes every call's error, as in tRPC).
 */
export async function resolveTrpcJson<TContext>(options: {
  router: AnyRouter;
  endpoint: string;
  call: Pick<TrpcNodeCall, "method" | "url" | "body">;
  header: (name: string) => string | null;
  createContext: () => Promise<TContext>;
}): Promise<TrpcAnswer | null> {
  const { router, call, header } = options;
  const config = router._def._config;
  const method = call.method;
  // fetchRequestHandler's path: the URL's path after the endpoint, slashes trimmed; then decoded.
  const endpoint = trimSlashes(options.endpoint);
  let path: string;
  try {
    path = decodeURIComponent(trimSlashes(trimSlashes(call.url.pathname).slice(endpoint.length)));
  } catch {
    return null;
  }
  // The JSON content-type handler: application/json, or any GET without a form/octet content type.
  const contentType = header("content-type")?.toLowerCase().split(";", 1)[0]?.trim();
  if (contentType !== "application/json" && (method !== "GET" || contentType === "multipart/form-data" || contentType === "application/octet-stream")) return null;
  const searchParams = call.url.searchParams;
  if (searchParams.get("connectionParams") !== null) return null;
  const accept = header("trpc-accept") ?? (header("accept")?.split(",").some((part) => part.trim() === "application/jsonl") ? "application/jsonl" : null);
  if (accept === "application/jsonl") return null;
  const isBatchCall = searchParams.get("batch") === "1";
  const paths = isBatchCall ? path.split(",") : [path];
  let procedures: (AnyProcedure | null)[];
  let type: ProcedureType | "unknown";
  try {
    // tRPC fails the whole request when a lookup throws (e.g. a path naming no procedure but an object's own property).
    procedures = await Promise.all(paths.map((name) => getProcedureAtPath(router, name)));
    const types = new Set(procedures.flatMap((procedure) => (procedure ? [procedure._def.type] : [])));
    if (types.size > 1 || types.has("subscription") || [...types].some((kind) => !(kind in ACCEPTED_METHOD))) return null;
    type = types.values().next().value ?? "unknown";
  } catch {
    return null;
  }

  // The inputs, parsed once when the first procedure asks for its own (after its middleware ran).
  let inputs: Record<number, unknown> | undefined;
  let reading: Promise<Record<number, unknown>> | null = null;
  const parseInputs = async (): Promise<Record<number, unknown>> => {
    let raw: unknown;
    if (method === "GET") {
      const query = searchParams.get("input");
      if (query) raw = JSON.parse(query);
    } else raw = JSON.parse(UTF8.decode(call.body ?? new Uint8Array(0)));
    const parsed = Object.create(null) as Record<number, unknown>;
    if (raw === undefined) return parsed;
    if (!isBatchCall) {
      // Deliberately unlike tRPC's adapter: superjson reads a non-object (e.g. a JSON array) as no input at all, and
      // the client was told "expected object, received undefined" by the procedure's schema.
      if (!isObject(raw)) throw new TRPCError({ code: "BAD_REQUEST", message: TRPC_INPUT_NOT_OBJECT_MESSAGE[method] });
      parsed[0] = config.transformer.input.deserialize(raw);
      return parsed;
    }
    if (!isObject(raw)) throw new TRPCError({ code: "BAD_REQUEST", message: '"input" needs to be an object when doing a batch call' });
    for (const index of paths.keys()) {
      const input = (raw as Record<number, unknown>)[index];
      if (input !== undefined) parsed[index] = config.transformer.input.deserialize(input);
    }
    return parsed;
  };
  const readInputs = () =>
    (reading ??= parseInputs().then(
      (value) => (inputs = value),
      (cause: unknown) => {
        if (cause instanceof TRPCError) throw cause;
        throw new TRPCError({ code: "BAD_REQUEST", message: cause instanceof Error ? cause.message : "Invalid input", cause });
      },
    ));

  let ctx: TContext | undefined;
  let ctxError: TRPCError | undefined;
  try {
    ctx = await options.createContext();
  } catch (cause) {
    ctxError = getTRPCErrorFromUnknown(cause);
  }
  const shape = (error: TRPCError, index: number | null, errorType: ProcedureType | "unknown") =>
    getErrorShape({ config, ctx, error, input: index === null ? undefined : inputs?.[index], path: index === null ? undefined : paths[index], type: errorType });

  try {
    const calls = paths.map(async (name, index): Promise<CallResult> => {
      const procedure = procedures[index];
      try {
        if (!procedure) throw new TRPCError({ code: "NOT_FOUND", message: `No procedure found on path "${name}"` });
        if (ACCEPTED_METHOD[procedure._def.type] !== method) {
          throw new TRPCError({ code: "METHOD_NOT_SUPPORTED", message: `Unsupported ${method}-request to ${procedure._def.type} procedure at path "${name}"` });
        }
        if (ctxError) throw ctxError;
        const data: unknown = await procedure({
          path: name,
          getRawInput: async () => (await readInputs())[index],
          ctx,
          type: procedure._def.type,
          signal: undefined,
          batchIndex: index,
        });
        return [undefined, { data }];
      } catch (cause) {
        return [getTRPCErrorFromUnknown(cause), undefined];
      }
    });
    if (!isBatchCall) {
      const [error, result] = await calls[0]!;
      if (isDataStream(result?.data)) throw new TRPCError({ code: "UNSUPPORTED_MEDIA_TYPE", message: "Cannot use stream-like response in non-streaming request - use httpBatchStreamLink" });
      const item = error ? { error: shape(error, 0, type) } : { result: { data: result!.data } };
      return { status: getHTTPStatusCode([item]), headers: ANSWER_HEADERS, body: answerText(config, item) };
    }
    const results = (await Promise.all(calls)).map((entry): CallResult => {
      const [error, result] = entry;
      if (error) return entry;
      if (isDataStream(result!.data)) {
        return [new TRPCError({ code: "UNSUPPORTED_MEDIA_TYPE", message: "Cannot use stream-like response in non-streaming request - use httpBatchStreamLink" }), undefined];
      }
      return entry;
    });
    const items = results.map(([error, result], index) => (error ? { error: shape(error, index, procedures[index]?._def.type ?? "unknown") } : { result: { data: result!.data } }));
    return { status: getHTTPStatusCode(items), headers: ANSWER_HEADERS, body: answerText(config, items) };
  } catch (cause) {
    // resolveResponse's last resort: one error for the whole request (not per call).
    const item = { error: shape(getTRPCErrorFromUnknown(cause), null, type) };
    return { status: getHTTPStatusCode(item), headers: ANSWER_HEADERS, body: JSON.stringify(transformTRPCResponse(config, item)) };
  }
}

/**
 * The production server's tRPC answer for `router` at `endpoint`: the checks of
 * server/api/trpc-http.ts `handleTrpcRequest` first — a cross-site POST (http-guards
 * hasSameOrigin, TRUSTED_PROXY_HOPS from the environment), a batch over TRPC_MAX_BATCH, a body not
 * read in full under the cap — each answered `null`, so the Fetch path refuses it with its own
 * 403/400/413; then resolveTrpcJson with `createContext(header, headers)`.
 */
export function createTrpcAnswer<TContext>(options: {
  router: AnyRouter;
  endpoint: string;
  createContext: (header: (name: string) => string | null, headers: TrpcNodeCall["headers"]) => Promise<TContext>;
  /** Reverse proxies trusted for X-Forwarded-Host; default: the environment's TRUSTED_PROXY_HOPS, read per call as handleTrpcRequest does. */
  trustedProxyHops?: number;
}): TrpcAnswerFn {
  return async (call) => {
    const header = (name: string) => nodeHeader(call.headers, name);
    if (call.method === "POST" && !(options.trustedProxyHops === undefined ? hasSameOrigin(header) : hasSameOrigin(header, options.trustedProxyHops))) return null;
    if (trpcRequestRefusal(call.method, call.url.pathname, header("content-type"))) return null;
    if (batchLength(call.url, options.endpoint) > DEFAULT_TRPC_LIMITS.maxBatch) return null;
    if (call.method === "POST" && !(call.read?.complete && call.read.bytes <= DEFAULT_TRPC_LIMITS.maxBodyBytes)) return null;
    return resolveTrpcJson({ router: options.router, endpoint: options.endpoint, call, header, createContext: () => options.createContext(header, call.headers) });
  };
}
