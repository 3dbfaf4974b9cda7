/**
 * The loop status note (jobs page, project overview): what it says rests on the stored decision —
 * the time, the trigger, the interval and its setting for a deferred training; the round, the count
 * and the adjudication link for a round with nothing trainable; nothing when nothing waits.
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { LoopStatusNote, type LoopStatusView } from "./loop-status";

const render = (props: Parameters<typeof LoopStatusNote>[0]) => renderToStaticMarkup(createElement(LoopStatusNote, props));
const until = new Date(Date.now() + 5 * 60_000);
const deferred: LoopStatusView = { kind: "deferred", reason: "round-complete", until: until.toISOString(), minIntervalMinutes: 10, latestModelVersion: 4, since: new Date().toISOString(), overdue: false };

describe("LoopStatusNote", () => {
  it("says when a deferred training starts, why, and where the interval is set", () => {
    const html = render({ status: deferred, projectId: "p1", retrainLink: true });
    expect(html).toContain(`Next automatic training at ${until.toLocaleTimeString()}`);
    expect(html).toContain("a round&#x27;s queue is fully annotated");
    expect(html).toContain("held back until 10 minutes after model v4 — at most one automatic training every 10 minutes");
    expect(html).toContain('href="/projects/p1/settings/selection"');
    expect(html).toContain('href="/projects/p1/jobs"');
    expect(render({ status: deferred, projectId: "p1" })).not.toContain("Retrain now");
  });

  it("says an overdue deferral waits for the worker's next check", () => {
    const html = render({ status: { ...deferred, overdue: true }, projectId: "p1" });
    expect(html).toContain("Automatic training was due at");
    expect(html).toContain("next check (every minute) starts it");
  });

  it("names the round and how many of its cases wait for adjudication, with the link", () => {
    const html = render({ status: { kind: "no-trainable-labels", roundNumber: 4, awaitingAdjudication: 3, since: new Date().toISOString(), overdue: false }, projectId: "p1" });
    expect(html).toContain("Round 4 is fully annotated");
    expect(html).toContain("3 of its cases split without a majority");
    expect(html).toContain('href="/projects/p1/adjudication"');
    expect(html).toContain("Adjudicate them");
  });

  it("renders nothing when nothing waits", () => {
    expect(render({ status: null, projectId: "p1" })).toBe("");
  });
});
