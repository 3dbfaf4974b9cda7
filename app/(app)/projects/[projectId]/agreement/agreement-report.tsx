"use client";

import { useQuery } from "@tanstack/react-query";
import type { AgreementEstimate } from "@/contracts/agreement";
import { ChartFrame, GroupedBars } from "../../../../_components/charts";
import { useTRPC } from "../../../../_components/providers";

const f3 = (v: number | null | undefined) => (v === null || v === undefined ? "—" : v.toFixed(3));

/** "0.546 (0.21–0.83), 10 cases" — the value, its bootstrap 95% interval and its support. */
function Figure({ e, testId }: { e: AgreementEstimate; testId?: string }) {
  return (
    <span data-testid={testId}>
      <strong>{f3(e.value)}</strong>{" "}
      <span className="muted">
        {e.low === null || e.high === null ? "(no interval)" : `(95% CI ${f3(e.low)}–${f3(e.high)})`} · {e.cases} {e.cases === 1 ? "case" : "cases"}
      </span>
    </span>
  );
}

/** Green for good agreement, red for poor; Landis & Koch bands are a guide, not a verdict. */
function kappaShade(v: number | null): string | undefined {
  if (v === null) return undefined;
  const t = Math.max(0, Math.min(1, v));
  return t >= 0.6 ? `rgba(43,138,62,${0.15 + 0.45 * t})` : `rgba(201,42,42,${0.12 + 0.4 * (1 - t)})`;
}

export function AgreementReportView({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const report = useQuery(trpc.agreement.get.queryOptions({ projectId }));
  if (report.isPending) return <p className="muted">Loading…</p>;
  if (report.error) return <p className="error">{report.error.message}</p>;
  const r = report.data;
  const names = r.annotators.map((a) => a.name);

  return (
    <>
      <h1>Label agreement</h1>
      <p className="muted" data-testid="agreement-support">
        {r.casesAnnotated} annotated cases, {r.casesWithTwoOrMore} with two or more annotators, {r.casesInDisagreement} of those with a disagreement.
        Each annotator&apos;s latest submitted version counts. Intervals: bootstrap over cases ({r.replicates} resamples, seed {r.seed}).
        {r.multiLabel ? " Multi-label project: the overall figures compare the exact label sets; each class is also measured as a present/absent item." : ""}
      </p>
      {r.casesWithTwoOrMore === 0 ? (
        <p data-testid="agreement-empty">No case has two annotators yet. Set “annotations per case” to 2 or more in the selection settings to measure agreement.</p>
      ) : (
        <>
          <h2>Overall</h2>
          <table className="panel" data-testid="agreement-overall">
            <tbody>
              <tr><th scope="row">Percent agreement</th><td><Figure e={r.overall.percentAgreement} testId="overall-percent" /></td></tr>
              <tr><th scope="row">Fleiss&apos; kappa</th><td><Figure e={r.overall.fleissKappa} testId="overall-fleiss" /></td></tr>
              <tr><th scope="row">Krippendorff&apos;s alpha (nominal)</th><td><Figure e={r.overall.krippendorffAlpha} testId="overall-alpha" /></td></tr>
              <tr><th scope="row">Evidence spans overlap F1</th><td>{r.spans.pairs === 0 ? <span className="muted">no case where two annotators both marked evidence</span> : <><Figure e={r.spans.f1} testId="overall-spans" /> <span className="muted">· {r.spans.pairs} annotator pairs</span></>}</td></tr>
            </tbody>
          </table>

          <h2>Per class (present / absent)</h2>
          <table className="panel" data-testid="agreement-per-class">
            <thead><tr><th>Class</th><th>Percent agreement</th><th>Fleiss&apos; kappa</th><th>Krippendorff&apos;s alpha</th></tr></thead>
            <tbody>
              {r.perClass.map((c) => (
                <tr key={c.key} data-testid={`agreement-class-${c.key}`}>
                  <td>{c.name}</td>
                  <td><Figure e={c.percentAgreement} /></td>
                  <td><Figure e={c.fleissKappa} /></td>
                  <td><Figure e={c.krippendorffAlpha} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="chart-grid">
            <GroupedBars
              title="Agreement per class"
              subtitle="each class as a present/absent item; 1 = perfect, 0 = chance"
              xLabel="class"
              yLabel="coefficient"
              yDomain={[0, 1]}
              data={r.perClass.map((c) => ({ name: c.name, kappa: c.fleissKappa.value, alpha: c.krippendorffAlpha.value }))}
              bars={[{ key: "kappa", name: "Fleiss' kappa" }, { key: "alpha", name: "Krippendorff's alpha" }]}
              testId="agreement-class-chart"
            />
          </div>

          <h2>Annotators</h2>
          <table className="panel" data-testid="agreement-annotators">
            <thead><tr><th>Annotator</th><th>Cases annotated</th><th>Agreement with the others</th></tr></thead>
            <tbody>
              {r.annotators.map((a) => (
                <tr key={a.id}><td>{a.name}</td><td>{a.cases}</td><td>{a.agreementWithOthers === null ? "—" : `${(a.agreementWithOthers * 100).toFixed(1)}%`}</td></tr>
              ))}
            </tbody>
          </table>

          <ChartFrame title="Cohen's kappa, annotator × annotator" subtitle="cells: kappa (shared cases)" testId="agreement-matrix">
            <table className="confusion">
              <thead>
                <tr><th scope="col"></th>{names.map((n, j) => <th key={j} scope="col">{n}</th>)}</tr>
              </thead>
              <tbody>
                {r.matrix.kappa.map((row, i) => (
                  <tr key={i}>
                    <th scope="row">{names[i]}</th>
                    {row.map((k, j) => (
                      <td key={j} style={{ textAlign: "center", background: i === j ? undefined : kappaShade(k) }}>
                        {i === j ? "—" : r.matrix.shared[i]![j] === 0 ? <span className="muted">no shared case</span> : `${f3(k)} (${r.matrix.shared[i]![j]})`}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </ChartFrame>

          <h2>Pairs</h2>
          <table className="panel" data-testid="agreement-pairs">
            <thead><tr><th>Annotators</th><th>Cohen&apos;s kappa</th><th>Percent agreement</th></tr></thead>
            <tbody>
              {r.pairs.map((p) => (
                <tr key={`${p.a}-${p.b}`}>
                  <td>{names[r.annotators.findIndex((a) => a.id === p.a)]} · {names[r.annotators.findIndex((a) => a.id === p.b)]}</td>
                  <td><Figure e={p.cohenKappa} /></td>
                  <td>{p.agreement === null ? "—" : `${(p.agreement * 100).toFixed(1)}%`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
