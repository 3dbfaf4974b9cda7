/**
 * What a service call knows about its caller. Built by the API layer (or a job, or a test);
 * services take it as their first argument so authorisation and auditing live in the service.
 */
import type { Db, Role } from "../db/client";
import { insertAuditEvent, type AuditEventInput } from "../db/audit-repo";
import type { DbOrTx } from "../db/tx";

export interface Actor {
  id: string;
  role: Role;
  name: string;
  email: string;
  /** Set while the user still has to replace a printed/temporary password (server/api/trpc.ts refuses the rest). */
  mustChangePassword?: boolean;
}

export interface ServiceContext {
  db: Db;
  actor: Actor | null;
  audit: AuditRecorder;
}

/** Writes audit events and counts them, so the API can refuse a mutation that wrote none. */
export class AuditRecorder {
  count = 0;
  constructor(private readonly actor: Actor | null) {}

  async record(db: DbOrTx, event: Omit<AuditEventInput, "actorId" | "actorRole">): Promise<void> {
    await insertAuditEvent(db, { ...event, actorId: this.actor?.id ?? null, actorRole: this.actor?.role ?? null });
    this.count += 1;
  }
}

export function createServiceContext(db: Db, actor: Actor | null): ServiceContext {
  return { db, actor, audit: new AuditRecorder(actor) };
}
