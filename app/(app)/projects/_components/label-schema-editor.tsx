"use client";

/**
 * The label schema editor shared by the "New project" form and the project settings: classes (key,
 * display name, colour, shortcut, guideline), single- or multi-label, minority classes and the
 * target mix ρ (one number or one share per minority class). Existing classes keep their key (it is
 * what annotations store); removing a class that is in use asks which class its labels move to.
 *
 * The editor holds strings as typed; `labelSchemaDraftToInput` turns them into the shape of
 * contracts/project-admin.ts / project-config.ts, whose zod schemas then validate it (on the page
 * and again on the server). Errors come in keyed by the path of the field in that shape.
 */
import { DEFAULT_LABEL_COLORS, type LabelSchema, type TargetMix } from "@/contracts/project-config";
import { TEXT_LIMITS } from "@/contracts/text-limits";
import { CharCount } from "../../../_components/char-count";

export interface DraftLabel {
  /** The row's own id: the form tracks rows by it, never by the key (two rows may hold the same key while being typed). */
  rowId: string;
  key: string;
  name: string;
  color: string;
  shortcut: string;
  guideline: string;
  /** Saved before: the key is fixed (renaming keeps it). */
  saved: boolean;
  /** A minority class (the flag belongs to this row, whatever its key becomes). */
  minority: boolean;
}

export interface LabelSchemaDraft {
  labels: DraftLabel[];
  multiLabel: boolean;
  rhoMode: "single" | "per-class";
  rho: string;
  rhoPerClass: Record<string, string>;
  /** ρ was edited here (else a save keeps the stored ρ, which another section may have changed). */
  rhoTouched: boolean;
  /** Saved classes removed in this edit (kept whole, so "Keep it" restores them as they were). */
  removed: DraftLabel[];
  /** Removed key → kept key its labels move to. */
  mapping: Record<string, string>;
}

export interface LabelUse {
  annotations: number;
  importedLabels: number;
}

const NUMBER = /^\s*-?(\d+(\.\d*)?|\.\d+)\s*$/;

let rowCounter = 0;
/** A new row id (unique within the page). */
const newRowId = () => `row-${++rowCounter}`;

/** The keys of the rows marked minority, once each, in row order (blank keys left out). */
export function minorityKeys(labels: readonly DraftLabel[]): string[] {
  return [...new Set(labels.filter((l) => l.minority && l.key.trim() !== "").map((l) => l.key.trim()))];
}

export function draftFromSchema(schema: LabelSchema, minority: string[], rho: TargetMix): LabelSchemaDraft {
  return {
    labels: schema.labels.map((l) => ({ rowId: newRowId(), key: l.key, name: l.name, color: l.color, shortcut: l.shortcut ?? "", guideline: l.guideline ?? "", saved: true, minority: minority.includes(l.key) })),
    multiLabel: schema.multiLabel,
    rhoMode: typeof rho === "number" ? "single" : "per-class",
    rho: typeof rho === "number" ? String(rho) : "0.5",
    rhoPerClass: typeof rho === "number" ? {} : Object.fromEntries(Object.entries(rho).map(([k, v]) => [k, String(v)])),
    rhoTouched: false,
    removed: [],
    mapping: {},
  };
}

export function emptyDraft(): LabelSchemaDraft {
  return {
    labels: [
      { rowId: newRowId(), key: "", name: "", color: DEFAULT_LABEL_COLORS[0], shortcut: "1", guideline: "", saved: false, minority: false },
      { rowId: newRowId(), key: "", name: "", color: DEFAULT_LABEL_COLORS[1], shortcut: "2", guideline: "", saved: false, minority: false },
    ],
    multiLabel: false,
    rhoMode: "single",
    // ρ = 0.3: the target mix measured best for the platform's RADS (workers/ml/rads/README.md).
    rho: "0.3",
    rhoPerClass: {},
    rhoTouched: true,
    removed: [],
    mapping: {},
  };
}

/** A number typed in a field, or the text itself (zod then says it is not a number, on that field). */
function numberOf(text: string): number | string {
  return NUMBER.test(text) ? Number(text) : text;
}

