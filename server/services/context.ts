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

/** Where a request came from, for the audit of reads and sign-ins (issue 12, fault 7). */
export interface RequestClient {
  /** The client address bucket (server/auth/client-address.ts: IPv4 as is, IPv6 by its /64). */
  address: string;
  /** The User-Agent header, cut to 200 characters; null when the client sent none. */
  userAgent: string | null;
}

export interface ServiceContext {
  db: Db;
  actor: Actor | null;
  audit: AuditRecorder;
  /** The request's client, when the call came over HTTP (absent for jobs, the CLI and most tests). */
  client?: RequestClient;
}

/** Writes audit events and counts them, so the API can refuse a mutation that wrote none. */
export class AuditRecorder {
  count = 0;
  /** Set by a mutation that looked and changed nothing (e.g. queue.next resuming a lease): no event needed. */
  unchanged = false;
  constructor(private readonly actor: Actor | null) {}

  async record(db: DbOrTx, event: Omit<AuditEventInput, "actorId" | "actorRole">): Promise<void> {
    await insertAuditEvent(db, { ...event, actorId: this.actor?.id ?? null, actorRole: this.actor?.role ?? null });
    this.count += 1;
  }

  /** Declares that this mutation changed nothing, so the API accepts it without an audit event. */
  noChange(): void {
    this.unchanged = true;
  }
}

export function createServiceContext(db: Db, actor: Actor | null, client?: RequestClient): ServiceContext {
  return { db, actor, audit: new AuditRecorder(actor), ...(client ? { client } : {}) };
}

/** The client as audit details (`{ address, userAgent }`), or nothing when the call did not come over HTTP. */
export function clientDetails(ctx: Pick<ServiceContext, "client">): { address?: string; userAgent?: string | null } {
  return ctx.client ? { address: ctx.client.address, userAgent: ctx.client.userAgent } : {};
}
