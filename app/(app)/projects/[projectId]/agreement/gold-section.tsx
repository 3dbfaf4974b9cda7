"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { XYChart } from "../../../../_components/charts";
import { useTRPC } from "../../../../_components/providers";

const pct = (v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(0)}%`);

/**
 * The "Gold" section of the agreement page (issue 14 item 3), for a member whose project role may manage gold
 * cases: each annotator's accuracy and minority-class recall on gold cases with the answers each rests on,
 * the same per batch of answers over time, and the annotators below the project's threshold (flagged, not blocked).
 */
export function GoldSection({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
  const allowed = project.data?.permissions.includes("labels.gold") ?? false;
  const report = useQuery(trpc.gold.report.queryOptions({ projectId }, { retry: false, enabled: allowed }));
  if (!allowed) return null;
  if (report.isPending) return <p className="muted">Loading the gold report…</p>;
  if (report.error) return <p className="error">{report.error.message}</p>;
  const r = report.data;
  return (
    <section data-testid="gold-section" aria-labelledby="gold-heading">
      <h2 id="gold-heading">Gold</h2>
      <p className="muted" data-testid="gold-summary">
        {r.goldCases} gold case{r.goldCases === 1 ? "" : "s"}; the queue gives them at a rate of {r.goldRate} ({r.goldRate === 0 ? "off" : `${(r.goldRate * 100).toFixed(0)}% of each clinician's cases`}), each
        to a clinician at most once, without saying which. Each annotator&apos;s first answer to a gold case counts. An annotator is flagged below {pct(r.goldMinAccuracy)} accuracy
        once {r.minAnswers} answers are in — nobody is blocked. Mark gold cases in the <Link href={`/projects/${projectId}/cases`}>case browser</Link>; change the rate and threshold
        in the <Link href={`/projects/${projectId}/settings/selection`}>selection settings</Link>. Gold answers never vote on a training label: a gold case trains with its own label.
      </p>
      {r.flagged.length > 0 && (
        <div className="panel error" role="alert" data-testid="gold-flagged">
          Below the gold accuracy threshold ({pct(r.goldMinAccuracy)}):{" "}
          {r.flagged.map((f) => `${f.name} (${pct(f.accuracy)} of ${f.answers} answers)`).join("; ")}. Consider reviewing their recent labels or sending their cases to adjudication.
        </div>
      )}
      {r.annotators.length === 0 ? (
        <p data-testid="gold-empty">No gold answer yet{r.goldCases === 0 ? ": mark cases with a known answer as gold in the case browser" : r.goldRate === 0 ? ": set a gold rate above 0 in the selection settings" : ""}.</p>
      ) : (
        <>
          <table className="panel" data-testid="gold-annotators">
            <thead>
              <tr><th>Annotator</th><th>Gold answers</th><th>Accuracy</th><th>Minority-class recall</th><th>Verdict</th></tr>
            </thead>
            <tbody>
              {r.annotators.map((a) => (
                <tr key={a.userId} data-testid="gold-annotator" data-flagged={a.flagged ? "true" : "false"}>
                  <td>{a.name}</td>
                  <td>{a.answers}</td>
                  <td>{pct(a.accuracy)} <span className="muted">({a.correct} of {a.answers})</span></td>
                  <td>{a.minorityRecall === null ? <span className="muted">no minority gold answer</span> : <>{pct(a.minorityRecall)} <span className="muted">({a.minorityHits} of {a.minorityAnswers})</span></>}</td>
                  <td>{a.flagged ? <span className="badge inactive">flagged</span> : a.note ? <span className="muted">{a.note}</span> : "ok"}{a.flagged && a.note ? <span className="muted"> — {a.note}</span> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="chart-grid">
            <XYChart
              title="Accuracy on gold over time"
              subtitle={`per batch of ${r.batchSize} gold answers, oldest first (the last batch may be smaller: see the table below)`}
              xLabel="batch"
              yLabel="accuracy"
              xInteger
              dots
              yDomain={[0, 1]}
              series={r.annotators.map((a) => ({ name: a.name, points: a.batches.filter((b) => b.accuracy !== null).map((b) => ({ x: b.index, y: b.accuracy! })) }))}
              testId="gold-accuracy-chart"
            />
            <XYChart
              title="Minority-class recall on gold over time"
              subtitle={`per batch of ${r.batchSize} gold answers; batches without a minority gold case are left out`}
              xLabel="batch"
              yLabel="recall"
              xInteger
              dots
              yDomain={[0, 1]}
              series={r.annotators.map((a) => ({ name: a.name, points: a.batches.filter((b) => b.minorityRecall !== null).map((b) => ({ x: b.index, y: b.minorityRecall! })) }))}
              testId="gold-recall-chart"
            />
          </div>
          <table className="panel" data-testid="gold-batches">
            <thead>
              <tr><th>Annotator</th><th>Batch</th><th>Answered</th><th>Answers</th><th>Accuracy</th><th>Minority recall</th></tr>
            </thead>
            <tbody>
              {r.annotators.flatMap((a) =>
                a.batches.map((b) => (
                  <tr key={`${a.userId}-${b.index}`}>
                    <td>{a.name}</td>
                    <td>{b.index}</td>
                    <td>{new Date(b.from).toLocaleDateString()} – {new Date(b.to).toLocaleDateString()}</td>
                    <td>{b.answers}</td>
                    <td>{pct(b.accuracy)}</td>
                    <td>{b.minorityRecall === null ? "—" : `${pct(b.minorityRecall)} (${b.minorityHits} of ${b.minorityAnswers})`}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