/** Messages for number fields that hold no number (zod would only say "expected number"). */
export function draftNumberErrors(draft: LabelSchemaDraft): Record<string, string> {
  const out: Record<string, string> = {};
  if (!draft.rhoTouched) return out;
  if (draft.rhoMode === "single" && !NUMBER.test(draft.rho)) out.rho = "Enter ρ as a number between 0 and 1";
  if (draft.rhoMode === "per-class") {
    for (const key of minorityKeys(draft.labels)) {
      const text = draft.rhoPerClass[key];
      if (text === undefined || !NUMBER.test(text)) out[`rho.${key}`] = "Enter a share between 0 and 1";
    }
  }
  return out;
}

/** The draft in the shape the zod schemas validate (labelSchema, minorityClasses, rho — left out unless edited —, mapping). */
export function labelSchemaDraftToInput(draft: LabelSchemaDraft) {
  const rho =
    draft.rhoMode === "single"
      ? numberOf(draft.rho)
      : Object.fromEntries(minorityKeys(draft.labels).filter((k) => draft.rhoPerClass[k] !== undefined && draft.rhoPerClass[k] !== "").map((k) => [k, numberOf(draft.rhoPerClass[k]!)]));
  return {
    labelSchema: {
      labels: draft.labels.map((l) => ({
        key: l.key.trim(),
        name: l.name,
        color: l.color,
        ...(l.shortcut !== "" ? { shortcut: l.shortcut } : {}),
        ...(l.guideline.trim() !== "" ? { guideline: l.guideline.trim() } : {}),
      })),
      multiLabel: draft.multiLabel,
    },
    minorityClasses: minorityKeys(draft.labels),
    ...(draft.rhoTouched ? { rho: rho as TargetMix } : {}),
    mapping: Object.fromEntries(draft.removed.filter((r) => draft.mapping[r.key]).map((r) => [r.key, draft.mapping[r.key]!])),
  };
}

function FieldError({ message }: { message: string | undefined }) {
  return message ? (
    <span className="error" data-testid="field-error" role="alert" style={{ display: "block", maxWidth: 260, marginTop: 2 }}>
      {message}
    </span>
  ) : null;
}

/**
 * @param errors messages keyed by path in the editor's own terms: "labels", "labels.<i>.<field>",
 *   "minorityClasses…", "rho", "rho.<key>", "mapping.<key>"
 * @param usage how often each saved key is used (settings only, undefined while loading), to ask for a mapping on removal
 */
