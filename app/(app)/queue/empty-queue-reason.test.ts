/** My queue's empty list says why (empty-queue-reason.ts): no project, no role that annotates, or only archived projects. */
import { describe, expect, it } from "vitest";
import { emptyQueueReason } from "./empty-queue-reason";

describe("emptyQueueReason", () => {
  it("says 'not a member' only without any project", () => {
    expect(emptyQueueReason([])).toBe("You are not a member of any project yet.");
  });

  it("names the role of a member of projects where they may not annotate", () => {
    const text = emptyQueueReason([
      { role: "DATA_SCIENTIST", archived: false },
      { role: "DATA_SCIENTIST", archived: false },
    ]);
    expect(text).toContain("You are a member of 2 projects");
    expect(text).toContain("(Data scientist)");
    expect(text).toContain("does not include annotating");
    expect(text).not.toContain("not a member");
  });

  it("says the projects where they annotate are archived", () => {
    expect(emptyQueueReason([{ role: "CLINICIAN", archived: true }, { role: "REVIEWER", archived: false }])).toBe("Your project where you annotate is archived: an archived project has no queue.");
  });
});
