/**
 * The settings, members and encoder procedures over HTTP as the pages call them (tRPC fetch
 * handler, superjson): a bad value comes back as a field-level message (`data.fieldErrors` from
 * the shared zod schema, `data.field` from the service), and a non-member gets NOT_FOUND from
 * every one of them.
 */
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { afterAll, describe, expect, it } from "vitest";
import type { UpdateSelectionSettingsInput } from "@/contracts/project-settings";
import type { Actor } from "../services/context";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { appRouter } from "./root";

afterAll(async () => {
  await testDb().$disconnect();
});

interface WireError {
  message: string;
  code: number;
  data: { code: string; fieldErrors: Record<string, string[]> | null; field: string | null };
}

async function call(actor: Actor, path: string, type: "query" | "mutation", input: unknown): Promise<{ ok: true; data: unknown } | { ok: false; error: WireError }> {
  const encoded = JSON.stringify(superjson.serialize(input));
  const url = type === "query" ? `http://test/api/trpc/${path}?input=${encodeURIComponent(encoded)}` : `http://test/api/trpc/${path}`;
  const request = new Request(url, type === "query" ? { method: "GET" } : { method: "POST", body: encoded, headers: { "content-type": "application/json" } });
  const response = await fetchRequestHandler({ endpoint: "/api/trpc", req: request, router: appRouter, createContext: async () => ({ db: testDb(), actor }) });
  const body = (await response.json()) as { result?: { data: unknown }; error?: { json: WireError } };
  if (body.error) return { ok: false, error: body.error.json };
  return { ok: true, data: superjson.deserialize(body.result!.data as never) };
}

async function fieldErrorOf(actor: Actor, path: string, input: unknown) {
  const result = await call(actor, path, "mutation", input);
  if (result.ok) throw new Error(`${path} accepted ${JSON.stringify(input)}`);
  return result.error;
}

describe("settings procedures over HTTP", () => {
  it("answers each bad selection/loop value with a message on its own field, and saves nothing", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 8 });
    const current = await call(scientist, "projectSettings.selection", "query", { projectId });
    if (!current.ok) throw new Error(current.error.message);
    const values = (current.data as { values: Omit<UpdateSelectionSettingsInput, "projectId"> }).values;
    const bad: [keyof typeof values, unknown, string][] = [
      ["budget", 0, "B must be a whole number between 1 and 10,000"],
      ["budget", 2.5, "B must be a whole number between 1 and 10,000"],
      ["mcPasses", 1, "K must be a whole number between 2 and 100"],
      ["episodes", 0, "RADS episodes must be a whole number between 1 and 5,000"],
      ["rho", 1.5, "ρ must be a number above 0 and below 1"],
      ["rho", "abc", 'ρ must be a number above 0 and below 1, or one share per minority class (e.g. {"rare": 0.3})'],
      ["lambda", -1, "λ must be a number between 0 and 10"],
      // What a form sends for λ = "abc" and "Every N labels" = 1.5: one sentence, not zod's "expected number, received NaN".
      ["lambda", Number.NaN, "λ must be a number between 0 and 10"],
      ["everyNLabels", 1.5, "Every N labels must be a whole number between 1 and 100,000"],
      ["leaseMinutes", "abc", "Lease minutes must be a whole number between 1 and 1,440"],
      ["annotationsPerCase", 0, "Annotations per case must be a whole number between 1 and 10"],
      ["leaseMinutes", 0, "Lease minutes must be a whole number between 1 and 1,440"],
      ["everyNLabels", 0, "Every N labels must be a whole number between 1 and 100,000"],
      ["scheduleHours", -2, "Every so many hours must be a number above 0 and at most 8,760"],
      ["reviewTolerance", 2, "The review tolerance must be a number between 0 and 1"],
    ];
    for (const [field, value, message] of bad) {
      const error = await fieldErrorOf(scientist, "projectSettings.updateSelection", { projectId, ...values, [field]: value });
      expect(error.data.code, field).toBe("BAD_REQUEST");
      expect(error.data.fieldErrors?.[field], field).toEqual([message]);
    }
    // A rule only the server can check comes back on its field too.
    const pool = await fieldErrorOf(scientist, "projectSettings.updateSelection", { projectId, ...values, budget: 9 });
    expect(pool.data).toMatchObject({ code: "BAD_REQUEST", field: "budget" });
    expect(pool.message).toBe("B = 9 is larger than the pool: 8 cases can still be selected.");
    expect(await testDb().auditEvent.count({ where: { projectId, action: "project.settings.update" } })).toBe(0);

    const ok = await call(scientist, "projectSettings.updateSelection", "mutation", { projectId, ...values, budget: 8 });
    expect(ok.ok).toBe(true);
  });

  it("answers an encoder outside MODELS_DIR or a bad crop with a message on that field", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 1 });
    const std = await fieldErrorOf(scientist, "encoder.update", {
      projectId,
      encoderConfig: { kind: "onnx-image", path: "x.onnx", preprocess: { resizeShortSide: 256, cropSize: 224, mean: [0.5, 0.5, 0.5], std: [0.2, 0, 0.2] } },
    });
    expect(std.data.code).toBe("BAD_REQUEST");
    expect(std.data.fieldErrors?.encoderConfig).toEqual(["std values must be positive"]);
    const crop = await fieldErrorOf(scientist, "encoder.update", {
      projectId,
      encoderConfig: { kind: "onnx-image", path: "x.onnx", preprocess: { resizeShortSide: 200, cropSize: 224, mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] } },
    });
    expect(crop.data.fieldErrors?.encoderConfig).toEqual(["cropSize must not exceed resizeShortSide"]);
  });

  it("gives a non-member NOT_FOUND from every members, settings and encoder procedure", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const outsider = await createTestUser("ADMIN");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 1 });
    const current = await call(scientist, "projectSettings.selection", "query", { projectId });
    if (!current.ok) throw new Error(current.error.message);
    const values = (current.data as { values: object }).values;
    const builtin = { kind: "builtin", dim: 16 };
    const calls: [string, "query" | "mutation", unknown][] = [
      ["members.list", "query", { projectId }],
      ["members.add", "mutation", { projectId, userId: outsider.id, role: "ADMIN" }],
      ["members.setRole", "mutation", { projectId, userId: scientist.id, role: "REVIEWER" }],
      ["members.remove", "mutation", { projectId, userId: scientist.id }],
      ["projectSettings.selection", "query", { projectId }],
      ["projectSettings.updateSelection", "mutation", { projectId, ...values }],
      ["encoder.get", "query", { projectId }],
      ["encoder.models", "query", { projectId }],
      ["encoder.tryIt", "query", { projectId, encoderConfig: builtin }],
      ["encoder.update", "mutation", { projectId, encoderConfig: builtin }],
    ];
    for (const [path, type, input] of calls) {
      const result = await call(outsider, path, type, input);
      expect(result.ok, path).toBe(false);
      if (!result.ok) expect({ path, code: result.error.data.code, message: result.error.message }).toEqual({ path, code: "NOT_FOUND", message: "No such project." });
    }
    expect(await testDb().projectMember.count({ where: { projectId } })).toBe(1);
  });
});
