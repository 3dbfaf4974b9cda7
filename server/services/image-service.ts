/** Image bytes for the case viewer, only for members of the case's project. */
import { findImageForMember } from "../db/annotations-repo";
import type { Db } from "../db/client";
import { loadServerEnv } from "../env";
import { createLocalBlobStore, type BlobStore } from "../storage/blob-store";
import type { Actor } from "./context";

let store: BlobStore | undefined;
function blobStore(): BlobStore {
  store ??= createLocalBlobStore(loadServerEnv().STORAGE_DIR);
  return store;
}

/** The image's bytes and type, or null when it does not exist or the actor is not a member (the same answer). */
export async function readImageForMember(db: Db, actor: Actor, imageId: string, blobs: BlobStore = blobStore()) {
  const image = await findImageForMember(db, imageId, actor.id);
  if (!image) return null;
  return { bytes: await blobs.get(image.storageKey), mimeType: image.mimeType, sha256: image.sha256 };
}
