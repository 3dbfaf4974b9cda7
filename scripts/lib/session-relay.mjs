/**
 * The cluster primary's half of the session-check cache's "forget" (server/auth/session-cache.ts,
 * issue 16): a web process that ended or narrowed a session (sign-out, deactivation, a role change, a
 * password reset or change) has dropped it from its own cache and sends
 *   { type: "rads:session-cache:forget", id, sid?, userId? }
 * here; the primary sends it on to every other web process, each drops it and answers
 * "rads:session-cache:forgotten", and once every process that announced its cache
 * ("rads:session-cache:ready", sent before its first cached entry) has answered — or has exited —
 * the sender gets "rads:session-cache:forget-done" with its id, and its request answers.
 * A process that has not announced a cache yet holds no entry, so it is not waited for (it still
 * gets the message).
 *
 *   relaySessionForgets(cluster)   — in the primary, once, before or after forking
 */
const FORGET = "rads:session-cache:forget";
const FORGOTTEN = "rads:session-cache:forgotten";
const DONE = "rads:session-cache:forget-done";
const READY = "rads:session-cache:ready";

/** @param {import("node:cluster").Cluster} cluster */
export function relaySessionForgets(cluster) {
  /** Workers (by id) that hold a session cache. */
  const ready = new Set();
  /** relay id → { from: Worker, id: the sender's id, left: Set of worker ids still to answer } */
  const pending = new Map();
  let nextRelay = 1;

  const send = (worker, message) => {
    if (worker.isConnected()) worker.send(message);
  };
  const settle = (relayId) => {
    const p = pending.get(relayId);
    if (!p || p.left.size > 0) return;
    pending.delete(relayId);
    send(p.from, { type: DONE, id: p.id });
  };

  cluster.on("message", (worker, message) => {
    if (!message || typeof message !== "object") return;
    if (message.type === READY) {
      ready.add(worker.id);
    } else if (message.type === FORGOTTEN) {
      const p = pending.get(message.id);
      if (p) {
        p.left.delete(worker.id);
        settle(message.id);
      }
    } else if (message.type === FORGET) {
      const relayId = nextRelay++;
      const others = Object.values(cluster.workers ?? {}).filter((w) => w && w !== worker && w.isConnected());
      pending.set(relayId, { from: worker, id: message.id, left: new Set(others.filter((w) => ready.has(w.id)).map((w) => w.id)) });
      const relayed = { type: FORGET, id: relayId };
      if (typeof message.sid === "string") relayed.sid = message.sid;
      if (typeof message.userId === "string") relayed.userId = message.userId;
      for (const other of others) send(other, relayed);
      settle(relayId);
    }
  });
  // A process that exited holds no cache any more: nobody waits for its answer.
  cluster.on("exit", (worker) => {
    ready.delete(worker.id);
    for (const [relayId, p] of pending) {
      p.left.delete(worker.id);
      settle(relayId);
    }
  });
}
