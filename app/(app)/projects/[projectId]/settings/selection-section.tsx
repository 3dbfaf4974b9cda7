"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import { SELECTION_STRATEGIES } from "@/contracts/project-config";
import { SELECTION_SETTINGS_HELP, ZUpdateSelectionSettingsInput, type SelectionSettingsField } from "@/contracts/project-settings";
import { serverFieldErrors, zodFieldErrors, type FieldErrors } from "../../../../_components/form-errors";
import { useTRPC } from "../../../../_components/providers";

const STRATEGY_LABELS: Record<(typeof SELECTION_STRATEGIES)[number], string> = {
  rads: "RADS (minority-seeking)",
  "rads-paper": "RADS as published (for comparison)",
  bald: "BALD",
  entropy: "Max entropy",
  margin: "Smallest margin",
  random: "Random",
  coreset: "Coreset (k-center)",
};

/** The form's state: numbers as typed (strings), so a half-typed value is shown as typed and refused with a message. */
interface FormState {
  strategy: string;
  budget: string;
  mcPasses: string;
  episodes: string;
  rhoPerClass: boolean;
  rho: string;
  rhoByClass: Record<string, string>;
  lambda: string;
  annotationsPerCase: string;
  leaseMinutes: string;
  onRoundComplete: boolean;
  everyNLabels: string;
  scheduleHours: string;
  minTrainingIntervalMinutes: string;
  reviewTolerance: string;
  minTestSupport: string;
  goldRate: string;
  goldMinAccuracy: string;
  fourEyes: boolean;
  showPredictions: boolean;
  generateCaseIds: boolean;
  allowPatientIdentifiers: boolean;
  keepDateIntervals: boolean;
}

/** "" → undefined (the schema names the missing field), else the number (NaN for text: the schema refuses it). */
const num = (s: string) => (s.trim() === "" ? undefined : Number(s));
/** "" → null (trigger off). */
const numOrNull = (s: string) => (s.trim() === "" ? null : Number(s));

