"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ZAdjudicateInput } from "@/contracts/agreement";
import { TEXT_LIMITS } from "@/contracts/text-limits";
import { useTRPC } from "../../../../_components/providers";
import { CharCount } from "../../../../_components/char-count";

interface SpanView { start: number; end: number; label: string }
const spansOf = (raw: unknown): SpanView[] =>
  Array.isArray(raw) ? raw.filter((s): s is SpanView => typeof s === "object" && s !== null && typeof (s as SpanView).start === "number" && typeof (s as SpanView).end === "number" && typeof (s as SpanView).label === "string") : [];

export function AdjudicationQueue({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const queue = useQuery(trpc.agreement.adjudicationQueue.queryOptions({ projectId }));
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.agreement.adjudicationQueue.queryKey({ projectId }) });
  const decide = useMutation(trpc.agreement.adjudicate.mutationOptions({ onSuccess: refresh }));
  const [choice, setChoice] = useState<Record<string, string[]>>({});
  const [reason, setReason] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});

  if (queue.isPending) return <p className="muted">Loading…</p>;
  if (queue.error) return <p className="error">{queue.error.message}</p>;
  const { cases, classes, multiLabel, rule } = queue.data;
  const nameOf = new Map(classes.map((c) => [c.key, c.name]));
  const names = (labels: string[]) => labels.map((k) => nameOf.get(k) ?? k).join(", ") || "—";

  const submit = (caseId: string) => (event: FormEvent) => {
    event.preventDefault();
    const parsed = ZAdjudicateInput.safeParse({ projectId, caseId, labels: choice[caseId] ?? [], reason: reason[caseId] ?? "" });
    if (!parsed.success) {
      setErrors((e) => ({ ...e, [caseId]: parsed.error.issues.map((i) => i.message).join(" ") }));
      return;
    }
    setErrors((e) => ({ ...e, [caseId]: "" }));
    decide.mutate(parsed.data, { onError: (error) => setErrors((e) => ({ ...e, [caseId]: error.message })) });
  };

  return (
    <>
      <h1>Adjudication</h1>
      <p className="muted" data-testid="training-label-rule">Training label rule: {rule}.</p>
      {cases.length === 0 && <p data-testid="adjudication-empty">Nothing to adjudicate: no case whose annotators disagree, and none sent by a reviewer.</p>}
      {cases.map((c) => (
        <section key={c.caseId} className="panel" data-testid={`adjudication-case-${c.externalId}`} style={{ marginBottom: 18 }}>
          <h2 style={{ marginTop: 0 }}>
            {c.externalId} <span className="badge">{c.reason === "requested" ? "sent by a reviewer" : "annotators disagree"}</span>
          </h2>
          {c.narrative && <p style={{ whiteSpace: "pre-wrap" }}>{c.narrative}</p>}
          <table>
            <thead><tr><th>Annotator</th><th>Labels</th><th>Evidence</th><th>Comment</th></tr></thead>
            <tbody>
              {c.annotations.map((a) => (
                <tr key={a.annotationId}>
                  <td>{a.authorName} <span className="muted">v{a.version}</span></td>
                  <td>{names(a.labels)}{a.uncertain ? " (uncertain)" : ""}</td>
                  <td>{spansOf(a.spans).map((s, i) => <div key={i}><mark>{(c.narrative ?? "").slice(s.start, s.end) || `${s.start}–${s.end}`}</mark> <span className="muted">{nameOf.get(s.label) ?? s.label}</span></div>)}</td>
                  <td>{a.comment || <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {c.adjudications.length > 0 && (
            <p className="muted">Earlier adjudications: {c.adjudications.map((a) => `${names(a.labels)} by ${a.authorName} (“${a.reason}”)`).join("; ")}</p>
          )}
          <form onSubmit={submit(c.caseId)} style={{ display: "grid", gap: 8, marginTop: 8 }}>
            <fieldset>
              <legend>Final label</legend>
              {classes.map((cls) => (
                <label key={cls.key} style={{ marginRight: 12 }}>
                  <input
                    type={multiLabel ? "checkbox" : "radio"}
                    name={`final-${c.caseId}`}
                    checked={(choice[c.caseId] ?? []).includes(cls.key)}
                    onChange={(e) => setChoice((all) => {
                      const current = all[c.caseId] ?? [];
                      const next = multiLabel ? (e.target.checked ? [...current, cls.key] : current.filter((k) => k !== cls.key)) : [cls.key];
                      return { ...all, [c.caseId]: next };
                    })}
                  />{" "}
                  {cls.name}
                </label>
              ))}
            </fieldset>
            <label>
              Reason
              <textarea value={reason[c.caseId] ?? ""} maxLength={TEXT_LIMITS.adjudicationReason} onChange={(e) => setReason((all) => ({ ...all, [c.caseId]: e.target.value }))} rows={2} style={{ width: "100%" }} />
              <CharCount field="adjudicationReason" value={reason[c.caseId] ?? ""} />
            </label>
            {errors[c.caseId] && <p className="error" role="alert">{errors[c.caseId]}</p>}
            <div><button type="submit" disabled={decide.isPending}>Record the final label</button></div>
          </form>
        </section>
      ))}
    </>
  );
}
