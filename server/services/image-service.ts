/** Image bytes for the case viewer and the case browser, through the project's front door ("images.read"). */
import { findImageForMember } from "../db/annotations-repo";
import type { Db } from "../db/client";
import { loadServerEnv } from "../env";
import { DomainError } from "../errors";
import { createLocalBlobStore, type BlobStore } from "../storage/blob-store";
import { createServiceContext, type Actor, type RequestClient } from "./context";
import { requireActor, requireProject } from "./project-access";
import { recordRead } from "./read-audit";

let store: BlobStore | undefined;
function blobStore(): BlobStore {
  store ??= createLocalBlobStore(loadServerEnv().STORAGE_DIR);
  return store;
}

/**
 * The image's bytes and type, or null when it does not exist, the actor is not a member of its
 * project, or their project role may not read images — one answer for all, so ids cannot be probed.
 * A served image is audited ("image.read", with `client` when given: address and User-Agent).
 * @throws DomainError FORBIDDEN (MUST_CHANGE_PASSWORD_MESSAGE) for a caller who must still change their password
 */
export async function readImageForMember(db: Db, actor: Actor, imageId: string, blobs: BlobStore = blobStore(), client?: RequestClient) {
  const ctx = createServiceContext(db, actor, client);
  // A caller who must still change their password is refused outright (FORBIDDEN), not answered "missing".
  requireActor(ctx);
  const image = await findImageForMember(db, imageId, actor.id);
  if (!image) return null;
  try {
    await requireProject(ctx, image.projectId, "images.read");
  } catch (error) {
    if (error instanceof DomainError && (error.kind === "NOT_FOUND" || error.kind === "FORBIDDEN")) return null;
    throw error;
  }
  // Audited once per user and image per window (issue 12, fault 7), before the bytes are served.
  await recordRead(ctx, { action: "image.read", targetType: "CaseImage", targetId: imageId, projectId: image.projectId, details: { caseId: image.caseId } });
  return { bytes: await blobs.get(image.storageKey), mimeType: image.mimeType, sha256: image.sha256 };
}
