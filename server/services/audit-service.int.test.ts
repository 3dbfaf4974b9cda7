import crypto from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createTestUser, refusal, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { listAudit } from "./audit-service";
import { createServiceContext } from "./context";

afterAll(async () => {
  await testDb().$disconnect();
});

describe("audit log reading", () => {
  it("names actors and targets, shows system events as the worker's, and filters by actor, action, target and date range", async () => {
    const admin = await createTestUser("ADMIN");
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 1 });
    const tag = crypto.randomBytes(4).toString("hex");
    const db = testDb();
    const scientistRow = await db.user.findUniqueOrThrow({ where: { id: scientist.id } });
    // Three events on known days with a target type of their own, so other tests' events do not interfere.
    const type = `Probe${tag}`;
    await db.auditEvent.create({ data: { at: new Date("2020-03-01T10:00:00Z"), actorId: scientist.id, actorRole: "DATA_SCIENTIST", action: "job.train-requested", targetType: type, targetId: "t-1", projectId, details: { labels: 12 } } });
    await db.auditEvent.create({ data: { at: new Date("2020-03-02T23:59:00Z"), actorId: null, actorRole: null, action: "round.create", targetType: type, targetId: "t-2", projectId, details: { number: 3, nested: { a: 1 } } } });
    await db.auditEvent.create({ data: { at: new Date("2020-03-05T08:00:00Z"), actorId: admin.id, actorRole: "ADMIN", action: "user.update", targetType: "User", targetId: scientist.id, details: { role: "REVIEWER" } } });

    const ctx = createServiceContext(db, admin);
    const byType = await listAudit(ctx, { limit: 50, targetType: type });
    expect(byType.events.map((e) => e.targetId)).toEqual(["t-2", "t-1"]);
    const [system, human] = byType.events;
    expect(system).toMatchObject({ actorLabel: "system (worker)", actorId: null, projectName: expect.stringContaining("Test project") });
    expect(human).toMatchObject({ actorLabel: `${scientistRow.name} <${scientistRow.email}>`, actorId: scientist.id });

    // Actor: part of the e-mail, or "system".
    expect((await listAudit(ctx, { limit: 50, targetType: type, actor: scientistRow.email.slice(0, 12).toUpperCase() })).events.map((e) => e.targetId)).toEqual(["t-1"]);
    expect((await listAudit(ctx, { limit: 50, targetType: type, actor: "system" })).events.map((e) => e.targetId)).toEqual(["t-2"]);
    // Action prefix and target id.
    expect((await listAudit(ctx, { limit: 50, targetType: type, action: "round." })).events).toHaveLength(1);
    expect((await listAudit(ctx, { limit: 50, targetType: type, targetId: "t-1" })).events.map((e) => e.action)).toEqual(["job.train-requested"]);
    // Date range, both ends inclusive whole days (UTC): 2 March catches the event at 23:59.
    expect((await listAudit(ctx, { limit: 50, targetType: type, from: "2020-03-02", to: "2020-03-02" })).events.map((e) => e.targetId)).toEqual(["t-2"]);
    expect((await listAudit(ctx, { limit: 50, targetType: type, to: "2020-03-01" })).events.map((e) => e.targetId)).toEqual(["t-1"]);
    // A User target gets its name and e-mail.
    const userEvent = (await listAudit(ctx, { limit: 50, targetType: "User", targetId: scientist.id, from: "2020-03-05", to: "2020-03-05" })).events;
    expect(userEvent).toHaveLength(1);
    expect(userEvent[0]!.targetLabel).toBe(`${scientistRow.name} <${scientistRow.email}>`);

    expect(await refusal(listAudit(ctx, { limit: 50, from: "2020-03-05", to: "2020-03-01" }))).toMatchObject({ kind: "BAD_INPUT" });
  });
});
