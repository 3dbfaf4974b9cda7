import fs from "node:fs";
import { ZColumnMapping, ZDuplicateImagesChoice } from "@/contracts/imports";
import { currentUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { loadServerEnv } from "@/server/env";
import { domainErrorResponse, isSameOrigin, jsonError, routeActor, routeFailure } from "@/server/http-guards";
import { BadUpload, receiveMultipart, UploadCutOff, UploadTooLarge } from "@/server/import/multipart";
import { createServiceContext } from "@/server/services/context";
import { requestRetrainCheck } from "@/server/services/enqueue-job";
import { assertCanImport, importCases } from "@/server/services/import-service";
import { createLocalBlobStore } from "@/server/storage/blob-store";
import { makeUploadDir, sweepAbandonedUploads } from "@/server/storage/upload-temp";
import { UPLOAD_BUSY_MESSAGE, uploadGate } from "@/server/import/upload-gate";
import { uploadResponseHeaders } from "@/proxy";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * Upload for the import page: multipart/form-data with `files` (one or more), `mapping` (JSON) and
 * optionally `duplicateImages` (ask | skip | import: images already in the project).
 * Authenticated, same-origin only, membership and project role ("cases.import") checked by the
 * front door BEFORE the body is read (it also refuses a user who must still change their password); the body
 * is streamed to a private temporary folder under a size cap, then handed to the import service
 * (all-or-nothing). Answers the service's result as JSON; the temporary folder is always removed.
 * The proxy does not see this route (proxy.ts UPLOAD_ROUTES: it would cut the body at 10 MB), so the
 * answer carries HSTS from here; next.config.ts adds the other security headers.
 */
export async function POST(request: Request, context: { params: Promise<{ projectId: string }> }) {
  let response: Response;
  try {
    response = await receiveUpload(request, context);
  } catch (error) {
    // Never the error's own text (it may hold database details): a generic 500 with an error id.
    response = routeFailure(error, "import");
  }
  for (const [name, value] of Object.entries(uploadResponseHeaders(request))) response.headers.set(name, value);
  return response;
}

/** The answer to a body that arrived shorter than declared: too large for something in front of the route. */
function cutOffResponse(cut: UploadCutOff, limitMb: number): Response {
  const mb = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);
  return jsonError(
    413,
    `The upload is too large for a size limit in front of the import: it was cut off after ${mb(cut.receivedBytes)} MB of its ${mb(cut.declaredBytes)} MB ` +
      `(the import itself takes up to ${limitMb} MB; a reverse proxy's request body limit, e.g. nginx client_max_body_size, must allow as much).`,
  );
}

async function receiveUpload(request: Request, context: { params: Promise<{ projectId: string }> }): Promise<Response> {
  if (!isSameOrigin(request)) return jsonError(403, "Cross-site request refused.");
  const user = await currentUser();
  if (!user) return jsonError(401, "Sign in first.");
  const { projectId } = await context.params;
  const env = loadServerEnv();
  const maxBytes = env.IMPORT_MAX_UPLOAD_MB * 1024 * 1024;
  const ctx = createServiceContext(getDb(), routeActor(user));
  try {
    await assertCanImport(ctx, projectId);
  } catch (error) {
    return domainErrorResponse(error);
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) return jsonError(413, `The upload is larger than ${env.IMPORT_MAX_UPLOAD_MB} MB.`);
  if (!request.body) return jsonError(400, "The upload is empty.");
  const release = await uploadGate().enter();
  if (!release) return jsonError(429, UPLOAD_BUSY_MESSAGE);
  try {
    return await receiveAndImport(request.body, request.headers.get("content-type"), ctx, projectId, env, maxBytes, declared > 0 ? declared : undefined);
  } finally {
    release();
  }
}

async function receiveAndImport(
  body: ReadableStream<Uint8Array>,
  contentType: string | null,
  ctx: ReturnType<typeof createServiceContext>,
  projectId: string,
  env: ReturnType<typeof loadServerEnv>,
  maxBytes: number,
  declaredBytes: number | undefined,
): Promise<Response> {
  // Folders of a web process killed mid-upload would keep their files forever: remove them first.
  await sweepAbandonedUploads().catch(() => undefined);
  const dir = await makeUploadDir();
  try {
    let upload;
    try {
      upload = await receiveMultipart(body, contentType, dir, maxBytes, declaredBytes);
    } catch (error) {
      if (error instanceof UploadTooLarge) return jsonError(413, `The upload is larger than ${env.IMPORT_MAX_UPLOAD_MB} MB.`);
      if (error instanceof UploadCutOff) return cutOffResponse(error, env.IMPORT_MAX_UPLOAD_MB);
      if (error instanceof BadUpload) return jsonError(400, `The upload could not be read: ${error.message}.`);
      throw error;
    }
    if (upload.files.length === 0) return jsonError(400, "Choose at least one file.");
    let mappingRaw: unknown = {};
    try {
      mappingRaw = JSON.parse(upload.fields.get("mapping") ?? "{}");
    } catch {
      return jsonError(400, "The column mapping is not valid JSON.");
    }
    const mapping = ZColumnMapping.safeParse(mappingRaw);
    if (!mapping.success) return jsonError(400, `The column mapping is invalid: ${mapping.error.issues.map((i) => i.message).join("; ")}.`);
    const duplicateImages = ZDuplicateImagesChoice.safeParse(upload.fields.get("duplicateImages") ?? undefined);
    if (!duplicateImages.success) return jsonError(400, "duplicateImages must be ask, skip or import.");
    const files = await Promise.all(upload.files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await fs.promises.readFile(f.path)) })));
    try {
      const result = await importCases(
        ctx,
        { projectId, files, mapping: mapping.data, via: "upload", duplicateImages: duplicateImages.data },
        { blobs: createLocalBlobStore(env.STORAGE_DIR), zipLimits: { maxTotalBytes: 2 * maxBytes, maxRatio: 200, maxEntries: 50_000 } },
      );
      // New pool cases: ask the worker to look at the project now (its first, cold-start round, or a
      // retrain) instead of on its next minute-long schedule; the page then shows the round at once.
      if (result.status === "imported") void requestRetrainCheck(projectId);
      return Response.json(result, { headers: { "Cache-Control": "no-store" } });
    } catch (error) {
      return domainErrorResponse(error);
    }
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}