export function SelectionSection({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const current = useQuery(trpc.projectSettings.selection.queryOptions({ projectId }, { retry: false }));
  const update = useMutation(trpc.projectSettings.updateSelection.mutationOptions());
  const [form, setForm] = useState<FormState | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);

  const data = current.data;
  useEffect(() => {
    if (!data || form) return;
    const v = data.values;
    setForm({
      strategy: v.strategy,
      budget: String(v.budget),
      mcPasses: String(v.mcPasses),
      episodes: String(v.episodes),
      rhoPerClass: typeof v.rho === "object",
      rho: typeof v.rho === "number" ? String(v.rho) : "0.5",
      rhoByClass: Object.fromEntries(data.minorityClasses.map((k) => [k, typeof v.rho === "object" && v.rho[k] !== undefined ? String(v.rho[k]) : ""])),
      lambda: String(v.lambda),
      annotationsPerCase: String(v.annotationsPerCase),
      leaseMinutes: String(v.leaseMinutes),
      onRoundComplete: v.onRoundComplete,
      everyNLabels: v.everyNLabels === null ? "" : String(v.everyNLabels),
      scheduleHours: v.scheduleHours === null ? "" : String(v.scheduleHours),
      minTrainingIntervalMinutes: String(v.minTrainingIntervalMinutes),
      reviewTolerance: String(v.reviewTolerance),
      minTestSupport: String(v.minTestSupport),
      goldRate: String(v.goldRate ?? 0),
      goldMinAccuracy: String(v.goldMinAccuracy ?? 0.8),
      fourEyes: v.fourEyes,
      showPredictions: v.showPredictions,
      generateCaseIds: v.generateCaseIds,
      allowPatientIdentifiers: v.allowPatientIdentifiers ?? false,
      keepDateIntervals: v.keepDateIntervals ?? false,
    });
  }, [data, form]);

  if (current.error) return <section className="panel"><p className="error">{current.error.message}</p></section>;
  if (!data || !form) return <section className="panel"><p className="muted">Loading the selection settings…</p></section>;
  const readOnly = data.archived || update.isPending;
  const set = (patch: Partial<FormState>) => setForm({ ...form, ...patch });
  /** The message for a field, also when the schema put it on a sub-path (e.g. rho.<class>). */
  const errorOf = (field: string) => errors[field] ?? Object.entries(errors).find(([k]) => k.startsWith(`${field}.`))?.[1];

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!form) return;
    setSaved(null);
    const rho = form.rhoPerClass
      ? Object.fromEntries(Object.entries(form.rhoByClass).filter(([, v]) => v.trim() !== "").map(([k, v]) => [k, Number(v)]))
      : num(form.rho);
    const parsed = ZUpdateSelectionSettingsInput.safeParse({
      projectId,
      strategy: form.strategy,
      budget: num(form.budget),
      mcPasses: num(form.mcPasses),
      episodes: num(form.episodes),
      rho,
      lambda: num(form.lambda),
      annotationsPerCase: num(form.annotationsPerCase),
      leaseMinutes: num(form.leaseMinutes),
      onRoundComplete: form.onRoundComplete,
      everyNLabels: numOrNull(form.everyNLabels),
      scheduleHours: numOrNull(form.scheduleHours),
      minTrainingIntervalMinutes: num(form.minTrainingIntervalMinutes),
      reviewTolerance: num(form.reviewTolerance),
      minTestSupport: num(form.minTestSupport),
      goldRate: num(form.goldRate),
      goldMinAccuracy: num(form.goldMinAccuracy),
      fourEyes: form.fourEyes,
      showPredictions: form.showPredictions,
      generateCaseIds: form.generateCaseIds,
      allowPatientIdentifiers: form.allowPatientIdentifiers,
      keepDateIntervals: form.keepDateIntervals,
    });
    if (!parsed.success) return setErrors(zodFieldErrors(parsed.error));
    setErrors({});
    try {
      const result = await update.mutateAsync(parsed.data);
      setSaved(result.changed.length ? `Saved (${result.changed.length} change${result.changed.length === 1 ? "" : "s"}). The next round and the next retraining check use them.` : "Nothing changed.");
      await queryClient.invalidateQueries({ queryKey: trpc.projectSettings.selection.queryKey({ projectId }) });
    } catch (error) {
      setErrors(serverFieldErrors(error));
    }
  }

  const field = (name: SelectionSettingsField, label: string, input: ReactNode) => (
    <label key={name} style={{ marginTop: 12 }}>
      <span style={{ color: "var(--ink)" }}>{label}</span>
      {input}
      <span className="muted" style={{ fontSize: 13 }}>{SELECTION_SETTINGS_HELP[name]}</span>
      {errorOf(name) && <span className="error" data-testid="field-error">{errorOf(name)}</span>}
    </label>
  );
  const numberInput = (name: keyof FormState & SelectionSettingsField, label: string, attrs: { step?: string; placeholder?: string } = {}) =>
    field(name, label, <input inputMode="decimal" value={form[name] as string} onChange={(e) => set({ [name]: e.target.value } as Partial<FormState>)} disabled={readOnly} aria-label={label} {...attrs} />);
  const checkbox = (name: keyof FormState & SelectionSettingsField, label: string) => (
    <label key={name} style={{ marginTop: 12, flexDirection: "row", alignItems: "flex-start", gap: 8 }}>
      <input type="checkbox" checked={form[name] as boolean} onChange={(e) => set({ [name]: e.target.checked } as Partial<FormState>)} disabled={readOnly} aria-label={label} />
      <span>
        <span style={{ color: "var(--ink)" }}>{label}</span>
        <br />
        <span className="muted" style={{ fontSize: 13 }}>{SELECTION_SETTINGS_HELP[name]}</span>
        {errorOf(name) && <span className="error" data-testid="field-error"> {errorOf(name)}</span>}
      </span>
    </label>
  );

  return (
    <section className="panel" aria-labelledby="selection-heading">
      <h2 id="selection-heading" style={{ marginTop: 0 }}>Selection and loop</h2>
      <p className="muted">
        The worker reads these for its next job. {data.poolSize} case{data.poolSize === 1 ? "" : "s"} can be selected now (unlabelled POOL cases outside an open round).
      </p>
      <form onSubmit={save} noValidate aria-label="Selection and loop settings">
        <h3>Selection</h3>
        {field(
          "strategy",
          "Strategy",
          <select value={form.strategy} onChange={(e) => set({ strategy: e.target.value })} disabled={readOnly} aria-label="Strategy">
            {SELECTION_STRATEGIES.map((s) => (
              <option key={s} value={s}>{STRATEGY_LABELS[s]}</option>
            ))}
          </select>,
        )}
        <div className="form-row" style={{ alignItems: "flex-start" }}>
          {numberInput("budget", "Budget B per round")}
          {numberInput("mcPasses", "MC passes K")}
          {numberInput("episodes", "RADS episodes")}
          {numberInput("lambda", "λ")}
        </div>
        {field(
          "rho",
          "Target mix ρ",
          <span style={{ display: "flex", gap: 8, alignItems: "center", flexWrap: "wrap" }}>
            {!form.rhoPerClass ? (
              <input inputMode="decimal" value={form.rho} onChange={(e) => set({ rho: e.target.value })} disabled={readOnly} aria-label="Target mix ρ" />
            ) : (
              data.minorityClasses.map((key) => (
                <span key={key} style={{ display: "inline-flex", gap: 4, alignItems: "center" }}>
                  {key}
                  <input
                    inputMode="decimal"
                    style={{ width: 80 }}
                    value={form.rhoByClass[key] ?? ""}
                    onChange={(e) => set({ rhoByClass: { ...form.rhoByClass, [key]: e.target.value } })}
                    disabled={readOnly}
                    aria-label={`ρ for ${key}`}
                  />
                </span>
              ))
            )}
            {data.minorityClasses.length > 1 && (
              <span style={{ display: "inline-flex", gap: 4, alignItems: "center" }}>
                <input type="checkbox" checked={form.rhoPerClass} onChange={(e) => set({ rhoPerClass: e.target.checked })} disabled={readOnly} aria-label="One share per minority class" />
                one share per minority class
              </span>
            )}
          </span>,
        )}
        <h3>Annotation</h3>
        <div className="form-row" style={{ alignItems: "flex-start" }}>
          {numberInput("annotationsPerCase", "Annotations per case")}
          {numberInput("leaseMinutes", "Lease minutes")}
        </div>
        {checkbox("showPredictions", "Show model predictions to clinicians")}
        {checkbox("generateCaseIds", "Generate case ids on import")}
        <h3>Gold cases</h3>
        <div className="form-row" style={{ alignItems: "flex-start" }}>
          {numberInput("goldRate", "Gold rate", { step: "0.01" })}
          {numberInput("goldMinAccuracy", "Flag annotators below this gold accuracy", { step: "0.01" })}
        </div>
        <h3>Patient identifiers</h3>
        {checkbox("allowPatientIdentifiers", "Keep patient identifiers (no de-identification on import)")}
        {checkbox("keepDateIntervals", "De-identified DICOM keeps date intervals (per-patient date shift)")}
        <h3>Retraining</h3>
        {checkbox("onRoundComplete", "When a round is complete")}
        <div className="form-row" style={{ alignItems: "flex-start" }}>
          {numberInput("everyNLabels", "Every N labels", { placeholder: "off" })}
          {numberInput("scheduleHours", "Every so many hours", { placeholder: "off" })}
          {numberInput("minTrainingIntervalMinutes", "Minutes between automatic trainings")}
        </div>
        <h3>Review</h3>
        {numberInput("reviewTolerance", "Review tolerance")}
        {numberInput("minTestSupport", "Fewest TEST cases per class to judge a metric")}
        {checkbox("fourEyes", "Four eyes")}
        {errors.form && <p className="error" role="alert">{errors.form}</p>}
        <p style={{ display: "flex", gap: 12, alignItems: "center", marginBottom: 0 }}>
          <button type="submit" disabled={readOnly}>Save selection and loop settings</button>
          {saved && <span className="notice" role="status">{saved}</span>}
        </p>
      </form>
    </section>
  );
}
