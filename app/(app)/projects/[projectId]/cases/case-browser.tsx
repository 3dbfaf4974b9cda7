"use client";

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useId, useMemo, useState, type FormEvent, type ReactNode } from "react";
import {
  CASE_PAGE_SIZE,
  CASE_SPLITS,
  filtersFromSearchParams,
  filtersToSearchParams,
  ZCaseFilters,
  type CaseFilters,
  type CaseSplitName,
} from "@/contracts/case-browser";
import { TEXT_LIMITS } from "@/contracts/text-limits";
import type { AppRouter } from "@/server/api/root";
import { useTRPC } from "../../../../_components/providers";
import "./cases.css";

type Tri = "" | "true" | "false";
interface Draft {
  search: string;
  split: string;
  labelled: string;
  label: string;
  annotatorId: string;
  disagreement: Tri;
  round: string;
  hasImages: Tri;
  hasNarrative: Tri;
  importBatchId: string;
}

function toDraft(f: CaseFilters): Draft {
  const tri = (v: boolean | undefined): Tri => (v === undefined ? "" : v ? "true" : "false");
  return {
    search: f.search ?? "",
    split: f.split ?? "",
    labelled: f.labelled ?? "",
    label: f.label ?? "",
    annotatorId: f.annotatorId ?? "",
    disagreement: tri(f.disagreement),
    round: f.round !== undefined ? String(f.round) : "",
    hasImages: tri(f.hasImages),
    hasNarrative: tri(f.hasNarrative),
    importBatchId: f.importBatchId ?? "",
  };
}

/** The form's strings as the filter object the procedures take (empty = not filtered). */
function fromDraft(d: Draft): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const text = (k: keyof Draft) => {
    if (d[k].trim() !== "") out[k] = d[k].trim();
  };
  (["search", "split", "labelled", "label", "annotatorId", "importBatchId"] as const).forEach(text);
  for (const k of ["disagreement", "hasImages", "hasNarrative"] as const) if (d[k] !== "") out[k] = d[k] === "true";
  if (d.round !== "") out.round = Number(d.round);
  return out;
}

const SPLIT_NOTE: Record<CaseSplitName, string> = {
  POOL: "POOL: candidates for selection rounds.",
  TEST: "TEST: held out — models are evaluated on it and never trained on it.",
  SEED: "SEED: labelled cases trained on from the start.",
};

