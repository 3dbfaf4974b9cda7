/**
 * The workspace's notes (queue-notes.tsx): why nothing can be taken while cases remain (held by colleagues,
 * with the lease's end; open again → a button), and what replaces the page when the project refuses the caller.
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { HeldCasesNote, ProjectAccessRefused, type HeldItem } from "./queue-notes";

const time = (iso: string) => iso.slice(11, 16);
const note = (remaining: number, items: HeldItem[]) => renderToStaticMarkup(createElement(HeldCasesNote, { remaining, items, leaseMinutes: 30, formatTime: time, onTake: () => undefined }));
const done: HeldItem = { state: "done", heldBy: [] };

describe("HeldCasesNote", () => {
  it("says nothing when nothing remains", () => {
    expect(note(0, [done])).toBe("");
  });

  it("names the colleague holding the last case and when the lease ends", () => {
    const html = note(1, [done, { state: "leased", heldBy: [{ name: "Carl ClinA", until: "2026-12-01T04:51:00.000Z" }] }]);
    expect(html).toContain("1 case is held by a colleague (Carl ClinA, lease until 04:51)");
    expect(html).toContain("it comes back to your queue if they don&#x27;t finish it by then");
  });

  it("lists every holder when several cases are held", () => {
    const html = note(2, [
      { state: "leased", heldBy: [{ name: "A", until: "2026-12-01T04:51:00.000Z" }] },
      { state: "leased", heldBy: [{ name: "B", until: "2026-12-01T05:02:00.000Z" }] },
    ]);
    expect(html).toContain("2 cases are held by colleagues (A, lease until 04:51; B, lease until 05:02)");
  });

  it("gives the lease time when the held cases are not on the list's page", () => {
    expect(note(3, [done])).toContain("3 cases are still open for you but held by colleagues right now");
    expect(note(3, [done])).toContain("within the lease time (30 minutes)");
  });

  it("offers a case that is open again", () => {
    const html = note(1, [{ state: "available", heldBy: [] }]);
    expect(html).toContain("A case is open for you again");
    expect(html).toContain("Take it now");
  });
});

describe("ProjectAccessRefused", () => {
  const render = (code: "NOT_FOUND" | "FORBIDDEN", hadAccess: boolean) => renderToStaticMarkup(createElement(ProjectAccessRefused, { code, hadAccess, projectName: "Chest" }));

  it("says a removed member no longer has access and offers their projects", () => {
    const html = render("NOT_FOUND", true);
    expect(html).toContain("You no longer have access to “Chest”");
    expect(html).toContain("no longer a member of this project");
    expect(html).toContain('href="/projects"');
  });

  it("says a role without annotating has no queue here", () => {
    expect(render("FORBIDDEN", false)).toContain("does not include annotating");
    expect(render("FORBIDDEN", false)).toContain("You do not have access");
  });
});
