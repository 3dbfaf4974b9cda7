"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { AnnotationContent } from "@/contracts/annotations";

export interface LocalDraft {
  content: AnnotationContent;
  baseVersion: number;
  savedAt: string;
}

const keyOf = (userId: string, caseId: string) => `rads-draft:${userId}:${caseId}`;

/** The draft this browser kept for the case (survives a lost connection and a closed tab). */
export function readLocalDraft(userId: string, caseId: string): LocalDraft | null {
  try {
    const raw = window.localStorage.getItem(keyOf(userId, caseId));
    return raw ? (JSON.parse(raw) as LocalDraft) : null;
  } catch {
    return null;
  }
}

export function clearLocalDraft(userId: string, caseId: string): void {
  try {
    window.localStorage.removeItem(keyOf(userId, caseId));
  } catch {
    // storage disabled: nothing was kept either
  }
}

/** "refused": the server answered and refused the draft (e.g. a NUL character in the comment): no retry, `refusal` says why. */
export type AutosaveStatus = "idle" | "saving" | "saved" | "offline" | "refused";

const DEBOUNCE_MS = 800;
const MAX_BACKOFF_MS = 30_000;

/**
 * Keeps a draft in two places: localStorage at every change (nothing typed is lost, even offline)
 * and the server (AnnotationDraft) debounced, retrying with exponential backoff while it fails.
 */
export function useDraftAutosave(options: {
  userId: string | null;
  caseId: string | null;
  baseVersion: number;
  content: AnnotationContent | null;
  dirty: boolean;
  save: (draft: { caseId: string; baseVersion: number; content: AnnotationContent }) => Promise<unknown>;
  /** The server's own words when it answered and refused the draft (a bad input); null when it could not be reached. */
  refusalOf: (error: unknown) => string | null;
}) {
  const { userId, caseId, baseVersion, content, dirty, save } = options;
  const [status, setStatus] = useState<AutosaveStatus>("idle");
  const [refusal, setRefusal] = useState<string | null>(null);
  const refusalOfRef = useRef(options.refusalOf);
  refusalOfRef.current = options.refusalOf;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const attempt = useRef(0);
  const saveRef = useRef(save);
  saveRef.current = save;

  const cancel = useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
  }, []);

  useEffect(() => {
    if (!userId || !caseId || !content || !dirty) return;
    const draft = { caseId, baseVersion, content };
    try {
      window.localStorage.setItem(keyOf(userId, caseId), JSON.stringify({ content, baseVersion, savedAt: new Date().toISOString() } satisfies LocalDraft));
    } catch {
      // storage full or disabled: the server copy still follows
    }
    attempt.current = 0;
    const run = () => {
      setStatus((s) => (s === "offline" ? s : "saving"));
      saveRef.current(draft).then(
        () => {
          attempt.current = 0;
          setRefusal(null);
          setStatus("saved");
        },
        (error: unknown) => {
          // Refused by the server: retrying the same draft cannot help, and the clinician is not offline.
          const refused = refusalOfRef.current(error);
          if (refused !== null) {
            setRefusal(refused);
            setStatus("refused");
            return;
          }
          attempt.current += 1;
          setStatus("offline");
          timer.current = setTimeout(run, Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (attempt.current - 1)));
        },
      );
    };
    cancel();
    timer.current = setTimeout(run, DEBOUNCE_MS);
    return cancel;
  }, [userId, caseId, baseVersion, content, dirty, cancel]);

  useEffect(() => setStatus("idle"), [caseId]);

  return { status, refusal, cancel, setStatus };
}
