/**
 * Next.js Proxy (the file convention that replaced middleware in Next 16): runs before every page
 * and API route (issue 12, fault 12).
 *  - A fresh nonce per request: the page's Content-Security-Policy allows scripts from our origin
 *    and inline scripts carrying that nonce only — no 'unsafe-inline', no 'unsafe-eval' (the
 *    development server alone, whose React needs eval, adds 'unsafe-eval'). Next.js reads the
 *    nonce from the request's CSP header and stamps it on its own scripts; every page renders
 *    dynamically (app/layout.tsx), so no prerendered page carries a stale nonce.
 *  - Strict-Transport-Security when the platform is served over https: NEXTAUTH_URL is an https
 *    address, or a declared reverse proxy (TRUSTED_PROXY_HOPS > 0) says the request came over https.
 * The other directives come from next.config.ts (CSP_DIRECTIVES), which also sends the static
 * policy on the responses this proxy does not see (built assets, uploads).
 *
 * Upload routes are left out of the matcher (UPLOAD_ROUTES): Next.js buffers the body of every request
 * its proxy sees, in memory, and passes on only the first 10 MB (proxyClientMaxBodySize) — an import
 * over 10 MB reached the route cut off and was refused as a corrupt upload. Raising that limit to
 * IMPORT_MAX_UPLOAD_MB would hold up to 512 MB per upload in memory before the route streams it to
 * disk; and an upload answer is JSON, for which the nonce does nothing (the static CSP and the other
 * security headers still come from next.config.ts). The route sends HSTS itself (uploadResponseHeaders).
 */
import { NextResponse, type NextRequest } from "next/server";
import { CSP_DIRECTIVES } from "./next.config";

/** One year, subdomains included: what a hospital deployment behind TLS should pin. */
export const HSTS_VALUE = "max-age=31536000; includeSubDomains";

/** 16 random bytes, base64: a nonce an attacker cannot guess. */
function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

/** The policy for one page: CSP_DIRECTIVES with the nonce added to script-src. */
export function pageContentSecurityPolicy(nonce: string, development: boolean): string {
  return CSP_DIRECTIVES.map((directive) => {
    if (!directive.startsWith("script-src ")) return directive;
    const sources = directive.slice("script-src ".length).split(/\s+/).filter((s) => s !== "'unsafe-inline'" && s !== "'unsafe-eval'");
    return ["script-src", `'nonce-${nonce}'`, ...sources, ...(development ? ["'unsafe-eval'"] : [])].join(" ");
  }).join("; ");
}

/** Whether this request reached us over https (see the module comment). */
export function servedOverHttps(request: Request, env: Record<string, string | undefined> = process.env): boolean {
  if (env.NEXTAUTH_URL?.startsWith("https://")) return true;
  const hops = Number(env.TRUSTED_PROXY_HOPS ?? "0");
  if (!(hops > 0)) return false;
  return request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase() === "https";
}

export function proxy(request: NextRequest) {
  const nonce = newNonce();
  const policy = pageContentSecurityPolicy(nonce, process.env.NODE_ENV === "development");
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("content-security-policy", policy);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("content-security-policy", policy);
  if (servedOverHttps(request)) response.headers.set("strict-transport-security", HSTS_VALUE);
  return response;
}

/**
 * Routes that take a request body larger than the proxy passes on (10 MB): the import upload
 * (app/api/projects/[projectId]/import/route.ts), `multipart/form-data` or a zip up to
 * IMPORT_MAX_UPLOAD_MB. Path patterns inside the matcher's negative lookahead (anchored at the path's
 * start after its "/"); a literal in `config` below, as Next.js reads it from the source at build time.
 */
export const UPLOAD_ROUTES = ["api/projects/[^/]+/import(?:/|$)"] as const;

/** The HSTS header an upload route's answer carries (the proxy, which sends it elsewhere, does not see it). */
export function uploadResponseHeaders(request: Request, env: Record<string, string | undefined> = process.env): Record<string, string> {
  return servedOverHttps(request, env) ? { "Strict-Transport-Security": HSTS_VALUE } : {};
}

export const config = {
  // Everything but built assets, upload routes (UPLOAD_ROUTES) and prefetches (a prefetch renders
  // nothing a nonce could protect).
  matcher: [
    {
      source: "/((?!_next/static|_next/image|favicon.ico|api/projects/[^/]+/import(?:/|$)).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
