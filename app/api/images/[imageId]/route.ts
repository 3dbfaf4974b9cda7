import { currentUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { readImageForMember } from "@/server/services/image-service";

/**
 * Image bytes for the case viewer. Only members of the case's project get them (the front door,
 * "images.read"); anyone else gets
 * the same 404 as for a missing image, so ids cannot be probed. Headers carry no identifiers (no
 * file name, no patient data): the type, the length and a content hash for revalidation.
 */
export async function GET(request: Request, context: { params: Promise<{ imageId: string }> }) {
  const user = await currentUser();
  if (!user) return new Response("Sign in first.", { status: 401, headers: { "Cache-Control": "no-store" } });
  const { imageId } = await context.params;
  if (!/^[a-z0-9]{1,64}$/i.test(imageId)) return new Response("Not found.", { status: 404 });
  const image = await readImageForMember(getDb(), user, imageId);
  if (!image) return new Response("Not found.", { status: 404, headers: { "Cache-Control": "no-store" } });
  const etag = `"${image.sha256}"`;
  const headers = {
    "Content-Type": image.mimeType,
    // Private: a shared cache must never hold clinical images; the browser may reuse them for an hour.
    "Cache-Control": "private, max-age=3600",
    ETag: etag,
    Vary: "Cookie",
  };
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  return new Response(new Uint8Array(image.bytes), { status: 200, headers: { ...headers, "Content-Length": String(image.bytes.byteLength) } });
}
