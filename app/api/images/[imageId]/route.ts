import { requestClient } from "@/server/auth/client-address";
import { currentUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { loadServerEnv } from "@/server/env";
import { routeActor, routeFailure } from "@/server/http-guards";
import { readImageForMember } from "@/server/services/image-service";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Clinical images never stay in a browser or shared cache (gone with the session after sign-out). */
const NO_STORE = { "Cache-Control": "no-store" };

/**
 * Image bytes for the case viewer. Only members of the case's project get them (the front door,
 * "images.read"); anyone else gets
 * the same 404 as for a missing image, so ids cannot be probed. Headers carry no identifiers (no
 * file name, no patient data): the type and the length. Every fetch is audited ("image.read", once
 * per user and image per window, with the client address and User-Agent); a user who must still
 * change their password gets 403 from the front door (requireActor) whether or not the image exists.
 */
export async function GET(request: Request, context: { params: Promise<{ imageId: string }> }) {
  try {
    const user = await currentUser();
    if (!user) return new Response("Sign in first.", { status: 401, headers: NO_STORE });
    const { imageId } = await context.params;
    if (!/^[a-z0-9]{1,64}$/i.test(imageId)) return new Response("Not found.", { status: 404, headers: NO_STORE });
    const client = requestClient(request.headers, loadServerEnv().TRUSTED_PROXY_HOPS);
    const image = await readImageForMember(getDb(), routeActor(user), imageId, undefined, client);
    if (!image) return new Response("Not found.", { status: 404, headers: NO_STORE });
    return new Response(new Uint8Array(image.bytes), {
      status: 200,
      headers: { "Content-Type": image.mimeType, "Content-Length": String(image.bytes.byteLength), ...NO_STORE, Vary: "Cookie" },
    });
  } catch (error) {
    return routeFailure(error, "images");
  }
}
