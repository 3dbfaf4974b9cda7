/**
 * TEST-ONLY: realistic ModelVersion.metrics for fixtures and the end-to-end seeding script.
 * The numbers are not typed in: synthetic class probabilities are drawn for a labelled test
 * split (a model of chosen per-class skill) and scored with the platform's own
 * `evaluateClassifier`, so they have the exact shape and internal consistency the train job
 * stores (confusion matrix, PR curves and reliability bins all agree with each other).
 */
import { evaluateClassifier, type ClassifierEvaluation } from "@/workers/ml/metrics";
import { createRng } from "@/workers/ml/rng";

export interface SyntheticModelSpec {
  /** Test labels as class indices. */
  labels: number[];
  numClasses: number;
  /** Per class: probability that the model puts most mass on the true class (its recall, roughly). */
  skill: number[];
  seed: number;
}

/** Probabilities [N, C] of a model with the given per-class skill, seeded. */
export function syntheticProbabilities(spec: SyntheticModelSpec): Float32Array {
  const rng = createRng(spec.seed);
  const c = spec.numClasses;
  const probs = new Float32Array(spec.labels.length * c);
  spec.labels.forEach((y, i) => {
    const right = rng.next() < (spec.skill[y] ?? 0.5);
    // The class that gets most mass: the true one, or a random other one.
    const top = right ? y : (y + 1 + rng.int(c - 1)) % c;
    const topMass = 0.45 + 0.5 * rng.next();
    let rest = 1 - topMass;
    // The true class keeps some mass even when missed, so AUPRC stays informative.
    const row = new Array<number>(c).fill(0);
    row[top] = topMass;
    if (top !== y) {
      const trueMass = rest * (0.3 + 0.6 * rng.next());
      row[y] = Math.min(trueMass, topMass - 0.01);
      rest -= row[y]!;
    }
    const others = [...Array(c).keys()].filter((k) => row[k] === 0);
    others.forEach((k, j) => {
      row[k] = j === others.length - 1 ? rest : rest * rng.next() * 0.5;
      rest -= j === others.length - 1 ? rest : row[k]!;
    });
    row.forEach((p, k) => (probs[i * c + k] = Math.max(0, p)));
  });
  return probs;
}

export function syntheticEvaluation(spec: SyntheticModelSpec): ClassifierEvaluation {
  return evaluateClassifier(syntheticProbabilities(spec), Int32Array.from(spec.labels), spec.numClasses);
}

/** ModelVersion.metrics as stored by the train job: the evaluation plus the class order it refers to. */
export function syntheticMetrics(spec: SyntheticModelSpec, classes: string[]) {
  return { test: syntheticEvaluation(spec), classes };
}
