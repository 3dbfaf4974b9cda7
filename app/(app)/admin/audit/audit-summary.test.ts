import { describe, expect, it } from "vitest";
import { auditDetailsSummary } from "./audit-summary";

describe("the audit log's one-line details", () => {
  it("says none for an empty list instead of [0]", () => {
    // user.create of a user added to no project (the tryout showed "projects: [0]").
    expect(auditDetailsSummary({ role: "CLINICIAN", projects: [], mustChange: true })).toBe("role: CLINICIAN, projects: none, mustChange: true");
  });

  it("writes out a short list of plain values and counts a longer one or a list of objects", () => {
    expect(auditDetailsSummary({ projects: ["p1"] })).toBe("projects: p1");
    expect(auditDetailsSummary({ labels: ["a", "b", "c"] })).toBe("labels: a, b, c");
    expect(auditDetailsSummary({ labels: ["a", "b", "c", "d"] })).toBe("labels: 4 items");
    expect(auditDetailsSummary({ retired: [{ id: "m1", version: 1 }] })).toBe("retired: 1 item");
    expect(auditDetailsSummary({ superseded: [] })).toBe("superseded: none");
  });

  it("keeps objects, nulls, the field cap and non-objects as before", () => {
    expect(auditDetailsSummary({ before: null, after: { role: "REVIEWER" }, empty: {} })).toBe("before: null, after: {…}, empty: none");
    expect(auditDetailsSummary({ a: 1, b: 2, c: 3, d: 4 })).toBe("a: 1, b: 2, c: 3, … (4 fields)");
    expect(auditDetailsSummary({})).toBe("—");
    expect(auditDetailsSummary(null)).toBe("");
    expect(auditDetailsSummary("text")).toBe("text");
  });
});
