/**
 * The set-up the import integration tests share: a data scientist who imports, a blob store in a
 * fresh temporary folder, and `run` — an upload import (importCases) into a project as that
 * scientist. `useImportFixture` registers the vitest hooks that make and remove them.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { createServiceContext, type Actor } from "../services/context";
import { importCases, type ImportResult } from "../services/import-service";
import { createLocalBlobStore, type BlobStore } from "../storage/blob-store";
import { createTestUser, testDb } from "./fixtures";

/** An uploaded file: its name and bytes. */
export interface UploadFile {
  name: string;
  bytes: Uint8Array;
}

export interface ImportFixture {
  /** The DATA_SCIENTIST who imports (read it in a test or a later hook: it is made in beforeAll). */
  readonly scientist: Actor;
  /** The blob store's root folder (made in beforeAll, removed in afterAll). */
  readonly storageDir: string;
  /** A blob store on that folder. */
  blobs(): BlobStore;
  /** importCases as the scientist, `via: "upload"`, into the fixture's blob store; `mapping` defaults to {}. */
  run(projectId: string, files: UploadFile[], mapping?: Record<string, unknown>): Promise<ImportResult>;
}

/**
 * Registers beforeAll (a temporary folder named `<prefix>-…`, a new DATA_SCIENTIST) and afterAll
 * (the folder removed, the test database client disconnected) in the calling test file.
 */
export function useImportFixture(prefix: string): ImportFixture {
  let scientist: Actor | undefined;
  let storageDir: string | undefined;
  beforeAll(async () => {
    storageDir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    scientist = await createTestUser("DATA_SCIENTIST");
  });
  afterAll(async () => {
    if (storageDir) fs.rmSync(storageDir, { recursive: true, force: true });
    await testDb().$disconnect();
  });
  const made = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the import fixture's ${what} is made in beforeAll: read it inside a test or a hook`);
    return value;
  };
  const fixture: ImportFixture = {
    get scientist() {
      return made(scientist, "scientist");
    },
    get storageDir() {
      return made(storageDir, "storage folder");
    },
    blobs: () => createLocalBlobStore(fixture.storageDir),
    run: (projectId, files, mapping = {}) =>
      importCases(createServiceContext(testDb(), fixture.scientist), { projectId, files, mapping, via: "upload" }, { blobs: fixture.blobs() }),
  };
  return fixture;
}
