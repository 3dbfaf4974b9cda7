"use client";

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { TRPCClientError } from "@trpc/client";
import dynamic from "next/dynamic";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { QUEUE_PAGE_SIZE, type AnnotationConflict, type AnnotationContent, type EvidenceSpan } from "@/contracts/annotations";
import { TEXT_LIMITS } from "@/contracts/text-limits";
import { CharCount } from "../../../_components/char-count";
import { useTRPC } from "../../../_components/providers";
import { trpcErrorCode } from "../../../_components/session-end";
import { prefetchImages } from "./cornerstone-setup";
import type { ViewerHandle } from "./image-viewer";
import { highlight, Narrative, selectionOffsets } from "./narrative";
import { HeldCasesNote, ProjectAccessRefused } from "./queue-notes";
import { blockedWhenReadOnly, caseBadge } from "./read-only";
import { clearLocalDraft, readLocalDraft, useDraftAutosave } from "./use-draft-autosave";
import "./workspace.css";

// cornerstone touches `window` when imported: the viewer is loaded in the browser only.
const ImageViewer = dynamic(() => import("./image-viewer").then((m) => m.ImageViewer), { ssr: false, loading: () => <div className="viewport" /> });

type Mode = "queue" | "edit";
interface Current {
  caseId: string;
  mode: Mode;
}
interface Form {
  caseId: string;
  content: AnnotationContent;
  baseVersion: number;
  dirty: boolean;
}

const EMPTY: AnnotationContent = { labels: [], spans: [], uncertain: false, comment: "" };

declare global {
  interface Window {
    /** Submit → next case shown, per submission (ms), for the benchmark. */
    __radsCaseTimings?: { caseId: string; ms: number }[];
  }
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
}

/**
 * The server's message when it answered and refused the request (bad input, forbidden, not found);
 * null when it could not be reached or its database was down (503: same as offline, the draft is kept).
 */
function serverRefusal(error: unknown): string | null {
  if (!(error instanceof TRPCClientError) || !error.data) return null;
  if ((error.data as { code?: string }).code === "SERVICE_UNAVAILABLE") return null;
  return error.message;
}

/**
 * Why a submission did not reach storage when the server did not refuse it: its database was down (503 — the
 * server answered, nothing was saved) or the server could not be reached at all.
 */
function unreachableReason(error: unknown): string {
  const code = error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : undefined;
  return code === "SERVICE_UNAVAILABLE" ? "The server cannot reach its database right now, so nothing was saved" : "Could not reach the server";
}

/** Wait before the n-th automatic resubmission (n from 0): 2, 4, 8, 16, then every 30 s. */
function resubmitDelayMs(attempt: number): number {
  return Math.min(30_000, 2000 * 2 ** attempt);
}

/**
 * Whether the server refused the caller THIS PROJECT: NOT_FOUND (not — or no longer — a member, or no such
 * project) or FORBIDDEN (their role here may not annotate). The workspace then asks queue.project again, whose
 * refusal replaces the page (ProjectAccessRefused). A 401 is the session's end, handled for the whole app.
 */
function refusesProject(error: unknown): "NOT_FOUND" | "FORBIDDEN" | null {
  const code = trpcErrorCode(error);
  return code === "NOT_FOUND" || code === "FORBIDDEN" ? code : null;
}

