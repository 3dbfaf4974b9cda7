/**
 * The head configuration of a project, read by the train job (the head that becomes a candidate
 * model) and by the what-if simulation (the head retrained after every simulated round), so a
 * what-if replays the learner the project actually trains: `defaultHeadConfig` of workers/ml, then
 * the project's `settings.head` (contracts/project-config.ts `ZHeadConfig`; unknown keys ignored), then an explicit override (the train payload's `headConfig`, used
 * by tests and benchmarks). `settings.head.kind` picks the head itself (`projectHeadKind`).
 */
import { ZHeadConfig } from "@/contracts/project-config";
import { encoderKindOfVersion } from "@/models/encoders/encoder-version";
import { defaultHeadConfig } from "@/workers/ml/mlp-head";
import { LSA_HEAD_PREFIXES } from "@/workers/ml/text/lsa";
import type { HeadConfig } from "@/workers/ml/types";

/** A project's settings.head that cannot be used; the message names the field. */
export class HeadSettingsError extends Error {}

function parseHeadSettings(settings: unknown) {
  const head = (settings as { head?: unknown } | null)?.head;
  if (head === undefined || head === null) return null;
  const parsed = ZHeadConfig.safeParse(head);
  if (!parsed.success) {
    throw new HeadSettingsError(`The project's head settings are invalid — ${parsed.error.issues.map((i) => `settings.head${i.path.length ? "." + i.path.join(".") : ""}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}

/** The MLP head fields of a project's settings JSON (without `kind`). @throws HeadSettingsError naming the bad field. */
export function projectHeadSettings(settings: unknown): Partial<HeadConfig> {
  const { kind: _kind, ...fields } = parseHeadSettings(settings) ?? {};
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<HeadConfig>;
}

export type HeadKind = NonNullable<ReturnType<typeof parseHeadSettings>>["kind"] & string;

/**
 * Which head the project trains: `settings.head.kind`, "mlp" when absent (projects created before
 * the logistic head; new projects are created with "logistic"). @throws HeadSettingsError when settings.head is malformed.
 */
export function projectHeadKind(settings: unknown): HeadKind {
  return parseHeadSettings(settings)?.kind ?? "mlp";
}

/**
 * The full head configuration for a project: defaults ← settings.head ← `override` (undefined
 * fields of the override are ignored). @throws HeadSettingsError when settings.head is malformed.
 */
export function projectHeadConfig(settings: unknown, override: Partial<HeadConfig> = {}): HeadConfig {
  const defined = Object.fromEntries(Object.entries(override).filter(([, v]) => v !== undefined)) as Partial<HeadConfig>;
  const merged = { ...defaultHeadConfig, ...projectHeadSettings(settings), ...defined };
  return { ...merged, hidden: [...merged.hidden] };
}

/**
 * The logistic head's options for a project, as the train job fits it and the what-if simulates it:
 * `minority` (class indices) ranks its cross-validation (null when empty: every class but the most
 * frequent), and on LSA vectors the head averages the LSA_HEAD_PREFIXES leading-column heads.
 */
export function projectLogisticOptions(minority: number[], encoderVersion: string): { minorityClasses: number[] | null; prefixEnsemble: number[] | null } {
  return { minorityClasses: minority.length > 0 ? minority : null, prefixEnsemble: encoderKindOfVersion(encoderVersion) === "lsa" ? [...LSA_HEAD_PREFIXES] : null };
}
