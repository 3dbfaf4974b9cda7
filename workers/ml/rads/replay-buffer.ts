/**
 * Fixed-capacity experience replay (docs/rads.md, step 7: 10,000 transitions), oldest overwritten first.
 * Stored flat in typed arrays so that sampling a minibatch is a few copies, not object allocations.
 */
import type { Rng } from "../rng";
import { MlInputError } from "../validate";

/** A minibatch, row-major: states/nextStates [batch, stateDim], the rest [batch]. */
export interface ReplayBatch {
  states: Float64Array;
  actions: Int32Array;
  rewards: Float64Array;
  nextStates: Float64Array;
  dones: Float64Array;
}

export class ReplayBuffer {
  private readonly states: Float64Array;
  private readonly nextStates: Float64Array;
  private readonly actions: Int32Array;
  private readonly rewards: Float64Array;
  private readonly dones: Float64Array;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number, readonly stateDim: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new MlInputError("invalid-argument", `replay capacity must be an integer >= 1, got ${capacity}`);
    this.states = new Float64Array(capacity * stateDim);
    this.nextStates = new Float64Array(capacity * stateDim);
    this.actions = new Int32Array(capacity);
    this.rewards = new Float64Array(capacity);
    this.dones = new Float64Array(capacity);
  }

  /** Transitions currently held (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  /** Stores (s, a, r, s′, done); s and s′ are read from their arrays at the given offsets (in values). */
  push(state: Float64Array, stateOffset: number, action: number, reward: number, nextState: Float64Array, nextOffset: number, done: boolean): void {
    const d = this.stateDim;
    const at = this.head;
    for (let k = 0; k < d; k++) {
      this.states[at * d + k] = state[stateOffset + k]!;
      this.nextStates[at * d + k] = nextState[nextOffset + k]!;
    }
    this.actions[at] = action;
    this.rewards[at] = reward;
    this.dones[at] = done ? 1 : 0;
    this.head = (at + 1) % this.capacity;
    if (this.count < this.capacity) this.count += 1;
  }

  /** Fills `out` with `batch` transitions drawn uniformly with replacement. */
  sample(batch: number, rng: Rng, out: ReplayBatch): void {
    if (this.count === 0) throw new MlInputError("empty-input", "replay buffer: nothing to sample");
    const d = this.stateDim;
    for (let b = 0; b < batch; b++) {
      const j = rng.int(this.count);
      for (let k = 0; k < d; k++) {
        out.states[b * d + k] = this.states[j * d + k]!;
        out.nextStates[b * d + k] = this.nextStates[j * d + k]!;
      }
      out.actions[b] = this.actions[j]!;
      out.rewards[b] = this.rewards[j]!;
      out.dones[b] = this.dones[j]!;
    }
  }
}

/** Buffers for a minibatch of `batch` transitions of dimension `stateDim`. */
export function createReplayBatch(batch: number, stateDim: number): ReplayBatch {
  return {
    states: new Float64Array(batch * stateDim),
    actions: new Int32Array(batch),
    rewards: new Float64Array(batch),
    nextStates: new Float64Array(batch * stateDim),
    dones: new Float64Array(batch),
  };
}
