import { ProjectOverview } from "./project-overview";

/** A project's overview: what it is, its labels and counts (every member). */
export default async function ProjectOverviewPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <ProjectOverview projectId={projectId} />;
}
