"use client";

import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ZReviewDecisionInput, type ReviewDecisionInput } from "@/contracts/model-review";
import { TEXT_LIMITS } from "@/contracts/text-limits";
import { ConfusionMatrix, DeltaBadge, GroupedBars, XYChart, type XYSeries } from "../../../_components/charts";
import { MinorityWarning } from "../../../_components/minority-warning";
import { useTRPC } from "../../../_components/providers";
import { SuspectedLabelErrors } from "./suspected-label-errors";
import { TrainingLabelQuality } from "./training-label-quality";
import { CharCount } from "../../../_components/char-count";
import { ReviewSummary } from "./review-summary";
import "./model-review.css";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";

type ReviewData = inferRouterOutputs<AppRouter>["review"]["get"];

const f3 = (v: number | null | undefined) => (v === null || v === undefined ? "—" : v.toFixed(3));

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "at an unrecorded time");

/** What was decided on a model that is no longer open: who, when, why — and nothing to decide. */
function DecisionRecord({ data }: { data: ReviewData }) {
  const { candidate: m, superseded } = data;
  const by = m.reviewedBy ?? "an unrecorded reviewer";
  const note = m.reviewNote ? <> Note: “{m.reviewNote}”</> : null;
  let text: React.ReactNode;
  if (superseded) {
    text = (
      <>
        <strong>Superseded</strong>
        {superseded.byVersion !== null ? <> when v{superseded.byVersion} was approved</> : null}
        {superseded.by ? <> by {superseded.by}</> : null}, {when(superseded.at)}. It cannot be approved or rejected. Why: {superseded.reason.replace(/^Superseded: /, "")}
      </>
    );
  } else if (m.status === "APPROVED") {
    text = <><strong>Approved</strong> by {by}, {when(m.reviewedAt)}; this is the active model.{note}</>;
  } else if (m.status === "RETIRED") {
    text = <><strong>Approved</strong> by {by}, {when(m.reviewedAt)}; since retired, when a newer model was approved.{note}</>;
  } else if (m.status === "REJECTED") {
    text = <><strong>Rejected</strong> by {by}, {when(m.reviewedAt)}.{note}</>;
  } else {
    text = <>This model is {m.status.toLowerCase()}: there is nothing to decide yet.</>;
  }
  return (
    <p data-testid="decision-record" data-status={superseded ? "SUPERSEDED" : m.status}>
      {text}
    </p>
  );
}

