/**
 * The production web server's front door for a request whose path does not percent-decode (`/%`,
 * `/projects/%E0%A4%A`, `/api/trpc/annotations.%ZZcase`): server/web/server.ts answers it here before
 * tRPC, the image route or Next.js see it. Before, tRPC's limit check threw on it (a 500 with an error id
 * and an error-level log line) and Next answered every other route with a bare 500 "Internal Server
 * Error" without the security headers. Now: 400 with a short message — JSON (`{ error: { message } }`,
 * as the API's other refusals) under `/api/`, a small HTML page elsewhere — with the security headers of
 * every other answer (next.config.ts SECURITY_HEADERS, HSTS over https), and one warn-level log line
 * that names the method and whether it was the API, never the path (it may carry identifiers).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { logger } from "@/server/log";
import { percentDecodes, TRPC_MALFORMED_PATH_MESSAGE } from "@/server/api/trpc-resolve";
import { nodeSecurityHeaderList } from "./trpc-node";

/** What an API client reads. */
export const MALFORMED_PATH_MESSAGE = TRPC_MALFORMED_PATH_MESSAGE;

/** What a browser shows (no script, no external resource: the security headers' CSP allows it as it is). */
const MALFORMED_PATH_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bad address</title></head>' +
  "<body><h1>Bad address</h1><p>This address is not valid: a % in it must be followed by two hexadecimal digits.</p>" +
  '<p><a href="/">Go to the start page</a></p></body></html>';

/** Whether the request declared a body (Content-Length above 0, or Transfer-Encoding): left unread, it must not stay on the connection. */
function declaresBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * Answers `req` with 400 when `pathname` (its path without the query) does not percent-decode.
 * @returns true when it answered (the caller must not hand the request on)
 */
export function refusedForMalformedPath(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  if (percentDecodes(pathname)) return false;
  const api = pathname === "/api" || pathname.startsWith("/api/");
  logger.warn("request refused: its path is not valid percent-encoding", { method: req.method ?? null, api });
  const body = api ? JSON.stringify({ error: { message: MALFORMED_PATH_MESSAGE } }) : MALFORMED_PATH_PAGE;
  const headers = [
    ...nodeSecurityHeaderList(req),
    "Content-Type",
    api ? "application/json" : "text/html; charset=utf-8",
    "Cache-Control",
    "no-store",
    "Content-Length",
    String(Buffer.byteLength(body)),
  ];
  if (declaresBody(req)) headers.push("Connection", "close");
  res.writeHead(400, headers).end(req.method === "HEAD" ? undefined : body);
  return true;
}
