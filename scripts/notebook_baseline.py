#!/usr/bin/env python3
"""The "notebook" baseline of `npm run simulate -- --notebook` (docs/simulation.md).

What a data scientist would write in an afternoon with scikit-learn: TF-IDF (word 1-2-grams,
sublinear tf, min_df 2) + LogisticRegression(class_weight="balanced"), retrained each round on
the binary task minority-vs-rest, and scored with the simulation's headline metrics. With
precomputed embeddings (`--embeddings`, e.g. image features) the same LR fits on those vectors.

It runs on the very split, seed sets and rounds the TypeScript simulation used (written by
scripts/lib/sim-notebook.ts to the input JSON), so the comparison is paired:
- notebook-random: the labelled sets are exactly those of the platform's `random` runs (the same
  selected cases per round), so the two rows differ only in the learner;
- notebook-entropy: the notebook's own loop, selecting the B pool cases of highest predictive
  entropy under its own model each round (ties to the lower case index).

Metrics as in workers/ml/simulation.ts: minority F1 of the decisions (predicted minority when
p(minority) > 0.5, sklearn's predict), minority AUPRC = average_precision_score of p(minority)
(step-wise, tied scores as one threshold, the same definition as workers/ml/metrics.ts).

Usage: python3 scripts/notebook_baseline.py <input.json> <output.json>
The output is a JSON list of runs in the shape of the simulation's RunResult (NaN as "NaN").
"""
import json
import math
import sys
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score


def fit_predict(x, y_bin, labelled, x_eval):
    clf = LogisticRegression(class_weight="balanced", max_iter=1000)
    clf.fit(x[labelled], y_bin[labelled])
    return clf.predict_proba(x_eval)[:, list(clf.classes_).index(1)]


def nan_safe(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, list):
        return [nan_safe(x) for x in v]
    if isinstance(v, dict):
        return {k: nan_safe(x) for k, x in v.items()}
    return v


def run(spec):
    labels = np.asarray(spec["labels"])
    minority = set(spec["minorityClasses"])
    y_bin = np.asarray([1 if l in minority else 0 for l in labels])
    train = np.asarray(spec["train"])
    test = np.asarray(spec["test"])
    if spec.get("featuresFile"):
        # Precomputed embeddings (--embeddings): the notebook's LR fits on the same vectors as the platform.
        x = np.load(spec["featuresFile"]).astype(np.float64)
        if x.shape[0] != len(labels):
            raise SystemExit(f"notebook: {spec['featuresFile']} has {x.shape[0]} rows for {len(labels)} cases")
    else:
        texts = spec["texts"]
        # Vocabulary and IDF from the training split only (the platform's encoder sees the same texts).
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        vec.fit([texts[i] for i in train])
        x = vec.transform(texts)
    x_test = x[test]
    y_test = y_bin[test]
    rounds = spec["rounds"]
    runs = []

    def point(r, labelled, probs, sel_hits, sel_total, round_hits, round_total, by, select_ms, train_ms):
        pred = (probs > 0.5).astype(int)
        f1 = float(f1_score(y_test, pred, zero_division=0))
        return {
            "round": r,
            "labelled": len(labelled),
            "labelledMinority": int(y_bin[labelled].sum()),
            "roundHitRate": round_hits / round_total if round_total else float("nan"),
            "cumulativeHitRate": sel_hits / sel_total if sel_total else float("nan"),
            "trained": True,
            "selectedBy": by,
            "selectMs": select_ms,
            "trainMs": train_ms,
            "strategyStats": {},
            "minorityF1": f1,
            "minorityMacroF1": float("nan"),
            "minorityAuprc": float(average_precision_score(y_test, probs)),
            "perClassF1": [],
        }

    for seed_spec in spec["seeds"]:
        seed = seed_spec["seed"]
        seed_set = list(seed_spec["seedSet"])
        in_seed = set(seed_set)
        pool0 = [i for i in train if i not in in_seed]
        pool_prior = float(y_bin[pool0].mean()) if pool0 else float("nan")
        for budget in spec["budgets"]:
            for strategy in spec["strategies"]:
                labelled = list(seed_set)
                t0 = time.perf_counter()
                probs = fit_predict(x, y_bin, labelled, x_test)
                curve = [point(0, labelled, probs, 0, 0, 0, 0, "", 0.0, 1000 * (time.perf_counter() - t0))]
                selected = []
                hits = total = 0
                if strategy == "random":
                    given = next((g["selected"] for g in spec["randomSelections"] if g["seed"] == seed and g["budget"] == budget), None)
                    if given is None:
                        raise SystemExit(f"notebook: no random selections for seed {seed}, budget {budget} in the input")
                for r in range(1, rounds + 1):
                    t0 = time.perf_counter()
                    if strategy == "random":
                        if r > len(given):
                            break
                        pick = list(given[r - 1])
                    else:
                        taken = set(labelled)
                        pool = np.asarray([i for i in train if i not in taken])
                        if len(pool) == 0:
                            break
                        p1 = fit_predict(x, y_bin, labelled, x[pool])
                        p = np.clip(np.stack([1 - p1, p1], axis=1), 1e-12, 1)
                        entropy = -(p * np.log(p)).sum(axis=1)
                        order = np.argsort(-entropy, kind="stable")
                        pick = [int(pool[j]) for j in order[:budget]]
                    select_ms = 1000 * (time.perf_counter() - t0)
                    round_hits = int(y_bin[pick].sum())
                    hits += round_hits
                    total += len(pick)
                    labelled += pick
                    selected.append(pick)
                    t0 = time.perf_counter()
                    probs = fit_predict(x, y_bin, labelled, x_test)
                    curve.append(point(r, labelled, probs, hits, total, round_hits, len(pick), f"notebook-{strategy}", select_ms, 1000 * (time.perf_counter() - t0)))
                runs.append({
                    "strategy": f"notebook-{strategy}",
                    "budget": budget,
                    "seed": seed,
                    "poolPrior": pool_prior,
                    "seedSet": seed_set,
                    "selected": selected,
                    "curve": curve,
                })
    return runs


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: notebook_baseline.py <input.json> <output.json>\n")
        sys.exit(2)
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    runs = run(spec)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(nan_safe(runs), f, allow_nan=False)


if __name__ == "__main__":
    main()
