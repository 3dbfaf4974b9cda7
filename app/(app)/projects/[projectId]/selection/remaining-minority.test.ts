/**
 * The "when to stop" panel while the newest round's estimate is still being computed (it is
 * published after the round): it says "estimating…" for that round and labels the older estimate
 * it still shows as the previous one.
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { RemainingMinority } from "@/contracts/remaining-minority";
import { RemainingMinorityPanel } from "./remaining-minority";

const estimate: RemainingMinority = { poolSize: 200, found: 4, estimate: 12.2, lo: 7.1, hi: 18.4, level: 0.9, expectedRecall: 0.25, recallLo: 0.18, recallHi: 0.36 };
const render = (props: Parameters<typeof RemainingMinorityPanel>[0]) => renderToStaticMarkup(createElement(RemainingMinorityPanel, props));

describe("RemainingMinorityPanel", () => {
  it("says estimating… for the newest round and shows the previous round's estimate as the previous one", () => {
    const html = render({ round: { number: 3, remainingMinority: estimate }, estimatingRound: 4 });
    expect(html).toContain("When to stop (round #4): estimating…");
    expect(html).toContain("When to stop (round #3, the previous estimate)");
    expect(html).toContain("≈ 12 minority cases remain");
  });

  it("says estimating… when no earlier round has an estimate", () => {
    const html = render({ round: undefined, estimatingRound: 2 });
    expect(html).toContain("When to stop (round #2): estimating…");
    expect(html).not.toContain("no estimate yet");
  });

  it("shows the estimate alone once it is in, and the note before any", () => {
    const ready = render({ round: { number: 4, remainingMinority: estimate } });
    expect(ready).toContain("When to stop (round #4)</strong>");
    expect(ready).not.toContain("estimating");
    expect(render({ round: undefined })).toContain("no estimate yet");
  });
});
