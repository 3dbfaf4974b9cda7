import { handleImageRequest, type ImageRouteContext } from "@/server/api/image-http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

// Image bytes for the case viewer and the case browser (server/api/image-http.ts: session check, the
// must-change-password refusal, membership, read audit, 404 for anything not readable, no-store). Under
// `npm start -- --dev` Next.js routes requests here; the production server (scripts/web-server.mjs,
// server/web/server.ts) calls this compiled handler itself, outside Next's request pipeline.
export function GET(request: Request, context: ImageRouteContext): Promise<Response> {
  return handleImageRequest(request, context);
}
