/**
 * Image bytes for the case viewer and the case browser, through the project's front door ("images.read").
 *
 * Per request (issue 16, goal 1): ONE statement reads the image with its case and the caller's membership of
 * the case's project (server/db/queue-reads.ts imageForMember; the front door's checks run on that row:
 * project-access.ts admitToProject), ONE statement appends the read's audit event unless the same user read
 * the same image within the read-audit window (recordImageRead: read-audit.ts's rule in one statement), and
 * the bytes come from a small in-process cache keyed by the blob's storage key. Stored images are already
 * de-identified (at import, by every worker at start, and by the pass queued when a project stops keeping patient
 * identifiers: workers/jobs/deidentify-stored.ts), so nothing is rewritten per request — an image that pass has not
 * reached yet is refused, never served raw; a blob's key names its content (sha256: blob-store.ts contentKey), and a rewritten
 * image gets a new key, so a cached entry never outlives its content.
 */
import { imageForMember, recordImageRead } from "../db/queue-reads";
import type { Db } from "../db/client";
import { loadServerEnv } from "../env";
import { DomainError } from "../errors";
import { createLocalBlobStore, type BlobStore } from "../storage/blob-store";
import { clientDetails, createServiceContext, type Actor, type RequestClient } from "./context";
import { admitToProject, requireActor } from "./project-access";
import { READ_AUDIT_WINDOW_MINUTES } from "./read-audit";

let store: BlobStore | undefined;
function blobStore(): BlobStore {
  store ??= createLocalBlobStore(loadServerEnv().STORAGE_DIR);
  return store;
}

/** At most this many bytes of image files are kept in memory per web process (and per blob store). */
export const IMAGE_CACHE_BYTES = 32 * 1024 * 1024;
/** Files larger than this are read from the store every time. */
const IMAGE_CACHE_MAX_FILE = 4 * 1024 * 1024;

/** Least recently used first (a Map keeps insertion order; a hit moves the entry to the end). */
class ByteCache {
  private readonly entries = new Map<string, Buffer>();
  private size = 0;
  get(key: string): Buffer | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }
  set(key: string, bytes: Buffer): void {
    if (bytes.byteLength > IMAGE_CACHE_MAX_FILE || this.entries.has(key)) return;
    this.entries.set(key, bytes);
    this.size += bytes.byteLength;
    for (const [oldest, value] of this.entries) {
      if (this.size <= IMAGE_CACHE_BYTES) break;
      this.entries.delete(oldest);
      this.size -= value.byteLength;
    }
  }
}
const caches = new WeakMap<BlobStore, ByteCache>();

async function cachedBytes(blobs: BlobStore, key: string): Promise<Buffer> {
  let cache = caches.get(blobs);
  if (!cache) caches.set(blobs, (cache = new ByteCache()));
  const hit = cache.get(key);
  if (hit) return hit;
  const bytes = await blobs.get(key);
  cache.set(key, bytes);
  return bytes;
}

/** The refusal of an image the de-identification pass has not rewritten yet (409). */
export const IMAGE_AWAITING_DEIDENTIFY_MESSAGE = "This image is being de-identified; try again in a moment.";

/**
 * The image's bytes and type, or null when it does not exist, the actor is not a member of its
 * project, or their project role may not read images — one answer for all, so ids cannot be probed.
 * A served image is audited ("image.read", with `client` when given: address and User-Agent), once per
 * user and image per READ_AUDIT_WINDOW_MINUTES (read-audit.ts), before the bytes are served.
 * The returned Buffer may be shared with later calls (the cache): callers must not modify it.
 * @throws DomainError FORBIDDEN (MUST_CHANGE_PASSWORD_MESSAGE) for a caller who must still change their password;
 *   CONFLICT when the project's stored configuration does not parse (as the front door); CONFLICT
 *   (IMAGE_AWAITING_DEIDENTIFY_MESSAGE) for a member reading a DICOM image not yet de-identified in a project that does
 *   not keep patient identifiers (decided in the statement that reads the image; nothing is served or audited)
 */
export async function readImageForMember(db: Db, actor: Actor, imageId: string, blobs: BlobStore = blobStore(), client?: RequestClient) {
  const ctx = createServiceContext(db, actor, client);
  // A caller who must still change their password is refused outright (FORBIDDEN), not answered "missing".
  requireActor(ctx);
  const image = await imageForMember(db, imageId, actor.id);
  if (!image) return null;
  try {
    admitToProject(ctx, image.membership, "images.read");
  } catch (error) {
    if (error instanceof DomainError && (error.kind === "NOT_FOUND" || error.kind === "FORBIDDEN")) return null;
    throw error;
  }
  // Not yet rewritten since the project stopped keeping identifiers: its stored file may still hold them.
  if (image.awaitingDeidentify) throw new DomainError("CONFLICT", IMAGE_AWAITING_DEIDENTIFY_MESSAGE);
  const now = new Date();
  const written = await recordImageRead(db, {
    at: now,
    since: new Date(now.getTime() - READ_AUDIT_WINDOW_MINUTES * 60_000),
    actorId: actor.id,
    actorRole: actor.role,
    targetId: imageId,
    projectId: image.projectId,
    details: { caseId: image.caseId, ...clientDetails(ctx) },
  });
  if (written) ctx.audit.count += 1;
  return { bytes: await cachedBytes(blobs, image.storageKey), mimeType: image.mimeType, sha256: image.sha256 };
}
