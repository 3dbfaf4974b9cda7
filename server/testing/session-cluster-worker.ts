/**
 * Test harness: one web-process stand-in of server/testing/session-cluster-primary.mjs. It checks
 * sessions as a web process does (its own session-check cache in front of resolveSession on the
 * test database) and makes changes through the production services (user-service, endSession),
 * whose forgets go through the cluster primary's relay. The cache's clock is frozen, so an entry
 * never expires here: only a relayed forget can end a cached session.
 */
import process from "node:process";
import { createDb } from "../db/client";
import { endSession, resolveSession } from "../services/auth-service";
import { createServiceContext, type Actor } from "../services/context";
import { resetUserPassword, setUserActive, setUserRole } from "../services/user-service";
import { createSessionCache, sessionCache, setSessionCache, type SessionClaims } from "../auth/session-cache";

const db = createDb(process.env.DATABASE_URL!);
let checks = 0;
setSessionCache(createSessionCache({ ttlMs: 10_000, now: () => 0 }));

type Command =
  | { reqId: number; cmd: "check"; claims: SessionClaims }
  | { reqId: number; cmd: "deactivate" | "reset-password"; admin: Actor; userId: string }
  | { reqId: number; cmd: "set-role"; admin: Actor; userId: string; role: "CLINICIAN" | "REVIEWER" }
  | { reqId: number; cmd: "sign-out"; sid: string };

async function run(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case "check": {
      const user = await sessionCache().resolve(command.claims, () => {
        checks++;
        return resolveSession(db, command.claims, { idleMinutes: 30 });
      });
      return { userId: user?.id ?? null, checks };
    }
    case "deactivate":
      await setUserActive(createServiceContext(db, command.admin), { userId: command.userId, active: false });
      return {};
    case "set-role":
      await setUserRole(createServiceContext(db, command.admin), { userId: command.userId, role: command.role });
      return {};
    case "reset-password":
      await resetUserPassword(createServiceContext(db, command.admin), { userId: command.userId });
      return {};
    case "sign-out":
      return { revoked: await endSession(db, command.sid) };
  }
}

process.on("message", (message: unknown) => {
  const command = message as Partial<Command> | null;
  if (!command || typeof command.reqId !== "number" || typeof command.cmd !== "string") return;
  run(command as Command).then(
    (result) => process.send!({ reqId: command.reqId, result }),
    (error: unknown) => process.send!({ reqId: command.reqId, error: String(error) }),
  );
});
process.on("SIGTERM", () => {
  void db.$disconnect().finally(() => process.exit(0));
});
process.send!({ harnessReady: true });
