/**
 * Where the browser may go after sign-in (issue 12, fault 3). A callbackUrl is resolved exactly as
 * a browser resolves it (WHATWG URL: backslashes become slashes, tabs and newlines are dropped,
 * dot segments collapse) against our own origin, and only a result on that origin is kept; the
 * answer is always an absolute URL on our origin, so "//host" tricks in the path cannot turn it into
 * a scheme-relative link. Anything else — other hosts, javascript:, data:, garbage — gives "/".
 */
const MAX_CALLBACK_LENGTH = 2048;

/** `raw` made safe against `baseUrl` (our origin, e.g. NEXTAUTH_URL): an absolute URL on that origin. */
export function safeCallbackUrl(raw: unknown, baseUrl: string): string {
  const base = new URL(baseUrl);
  const home = `${base.origin}/`;
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_CALLBACK_LENGTH) return home;
  let resolved: URL;
  try {
    resolved = new URL(raw, home);
  } catch {
    return home;
  }
  if (resolved.origin !== base.origin || (resolved.protocol !== "http:" && resolved.protocol !== "https:")) return home;
  if (resolved.username || resolved.password) return home;
  // A path that starts with "//" is harmless on an absolute URL, but collapse it anyway.
  const pathname = resolved.pathname.replace(/^\/{2,}/, "/");
  return `${base.origin}${pathname}${resolved.search}${resolved.hash}`;
}

/** The same decision as a path on our origin ("/…", never "//…"), for a page that navigates in the browser. */
export function safeCallbackPath(raw: unknown, baseUrl: string): string {
  const url = new URL(safeCallbackUrl(raw, baseUrl));
  return `${url.pathname}${url.search}${url.hash}`;
}
