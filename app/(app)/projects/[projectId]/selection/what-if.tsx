"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { labelNoiseFromText, SIMULATION_STRATEGIES, ZStartSimulationInput } from "@/contracts/selection-stats";
import { ProgressBar, XYChart, type XYSeries } from "../../../../_components/charts";
import { useTRPC } from "../../../../_components/providers";
import { whatIfCaveats } from "./what-if-caveats";

const f3 = (v: number | null | undefined) => (v === null || v === undefined ? "—" : v.toFixed(3));
/** A count (a mean over seeds may be fractional): a whole number as such, never "10.000". */
const count = (v: number | null | undefined) => (v === null || v === undefined ? "—" : Number.isInteger(v) ? String(v) : v.toFixed(1));


/** What-if: replay selection on the project's labelled cases as a background job, then draw its curves. */
export function WhatIf({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [strategies, setStrategies] = useState<string[]>(["rads", "random", "max-entropy"]);
  const [budgets, setBudgets] = useState("2, 5");
  const [rounds, setRounds] = useState(3);
  const [seeds, setSeeds] = useState(2);
  const [episodes, setEpisodes] = useState(60);
  const [seedSize, setSeedSize] = useState(10);
  const [noise, setNoise] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);

  const list = useQuery({
    ...trpc.selectionStats.simulations.queryOptions({ projectId }),
    // Poll while a run is queued or running, so the progress bar moves.
    refetchInterval: (q) => (q.state.data?.some((r) => r.status === "QUEUED" || r.status === "RUNNING") ? 1000 : false),
  });
  const shownId = selected ?? list.data?.[0]?.id ?? null;
  const run = useQuery({
    ...trpc.selectionStats.simulation.queryOptions({ projectId, jobRunId: shownId ?? "" }),
    enabled: shownId !== null,
    refetchInterval: (q) => (q.state.data && (q.state.data.status === "QUEUED" || q.state.data.status === "RUNNING") ? 1000 : false),
  });
  const start = useMutation(trpc.selectionStats.startSimulation.mutationOptions({
    onSuccess: async (result) => {
      setSelected(result.jobRunId);
      await queryClient.invalidateQueries({ queryKey: trpc.selectionStats.simulations.queryKey({ projectId }) });
    },
  }));

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const parsed = ZStartSimulationInput.safeParse({
      projectId,
      strategies,
      budgets: budgets.split(/[\s,]+/).filter(Boolean).map(Number),
      rounds,
      seeds,
      episodes,
      seedSize,
      noise: labelNoiseFromText(noise),
    });
    if (!parsed.success) {
      setError(parsed.error.issues.map((i) => i.message).join("; "));
      return;
    }
    setError(null);
    try {
      await start.mutateAsync(parsed.data);
    } catch (e) {
      setError(e instanceof Error ? e.message : "Could not start the simulation.");
    }
  }

  const result = run.data?.result ?? null;
  const stats = useQuery(trpc.selectionStats.get.queryOptions({ projectId }));
  const caveats = result ? whatIfCaveats(result, stats.data?.project.minTestSupport ?? 10) : [];
  const budgetsInResult = result ? [...new Set(result.aggregates.map((a) => a.budget))] : [];
  const noiseOf = (a: { noise?: string }) => a.noise ?? "none";
  const noisy = result ? result.aggregates.some((a) => noiseOf(a) !== "none") : false;

  return (
    <section data-testid="what-if">
      <h2>What-if simulation</h2>
      <p className="muted">
        Replays selection on this project&apos;s labelled cases: each strategy picks from the labelled non-test cases with their labels hidden,
        the head is retrained and scored on the TEST split after every round. Runs in the background on the worker.
      </p>
      <form className="panel" onSubmit={onSubmit} noValidate>
        <fieldset style={{ border: 0, padding: 0, margin: "0 0 10px" }}>
          <legend className="muted">Strategies</legend>
          <div className="form-row">
            {SIMULATION_STRATEGIES.map((s) => (
              <label key={s} style={{ flexDirection: "row", alignItems: "center", gap: 6 }}>
                <input type="checkbox" checked={strategies.includes(s)} onChange={(e) => setStrategies(e.target.checked ? [...strategies, s] : strategies.filter((x) => x !== s))} />
                {s}
              </label>
            ))}
          </div>
        </fieldset>
        <div className="form-row">
          <label>Budgets per round<input name="budgets" value={budgets} onChange={(e) => setBudgets(e.target.value)} /></label>
          <label>Rounds<input type="number" min={1} max={10} value={rounds} onChange={(e) => setRounds(Number(e.target.value))} /></label>
          <label>Seeds<input type="number" min={1} max={5} value={seeds} onChange={(e) => setSeeds(Number(e.target.value))} /></label>
          <label>RADS episodes<input type="number" min={10} max={300} value={episodes} onChange={(e) => setEpisodes(Number(e.target.value))} /></label>
          <label>Seed set<input name="seedSize" type="number" min={2} max={500} value={seedSize} onChange={(e) => setSeedSize(Number(e.target.value))} title="Labelled cases each run starts from (at least one minority case)" /></label>
          <label>
            Label noise
            <input
              name="noise"
              value={noise}
              placeholder="e.g. symmetric:0.1, minority:0.3"
              onChange={(e) => setNoise(e.target.value)}
              title="Wrong labels the simulated annotators return (TEST stays true), each setting run beside noise-free: symmetric:r flips any label to another class with rate r; minority:r flips minority labels to the majority class with rate r"
            />
          </label>
          <button type="submit" disabled={start.isPending}>Run simulation</button>
        </div>
        {error && <p className="error" role="alert">{error}</p>}
      </form>

      {list.data && list.data.length > 1 && (
        <p>
          Earlier runs:{" "}
          {list.data.map((r) => (
            <button key={r.id} type="button" className="secondary" style={{ marginRight: 6 }} disabled={r.id === shownId} onClick={() => setSelected(r.id)}>
              {new Date(r.createdAt).toLocaleTimeString()} ({r.status.toLowerCase()})
            </button>
          ))}
        </p>
      )}

      {run.data && (run.data.status === "QUEUED" || run.data.status === "RUNNING") && (
        <ProgressBar percent={run.data.percent} label={run.data.status === "QUEUED" ? "waiting for the worker" : run.data.stage} />
      )}
      {run.data?.status === "FAILED" && <p className="error" role="alert">The simulation failed: {run.data.error}</p>}
      {result && (
        <div data-testid="simulation-result">
          <p className="muted">
            {result.trainSize} labelled pool cases (minority share {f3(result.trainPrior)}), TEST split of {result.testSize} (minority share {f3(result.testPrior)}); features: {result.embeddings}{result.vectorsRead !== undefined ? ` (${result.vectorsRead} vectors)` : ""}{result.seedSize !== undefined ? `; seed set ${result.seedSize}` : ""}.
          </p>
          {caveats.length > 0 && (
            <div className="guard thin" role="alert" data-testid="what-if-caveats">
              <strong>This comparison may not mean much:</strong>
              <ul>
                {caveats.map((c) => <li key={c}>{c}</li>)}
              </ul>
            </div>
          )}
          <div className="chart-grid">
            {budgetsInResult.map((budget) => {
              const series: XYSeries[] = result.aggregates
                .filter((a) => a.budget === budget)
                .map((a) => ({ name: noiseOf(a) === "none" ? a.strategy : `${a.strategy} (noise ${noiseOf(a)})`, points: a.curve.filter((p) => p.labelled !== null && p.minorityF1 !== null).map((p) => ({ x: p.labelled!, y: p.minorityF1! })) }));
              return (
                <XYChart
                  key={budget}
                  title={`Learning curves, budget ${budget} per round`}
                  subtitle="minority F1 on the TEST split, mean over seeds"
                  xLabel="labelled cases"
                  yLabel="minority F1"
                  yDomain={[0, 1]}
                  xInteger
                  dots
                  series={series}
                  testId={`chart-sim-${budget}`}
                />
              );
            })}
          </div>
          <table className="panel" data-testid="simulation-table">
            <thead>
              <tr><th>Strategy</th>{noisy && <th>Label noise</th>}<th>Budget</th><th>Seeds</th><th>Labelled (end)</th><th>Minority F1</th><th>± std</th><th>Minority AUPRC</th><th>Hit rate</th><th>Pool prior</th></tr>
            </thead>
            <tbody>
              {result.aggregates.map((a) => (
                <tr key={`${a.strategy}-${a.budget}-${noiseOf(a)}`}>
                  <td>{a.strategy}</td>
                  {noisy && <td>{noiseOf(a) === "none" ? "none" : noiseOf(a).replace(":", " ")}</td>}
                  <td>{a.budget}</td>
                  <td>{a.seeds}</td>
                  <td>{count(a.final.labelled)}</td>
                  <td>{f3(a.final.minorityF1)}</td>
                  <td>{f3(a.final.minorityF1Std)}</td>
                  <td>{f3(a.final.minorityAuprc)}</td>
                  <td>{f3(a.final.hitRate)}</td>
                  <td>{f3(a.poolPrior)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {noisy && (
            <p className="muted" data-testid="simulation-noise-note">
              Rows with label noise: the simulated annotators returned wrong labels for that share of the pool and seed cases (symmetric: any class to another; minority: a minority label to the majority class), the same cases for every strategy of a seed.
              TEST keeps its true labels, so F1 and AUPRC say how much each strategy loses to the noise; the hit rate counts cases that are truly minority.
            </p>
          )}
        </div>
      )}
    </section>
  );
}