/** "04:51" in the browser's locale. */
function clockTime(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function conflictOf(error: unknown): AnnotationConflict | null {
  if (!(error instanceof TRPCClientError)) return null;
  const data = error.data as { conflict?: AnnotationConflict | null } | undefined;
  return data?.conflict ?? null;
}

/** Visible time on the current case: counts only while the tab is visible. */
function useVisibleTimer(caseId: string | null) {
  const state = useRef({ total: 0, since: null as number | null });
  useEffect(() => {
    state.current = { total: 0, since: document.visibilityState === "visible" ? performance.now() : null };
    const onVisibility = () => {
      const s = state.current;
      if (document.visibilityState === "visible") s.since ??= performance.now();
      else if (s.since !== null) {
        s.total += performance.now() - s.since;
        s.since = null;
      }
    };
    document.addEventListener("visibilitychange", onVisibility);
    return () => document.removeEventListener("visibilitychange", onVisibility);
  }, [caseId]);
  return useCallback(() => {
    const s = state.current;
    return Math.round(s.total + (s.since !== null ? performance.now() - s.since : 0));
  }, []);
}

export function Workspace({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const caseParam = useSearchParams().get("case");
  const me = useQuery(trpc.me.get.queryOptions());
  // While the clinician waits for the next round, the queue is polled: the page says what is being
  // computed (with the job's progress) and takes the first case of the new round when it exists.
  const [waitingRound, setWaitingRound] = useState<string | null | undefined>(undefined);
  const queueRoundId = useRef<string | null>(null);
  const [current, setCurrent] = useState<Current | null>(null);
  // The queue list is paged (a round may hold thousands of cases); the answer also carries the case on screen's row
  // (its rank and reason) wherever it is. The previous answer stays on screen while the next one loads.
  const [queueOffset, setQueueOffset] = useState(0);
  const queueInput = { projectId, itemsOffset: queueOffset, itemsLimit: QUEUE_PAGE_SIZE, caseId: current?.mode === "queue" ? current.caseId : undefined };
  // Its refusal of the project (removed from it, role changed) stops the poll and replaces the page; a 401 ends the session (providers.tsx).
  const queue = useQuery({
    ...trpc.queue.project.queryOptions(queueInput),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (waitingRound !== undefined && !refusesProject(q.state.error) ? 2000 : false),
  });
  const accessRefused = queue.error ? refusesProject(queue.error) : null;
  /** A refusal of this project by another call: ask queue.project again, whose answer decides (accessRefused). */
  const recheckAccess = useCallback(
    (error: unknown) => {
      if (refusesProject(error)) void queryClient.invalidateQueries({ queryKey: trpc.queue.project.queryKey({ projectId }) });
    },
    [queryClient, trpc, projectId],
  );
  const [finished, setFinished] = useState(false);
  // `cause` names what a message is about, so it clears when that cause does (issue 15: no stale messages).
  const [message, setMessage] = useState<{ kind: "error" | "notice"; text: string; cause?: "no-label" | "no-selection" } | null>(null);
  const [conflict, setConflict] = useState<AnnotationConflict | null>(null);
  // A submission that failed because the server or its database was unreachable (offers "Retry").
  const [submitFailedOffline, setSubmitFailedOffline] = useState(false);
  const [skipOpen, setSkipOpen] = useState(false);
  const [skipReason, setSkipReason] = useState("");
  const [helpOpen, setHelpOpen] = useState(false);
  const [historyOpen, setHistoryOpen] = useState(true);
  const [form, setForm] = useState<Form | null>(null);
  const narrativeRef = useRef<HTMLDivElement>(null);
  const commentRef = useRef<HTMLTextAreaElement>(null);
  const viewerRef = useRef<ViewerHandle>(null);
  const submitStartedAt = useRef<number | null>(null);
  // The case submitted last from the queue: "Z" reopens it to correct it (a new version; nothing is lost).
  const [lastSubmitted, setLastSubmitted] = useState<string | null>(null);

  const nextMutation = useMutation(trpc.queue.next.mutationOptions());
  const skipMutation = useMutation(trpc.queue.skip.mutationOptions());
  const submitMutation = useMutation(trpc.annotations.submit.mutationOptions());
  const draftMutation = useMutation(trpc.annotations.saveDraft.mutationOptions());

  const show = useCallback((caseId: string, mode: Mode) => {
    setCurrent({ caseId, mode });
    setFinished(false);
    setConflict(null);
  }, []);

  const takeNext = useCallback(async () => {
    try {
      const lease = await nextMutation.mutateAsync({ projectId });
      if (lease) {
        show(lease.caseId, "queue");
        setWaitingRound(undefined);
      } else {
        setCurrent(null);
        setFinished(true);
        setWaitingRound(queueRoundId.current);
      }
      // The queue list's key names the case on screen, so the new case (or none) fetches it: refetching the old key too
      // would send a second queue.project per case.
      void queryClient.invalidateQueries({ queryKey: trpc.queue.project.queryKey({ projectId }), refetchType: "none" });
    } catch (error) {
      setMessage({ kind: "error", text: (error as Error).message });
      recheckAccess(error);
    }
    // mutateAsync is stable; depending on the whole mutation object would re-run the effect below on every render.
  }, [projectId, show, queryClient, trpc, recheckAccess]);

  useEffect(() => {
    if (caseParam) show(caseParam, "edit");
    else void takeNext();
  }, [caseParam, show, takeNext]);

  // The round the clinician finished (the queue's latest when they ran out); a newer one → take its first case.
  const latestRoundId = queue.data?.round?.id ?? null;
  // A new round's list starts at its first page.
  useEffect(() => setQueueOffset(0), [latestRoundId]);
  useEffect(() => {
    if (waitingRound === undefined) queueRoundId.current = latestRoundId;
    else if (latestRoundId !== null && latestRoundId !== waitingRound && !caseParam) void takeNext();
  }, [latestRoundId, waitingRound, caseParam, takeNext]);

  const caseQuery = useQuery({ ...trpc.annotations.case.queryOptions({ caseId: current?.caseId ?? "" }), enabled: current !== null, staleTime: 30_000 });
  const view = caseQuery.data && caseQuery.data.case.id === current?.caseId ? caseQuery.data : null;
  const labels = useMemo(() => view?.project.labelSchema.labels ?? [], [view]);
  const labelNames = useMemo(() => new Map(labels.map((l) => [l.key, l.name])), [labels]);
  const labelColours = useMemo(() => new Map(labels.map((l) => [l.key, l.color])), [labels]);
  const elapsed = useVisibleTimer(view ? view.case.id : null);

  // A case's form starts from the newest draft (this browser's or the server's), else the current annotation.
  useEffect(() => {
    if (!view || !me.data || form?.caseId === view.case.id) return;
    const local = readLocalDraft(me.data.id, view.case.id);
    const server = view.draft;
    const draft = local && (!server || local.savedAt >= server.updatedAt) ? local : server;
    if (draft) setForm({ caseId: view.case.id, content: draft.content, baseVersion: draft.baseVersion, dirty: false });
    else if (view.current) setForm({ caseId: view.case.id, content: { labels: view.current.labels, spans: view.current.spans, regions: view.current.regions, uncertain: view.current.uncertain, comment: view.current.comment }, baseVersion: view.caseVersion, dirty: false });
    else setForm({ caseId: view.case.id, content: EMPTY, baseVersion: view.caseVersion, dirty: false });
  }, [view, me.data, form?.caseId]);

  const formReady = form !== null && view !== null && form.caseId === view.case.id;
  /** Whether the case has report text to read and mark; an image case without it drops the report column. */
  const hasNarrative = (view?.case.narrative.trim().length ?? 0) > 0;
  const imageOnly = !hasNarrative && (view?.case.images.length ?? 0) > 0;
  const labelCount = form?.content.labels.length ?? 0;
  const spanCount = form?.content.spans.length ?? 0;
  useEffect(() => {
    if (message?.cause === "no-label" && labelCount > 0) setMessage(null);
    if (message?.cause === "no-selection" && spanCount > 0) setMessage(null);
  }, [message, labelCount, spanCount]);
  // Another case on screen: a message about the previous one's form no longer applies.
  useEffect(() => {
    setMessage((m) => (m?.cause ? null : m));
  }, [current?.caseId]);
  useEffect(() => {
    if (!formReady || submitStartedAt.current === null || !view) return;
    const ms = performance.now() - submitStartedAt.current;
    submitStartedAt.current = null;
    (window.__radsCaseTimings ??= []).push({ caseId: view.case.id, ms });
    performance.mark("rads:case-visible", { detail: { caseId: view.case.id } });
  }, [formReady, view]);

  const autosave = useDraftAutosave({
    userId: me.data?.id ?? null,
    caseId: formReady ? form.caseId : null,
    baseVersion: form?.baseVersion ?? 0,
    content: form?.content ?? null,
    // A case the server refuses to this clinician (view.refusal) is read-only: nothing to autosave.
    dirty: (form?.dirty ?? false) && !view?.refusal,
    save: (draft) => draftMutation.mutateAsync(draft),
    refusalOf: (error) => {
      recheckAccess(error);
      return serverRefusal(error);
    },
  });

  // Prefetch the cases we will most likely get next, data and image bytes, so submit shows them at once.
  const upcoming = useQuery({ ...trpc.queue.upcoming.queryOptions({ projectId }), enabled: current?.mode === "queue" });
  useEffect(() => {
    for (const next of upcoming.data ?? []) {
      if (next.caseId === current?.caseId) continue;
      const options = trpc.annotations.case.queryOptions({ caseId: next.caseId });
      void queryClient.prefetchQuery({ ...options, staleTime: 30_000 }).then(() => {
        const data = queryClient.getQueryData(options.queryKey);
        if (data) void prefetchImages(data.case.images);
      });
    }
  }, [upcoming.data, current?.caseId, queryClient, trpc]);

  const update = useCallback((change: (content: AnnotationContent) => AnnotationContent) => {
    setForm((f) => (f ? { ...f, content: change(f.content), dirty: true } : f));
    // An edit after a failed submission: the answer is no longer the one the clinician submitted, so it is not
    // resubmitted automatically (the draft autosave takes over again); they submit it when ready.
    setSubmitFailedOffline(false);
  }, []);

  const toggleLabel = useCallback(
    (key: string) => {
      const multi = view?.project.labelSchema.multiLabel ?? false;
      update((c) => ({ ...c, labels: multi ? (c.labels.includes(key) ? c.labels.filter((l) => l !== key) : [...c.labels, key]) : c.labels[0] === key ? [] : [key] }));
    },
    [update, view],
  );

  const addSpan = useCallback(
    (label: string) => {
      const offsets = selectionOffsets(narrativeRef.current);
      const text = view?.case.narrative ?? "";
      if (!offsets) return false;
      const span: EvidenceSpan = { ...offsets, label, text: text.slice(offsets.start, offsets.end) };
      update((c) => ({ ...c, spans: [...c.spans.filter((s) => !(s.start === span.start && s.end === span.end && s.label === span.label)), span] }));
      window.getSelection()?.removeAllRanges();
      return true;
    },
    [update, view],
  );

  /** Automatic resubmissions since the last submission that reached the server (resubmitDelayMs). */
  const resubmitAttempt = useRef(0);
  const submit = useCallback(
    async (expectedVersion?: number) => {
      if (!form || !view || !current || submitMutation.isPending) return;
      // The server refuses this case to this clinician (a TEST case, another's, not queued): say so, send nothing.
      if (view.refusal) {
        setMessage({ kind: "error", text: view.refusal });
        return;
      }
      if (form.content.labels.length === 0) {
        setMessage({ kind: "error", text: "Choose a label before submitting.", cause: "no-label" });
        return;
      }
      autosave.cancel();
      setMessage(null);
      setSubmitFailedOffline(false);
      const startedAt = performance.now();
      try {
        const result = await submitMutation.mutateAsync({
          caseId: form.caseId,
          expectedVersion: expectedVersion ?? form.baseVersion,
          content: form.content,
          timeSpentMs: elapsed(),
          advanceInProject: current.mode === "queue" ? projectId : undefined,
        });
        if (me.data) clearLocalDraft(me.data.id, form.caseId);
        resubmitAttempt.current = 0;
        autosave.setStatus("idle"); // reached the server: an offline banner from a failed attempt goes
        setConflict(null);
        void queryClient.invalidateQueries({ queryKey: trpc.annotations.case.queryKey({ caseId: form.caseId }) });
        // From the queue the next case (or none) changes the queue list's key, which fetches it; an edit stays on its case.
        void queryClient.invalidateQueries({ queryKey: trpc.queue.project.queryKey({ projectId }), refetchType: current.mode === "queue" ? "none" : "active" });
        void queryClient.invalidateQueries({ queryKey: trpc.queue.upcoming.queryKey({ projectId }) });
        if (current.mode === "queue") {
          setLastSubmitted(form.caseId);
          submitStartedAt.current = startedAt;
          if (result.next) show(result.next.caseId, "queue");
          else {
            setCurrent(null);
            setFinished(true);
            setWaitingRound(queueRoundId.current);
          }
        } else {
          setForm({ ...form, baseVersion: result.caseVersion, dirty: false });
          setMessage({ kind: "notice", text: `Saved as your version ${result.version}.` });
        }
      } catch (error) {
        const found = conflictOf(error);
        const refused = serverRefusal(error);
        if (found) setConflict(found);
        else if (refused !== null) {
          autosave.setStatus("idle"); // the server answered: not offline
          setMessage({ kind: "error", text: refused });
          recheckAccess(error);
        } else {
          autosave.setStatus("offline");
          setSubmitFailedOffline(true);
          setMessage({ kind: "error", text: `${unreachableReason(error)} — your answer is kept on this device and will be submitted again automatically.` });
        }
      }
    },
    [form, view, current, submitMutation, autosave, elapsed, projectId, me.data, queryClient, trpc, show, recheckAccess],
  );

  // A submission that did not reach storage (offline, or the server's database down) is sent again by itself, with
  // growing waits, until it is stored, refused or answered with a conflict, or the clinician edits the answer
  // (update() clears the state); "Retry submit now" sends it at once.
  const submitRef = useRef(submit);
  useEffect(() => {
    submitRef.current = submit;
  }, [submit]);
  useEffect(() => {
    if (!submitFailedOffline) {
      return;
    }
    const timer = setTimeout(() => {
      resubmitAttempt.current += 1;
      void submitRef.current();
    }, resubmitDelayMs(resubmitAttempt.current));
    return () => clearTimeout(timer);
  }, [submitFailedOffline]);

  const skip = useCallback(async () => {
    // A case the server refuses to this clinician is read-only: not skipped either (the server refuses it too).
    if (!current || skipReason.trim().length < 3 || view?.refusal) return;
    try {
      await skipMutation.mutateAsync({ projectId, caseId: current.caseId, reason: skipReason.trim() });
      if (me.data) clearLocalDraft(me.data.id, current.caseId);
      setSkipOpen(false);
      setSkipReason("");
      void queryClient.invalidateQueries({ queryKey: trpc.annotations.case.queryKey({ caseId: current.caseId }) });
      if (current.mode === "edit") router.push(`/queue/${projectId}`);
      else await takeNext();
    } catch (error) {
      setMessage({ kind: "error", text: (error as Error).message });
      recheckAccess(error);
    }
  }, [current, skipReason, view, skipMutation, projectId, me.data, queryClient, trpc, router, takeNext, recheckAccess]);

  const goNext = useCallback(() => {
    if (caseParam) router.push(`/queue/${projectId}`);
    else if (finished || current?.mode !== "queue") void takeNext();
  }, [caseParam, router, projectId, finished, current, takeNext]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (skipOpen) void skip();
        else void submit();
        return;
      }
      if (event.key === "Escape") {
        setHelpOpen(false);
        setSkipOpen(false);
        (document.activeElement as HTMLElement | null)?.blur?.();
        return;
      }
      if (isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "?") {
        setHelpOpen((o) => !o);
        return;
      }
      if (helpOpen || skipOpen || conflict) return;
      const label = labels.find((l) => l.shortcut !== null && l.shortcut.toLowerCase() === event.key.toLowerCase());
      // A refused case is read-only: its label, skip, uncertain and comment keys do nothing (read-only.ts).
      if (view?.refusal && blockedWhenReadOnly(event.key, label !== undefined)) return;
      if (label) {
        event.preventDefault();
        if (!addSpan(label.key)) toggleLabel(label.key);
        return;
      }
      const actions: Record<string, () => void> = {
        s: () => setSkipOpen(true),
        n: goNext,
        z: () => {
          if (lastSubmitted) router.push(`/queue/${projectId}?case=${lastSubmitted}`);
        },
        u: () => update((c) => ({ ...c, uncertain: !c.uncertain })),
        c: () => commentRef.current?.focus(),
        h: () => setHistoryOpen((o) => !o),
        i: () => viewerRef.current?.invert(),
        r: () => viewerRef.current?.reset(),
        p: () => viewerRef.current?.togglePan(),
        arrowdown: () => viewerRef.current?.step(1),
        pagedown: () => viewerRef.current?.step(1),
        arrowup: () => viewerRef.current?.step(-1),
        pageup: () => viewerRef.current?.step(-1),
      };
      const action = actions[event.key.toLowerCase()];
      if (action) {
        event.preventDefault();
        action();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [labels, addSpan, toggleLabel, submit, skip, goNext, update, helpOpen, skipOpen, conflict, lastSubmitted, router, projectId, view]);

  // Refused the project: no case of it stays on screen or in the cache.
  useEffect(() => {
    if (!accessRefused) return;
    setCurrent(null);
    setForm(null);
    setFinished(false);
    setWaitingRound(undefined);
    queryClient.removeQueries({ queryKey: trpc.annotations.case.pathKey() });
    queryClient.removeQueries({ queryKey: trpc.queue.upcoming.pathKey() });
  }, [accessRefused, queryClient, trpc]);

  if (accessRefused) return <ProjectAccessRefused code={accessRefused} hadAccess={queue.data !== undefined} projectName={queue.data?.project.name ?? null} />;

  const round = queue.data?.round ?? null;
  const counts = queue.data?.counts;
  const currentItem = current?.mode === "queue" && queue.data?.current?.caseId === current.caseId ? queue.data.current : null;
  const queuePage = queue.data?.page;
  const nextRound = queue.data?.nextRound ?? null;
  /** A case the server refuses to this clinician (view.refusal) is read-only: no label, evidence, comment or skip. */
  const readOnly = (view?.refusal ?? null) !== null;
  const badge = caseBadge(current?.mode, view?.refusal ?? null);
  return (
    <div className="workspace" data-case-id={formReady ? form.caseId : ""}>
      <header className="workspace-head">
        <div>
          <h1>{queue.data?.project.name ?? "Queue"}</h1>
          {round && (
            <p className="muted">
              Round {round.number} · {round.coldStart ? <span className="badge" data-testid="cold-start-badge">cold start</span> : <span className="badge">{round.strategy}</span>}
              {counts && (
                <span
                  data-testid="queue-counts"
                  title="Your cases in this round, the quality-check cases mixed into your queue included (as on My queue): done — answered or skipped by you, or finished by others; remaining — cases you may still be served. Switching quality checks on mid-round adds their cases."
                >
                  {" "}
                  · {counts.done} done · {counts.remaining} remaining for you · {counts.doneByMe} answered by you
                </span>
              )}
            </p>
          )}
        </div>
        <div className="head-actions">
          <span className={`autosave ${autosave.status}`} data-testid="autosave-status">
            {autosave.status === "saving" ? "Saving draft…" : autosave.status === "saved" ? "Draft saved" : ""}
          </span>
          {lastSubmitted && current?.mode === "queue" && (
            <Link href={`/queue/${projectId}?case=${lastSubmitted}`} className="small" data-testid="undo-last">
              ↩ Reopen the case I just submitted (Z)
            </Link>
          )}
          <button type="button" className="secondary" onClick={() => setHelpOpen(true)} title="?">
            Shortcuts (?)
          </button>
        </div>
      </header>
      {autosave.status === "refused" && (
        <p className="error" role="alert" data-testid="draft-refused">
          The draft was not saved: {autosave.refusal}
        </p>
      )}
      {autosave.status === "offline" && (
        <div className="banner offline" role="status" data-testid="offline-banner">
          {submitFailedOffline ? "Not submitted yet — your answer is kept on this device and is sent again automatically." : "Offline — draft kept on this device; retrying…"}
          {submitFailedOffline && (
            <button type="button" className="secondary" onClick={() => void submit()} data-testid="retry-submit">
              Retry submit now
            </button>
          )}
        </div>
      )}
      {message && (
        <p className={message.kind} role={message.kind === "error" ? "alert" : "status"} data-testid={`workspace-${message.kind}`}>
          {message.text}
        </p>
      )}

      {queue.data && (
        <details className="queue-list">
          <summary>Queue ({queue.data.page.rows} cases)</summary>
          {queuePage && queuePage.rows > queuePage.limit && (
            <nav className="form-row queue-pages" aria-label="Queue pages">
              <button type="button" className="secondary small" disabled={queuePage.offset === 0} onClick={() => setQueueOffset(Math.max(0, queuePage.offset - queuePage.limit))}>
                Previous
              </button>
              <span className="muted small" data-testid="queue-page">
                cases {Math.min(queuePage.offset + 1, queuePage.rows).toLocaleString("en")}–{Math.min(queuePage.offset + queuePage.limit, queuePage.rows).toLocaleString("en")} of {queuePage.rows.toLocaleString("en")}
              </span>
              <button type="button" className="secondary small" disabled={queuePage.offset + queuePage.limit >= queuePage.rows} onClick={() => setQueueOffset(queuePage.offset + queuePage.limit)}>
                Next
              </button>
            </nav>
          )}
          <ol start={(queuePage?.offset ?? 0) + 1}>
            {queue.data.items.map((item) => (
              <li key={item.queueItemId} aria-current={item.caseId === current?.caseId ? "true" : undefined}>
                <Link href={`/queue/${projectId}?case=${item.caseId}`}>Case #{item.rank}</Link> {item.hasImages && <span className="badge">images</span>} <span className={`badge ${item.state}`}>{item.state.replace(/-/g, " ")}</span>
                {item.state === "leased" && item.heldBy.length > 0 && (
                  <span className="muted small" data-testid="lease-holder">
                    {" "}
                    by {item.heldBy.map((h) => `${h.name} until ${clockTime(h.until)}`).join(", ")}
                  </span>
                )}
                {item.reason && <span className="muted small"> · {item.reason.text}</span>}
              </li>
            ))}
          </ol>
        </details>
      )}

      {finished && (
        <div className="panel" data-testid="queue-finished">
          <p>{counts && counts.remaining > 0 ? "Nothing to take from your queue right now." : "Nothing left in your queue for this round. Thank you!"}</p>
          {counts && queue.data && <HeldCasesNote remaining={counts.remaining} items={queue.data.items} leaseMinutes={queue.data.project.leaseMinutes} formatTime={clockTime} onTake={() => void takeNext()} />}
          {nextRound ? (
            <div data-testid="next-round-progress">
              <p className="muted">
                {nextRound.kind === "select" ? "The next round is being chosen" : nextRound.kind === "train" ? "The next model is being trained on the labels so far" : "The next model is being evaluated"}
                {nextRound.status === "QUEUED" ? " (waiting for the worker)" : ""}. This page shows the new round as soon as it exists; there is no need to reload.
              </p>
              <div className="progress" role="progressbar" aria-valuenow={Math.round(nextRound.percent)} aria-valuemin={0} aria-valuemax={100} aria-label={nextRound.stage}>
                <div className="progress-fill" style={{ width: `${Math.round(nextRound.percent)}%` }} />
                <span className="progress-text">{Math.round(nextRound.percent)}% — {nextRound.stage}</span>
              </div>
            </div>
          ) : counts && counts.remaining > 0 ? null : (
            <p className="muted" data-testid="next-round-waiting">
              A new round starts when a reviewer approves the next model; this page checks every few seconds and shows it without a reload.
            </p>
          )}
        </div>
      )}
      {current && !formReady && !caseQuery.error && <p className="muted">Loading case…</p>}
      {caseQuery.error && <p className="error">{caseQuery.error.message}</p>}

      {formReady && view && (
        <div className="case-grid" data-testid="case-view">
          {/* A case with images and no narrative has no report column: the image gets its width, and
              the text-evidence controls (which need report text) are not shown. */}
          <div className={imageOnly ? "case-main image-only" : "case-main"}>
            <section className={imageOnly ? "case-meta" : "panel"} data-testid={imageOnly ? "case-meta" : "report-panel"}>
              <h2>
                {imageOnly ? "Images" : "Report"} {badge && <span className="badge" data-testid="case-badge">{badge}</span>}
              </h2>
              <p className="muted small case-position" data-testid="case-position">
                Case <strong>{view.case.externalId}</strong>
                {currentItem && queue.data ? ` · case ${currentItem.rank} of ${queue.data.counts.total} in round ${queue.data.round?.number ?? "—"}` : ""}
              </p>
              {currentItem?.reason && (
                <p className={`why-case ${currentItem.reason.kind}`} data-testid="why-this-case" title="Why the selection put this case in your queue">
                  Why this case: {currentItem.reason.text}
                </p>
              )}
              {!imageOnly && <Narrative ref={narrativeRef} text={view.case.narrative} spans={form.content.spans} labelNames={labelNames} labelColours={labelColours} />}
              {hasNarrative && (
                <p className="muted small" data-testid="evidence-hint">
                  {labels.some((l) => l.shortcut) ? "Select text, then press a label's key (or a button below) to mark it as evidence." : "Select text, then choose a label's Evidence button below to mark it as evidence."}
                </p>
              )}
              {hasNarrative && (
                <div className="span-actions" data-testid="text-evidence-actions">
                  {labels.map((l) => (
                    <button
                      key={l.key}
                      type="button"
                      className="secondary small"
                      disabled={readOnly}
                      onMouseDown={(e) => e.preventDefault()}
                      onClick={() => {
                        if (!addSpan(l.key)) setMessage({ kind: "error", text: "Select some report text first.", cause: "no-selection" });
                      }}
                    >
                      <span className="swatch" style={{ background: l.color }} aria-hidden="true" /> Evidence: {l.name}
                    </button>
                  ))}
                </div>
              )}
              {form.content.spans.length > 0 && (
                <ul className="spans" data-testid="spans">
                  {form.content.spans.map((span, i) => (
                    <li key={`${span.start}-${span.end}-${span.label}`}>
                      <mark style={{ background: highlight(labelColours.get(span.label)) }}>{span.text}</mark> → {labelNames.get(span.label) ?? span.label}{" "}
                      <button type="button" className="link" disabled={readOnly} onClick={() => update((c) => ({ ...c, spans: c.spans.filter((_, j) => j !== i) }))} aria-label={`Remove span ${span.text}`}>
                        remove
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            {view.case.images.length > 0 && (
              <ImageViewer
                key={view.case.id}
                ref={viewerRef}
                images={view.case.images}
                evidence={{ regions: form.content.regions ?? [], labels, defaultLabel: form.content.labels[0] ?? null, onChange: readOnly ? undefined : (regions) => update((c) => ({ ...c, regions })) }}
              />
            )}
          </div>

          <aside className="case-side">
            <section className="panel">
              <h2>Labels</h2>
              {view.refusal && (
                <p className="error" role="status" data-testid="annotation-refused">
                  {view.refusal} You can read it here, but an answer would not be saved.
                </p>
              )}
              <div className="labels" role="group" aria-label="Labels">
                {labels.map((l) => (
                  <button
                    key={l.key}
                    type="button"
                    className={form.content.labels.includes(l.key) ? "label on" : "label"}
                    aria-pressed={form.content.labels.includes(l.key)}
                    disabled={readOnly}
                    onClick={() => toggleLabel(l.key)}
                    title={l.guideline ?? undefined}
                    style={{ borderLeft: `4px solid ${l.color}` }}
                  >
                    {l.shortcut && <kbd>{l.shortcut}</kbd>} {l.name}
                  </button>
                ))}
              </div>
              {labels.some((l) => l.guideline) && (
                <dl className="muted small" data-testid="label-guidelines" style={{ margin: "0 0 10px" }}>
                  {labels
                    .filter((l) => l.guideline)
                    .map((l) => (
                      <div key={l.key} style={{ marginBottom: 4 }}>
                        <dt style={{ fontWeight: 600, display: "inline" }}>{l.name}: </dt>
                        <dd style={{ display: "inline", margin: 0 }}>{l.guideline}</dd>
                      </div>
                    ))}
                </dl>
              )}
              <label className="check">
                <input type="checkbox" checked={form.content.uncertain} disabled={readOnly} onChange={(e) => update((c) => ({ ...c, uncertain: e.target.checked }))} /> Uncertain <kbd>U</kbd>
              </label>
              <label>
                <span>
                  Comment <span className="shortcut-hint">(shortcut: C)</span>
                </span>
                <textarea ref={commentRef} rows={3} value={form.content.comment} maxLength={TEXT_LIMITS.comment} disabled={readOnly} onChange={(e) => update((c) => ({ ...c, comment: e.target.value }))} />
                <CharCount field="comment" value={form.content.comment} />
              </label>
              <div className="form-row">
                <button type="button" onClick={() => void submit()} disabled={submitMutation.isPending || readOnly}>
                  Submit <kbd>Ctrl+Enter</kbd>
                </button>
                <button type="button" className="secondary" onClick={() => setSkipOpen(true)} disabled={readOnly}>
                  Skip <kbd>S</kbd>
                </button>
                {(current?.mode === "edit" || finished) && (
                  <button type="button" className="secondary" onClick={goNext}>
                    Next <kbd>N</kbd>
                  </button>
                )}
              </div>
              <p className="muted small">Version {form.baseVersion} of this case when you opened it.</p>
            </section>

            <section className="panel">
              <h2>
                <button type="button" className="link" onClick={() => setHistoryOpen((o) => !o)}>
                  History ({view.history.length}) <kbd>H</kbd>
                </button>
              </h2>
              {historyOpen && (
                <ol className="history" data-testid="history">
                  {view.history.map((h) => (
                    <li key={h.id} data-testid="history-entry">
                      <strong>
                        v{h.version} · {h.authorName}
                      </strong>{" "}
                      <span className="muted">{new Date(h.createdAt).toLocaleString()}</span>
                      <div>
                        {h.kind === "SKIPPED" ? `Skipped: ${h.skipReason ?? ""}` : h.labels.map((k) => labelNames.get(k) ?? k).join(", ")}
                        {h.uncertain && " · uncertain"}
                        {h.spans.length > 0 && ` · ${h.spans.length} span${h.spans.length === 1 ? "" : "s"}`}
                        {h.regions.length > 0 && (
                          <span data-testid="history-regions">
                            {` · ${h.regions.length} image region${h.regions.length === 1 ? "" : "s"} (frame${new Set(h.regions.map((r) => r.frame)).size === 1 ? "" : "s"} ${[...new Set(h.regions.map((r) => r.frame))].sort((a, b) => a - b).join(", ")})`}
                          </span>
                        )}
                      </div>
                      {h.comment && <div className="muted">“{h.comment}”</div>}
                    </li>
                  ))}
                  {view.history.length === 0 && <li className="muted">No annotations yet.</li>}
                </ol>
              )}
              {view.history.length > 0 && current && (
                <p className="small">
                  <Link href={`/projects/${projectId}/cases/${current.caseId}`}>Open the read-only view of this case</Link>
                </p>
              )}
            </section>
          </aside>
        </div>
      )}

      {skipOpen && (
        <div className="overlay" role="dialog" aria-label="Skip this case">
          <form
            className="panel dialog"
            onSubmit={(e) => {
              e.preventDefault();
              void skip();
            }}
          >
            <h2>Skip this case</h2>
            <div className="form-row skip-presets" role="group" aria-label="Common reasons">
              {["Image quality too poor to read", "Outside my expertise", "Needs a second read"].map((preset) => (
                <button key={preset} type="button" className={skipReason === preset ? "small" : "secondary small"} aria-pressed={skipReason === preset} onClick={() => setSkipReason(preset)}>
                  {preset}
                </button>
              ))}
            </div>
            <label>
              Reason (required; choose one above or write your own)
              <input autoFocus value={skipReason} onChange={(e) => setSkipReason(e.target.value)} minLength={3} maxLength={TEXT_LIMITS.skipReason} data-testid="skip-reason" />
              <CharCount field="skipReason" value={skipReason} />
            </label>
            <div className="form-row">
              <button type="submit" disabled={skipReason.trim().length < 3}>
                Skip case
              </button>
              <button type="button" className="secondary" onClick={() => setSkipOpen(false)}>
                Cancel <kbd>Esc</kbd>
              </button>
            </div>
          </form>
        </div>
      )}

      {conflict && form && (
        <div className="overlay" role="dialog" aria-label="Conflict">
          <div className="panel dialog wide" data-testid="conflict">
            <h2>{conflict.theirs?.byYou ? "You submitted this case in another tab or window while this one was open" : "Someone else submitted this case while you worked on it"}</h2>
            <p className="muted">Nothing was overwritten. Compare the two versions, then choose.</p>
            <div className="compare">
              <div>
                <h3>{conflict.theirs?.byYou ? "Saved already" : "Theirs"} {conflict.theirs && `(v${conflict.theirs.version}, ${conflict.theirs.authorName})`}</h3>
                <p data-testid="conflict-theirs">{conflict.theirs ? conflict.theirs.labels.map((k) => labelNames.get(k) ?? k).join(", ") : "—"}</p>
                {(conflict.theirs?.regions?.length ?? 0) > 0 && <p className="muted small">{conflict.theirs!.regions!.length} image region(s)</p>}
                {conflict.theirs?.comment && <p className="muted">“{conflict.theirs.comment}”</p>}
              </div>
              <div>
                <h3>Yours</h3>
                <p data-testid="conflict-yours">{conflict.yours.labels.map((k) => labelNames.get(k) ?? k).join(", ")}</p>
                {(conflict.yours.regions?.length ?? 0) > 0 && <p className="muted small">{conflict.yours.regions!.length} image region(s)</p>}
                {conflict.yours.comment && <p className="muted">“{conflict.yours.comment}”</p>}
              </div>
            </div>
            <div className="form-row">
              <button
                type="button"
                onClick={() => {
                  setForm({ ...form, baseVersion: conflict.currentVersion, dirty: true });
                  void submit(conflict.currentVersion);
                }}
              >
                Submit mine on top
              </button>
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  if (conflict.theirs) {
                    const t = conflict.theirs;
                    setForm({ ...form, content: { labels: t.labels, spans: t.spans, regions: t.regions ?? [], uncertain: t.uncertain, comment: t.comment }, baseVersion: conflict.currentVersion, dirty: true });
                  }
                  setConflict(null);
                  void queryClient.invalidateQueries({ queryKey: trpc.annotations.case.queryKey({ caseId: form.caseId }) });
                }}
              >
                Take theirs
              </button>
            </div>
          </div>
        </div>
      )}

      {helpOpen && (
        <div className="overlay" role="dialog" aria-label="Keyboard shortcuts" onClick={() => setHelpOpen(false)}>
          <div className="panel dialog" data-testid="help-overlay">
            <h2>Keyboard shortcuts</h2>
            <table>
              <tbody>
                {labels
                  .filter((l) => l.shortcut)
                  .map((l) => (
                    <tr key={l.key}>
                      <td>
                        <kbd>{l.shortcut}</kbd>
                      </td>
                      <td>Label “{l.name}” (with report text selected: mark it as evidence for this label)</td>
                    </tr>
                  ))}
                {[
                  ["Ctrl+Enter", "Submit and go to the next case"],
                  ["S", "Skip (asks for a reason)"],
                  ["N", "Next case (after editing a past case)"],
                  ["Z", "Reopen the case you just submitted, to correct it (saved as a new version)"],
                  ["U", "Toggle uncertain"],
                  ["C", "Comment"],
                  ["H", "Show/hide history"],
                  ["Drag", "Window/level"],
                  ["Shift+drag or P", "Pan"],
                  ["Wheel", "Previous / next frame"],
                  ["Ctrl+wheel", "Zoom"],
                  ["↑ / ↓, PgUp / PgDn", "Previous / next frame"],
                  ["I / R", "Invert / reset the image"],
                  ["?", "This help"],
                  ["Esc", "Close"],
                ].map(([key, what]) => (
                  <tr key={key}>
                    <td>
                      <kbd>{key}</kbd>
                    </td>
                    <td>{what}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </div>
  );
}
