import { ZExportQuery } from "@/contracts/imports";
import { requestClient } from "@/server/auth/client-address";
import { currentUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { loadServerEnv } from "@/server/env";
import { isSameOrigin, jsonError, routeActor, routeFailure } from "@/server/http-guards";
import { createServiceContext } from "@/server/services/context";
import { exportLabels } from "@/server/services/export-service";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * Label export download: POST ?format=jsonl|csv&history=1 (the projects page posts a form). POST
 * and same-origin only: an export is an audited read of patient data, so another site must not be
 * able to trigger one with our cookie (issue 12, fault 12). Members whose project role grants
 * "labels.export" (the service's front door, requireProject, which also refuses a user who must
 * still change their password); audited per export with the client
 * address and User-Agent. Never cached.
 */
export async function POST(request: Request, context: { params: Promise<{ projectId: string }> }) {
  if (!isSameOrigin(request)) return jsonError(403, "Cross-site request refused.");
  try {
    const user = await currentUser();
    if (!user) return jsonError(401, "Sign in first.");
    const { projectId } = await context.params;
    const url = new URL(request.url);
    const query = ZExportQuery.safeParse({ format: url.searchParams.get("format") ?? undefined, history: url.searchParams.get("history") ?? undefined });
    if (!query.success) return jsonError(400, "format must be jsonl or csv, history 0 or 1.");
    const env = loadServerEnv();
    const ctx = createServiceContext(getDb(), routeActor(user), requestClient(request.headers, env.TRUSTED_PROXY_HOPS));
    const result = await exportLabels(ctx, { projectId, ...query.data });
    return new Response(result.body, {
      headers: {
        "Content-Type": result.contentType,
        "Content-Disposition": `attachment; filename="${result.filename}"`,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      },
    });
  } catch (error) {
    return routeFailure(error, "export");
  }
}
