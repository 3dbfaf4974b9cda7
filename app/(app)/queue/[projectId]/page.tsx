import { Suspense } from "react";
import { Workspace } from "./workspace";

/** The annotation workspace of one project: the caller's queue, one case at a time. */
export default async function ProjectQueuePage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <Workspace projectId={projectId} />
    </Suspense>
  );
}
