/** A refused case in the workspace is read-only (read-only.ts): its editing keys do nothing and its badge says so. */
import { describe, expect, it } from "vitest";
import { blockedWhenReadOnly, caseBadge } from "./read-only";

describe("blockedWhenReadOnly", () => {
  it("blocks label keys and the skip, uncertain and comment keys, in either case", () => {
    expect(blockedWhenReadOnly("1", true)).toBe(true);
    for (const key of ["s", "S", "u", "U", "c", "C"]) expect(blockedWhenReadOnly(key, false)).toBe(true);
  });

  it("leaves navigation and viewing keys", () => {
    for (const key of ["n", "z", "h", "i", "r", "p", "ArrowDown", "PageUp"]) expect(blockedWhenReadOnly(key, false)).toBe(false);
  });
});

describe("caseBadge", () => {
  it("says read-only for a refused case, whether from the queue or opened to edit", () => {
    expect(caseBadge("edit", "This case is not in your queue.")).toBe("read-only");
    expect(caseBadge("queue", "Another clinician is working on this case.")).toBe("read-only");
  });

  it("says editing for a past case the clinician may change, nothing for a queued one", () => {
    expect(caseBadge("edit", null)).toBe("editing");
    expect(caseBadge("queue", null)).toBeNull();
    expect(caseBadge(undefined, null)).toBeNull();
  });
});
