import { describe, expect, it } from "vitest";
import { createHashGate } from "./hash-gate";

describe("global cap on concurrent password hashing (issue 12, fault 2)", () => {
  it("admits max at once, queues a few for a short while, refuses the rest at once", async () => {
    const gate = createHashGate({ max: 2, maxWaiting: 2, maxWaitMs: 200 });
    const a = await gate.enter();
    const b = await gate.enter();
    expect(a && b).toBeTruthy();
    expect(gate.active).toBe(2);
    const waiting1 = gate.enter();
    const waiting2 = gate.enter();
    expect(await gate.enter()).toBeNull(); // queue full: refused without waiting
    expect(gate.waiting).toBe(2);
    a!();
    a!(); // releasing twice frees one slot only
    const c = await waiting1;
    expect(c).toBeTypeOf("function");
    expect(gate.active).toBe(2);
    // The second waiter times out: nobody released in time.
    expect(await waiting2).toBeNull();
    expect(gate.waiting).toBe(0);
    b!();
    c!();
    expect(gate.active).toBe(0);
    expect(await gate.enter()).toBeTypeOf("function");
  });

  it("never lets more than max run under a burst of 40", async () => {
    const gate = createHashGate({ max: 3, maxWaiting: 6, maxWaitMs: 1000 });
    let running = 0;
    let peak = 0;
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const release = await gate.enter();
        if (!release) return "busy";
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running--;
        release();
        return "ran";
      }),
    );
    expect(peak).toBe(3);
    expect(outcomes.filter((o) => o === "ran").length).toBe(9);
    expect(outcomes.filter((o) => o === "busy").length).toBe(31);
  });
});
