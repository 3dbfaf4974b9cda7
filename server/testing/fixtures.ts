/** Helpers for integration tests: real users in the real test database. */
import crypto from "node:crypto";
import type { RoleName } from "@/contracts/roles";
import { createDb, type Db } from "../db/client";
import { insertUser } from "../db/users-repo";
import { DomainError } from "../errors";
import type { Actor } from "../services/context";

let shared: Db | undefined;
export function testDb(): Db {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: run integration tests through `npm run test:int`.");
  shared ??= createDb(url);
  return shared;
}

export function uniqueEmail(prefix: string): string {
  return `${prefix}-${crypto.randomBytes(5).toString("hex")}@test.local`;
}

export async function createTestUser(role: RoleName, passwordHash: string | null = null): Promise<Actor> {
  const user = await insertUser(testDb(), { email: uniqueEmail(role.toLowerCase()), name: `Test ${role}`, role, passwordHash });
  return { id: user.id, role: user.role, name: user.name, email: user.email };
}

/** Awaits `promise`, which must be refused with a DomainError; returns its kind, message and `details.field` (null when none). Any other error is rethrown; success throws. */
export async function refusal(promise: Promise<unknown>): Promise<{ kind: string; message: string; field: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return { kind: error.kind, message: error.message, field: error.details?.field ?? null };
    throw error;
  }
  throw new Error("expected a refusal");
}
