import { ZExportQuery } from "@/contracts/imports";
import { currentUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { domainErrorResponse, jsonError } from "@/server/http-guards";
import { createServiceContext } from "@/server/services/context";
import { exportLabels } from "@/server/services/export-service";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * Label export download: GET ?format=jsonl|csv&history=1. Members whose project role grants
 * "labels.export" (the service's front door, requireProject); audited per export. Never cached.
 */
export async function GET(request: Request, context: { params: Promise<{ projectId: string }> }) {
  const user = await currentUser();
  if (!user) return jsonError(401, "Sign in first.");
  const { projectId } = await context.params;
  const url = new URL(request.url);
  const query = ZExportQuery.safeParse({ format: url.searchParams.get("format") ?? undefined, history: url.searchParams.get("history") ?? undefined });
  if (!query.success) return jsonError(400, "format must be jsonl or csv, history 0 or 1.");
  try {
    const result = await exportLabels(createServiceContext(getDb(), { id: user.id, role: user.role, name: user.name, email: user.email }), { projectId, ...query.data });
    return new Response(result.body, {
      headers: {
        "Content-Type": result.contentType,
        "Content-Disposition": `attachment; filename="${result.filename}"`,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      },
    });
  } catch (error) {
    return domainErrorResponse(error);
  }
}
