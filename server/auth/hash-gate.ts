/**
 * A global cap on concurrent password hashing in this process (issue 12, fault 2): scrypt costs
 * ~32 MiB and tens of milliseconds of a core, so a burst of sign-ins must not starve signed-in
 * users. At most `max` sign-ins hash at once; up to `maxWaiting` more wait at most `maxWaitMs` for
 * a slot; beyond that the caller answers 429 at once.
 */
/** What a sign-in is told when the gate is full (HTTP 429). */
export const BUSY_MESSAGE = "Too many sign-in attempts, try again shortly";

export interface HashGate {
  /** A release function once a slot is held, or null when the gate is full (answer 429). */
  enter(): Promise<(() => void) | null>;
  readonly active: number;
  readonly waiting: number;
}

export function createHashGate(options: { max: number; maxWaiting: number; maxWaitMs: number }): HashGate {
  let active = 0;
  const queue: { grant: () => void }[] = [];

  const release = () => {
    const next = queue.shift();
    if (next) next.grant();
    else active--;
  };
  const once = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  };

  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    async enter() {
      if (active < options.max) {
        active++;
        return once();
      }
      if (queue.length >= options.maxWaiting || options.maxWaitMs <= 0) return null;
      return new Promise<(() => void) | null>((resolve) => {
        const waiter = {
          // The slot passes straight from the releasing holder to this waiter (active stays the same).
          grant: () => {
            clearTimeout(timer);
            resolve(once());
          },
        };
        const timer = setTimeout(() => {
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          resolve(null);
        }, options.maxWaitMs);
        queue.push(waiter);
      });
    },
  };
}
