/**
 * The select job's vectors, kept in the worker process between rounds (issue 17 goal 4: at 100,000
 * cases reading the pool's vectors from PostgreSQL is the largest part of a round after the ML).
 *
 * An Embedding row is written once per (case, encoder version) and never changed: the version names
 * the encoder and its fitted state (models/encoders/encoder-version.ts), and a refit writes a new
 * version. So a vector read once can be served again from memory for as long as the process lives;
 * only the cases not seen before are read (loop-data `embeddedRows`). Cases without a vector are not
 * remembered (they may be embedded later) and are asked for again each time.
 *
 * Size: at most `SELECT_VECTOR_CACHE_MB` megabytes of vectors (env, default 256 — 100,000 × 384-d
 * float32 is 154 MB; 0 turns the cache off), whole encoder versions dropped oldest-used first; a
 * version that would not fit stops growing (its further vectors are read every time).
 */
import type { Db } from "@/server/db/client";
import type { Matrix } from "@/workers/ml/types";
import { embeddedRows } from "./loop-data";

/** Reads the vectors of `caseIds` (one version): which have one (present[i] = 1) and those, in order, as one matrix. */
export type VectorReader = (caseIds: readonly string[]) => Promise<{ present: Uint8Array; x: Matrix }>;

interface VersionRows {
  dim: number;
  rows: Map<string, Float32Array>;
}

/** A process-wide store of vectors by encoder version and case (file comment). */
export class VectorCache {
  private readonly versions = new Map<string, VersionRows>();
  private floats = 0;

  /** @param maxFloats the most float32 values kept across versions (0: keep none). */
  constructor(private readonly maxFloats: number) {}

  /** Vectors kept now (all versions). */
  get size(): number {
    let n = 0;
    for (const v of this.versions.values()) n += v.rows.size;
    return n;
  }

  /**
   * What `read(caseIds)` returns — present flags and the present rows' vectors in `caseIds` order —
   * reading through `read` only the cases of `caseIds` not kept for `encoderVersion`.
   * @throws Error when the reader's width differs from the kept vectors' width of the same version.
   */
  async rows(caseIds: readonly string[], encoderVersion: string, read: VectorReader): Promise<{ present: Uint8Array; x: Matrix }> {
    if (this.maxFloats <= 0) return read(caseIds);
    let entry = this.versions.get(encoderVersion);
    if (entry) {
      // Most recently used last: eviction takes the first.
      this.versions.delete(encoderVersion);
      this.versions.set(encoderVersion, entry);
    }
    const missing = entry ? caseIds.filter((id) => !entry!.rows.has(id)) : [...caseIds];
    const fresh = new Map<string, Float32Array>();
    let dim = entry?.dim ?? 0;
    if (missing.length > 0) {
      const got = await read(missing);
      if (got.x.rows > 0) {
        if (entry && got.x.cols !== entry.dim) throw new Error(`Vectors of ${encoderVersion} read with width ${got.x.cols}, kept with width ${entry.dim}`);
        dim = got.x.cols;
      }
      let row = 0;
      missing.forEach((id, i) => {
        if (got.present[i] !== 1) return;
        fresh.set(id, got.x.data.subarray(row * dim, (row + 1) * dim));
        row++;
      });
      if (fresh.size > 0) this.keep(encoderVersion, dim, fresh);
      entry = this.versions.get(encoderVersion);
    }
    const present = new Uint8Array(caseIds.length);
    const found: Float32Array[] = [];
    caseIds.forEach((id, i) => {
      const v = entry?.rows.get(id) ?? fresh.get(id);
      if (v) {
        present[i] = 1;
        found.push(v);
      }
    });
    const data = new Float32Array(found.length * dim);
    found.forEach((v, i) => data.set(v, i * dim));
    return { present, x: { data, rows: found.length, cols: dim } };
  }

  private keep(encoderVersion: string, dim: number, fresh: Map<string, Float32Array>): void {
    let entry = this.versions.get(encoderVersion);
    const need = fresh.size * dim;
    // Older versions make room first; the version in use is never dropped for its own growth.
    for (const [version, other] of this.versions) {
      if (this.floats + need <= this.maxFloats) break;
      if (version === encoderVersion) continue;
      this.floats -= other.rows.size * other.dim;
      this.versions.delete(version);
    }
    if (this.floats + need > this.maxFloats) return;
    if (!entry) {
      entry = { dim, rows: new Map() };
      this.versions.set(encoderVersion, entry);
    }
    for (const [id, v] of fresh) entry.rows.set(id, v);
    this.floats += need;
  }

  /** Forgets every vector (tests). */
  clear(): void {
    this.versions.clear();
    this.floats = 0;
  }
}

/** SELECT_VECTOR_CACHE_MB as float32 values. @throws Error naming the variable when it is not a number ≥ 0. */
export function vectorCacheFloats(): number {
  const raw = process.env.SELECT_VECTOR_CACHE_MB?.trim();
  if (!raw) return (256 * 1024 * 1024) / 4;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`SELECT_VECTOR_CACHE_MB must be a number of megabytes ≥ 0 (got "${raw}")`);
  return Math.floor((mb * 1024 * 1024) / 4);
}

let shared: VectorCache | null = null;

/** The process's cache (sized from SELECT_VECTOR_CACHE_MB when first used). */
export function selectVectorCache(): VectorCache {
  shared ??= new VectorCache(vectorCacheFloats());
  return shared;
}

/** loop-data `embeddedRows` through the process's cache: the same result, reading only vectors not read before. */
export function cachedEmbeddedRows(db: Db, caseIds: readonly string[], encoderVersion: string): Promise<{ present: Uint8Array; x: Matrix }> {
  // SELECT_VECTOR_CACHE_MB=0 reads everything from PostgreSQL, also when set after the cache was sized (benchmarks compare both).
  if (vectorCacheFloats() === 0) return embeddedRows(db, caseIds, encoderVersion);
  return selectVectorCache().rows(caseIds, encoderVersion, (ids) => embeddedRows(db, ids, encoderVersion));
}