export function CaseBrowser({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const { filters, invalid } = useMemo(() => filtersFromSearchParams(params), [params]);
  const filterKey = JSON.stringify(filters);
  // Keyset pages: the cursor of every page visited so far, so "Previous" goes back without OFFSET.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<{ kind: "notice" | "error"; text: string } | null>(null);
  useEffect(() => {
    setCursors([null]);
    setSelected(new Set());
  }, [filterKey]);
  const cursor = cursors[cursors.length - 1] ?? null;

  // Reading cases is audited: no refetch on window focus.
  const quiet = { refetchOnWindowFocus: false, retry: false } as const;
  const options = useQuery(trpc.cases.options.queryOptions({ projectId }, quiet));
  const list = useQuery(trpc.cases.list.queryOptions({ projectId, filters, cursor, limit: CASE_PAGE_SIZE }, { ...quiet, placeholderData: keepPreviousData }));
  const count = useQuery(trpc.cases.count.queryOptions({ projectId, filters }, quiet));

  const labelName = useMemo(() => new Map((options.data?.labels ?? []).map((l) => [l.key, l.name])), [options.data]);
  const nameOf = (key: string) => labelName.get(key) ?? key;

  const afterBulk = async (text: string) => {
    setMessage({ kind: "notice", text });
    setSelected(new Set());
    await Promise.all([queryClient.invalidateQueries({ queryKey: trpc.cases.list.pathKey() }), queryClient.invalidateQueries({ queryKey: trpc.cases.count.pathKey() })]);
  };
  const onError = (error: { message: string }) => setMessage({ kind: "error", text: error.message });
  const move = useMutation(
    trpc.cases.move.mutationOptions({
      onSuccess: (r, input) =>
        afterBulk(
          `${r.changed} case(s) moved to ${input.split}${r.unchanged ? `, ${r.unchanged} already there` : ""}.` +
            (r.leftTraining ? ` ${r.leftTraining} of them carried labels and are no longer used for training.` : ""),
        ),
      onError,
    }),
  );
  const prioritize = useMutation(
    trpc.cases.prioritize.mutationOptions({
      onSuccess: (r) => afterBulk(`${r.requested} case(s) will be queued first in the next round${r.alreadyRequested ? ` (${r.alreadyRequested} already were)` : ""}.`),
      onError,
    }),
  );
  const unprioritize = useMutation(
    trpc.cases.unprioritize.mutationOptions({ onSuccess: (r) => afterBulk(`Priority withdrawn for ${r.withdrawn} case(s).`), onError }),
  );
  // Gold cases (issue 14): a member whose project role may manage them sees which cases are gold and marks them.
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, quiet));
  const canGold = project.data?.permissions.includes("labels.gold") ?? false;
  const gold = useQuery(trpc.gold.list.queryOptions({ projectId }, { ...quiet, enabled: canGold }));
  const goldOf = useMemo(() => new Map((gold.data?.cases ?? []).map((c) => [c.caseId, c])), [gold.data]);
  const afterGold = async (text: string) => {
    await afterBulk(text);
    await queryClient.invalidateQueries({ queryKey: trpc.gold.list.pathKey() });
  };
  const markGold = useMutation(
    trpc.gold.mark.mutationOptions({
      onSuccess: (r) => afterGold(`${r.marked} case(s) marked as gold${r.refreshed ? `, ${r.refreshed} gold case(s) took their current answer again` : ""}. The queue mixes them in at the project's gold rate.`),
      onError,
    }),
  );
  const unmarkGold = useMutation(
    trpc.gold.unmark.mutationOptions({ onSuccess: (r) => afterGold(`${r.unmarked} case(s) are no longer gold${r.notGold ? ` (${r.notGold} were not gold)` : ""}.`), onError }),
  );
  const busy = move.isPending || prioritize.isPending || unprioritize.isPending || markGold.isPending || unmarkGold.isPending;

  const apply = (next: CaseFilters) => {
    const query = filtersToSearchParams(next).toString();
    setMessage(null);
    router.push(query ? `${pathname}?${query}` : pathname);
  };

  const rows = list.data?.rows ?? [];
  const allOnPage = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const toggle = (id: string) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const ids = [...selected];
  const canManage = options.data?.canManage ?? false;

  return (
    <div className="case-browser">
      <h1>Cases</h1>
      <FilterForm key={filterKey} filters={filters} options={options.data} onApply={apply} />
      {invalid.length > 0 && <p className="error">Ignored filters in the address: {invalid.join(", ")}.</p>}
      {options.error && <p className="error">{options.error.message}</p>}

      <div className="cb-summary">
        <span data-testid="case-count">
          {count.data ? `${count.data.atLeast ? "More than " : ""}${count.data.count.toLocaleString("en")} case${count.data.count === 1 && !count.data.atLeast ? "" : "s"}` : count.error ? "" : "Counting…"}
        </span>
        {cursors.length > 1 && <span className="muted"> · page {cursors.length}</span>}
      </div>

      {canManage && (
        <section className="panel cb-bulk" data-testid="bulk-actions" aria-label="Bulk actions">
          <div className="form-row">
            <strong>{ids.length} selected</strong>
            <button type="button" disabled={busy || ids.length === 0} onClick={() => move.mutate({ projectId, caseIds: ids, split: "TEST" })}>
              Move to TEST
            </button>
            <button type="button" disabled={busy || ids.length === 0} onClick={() => move.mutate({ projectId, caseIds: ids, split: "SEED" })}>
              Move to SEED
            </button>
            <button type="button" className="secondary" disabled={busy || ids.length === 0} onClick={() => move.mutate({ projectId, caseIds: ids, split: "POOL" })}>
              Back to POOL
            </button>
            <button type="button" disabled={busy || ids.length === 0} onClick={() => prioritize.mutate({ projectId, caseIds: ids })} data-testid="prioritize">
              Put into next round first
            </button>
            <button type="button" className="secondary" disabled={busy || ids.length === 0} onClick={() => unprioritize.mutate({ projectId, caseIds: ids })}>
              Withdraw priority
            </button>
            {canGold && (
              <>
                <button type="button" disabled={busy || ids.length === 0} onClick={() => markGold.mutate({ projectId, caseIds: ids })} data-testid="mark-gold">
                  Mark as gold
                </button>
                <button type="button" className="secondary" disabled={busy || ids.length === 0} onClick={() => unmarkGold.mutate({ projectId, caseIds: ids })}>
                  Unmark gold
                </button>
              </>
            )}
          </div>
          <p className="muted small" style={{ marginBottom: 0 }}>
            A labelled case moved to TEST leaves the training set: models are evaluated on TEST and never trained on it. Cases cannot leave TEST once a model of
            this project was evaluated on them (that would leak the test set into training). SEED cases need a label. Priority: unlabelled POOL cases go first
            into the next selection round.{canGold && " Gold: only a case imported with a label or adjudicated; its answer is that label, and clinicians are not told which cases are gold."} Every
            change is recorded in the audit log.
          </p>
        </section>
      )}
      {message && (
        <p className={message.kind} role={message.kind === "error" ? "alert" : "status"} data-testid="bulk-message">
          {message.text}
        </p>
      )}

      {list.error && <p className="error" role="alert">{list.error.message}</p>}
      <table className="cb-table" data-testid="case-table" aria-busy={list.isFetching}>
        <thead>
          <tr>
            {canManage && (
              <th style={{ width: 28 }}>
                <input
                  type="checkbox"
                  aria-label="Select every case on this page"
                  checked={allOnPage}
                  onChange={() => setSelected((prev) => (allOnPage ? new Set([...prev].filter((id) => !rows.some((r) => r.id === id))) : new Set([...prev, ...rows.map((r) => r.id)])))}
                />
              </th>
            )}
            <th>Case</th>
            <th>Split</th>
            <th>Labels</th>
            <th>Rounds</th>
            <th>{filters.search ? "Matches" : "Narrative"}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} data-testid="case-row" data-case-id={row.externalId}>
              {canManage && (
                <td>
                  <input type="checkbox" aria-label={`Select ${row.externalId}`} checked={selected.has(row.id)} onChange={() => toggle(row.id)} />
                </td>
              )}
              <td>
                <Link href={`/projects/${projectId}/cases/${row.id}`} className="cb-case-link">
                  {row.externalId}
                </Link>
                <div className="cb-icons">
                  {row.imageCount > 0 && <span className="badge" title="Images">{row.imageCount} image{row.imageCount === 1 ? "" : "s"}</span>}
                  {row.priorityRequested && <span className="badge cb-priority">next round</span>}
                  {goldOf.has(row.id) && (
                    <span className="badge cb-gold" data-testid="gold-badge" title={`Gold case: answer ${goldOf.get(row.id)!.labels.map(nameOf).join(", ")} (${goldOf.get(row.id)!.source})`}>
                      gold
                    </span>
                  )}
                </div>
              </td>
              <td>
                <span className={`badge cb-split-${row.split.toLowerCase()}`} title={SPLIT_NOTE[row.split]}>
                  {row.split}
                </span>
              </td>
              <td className="cb-labels">
                {row.importedLabel && <div>imported: {nameOf(row.importedLabel)}</div>}
                {row.annotators.map((a) => (
                  <div key={a.name}>
                    {a.name}: {a.labels.map(nameOf).join(", ")}
                  </div>
                ))}
                {row.disagreement && <span className="badge inactive">disagreement</span>}
                {!row.importedLabel && row.annotators.length === 0 && <span className="muted">—</span>}
              </td>
              <td>{row.rounds.length ? row.rounds.join(", ") : <span className="muted">—</span>}</td>
              <td className="cb-snippet">
                {row.snippet.length === 0 ? (
                  <span className="muted">{row.hasNarrative ? "" : "no narrative"}</span>
                ) : (
                  row.snippet.map((seg, i) => (seg.hit ? <mark key={i}>{seg.text}</mark> : <span key={i}>{seg.text}</span>))
                )}
              </td>
            </tr>
          ))}
          {list.isSuccess && rows.length === 0 && (
            <tr>
              <td colSpan={canManage ? 6 : 5} className="muted">
                No case matches these filters.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="form-row cb-pager">
        <button type="button" className="secondary" disabled={cursors.length <= 1 || list.isFetching} onClick={() => setCursors((c) => c.slice(0, -1))} data-testid="prev-page">
          ← Previous
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!list.data?.nextCursor || list.isFetching}
          onClick={() => list.data?.nextCursor && setCursors((c) => [...c, list.data!.nextCursor])}
          data-testid="next-page"
        >
          Next →
        </button>
        {list.isFetching && <span className="muted">Loading…</span>}
      </div>
    </div>
  );
}

