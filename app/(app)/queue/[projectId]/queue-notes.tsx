import Link from "next/link";

/**
 * What the workspace shows instead of itself when queue.project refuses the caller this project:
 * NOT_FOUND — not (or no longer) a member, or no such project; FORBIDDEN — their role here may not
 * annotate. `hadAccess`: the page had shown the project's queue before (the caller was removed or their
 * role changed while it was open). Offers the caller's projects and queues.
 */
export function ProjectAccessRefused({ code, hadAccess, projectName }: { code: "NOT_FOUND" | "FORBIDDEN"; hadAccess: boolean; projectName: string | null }) {
  const project = projectName ? `“${projectName}”` : "this project";
  return (
    <div className="panel" data-testid="project-access-refused">
      <h1>{hadAccess ? `You no longer have access to ${project}` : `You do not have access to ${project}`}</h1>
      <p className="muted">
        {code === "NOT_FOUND"
          ? hadAccess
            ? "You are no longer a member of this project (a data scientist or an administrator of the project removed you), or it was deleted. Its cases are no longer shown."
            : "You are not a member of this project, or it does not exist."
          : hadAccess
            ? "Your role in this project changed and no longer includes annotating. Its cases are no longer shown."
            : "Your role in this project does not include annotating, so it has no queue for you."}
      </p>
      <p>
        <Link href="/projects">Your projects</Link> · <Link href="/queue">My queue</Link>
      </p>
    </div>
  );
}

export interface HeldItem {
  state: string;
  heldBy: { name: string; until: string }[];
}

/**
 * Why "remaining for you" is not zero when queue.next has nothing to give: the remaining cases are leased by
 * colleagues (the round's items whose every annotation slot is held). Reads the queue list's page the
 * workspace already has (state "leased" with its holders); `remaining` is the header's count. Null when
 * nothing remains; a button to take a case that is open again (`onTake`). `formatTime` turns a lease's end into a clock time.
 */
export function HeldCasesNote({ remaining, items, leaseMinutes, formatTime, onTake }: { remaining: number; items: readonly HeldItem[]; leaseMinutes: number; formatTime: (iso: string) => string; onTake: () => void }) {
  if (remaining <= 0) return null;
  const held = items.filter((item) => item.state === "leased");
  const cases = (n: number) => `${n} ${n === 1 ? "case is" : "cases are"}`;
  // A lease ran out (or a colleague skipped): the case is open again; the clinician takes it when ready.
  if (items.some((item) => item.state === "available")) {
    return (
      <p data-testid="held-cases">
        A case is open for you again (a colleague&apos;s lease ended).{" "}
        <button type="button" className="small" onClick={onTake}>
          Take it now
        </button>
      </p>
    );
  }
  if (held.length === 0) {
    return (
      <p className="muted" data-testid="held-cases">
        {cases(remaining)} still open for you but held by colleagues right now. A held case comes back to your queue if they do not finish it within the lease time ({leaseMinutes} minutes); this page checks every few seconds.
      </p>
    );
  }
  const holders = held.flatMap((item) => item.heldBy).map((h) => `${h.name}, lease until ${formatTime(h.until)}`);
  const one = remaining === 1 && holders.length <= 1;
  return (
    <p className="muted" data-testid="held-cases">
      {cases(remaining)} held by {one ? "a colleague" : "colleagues"}
      {holders.length > 0 ? ` (${holders.join("; ")})` : ""}; {one ? "it comes back to your queue if they don't finish it" : "a case comes back to your queue if it is not finished"} by then. This page checks every few seconds.
    </p>
  );
}
