/** Image bytes for the case viewer and the case browser, through the project's front door ("images.read"). */
import { findImageForMember } from "../db/annotations-repo";
import type { Db } from "../db/client";
import { loadServerEnv } from "../env";
import { DomainError } from "../errors";
import { createLocalBlobStore, type BlobStore } from "../storage/blob-store";
import { createServiceContext, type Actor } from "./context";
import { requireProject } from "./project-access";

let store: BlobStore | undefined;
function blobStore(): BlobStore {
  store ??= createLocalBlobStore(loadServerEnv().STORAGE_DIR);
  return store;
}

/**
 * The image's bytes and type, or null when it does not exist, the actor is not a member of its
 * project, or their project role may not read images — one answer for all, so ids cannot be probed.
 */
export async function readImageForMember(db: Db, actor: Actor, imageId: string, blobs: BlobStore = blobStore()) {
  const image = await findImageForMember(db, imageId, actor.id);
  if (!image) return null;
  try {
    await requireProject(createServiceContext(db, actor), image.projectId, "images.read");
  } catch (error) {
    if (error instanceof DomainError && (error.kind === "NOT_FOUND" || error.kind === "FORBIDDEN")) return null;
    throw error;
  }
  return { bytes: await blobs.get(image.storageKey), mimeType: image.mimeType, sha256: image.sha256 };
}