type Options = inferRouterOutputs<AppRouter>["cases"]["options"] | undefined;

function FilterForm({ filters, options, onApply }: { filters: CaseFilters; options: Options; onApply: (f: CaseFilters) => void }) {
  const [draft, setDraft] = useState<Draft>(() => toDraft(filters));
  const [errors, setErrors] = useState<Record<string, string[] | undefined>>({});
  const set = <K extends keyof Draft>(key: K) => (event: { target: { value: string } }) => setDraft((d) => ({ ...d, [key]: event.target.value as Draft[K] }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = ZCaseFilters.safeParse(fromDraft(draft));
    if (!parsed.success) {
      const flat: Record<string, string[] | undefined> = {};
      for (const issue of parsed.error.issues) (flat[String(issue.path[0])] ??= []).push(issue.message);
      setErrors(flat);
      return;
    }
    setErrors({});
    onApply(parsed.data);
  };
  // Each control is named by its own <label htmlFor> (not wrapped in it): a wrapping label would make
  // a select's accessible name include its option texts, and the search field's its error text.
  const uid = useId();
  const idOf = (key: keyof Draft) => `${uid}-${key}`;
  const errorId = (key: keyof Draft) => `${uid}-${key}-error`;
  const fieldError = (key: keyof Draft) =>
    errors[key] ? (
      <span className="error" id={errorId(key)}>
        {errors[key]!.join(" ")}
      </span>
    ) : null;
  const select = (key: keyof Draft, label: string, children: ReactNode) => (
    <div className="cb-field">
      <label htmlFor={idOf(key)}>{label}</label>
      <select id={idOf(key)} value={draft[key]} onChange={set(key)} name={key} aria-invalid={errors[key] ? true : undefined} aria-describedby={errors[key] ? errorId(key) : undefined}>
        <option value="">any</option>
        {children}
      </select>
      {fieldError(key)}
    </div>
  );
  const tri = (key: "disagreement" | "hasImages" | "hasNarrative", label: string, yes: string, no: string) =>
    select(
      key,
      label,
      <>
        <option value="true">{yes}</option>
        <option value="false">{no}</option>
      </>,
    );
  return (
    <form className="panel cb-filters" onSubmit={submit} data-testid="case-filters" role="search">
      <div className="form-row">
        <div className="cb-field cb-search">
          <label htmlFor={idOf("search")}>Search narratives</label>
          <input
            id={idOf("search")}
            type="search"
            name="search"
            value={draft.search}
            maxLength={TEXT_LIMITS.caseSearch}
            onChange={set("search")}
            placeholder={'e.g. pneumothorax, "chest pain", nodule -benign'}
            aria-invalid={errors.search ? true : undefined}
            aria-describedby={errors.search ? errorId("search") : undefined}
            data-testid="case-search"
          />
          {fieldError("search")}
        </div>
        {select(
          "split",
          "Split",
          CASE_SPLITS.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          )),
        )}
        {select(
          "labelled",
          "Labelled",
          <>
            <option value="yes">labelled</option>
            <option value="no">not labelled</option>
          </>,
        )}
        {select(
          "label",
          "Label",
          options?.labels.map((l) => (
            <option key={l.key} value={l.key}>
              {l.name}
            </option>
          )),
        )}
        {select(
          "annotatorId",
          "Annotator",
          options?.annotators.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name} ({a.cases})
            </option>
          )),
        )}
        {tri("disagreement", "Disagreement", "annotators disagree", "no disagreement")}
        {select(
          "round",
          "Round",
          options?.rounds.map((r) => (
            <option key={r.number} value={String(r.number)}>
              {r.number} · {r.coldStart ? "cold start" : r.strategy}
            </option>
          )),
        )}
        {tri("hasImages", "Images", "with images", "without images")}
        {tri("hasNarrative", "Narrative", "with narrative", "without narrative")}
        {select(
          "importBatchId",
          "Import batch",
          options?.importBatches.map((b) => (
            <option key={b.id} value={b.id}>
              {b.source} · {b.caseCount} cases · {b.createdAt.slice(0, 10)}
            </option>
          )),
        )}
        <button type="submit" data-testid="apply-filters">
          Apply
        </button>
        <button type="button" className="secondary" onClick={() => onApply({})}>
          Clear
        </button>
      </div>
    </form>
  );
}
