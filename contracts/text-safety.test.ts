import { describe, expect, it } from "vitest";
import { ZSaveDraftInput, ZSkipInput, ZSubmitInput } from "./annotations";
import { ZReviewDecisionInput } from "./model-review";
import { ZUpdateProjectInput } from "./project-admin";
import { splitsSurrogatePair, unsafeTextIn, unsafeTextReason } from "./text-safety";
import { ZCreateUserInput } from "./users";

const NUL = "a\u0000b";
const LONE_HIGH = "broken \ud83d here";
const LONE_LOW = "broken \ude00 here";
const EMOJI = "pain \ud83d\ude23 knee";

describe("unsafeTextReason", () => {
  it("refuses NUL and unpaired surrogates with their position, accepts paired ones", () => {
    expect(unsafeTextReason(NUL)).toMatch(/NUL character \(U\+0000\) at position 2/);
    expect(unsafeTextReason(LONE_HIGH)).toMatch(/unpaired surrogate \(U\+D83D\) at position 8/);
    expect(unsafeTextReason(LONE_LOW)).toMatch(/unpaired surrogate \(U\+DE00\)/);
    expect(unsafeTextReason("\ud83d")).toMatch(/unpaired/);
    expect(unsafeTextReason(EMOJI)).toBeNull();
    expect(unsafeTextReason("Café naïve \u0301 ok")).toBeNull();
  });

  it("finds the first unsafe string inside JSON, keys included", () => {
    expect(unsafeTextIn({ a: [1, "ok", { b: NUL }] })).toEqual({ path: "a[2].b", reason: expect.stringMatching(/NUL/) });
    expect(unsafeTextIn({ [NUL]: 1 })?.reason).toMatch(/^its key contains a NUL/);
    expect(unsafeTextIn({ a: EMOJI, n: 3 })).toBeNull();
  });

  it("tells when an offset splits a surrogate pair", () => {
    expect(splitsSurrogatePair(EMOJI, 6)).toBe(true);
    expect(splitsSurrogatePair(EMOJI, 5)).toBe(false);
    expect(splitsSurrogatePair(EMOJI, 7)).toBe(false);
  });
});

describe("every text field a user fills refuses NUL and unpaired surrogates", () => {
  const content = (patch: Record<string, unknown>) => ({ labels: ["a"], spans: [], uncertain: false, comment: "", ...patch });
  const span = (text: string) => ({ start: 0, end: text.length, label: "a", text });
  const bad = [NUL, LONE_HIGH, LONE_LOW];

  it.each(bad)("comment, label, span text and span label of drafts and submissions (%j)", (value) => {
    for (const patch of [{ comment: value }, { labels: [value] }, { spans: [span(value)] }, { spans: [{ ...span("ok"), label: value }] }]) {
      const draft = ZSaveDraftInput.safeParse({ caseId: "c", baseVersion: 0, content: content(patch) });
      const submit = ZSubmitInput.safeParse({ caseId: "c", expectedVersion: 0, timeSpentMs: 1, content: content(patch) });
      expect(draft.success).toBe(false);
      expect(submit.success).toBe(false);
      expect(draft.error!.issues[0]!.path[0]).toBe("content");
    }
  });

  it.each(bad)("skip reason, review note, project name and description, user name (%j)", (value) => {
    expect(ZSkipInput.safeParse({ projectId: "p", caseId: "c", reason: `why ${value}` }).success).toBe(false);
    expect(ZReviewDecisionInput.safeParse({ modelVersionId: "m", decision: "approve", note: `note ${value}` }).success).toBe(false);
    const project = { projectId: "p", name: "Name", description: "", caseContent: "narrative" };
    expect(ZUpdateProjectInput.safeParse({ ...project, name: `N ${value}` }).success).toBe(false);
    expect(ZUpdateProjectInput.safeParse({ ...project, description: value }).success).toBe(false);
    expect(ZCreateUserInput.safeParse({ email: "a@b.test", name: `P ${value}`, role: "CLINICIAN" }).success).toBe(false);
  });

  it("a span boundary inside an emoji is refused naming spans; whole emoji are fine", () => {
    const half = ZSubmitInput.safeParse({ caseId: "c", expectedVersion: 0, timeSpentMs: 1, content: content({ spans: [span(EMOJI.slice(6, 9))] }) });
    expect(half.success).toBe(false);
    expect(half.error!.issues[0]!.path.slice(0, 2)).toEqual(["content", "spans"]);
    expect(half.error!.issues[0]!.message).toMatch(/inside a character made of two UTF-16 units/);
    const whole = ZSubmitInput.safeParse({ caseId: "c", expectedVersion: 0, timeSpentMs: 1, content: content({ spans: [span(EMOJI.slice(5, 9))], comment: EMOJI }) });
    expect(whole.success).toBe(true);
  });
});
