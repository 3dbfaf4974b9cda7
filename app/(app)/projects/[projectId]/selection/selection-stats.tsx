"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { binLabels, GroupedBars, XYChart } from "../../../../_components/charts";
import { MinorityWarning } from "../../../../_components/minority-warning";
import { RemainingMinorityPanel } from "./remaining-minority";
import { useTRPC } from "../../../../_components/providers";

const f3 = (v: number | null | undefined) => (v === null || v === undefined ? "—" : v.toFixed(3));
const pct = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
const FEATURE_TITLES: Record<string, string> = { bald: "BALD (mutual information, nats)", entropy: "Predictive entropy (nats)", utility: "Utility (normalised MI × class weight)" };

export function SelectionStats({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  // While the newest round's stopping estimate is being computed (published after the round), look again every 2 s.
  const stats = useQuery({
    ...trpc.selectionStats.get.queryOptions({ projectId }),
    refetchInterval: (q) => (q.state.data?.rounds[0]?.remainingMinorityStatus === "estimating" ? 2000 : false),
  });
  const [openRound, setOpenRound] = useState<string | null>(null);

  if (stats.isPending) return <p className="muted">Loading…</p>;
  if (stats.error) return <p className="error">{stats.error.message}</p>;
  const { project, rounds, labelsOverTime, learningCurve } = stats.data;
  const shownId = openRound ?? rounds[0]?.id ?? null;
  const round = rounds.find((r) => r.id === shownId) ?? null;

  return (
    <>
      <p><Link href="/selection">← Selection</Link></p>
      <h1>Selection — {project.name}</h1>
      <p className="muted">Minority classes: {project.minorityClasses.join(", ") || "—"}.</p>
      <MinorityWarning watch={stats.data.minorityWatch} projectId={projectId} />
      <RemainingMinorityPanel round={rounds.find((r) => r.remainingMinority)} estimatingRound={rounds[0]?.remainingMinorityStatus === "estimating" ? rounds[0].number : null} />

      <h2>Across rounds</h2>
      <table className="panel" data-testid="rounds-table">
        <thead>
          <tr><th>Round</th><th>Strategy</th><th>Model</th><th>Selected</th><th>Annotated</th><th>Pool prior π̂₊</th><th>Target ρ</th><th>Minority hit rate</th><th></th></tr>
        </thead>
        <tbody>
          {rounds.length === 0 && <tr><td colSpan={9} className="muted">No selection round yet.</td></tr>}
          {rounds.map((r) => (
            <tr key={r.id} data-testid={`round-row-${r.number}`} aria-selected={r.id === shownId}>
              <td>#{r.number}</td>
              <td>
                {r.strategy}{r.coldStart ? " (cold start)" : ""}
                {r.reason && <div className="muted" data-testid={`round-reason-${r.number}`}>{r.reason}</div>}
              </td>
              <td>{r.modelVersion ? `v${r.modelVersion}` : "—"}</td>
              <td>{r.outcome.total}</td>
              <td>{r.outcome.annotated}</td>
              <td>{pct(r.summary.poolPrior)}</td>
              <td>{pct(r.summary.rho)}</td>
              <td>{r.outcome.hitRate === null ? "not annotated yet" : `${pct(r.outcome.hitRate)} (${r.outcome.minorityHits}/${r.outcome.annotated})`}</td>
              <td><button type="button" className="secondary" onClick={() => setOpenRound(r.id)} disabled={r.id === shownId}>Show</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="chart-grid">
        <GroupedBars
          title="Minority hit rate per round vs pool prior"
          subtitle="what the round found vs what random selection would expect"
          xLabel="round"
          yLabel="share of minority cases"
          yDomain={[0, 1]}
          data={[...rounds].reverse().map((r) => ({ category: `#${r.number}`, hit: r.outcome.hitRate, prior: r.summary.poolPrior }))}
          bars={[{ key: "hit", name: "minority hit rate (annotated)" }, { key: "prior", name: "pool prior π̂₊ (random)" }]}
          testId="chart-hit-rate"
        />
        <XYChart
          title="Labels over time"
          subtitle="cases with at least one submitted label"
          xLabel="day"
          yLabel="labelled cases"
          series={[{ name: "labelled cases", points: labelsOverTime.map((d, i) => ({ x: i + 1, y: d.labels })) }]}
          xInteger
          yInteger
          dots
          testId="chart-labels"
        />
        <XYChart
          title="Learning curve (TEST split)"
          subtitle="each point is a model version"
          xLabel="labels trained on"
          yLabel="score"
          yDomain={[0, 1]}
          xInteger
          dots
          series={[
            { name: "minority recall", points: learningCurve.filter((p) => p.minorityRecall !== null).map((p) => ({ x: p.labelCount!, y: p.minorityRecall! })) },
            { name: "minority AUPRC", points: learningCurve.filter((p) => p.minorityAuprc !== null).map((p) => ({ x: p.labelCount!, y: p.minorityAuprc! })) },
            { name: "macro F1", points: learningCurve.filter((p) => p.macroF1 !== null).map((p) => ({ x: p.labelCount!, y: p.macroF1! })) },
          ]}
          testId="chart-learning"
        />
      </div>
      {labelsOverTime.length > 0 && (
        <p className="muted">Days on the labels chart: {labelsOverTime.map((d, i) => `${i + 1} = ${d.day}`).join(", ")}.</p>
      )}

      {round && (
        <section data-testid="round-detail">
          <h2>Round #{round.number}: {round.strategy}{round.coldStart ? " (cold start)" : ""}</h2>
          {round.reason && <p className="muted" data-testid="round-reason">{round.reason}</p>}
          <div className="side-by-side">
            <dl className="kv panel" data-testid="round-summary">
              <dt>Created</dt><dd>{new Date(round.createdAt).toLocaleString()}</dd>
              <dt>Model</dt><dd>{round.modelVersion ? `v${round.modelVersion}` : "none (cold start)"}</dd>
              <dt>Pool prior π̂₊</dt><dd>{pct(round.summary.poolPrior)}</dd>
              <dt>Target ρ</dt><dd>{pct(round.summary.rho)}</dd>
              <dt>λ (redundancy, as used)</dt>
              <dd title={round.summary.redundancy === "embedding" ? "With stored embeddings rads penalises cosine similarity to the cases already chosen at its own weight; the project's λ applies only without embeddings." : undefined}>
                {f3(round.summary.lambda)}
                {round.summary.redundancy === "embedding" ? " (cosine to the chosen cases; the project's λ applies only without embeddings)" : round.summary.redundancy === "probability" ? " (the paper's penalty)" : ""}
              </dd>
              <dt>Budget B</dt><dd>{round.summary.budget}</dd>
              <dt>MC passes K</dt><dd>{round.summary.k ?? "—"}</dd>
              <dt>Episodes</dt><dd>{round.summary.episodes ?? "—"}</dd>
              <dt>Mode / method</dt><dd>{round.summary.mode ?? "—"}</dd>
              <dt>Pool size</dt><dd>{round.summary.poolSize ?? "—"}</dd>
              <dt>Topped up</dt><dd>{round.summary.toppedUp ?? "—"}</dd>
              <dt>Minority hit rate</dt>
              <dd data-testid="round-hit-rate">
                {round.outcome.hitRate === null ? "not annotated yet" : `${pct(round.outcome.hitRate)} (${round.outcome.minorityHits} of ${round.outcome.annotated} with a training label) vs ${pct(round.summary.poolPrior)} expected at random`}
                {round.outcome.awaitingAdjudication > 0 && `; ${round.outcome.awaitingAdjudication} split between annotators, counted once adjudicated`}
              </dd>
            </dl>
            <div className="panel">
              <strong>Parameters</strong>
              <table>
                <tbody>
                  {round.params.length === 0 && <tr><td className="muted">none recorded</td></tr>}
                  {round.params.map((p) => <tr key={p.key}><th>{p.key}</th><td>{p.value}</td></tr>)}
                </tbody>
              </table>
              {round.summary.priorPerClass.length > 0 && (
                <>
                  <strong>Pseudo prior π̂ per class</strong>
                  <table><tbody>{round.summary.priorPerClass.map((p) => <tr key={p.label}><th>{p.label}</th><td>{pct(p.value)}</td></tr>)}</tbody></table>
                </>
              )}
            </div>
          </div>
          <div className="chart-grid">
            {round.returnCurve.length > 0 && (
              <XYChart
                title="Agent return per episode"
                subtitle={`best 10-episode moving average ${f3(round.summary.bestMovingAverage)}`}
                xLabel="episode"
                yLabel="return"
                xInteger
                series={[
                  { name: "episode return", points: round.returnCurve.map((p) => ({ x: p.episode, y: p.value })), colour: "#a5c8ee" },
                  { name: "10-episode moving average", points: round.returnCurve.map((p) => ({ x: p.episode, y: p.movingAverage })), colour: "#0b6bcb" },
                ]}
                testId="chart-return"
              />
            )}
            {round.histograms.map((h) => (
              <GroupedBars
                key={h.feature}
                title={FEATURE_TITLES[h.feature] ?? h.feature}
                subtitle={h.poolSource === "recorded" ? "selected vs pool at selection time" : h.poolSource === "predictions" ? "pool from the model's stored predictions" : "pool distribution not recorded"}
                xLabel={`${h.feature} (bin start)`}
                yLabel="share of cases"
                data={(() => {
                  const names = binLabels(h.bins.map((b) => b.from));
                  return h.bins.map((b, i) => ({ category: names[i]!, selected: b.selectedShare, pool: b.poolShare }));
                })()}
                bars={[{ key: "selected", name: "selected" }, ...(h.poolSource ? [{ key: "pool", name: "pool" }] : [])]}
                testId={`chart-hist-${h.feature}`}
              />
            ))}
          </div>
          <h3>Selected cases</h3>
          <table className="panel" data-testid="selected-cases">
            <thead>
              <tr><th>Rank</th><th>Case</th><th>Why (as clinicians read it)</th><th>BALD</th><th>Entropy</th><th>Exp. entropy</th><th>Utility</th><th>Class weight</th><th>Pseudo-label</th><th>By agent</th><th>Status</th><th>Annotated as</th></tr>
            </thead>
            <tbody>
              {round.selected.map((s) => (
                <tr key={s.caseId}>
                  <td>{s.rank}</td>
                  <td><Link href={`/projects/${projectId}/cases/${s.caseId}`}>{s.externalId}</Link></td>
                  <td className="small">{s.reason}</td>
                  <td>{f3(s.bald)}</td>
                  <td>{f3(s.entropy)}</td>
                  <td>{f3(s.expectedEntropy)}</td>
                  <td>{f3(s.utility)}</td>
                  <td>{f3(s.classWeight)}</td>
                  <td>{s.pseudoLabel ?? "—"}{s.pseudoMinority ? " ★" : ""}</td>
                  <td>{s.byPolicy === null ? "—" : s.byPolicy ? "yes" : "top-up"}</td>
                  <td>{s.status}</td>
                  <td>{s.labels.length ? s.labels.join(", ") : "—"}{s.minority ? " ★" : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">★ minority class.</p>
        </section>
      )}
    </>
  );
}
