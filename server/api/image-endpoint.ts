/**
 * Where image bytes are served (`/api/images/<imageId>`), in a module of its own without dependencies:
 * the production server (server/web/server.ts) decides with it which requests it answers itself
 * without loading the API's code a second time; the handler (server/api/image-http.ts) checks ids with
 * the same pattern.
 */
export const IMAGES_PATH = "/api/images/";

/** What an image id looks like (CaseImage ids are cuids); anything else is answered 404 without a database read. */
export const IMAGE_ID = /^[a-z0-9]{1,64}$/i;

/**
 * The image id of a request path the production server answers itself ("/api/images/abc123" → "abc123"),
 * or null for any other path — including an id with anything but letters and digits (percent-encoded,
 * a trailing slash, a sub-path), which stays with Next.js and gets Next's own answer.
 */
export function imageIdOfPath(pathname: string): string | null {
  if (!pathname.startsWith(IMAGES_PATH)) return null;
  const id = pathname.slice(IMAGES_PATH.length);
  return IMAGE_ID.test(id) ? id : null;
}
