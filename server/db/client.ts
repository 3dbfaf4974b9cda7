/**
 * The one Prisma client of a process (data-access layer only: lint keeps Prisma imports here).
 * Prisma 6.19 without Rust engines talks to PostgreSQL through the `pg` driver adapter.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client";

export type Db = PrismaClient;
export { Prisma } from "./generated/client";
export type { Role, CaseSplit, ModelStatus, QueueItemStatus, AnnotationKind } from "./generated/enums";

const globalForDb = globalThis as unknown as { radsDb?: { url: string; client: PrismaClient } };

export function createDb(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: 10 }) });
}

/** The process-wide client for DATABASE_URL (reused across Next.js hot reloads). */
export function getDb(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: the platform's start script or test setup provides it.");
  if (!globalForDb.radsDb || globalForDb.radsDb.url !== url) {
    globalForDb.radsDb = { url, client: createDb(url) };
  }
  return globalForDb.radsDb.client;
}