export function LabelSchemaEditor({
  draft,
  onChange,
  errors,
  usage,
  disabled = false,
}: {
  draft: LabelSchemaDraft;
  onChange: (draft: LabelSchemaDraft) => void;
  errors: Record<string, string>;
  usage?: Map<string, LabelUse>;
  disabled?: boolean;
}) {
  const set = (patch: Partial<LabelSchemaDraft>) => onChange({ ...draft, ...patch });
  const setRho = (patch: Partial<LabelSchemaDraft>) => set({ ...patch, rhoTouched: true });
  // Rows are addressed by their row id: retyping one row's key never touches another row's flags.
  const setLabel = (rowId: string, patch: Partial<DraftLabel>) => set({ labels: draft.labels.map((l) => (l.rowId === rowId ? { ...l, ...patch } : l)) });
  const add = () => {
    const n = draft.labels.length;
    const used = new Set(draft.labels.map((l) => l.shortcut));
    const shortcut = "123456789".split("").find((k) => !used.has(k)) ?? "";
    set({ labels: [...draft.labels, { rowId: newRowId(), key: "", name: "", color: DEFAULT_LABEL_COLORS[n % DEFAULT_LABEL_COLORS.length]!, shortcut, guideline: "", saved: false, minority: false }] });
  };
  const remove = (rowId: string) => {
    const label = draft.labels.find((l) => l.rowId === rowId)!;
    set({
      labels: draft.labels.filter((l) => l.rowId !== rowId),
      removed: label.saved ? [...draft.removed, label] : draft.removed,
    });
  };
  const restore = (key: string) => {
    const r = draft.removed.find((x) => x.key === key)!;
    const { [key]: _dropped, ...mapping } = draft.mapping;
    void _dropped;
    set({
      labels: [...draft.labels, r],
      removed: draft.removed.filter((x) => x.key !== key),
      mapping,
    });
  };
  const minorityError = Object.entries(errors).find(([path]) => path === "minorityClasses" || path.startsWith("minorityClasses."))?.[1];
  // Mapping choices: each kept class by its display name (the key beside it only when names repeat).
  const kept = draft.labels.filter((l) => l.key.trim() !== "");
  const keptChoices = kept.map((l) => ({ key: l.key.trim(), text: kept.filter((o) => o.name.trim() === l.name.trim()).length > 1 || l.name.trim() === "" ? `${l.name.trim() || l.key.trim()} (${l.key.trim()})` : l.name.trim() }));

  return (
    <div className="label-editor">
      <FieldError message={errors.labels ?? errors["labelSchema"]} />
      <div style={{ overflowX: "auto" }}>
        <table aria-label="Label classes">
          <thead>
            <tr>
              <th>Key</th>
              <th>Display name</th>
              <th>Colour</th>
              <th>Shortcut</th>
              <th>Minority</th>
              {draft.rhoMode === "per-class" && <th>ρ share</th>}
              <th>Guideline for clinicians</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {draft.labels.map((label, i) => {
              const n = i + 1;
              const err = (field: string) => errors[`labels.${i}.${field}`];
              const isMinority = label.minority && label.key.trim() !== "";
              return (
                <tr key={label.rowId} data-testid="label-row">
                  <td>
                    <input
                      aria-label={`Key of label ${n}`}
                      value={label.key}
                      readOnly={label.saved}
                      title={label.saved ? "The key is the stable id annotations store; rename the display name instead." : "Letters, digits, _ . - (stored in annotations; cannot change once saved)"}
                      onChange={(e) => setLabel(label.rowId, { key: e.target.value })}
                      disabled={disabled}
                      size={12}
                      style={label.saved ? { background: "#eef2f6", color: "var(--muted)" } : undefined}
                    />
                    <FieldError message={err("key")} />
                  </td>
                  <td>
                    <input aria-label={`Name of label ${n}`} value={label.name} maxLength={TEXT_LIMITS.labelName} onChange={(e) => setLabel(label.rowId, { name: e.target.value })} disabled={disabled} size={16} />
                    <CharCount field="labelName" value={label.name} />
                    <FieldError message={err("name")} />
                  </td>
                  <td>
                    <input aria-label={`Colour of label ${n}`} type="color" value={label.color} onChange={(e) => setLabel(label.rowId, { color: e.target.value })} disabled={disabled} style={{ width: 44, padding: 2 }} />
                    <FieldError message={err("color")} />
                  </td>
                  <td>
                    <input aria-label={`Shortcut of label ${n}`} value={label.shortcut} maxLength={1} onChange={(e) => setLabel(label.rowId, { shortcut: e.target.value })} disabled={disabled} size={2} />
                    <FieldError message={err("shortcut")} />
                  </td>
                  <td>
                    <input
                      aria-label={`Label ${n} is a minority class`}
                      type="checkbox"
                      checked={isMinority}
                      disabled={disabled || label.key.trim() === ""}
                      onChange={(e) => setLabel(label.rowId, { minority: e.target.checked })}
                    />
                  </td>
                  {draft.rhoMode === "per-class" && (
                    <td>
                      {isMinority && (
                        <input
                          aria-label={`ρ share of label ${n}`}
                          inputMode="decimal"
                          value={draft.rhoPerClass[label.key.trim()] ?? ""}
                          onChange={(e) => setRho({ rhoPerClass: { ...draft.rhoPerClass, [label.key.trim()]: e.target.value } })}
                          disabled={disabled}
                          size={5}
                        />
                      )}
                      <FieldError message={errors[`rho.${label.key.trim()}`]} />
                    </td>
                  )}
                  <td>
                    <textarea aria-label={`Guideline of label ${n}`} value={label.guideline} rows={2} maxLength={TEXT_LIMITS.labelGuideline} onChange={(e) => setLabel(label.rowId, { guideline: e.target.value })} disabled={disabled} style={{ width: "100%", minWidth: 180 }} />
                    <CharCount field="labelGuideline" value={label.guideline} />
                    <FieldError message={err("guideline")} />
                  </td>
                  <td>
                    <button type="button" className="secondary" onClick={() => remove(label.rowId)} disabled={disabled} aria-label={`Remove label ${n}`}>
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="form-row">
        <button type="button" className="secondary" onClick={add} disabled={disabled}>
          Add a label
        </button>
        <label style={{ flexDirection: "row", alignItems: "center", gap: 6 }}>
          <input type="checkbox" checked={draft.multiLabel} onChange={(e) => set({ multiLabel: e.target.checked })} disabled={disabled} />
          Several labels per case (multi-label)
        </label>
      </p>
      <FieldError message={minorityError} />

      <fieldset style={{ border: 0, padding: 0, margin: "8px 0" }}>
        <legend className="muted">Target mix ρ — the share of each round the selection aims to fill with minority cases</legend>
        <div className="form-row">
          <label style={{ flexDirection: "row", alignItems: "center", gap: 6 }}>
            <input type="radio" name="rho-mode" checked={draft.rhoMode === "single"} onChange={() => setRho({ rhoMode: "single" })} disabled={disabled} />
            One number for all minority classes
          </label>
          <label style={{ flexDirection: "row", alignItems: "center", gap: 6 }}>
            <input type="radio" name="rho-mode" checked={draft.rhoMode === "per-class"} onChange={() => setRho({ rhoMode: "per-class" })} disabled={disabled} />
            A share per minority class (in the table)
          </label>
          {draft.rhoMode === "single" && (
            <label>
              ρ (between 0 and 1)
              <input inputMode="decimal" value={draft.rho} onChange={(e) => setRho({ rho: e.target.value })} disabled={disabled} size={6} />
            </label>
          )}
        </div>
        <FieldError message={errors.rho} />
      </fieldset>

      {draft.removed.length > 0 && (
        <section aria-label="Removed classes" data-testid="removed-labels">
          <h3 style={{ fontSize: 15, margin: "12px 0 6px" }}>Removed classes</h3>
          <table>
            <tbody>
              {draft.removed.map((r) => {
                const use = usage?.get(r.key);
                const used = use ? use.annotations + use.importedLabels > 0 : false;
                return (
                  <tr key={r.key} data-testid="removed-label">
                    <td>
                      <strong>{r.name}</strong> <span className="muted">({r.key})</span>
                    </td>
                    <td>
                      {used ? (
                        <>
                          Used by {use!.annotations} annotation{use!.annotations === 1 ? "" : "s"} and {use!.importedLabels} imported label{use!.importedLabels === 1 ? "" : "s"}. Old annotation
                          versions keep it as history; the current ones get a new version with:
                        </>
                      ) : usage ? (
                        <span className="muted">Not used by any annotation or imported label.</span>
                      ) : (
                        <span className="muted">Checking whether annotations use it…</span>
                      )}
                    </td>
                    <td>
                      {(used || errors[`mapping.${r.key}`]) && (
                        <select aria-label={`Move ${r.name} (${r.key}) to`} value={draft.mapping[r.key] ?? ""} onChange={(e) => set({ mapping: { ...draft.mapping, [r.key]: e.target.value } })} disabled={disabled}>
                          <option value="">Choose a class…</option>
                          {keptChoices.map((c) => (
                            <option key={c.key} value={c.key}>
                              {c.text}
                            </option>
                          ))}
                        </select>
                      )}
                      <FieldError message={errors[`mapping.${r.key}`]} />
                    </td>
                    <td>
                      <button type="button" className="secondary" onClick={() => restore(r.key)} disabled={disabled}>
                        Keep it
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
