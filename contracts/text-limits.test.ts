import { describe, expect, it } from "vitest";
import { ZAdjudicateInput } from "./agreement";
import { ZSaveDraftInput, ZSkipInput, ZSubmitInput } from "./annotations";
import { ZReviewDecisionInput } from "./model-review";
import { ZUpdateProjectInput } from "./project-admin";
import { ZLabelClass, ZProjectConfig } from "./project-config";
import { showsCounter, TEXT_LIMITS, tooLongMessage, type TextField } from "./text-limits";
import { ZCreateUserInput } from "./users";

/** Each free-text field's input with a text of `length` characters, and the path its issue carries. */
const CASES: { field: TextField; path: string; input: (text: string) => unknown; parse: (input: unknown) => { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } } }[] = [
  { field: "comment", path: "content.comment", input: (t) => ({ caseId: "c", expectedVersion: 0, timeSpentMs: 0, content: { labels: ["a"], comment: t } }), parse: (i) => ZSubmitInput.safeParse(i) },
  { field: "comment", path: "content.comment", input: (t) => ({ caseId: "c", baseVersion: 0, content: { labels: [], comment: t } }), parse: (i) => ZSaveDraftInput.safeParse(i) },
  { field: "skipReason", path: "reason", input: (t) => ({ projectId: "p", caseId: "c", reason: t }), parse: (i) => ZSkipInput.safeParse(i) },
  { field: "adjudicationReason", path: "reason", input: (t) => ({ projectId: "p", caseId: "c", labels: ["a"], reason: t }), parse: (i) => ZAdjudicateInput.safeParse(i) },
  { field: "reviewNote", path: "note", input: (t) => ({ modelVersionId: "m", decision: "reject", note: t }), parse: (i) => ZReviewDecisionInput.safeParse(i) },
  { field: "projectDescription", path: "description", input: (t) => ({ projectId: "p", name: "P", description: t, caseContent: "narrative" }), parse: (i) => ZUpdateProjectInput.safeParse(i) },
  { field: "labelGuideline", path: "guideline", input: (t) => ({ key: "a", name: "A", color: "#123456", guideline: t }), parse: (i) => ZLabelClass.safeParse(i) },
  { field: "personName", path: "name", input: (t) => ({ email: "a@example.org", name: t, role: "CLINICIAN" }), parse: (i) => ZCreateUserInput.safeParse(i) },
];

describe("free-text limits", () => {
  it.each(CASES.map((c) => [c.field, c.path, c] as const))("%s (%s): accepted at the limit, refused one beyond it naming the field and the lengths", (field, path, c) => {
    const limit = TEXT_LIMITS[field];
    expect(c.parse(c.input("x".repeat(limit))).success).toBe(true);
    const refused = c.parse(c.input("x".repeat(limit + 1)));
    expect(refused.success).toBe(false);
    const issues = refused.error!.issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path.join(".")).toBe(path);
    expect(issues[0]!.message).toBe(tooLongMessage(field, limit + 1));
  });

  it("counts code points as zod does (an emoji is one), and ignores blanks trimmed away", () => {
    const emoji = "\u{1F600}"; // 2 UTF-16 units, 1 code point
    const limit = TEXT_LIMITS.skipReason;
    const skip = (t: string) => ZSkipInput.safeParse({ projectId: "p", caseId: "c", reason: t });
    expect(skip(emoji.repeat(limit)).success).toBe(true);
    expect(skip(emoji.repeat(limit) + "x").error?.issues.map((i) => i.message)).toEqual([tooLongMessage("skipReason", limit + 1)]);
    expect(skip(`  ${"x".repeat(limit)}  `).success).toBe(true);
  });

  it("says the limit and the length in words", () => {
    expect(tooLongMessage("comment", 200_000)).toBe("The comment is at most 5,000 characters (this one has 200,000).");
    expect(tooLongMessage("skipReason")).toBe("The reason for skipping is at most 1,000 characters.");
  });

  it("never refuses a stored configuration that the previous limits allowed (they are only raised)", () => {
    const config = ZProjectConfig.safeParse({
      name: "n".repeat(100),
      description: "d".repeat(2000),
      labelSchema: { labels: [{ key: "a", name: "A".repeat(100), color: "#123456", guideline: "g".repeat(500) }, { key: "b", name: "B", color: "#654321" }] },
      minorityClasses: ["b"],
      selectionParams: { budget: 5 },
    });
    expect(config.error?.issues ?? []).toEqual([]);
  });

  it("shows the counter from 80 % of the limit", () => {
    expect(showsCounter("comment", 3999)).toBe(false);
    expect(showsCounter("comment", 4000)).toBe(true);
  });
});