export function ModelReview({ modelVersionId }: { modelVersionId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const review = useQuery(trpc.review.get.queryOptions({ modelVersionId }));
  const [note, setNote] = useState("");
  const [noteError, setNoteError] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: "error" | "notice"; text: string } | null>(null);
  const decide = useMutation(
    trpc.review.decide.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.review.get.queryKey({ modelVersionId }) });
        await queryClient.invalidateQueries({ queryKey: trpc.review.list.queryKey() });
      },
    }),
  );

  if (review.isPending) return <p className="muted">Loading…</p>;
  if (review.error) return <p className="error">{review.error.message}</p>;
  const data = review.data;
  const { candidate, active, changes, guard } = data;
  const cm = candidate.metrics;
  const am = active?.metrics ?? null;
  const nameOf = (key: string) => data.project.labels.find((l) => l.key === key)?.name ?? key;

  async function submit(decision: ReviewDecisionInput["decision"], event?: FormEvent) {
    event?.preventDefault();
    const parsed = ZReviewDecisionInput.safeParse({ modelVersionId, decision, note });
    if (!parsed.success) {
      setNoteError(parsed.error.issues.find((i) => i.path[0] === "note")?.message ?? parsed.error.issues[0]?.message ?? "Invalid input");
      return;
    }
    setNoteError(null);
    try {
      const result = await decide.mutateAsync(parsed.data);
      setMessage({
        kind: "notice",
        text:
          result.status === "APPROVED"
            ? `Model v${result.version} approved${result.retiredVersions.length ? `; v${result.retiredVersions.join(", v")} retired` : ""}${
                result.supersededVersions.length ? `; older ${result.supersededVersions.length === 1 ? "candidate" : "candidates"} v${result.supersededVersions.join(", v")} superseded (no longer approvable)` : ""
              }. The next selection round has been queued.`
            : `Model v${result.version} rejected.`,
      });
      setNote("");
    } catch (error) {
      setMessage({ kind: "error", text: error instanceof Error ? error.message : "The decision failed." });
    }
  }

  const classLabels = (cm ?? am)?.classes.map((c) => c.name) ?? [];
  const perClassData = (cm?.classes ?? []).map((c) => {
    const a = am?.classes.find((x) => x.key === c.key);
    return { category: c.minority ? `${c.name} ★` : c.name, candRecall: c.recall, activeRecall: a?.recall ?? null, candF1: c.f1, activeF1: a?.f1 ?? null };
  });
  const prSeries = (cm?.classes ?? [])
    .filter((c) => c.minority)
    .flatMap((c, i): XYSeries[] => {
      const a = am?.classes.find((x) => x.key === c.key);
      const colours = ["#0b6bcb", "#d9480f", "#2b8a3e", "#862e9c"];
      const colour = colours[i % colours.length];
      const out: XYSeries[] = [{ name: `${c.name} — candidate v${candidate.version}`, points: c.prCurve.map((p) => ({ x: p.recall, y: p.precision })), colour }];
      if (a && active) out.push({ name: `${c.name} — active v${active.version}`, points: a.prCurve.map((p) => ({ x: p.recall, y: p.precision })), colour, dashed: true });
      return out;
    });
  const reliability = (m: typeof cm) => (m?.reliability ?? []).filter((b) => b.count > 0 && b.meanConfidence !== null && b.accuracy !== null).map((b) => ({ x: b.meanConfidence!, y: b.accuracy! }));
  const reliabilitySeries: XYSeries[] = [
    { name: "perfect calibration", points: [{ x: 0, y: 0 }, { x: 1, y: 1 }], dashed: true, colour: "#868e96" },
    { name: `candidate v${candidate.version}`, points: reliability(cm), colour: "#0b6bcb" },
    ...(active ? [{ name: `active v${active.version}`, points: reliability(am), colour: "#d9480f" }] : []),
  ];

  return (
    <div className="review-page">
      <p><Link href="/models">← Models</Link></p>
      <h1>
        Review model v{candidate.version} <span className={`badge ${candidate.status}`}>{candidate.status}</span>
      </h1>
      <p className="muted">
        Project {data.project.name}. Minority classes: {data.project.labels.filter((l) => data.project.minorityClasses.includes(l.key)).map((l) => l.name).join(", ") || "—"}.
        {/* Only a comparison that has metrics on both sides behind it is called one. */}
        {active
          ? !cm
            ? ` The active model is v${active.version}; this model has no recorded test metrics, so nothing is compared with it.`
            : !am
              ? ` The active model v${active.version} has no recorded test metrics, so nothing is compared with it.`
              : changes.sameTestSet
                ? ` Compared with the active model v${active.version}, both evaluated on ${Math.round(cm.n)} TEST cases.`
                : ` Beside the active model v${active.version}, evaluated on a TEST split of a different size (${Math.round(cm.n)} vs ${Math.round(am.n)} cases).`
          : candidate.status === "APPROVED"
            ? " This is the active model."
            : candidate.status === "CANDIDATE"
              ? " There is no active model yet: this would be the first."
              : " No other model is active at the moment."}
      </p>
      <div className="review-top">
        <div className="review-glance" data-testid="review-at-a-glance">
          <div className={`guard ${guard.status === "passed" ? "ok" : guard.status === "failed" ? "flagged" : "thin"}`} role={guard.status === "passed" ? "status" : "alert"} data-testid="guard" data-status={guard.status}>
            {guard.status === "passed" && (
              <>
                Guard passed: {active ? <>no minority-class recall or AUPRC is worse than the active model&apos;s by more than {guard.tolerance}, </> : null}
                no minority class has recall 0, and every minority class rests on at least {guard.minSupport} TEST cases ({guard.support.map((s) => `${nameOf(s.classKey)} ${s.support}`).join(", ")}).
              </>
            )}
            {guard.status === "failed" && <strong>Guard failed: the candidate is not safe on a minority class</strong>}
            {guard.status === "insufficient" && (
              <strong>Guard not passed: too few cases to judge</strong>
            )}
            {guard.status !== "passed" && (
              <ul>
                {guard.findings.map((g) => (
                  <li key={`${g.classKey}-${g.metric}`}>
                    {nameOf(g.classKey)} {g.metric === "recall" ? "recall" : "AUPRC"} is worse than the active model&apos;s beyond the tolerance of {guard.tolerance}: {g.active.toFixed(3)} → {g.candidate.toFixed(3)} (−{g.drop.toFixed(3)})
                  </li>
                ))}
                {guard.floors.map((f) => (
                  <li key={`floor-${f.classKey}`} data-testid="guard-floor">
                    {nameOf(f.classKey)}: recall 0 — the candidate finds none of its {f.support} TEST {f.support === 1 ? "case" : "cases"}. A model that never finds a minority class does not pass, whatever the active model did.
                  </li>
                ))}
                {guard.thin.map((t) => (
                  <li key={`thin-${t.classKey}`} data-testid="guard-thin">
                    {nameOf(t.classKey)}: too few cases to judge — its metrics rest on {t.support} TEST {t.support === 1 ? "case" : "cases"}; the project asks for at least {guard.minSupport}.
                  </li>
                ))}
                {guard.support.length === 0 && <li>The candidate was evaluated on no minority class.</li>}
              </ul>
            )}
            {guard.status === "insufficient" && (
              <p style={{ margin: "6px 0 0" }}>
                Add labelled TEST cases of these classes (import them with split TEST) before relying on these numbers
                {data.decision.open ? "; you may still decide, and the audit log records that the guard did not pass." : "."}
              </p>
            )}
          </div>

          <MinorityWarning watch={data.minorityWatch} projectId={data.project.id} />
          {changes.sameTestSet === false && (
            <p className="error">The two models were evaluated on test sets of different sizes ({cm?.n} vs {am?.n} cases): compare with care.</p>
          )}
          <ReviewSummary data={data} />
        </div>
        <section className="panel review-decision" data-testid="decision" id="decision" aria-labelledby="decision-title">
          <h2 id="decision-title">Decision</h2>
          {message && <p className={message.kind} role={message.kind === "error" ? "alert" : "status"}>{message.text}</p>}
          {!data.decision.open && <DecisionRecord data={data} />}
          {data.decision.open && !data.decision.canDecide && <p className="muted">Only reviewers approve or reject models; you can view this review.</p>}
          {data.decision.canDecide && (
            <form onSubmit={(e) => submit("approve", e)} noValidate>
              {guard.status !== "passed" && (
                <p className="muted" data-testid="decision-guard-note">The guard did not pass ({guard.status === "failed" ? "failed" : "too few cases to judge"}); an approval records that in the audit log.</p>
              )}
              {data.decision.fourEyesBlocked && (
                <p className="error">Four-eyes rule: you started this training, so another reviewer must approve it. You may still reject it.</p>
              )}
              <label>
                Review note (required)
                <textarea name="note" rows={3} value={note} maxLength={TEXT_LIMITS.reviewNote} onChange={(e) => setNote(e.target.value)} aria-invalid={noteError ? true : undefined} aria-describedby={noteError ? "note-error" : undefined} />
                <CharCount field="reviewNote" value={note} />
              </label>
              {noteError && <p className="error" id="note-error">{noteError}</p>}
              <div className="form-row" style={{ marginTop: 10 }}>
                <button type="submit" disabled={decide.isPending}>Approve</button>
                <button type="button" className="danger" disabled={decide.isPending} onClick={() => submit("reject")}>Reject</button>
              </div>
            </form>
          )}
        </section>
      </div>

      <section className="panel" id="metric-changes">
        <h2 style={{ marginTop: 0 }}>What changed since the active model</h2>
        <div className="side-by-side">
          <dl className="kv" data-testid="training-summary">
            <dt>Trained on</dt>
            <dd>{candidate.labelCount ?? "—"} labels {changes.labelDelta !== null && <DeltaBadge delta={changes.labelDelta} digits={0} unit=" labels" />}</dd>
            <dt>Rounds</dt>
            <dd>{candidate.rounds.length ? candidate.rounds.map((r) => `#${r}`).join(", ") : "seed labels only"}</dd>
            <dt>New rounds</dt>
            <dd>{changes.newRounds.length ? changes.newRounds.map((r) => `#${r}`).join(", ") : "none"}</dd>
            <dt>Encoder</dt>
            <dd>{candidate.encoderVersion}</dd>
            <dt>Training started by</dt>
            <dd>{candidate.triggeredBy ?? "the system (automatic retraining)"}</dd>
            {active && (
              <>
                <dt>Active model</dt>
                <dd>v{active.version}, {active.labelCount ?? "—"} labels, approved {active.reviewedAt ? new Date(active.reviewedAt).toLocaleDateString() : "—"}{active.reviewedBy ? ` by ${active.reviewedBy}` : ""}</dd>
              </>
            )}
          </dl>
          <table data-testid="metric-deltas">
            <thead><tr><th>Test metric</th><th>Active</th><th>Candidate</th><th>Change</th><th>TEST cases it rests on</th></tr></thead>
            <tbody>
              {changes.deltas.map((d) => (
                <tr key={d.metric} data-testid={`delta-${d.metric}`}>
                  <td>{d.metric}{d.higherIsBetter ? "" : " (lower is better)"}</td>
                  <td>{f3(d.active)}</td>
                  <td>{f3(d.candidate)}</td>
                  <td><DeltaBadge delta={d.delta} higherIsBetter={d.higherIsBetter} /></td>
                  <td className="support">
                    {d.support.map((s) => (d.support.length === 1 && s.classKey === null ? `${s.support}` : `${s.name} ${s.support}`)).join(" · ") || "none"}
                    {d.tooFew && <span className="too-few"> too few cases to judge</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      {!cm && <p className="error">This model has no recorded test metrics.</p>}
      {cm && (
        <>
          <h2 id="per-class">Per class on the TEST split ({Math.round(cm.n)} cases)</h2>
          <p className="muted">Support = the TEST cases of each class; every metric of a class rests on that many cases, and below {guard.minSupport} (the project&apos;s threshold) it is too few to judge.</p>
          <table className="panel" data-testid="per-class">
            <thead>
              <tr><th>Class</th><th>Support</th><th>Precision</th><th>Recall</th><th>F1</th><th>AUPRC</th>{am && <th>Recall vs active</th>}{am && <th>AUPRC vs active</th>}</tr>
            </thead>
            <tbody>
              {cm.classes.map((c) => {
                const a = am?.classes.find((x) => x.key === c.key);
                return (
                  <tr key={c.key} data-testid={`class-row-${c.key}`}>
                    <td>{c.name}{c.minority && <span className="badge" style={{ marginLeft: 6 }}>minority</span>}</td>
                    <td>
                      {Math.round(c.support)}
                      {c.support < guard.minSupport && <span className="too-few"> too few cases to judge</span>}
                    </td>
                    <td>{f3(c.precision)}</td>
                    <td>{f3(c.recall)}</td>
                    <td>{f3(c.f1)}</td>
                    <td>{f3(c.auprc)}</td>
                    {am && <td><DeltaBadge delta={a ? c.recall - a.recall : null} /></td>}
                    {am && <td><DeltaBadge delta={a && a.auprc !== null && c.auprc !== null ? c.auprc - a.auprc : null} /></td>}
                  </tr>
                );
              })}
            </tbody>
          </table>
          <div className="chart-grid">
            <GroupedBars
              title="Recall per class"
              subtitle="★ minority class"
              xLabel="class"
              yLabel="recall"
              yDomain={[0, 1]}
              data={perClassData}
              bars={[{ key: "candRecall", name: `candidate v${candidate.version}` }, ...(active ? [{ key: "activeRecall", name: `active v${active.version}` }] : [])]}
              testId="chart-recall"
            />
            <XYChart
              title="Precision-recall curves, minority classes"
              subtitle="solid: candidate, dashed: active"
              xLabel="recall"
              yLabel="precision"
              xDomain={[0, 1]}
              yDomain={[0, 1]}
              series={prSeries}
              testId="chart-pr"
            />
            <XYChart
              title="Reliability diagram"
              subtitle={`ECE candidate ${f3(cm.ece)}${am ? `, active ${f3(am.ece)}` : ""}`}
              xLabel="mean confidence"
              yLabel="accuracy"
              xDomain={[0, 1]}
              yDomain={[0, 1]}
              series={reliabilitySeries}
              dots
              testId="chart-reliability"
            />
          </div>
          <div className="review-confusion">
            <div><ConfusionMatrix title={`Confusion matrix — candidate v${candidate.version}`} labels={classLabels} matrix={cm.confusion} testId="confusion-candidate" /></div>
            {am && active && <div><ConfusionMatrix title={`Confusion matrix — active v${active.version}`} labels={classLabels} matrix={am.confusion} testId="confusion-active" /></div>}
          </div>
        </>
      )}


      <TrainingLabelQuality quality={data.labelQuality} projectId={data.project.id} />
      <SuspectedLabelErrors errors={data.labelErrors} projectId={data.project.id} modelVersionId={modelVersionId} nameOf={nameOf} />
      <p className="review-back"><a href="#decision">↑ Back to the decision</a></p>
    </div>
  );
}
