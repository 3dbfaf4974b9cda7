import type { ReactNode } from "react";
import { ArchivedGuard, ProjectTabs } from "./project-tabs";

/**
 * Every page of one project (overview, import, jobs, selection, settings, and the members and
 * cases pages) sits under the project's tabs, shown per the caller's role in the project; a page
 * that changes data is read-only on an archived project (ArchivedGuard).
 */
export default async function ProjectLayout({ children, params }: { children: ReactNode; params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <>
      <ProjectTabs projectId={projectId} />
      <ArchivedGuard projectId={projectId}>{children}</ArchivedGuard>
    </>
  );
}
