"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { ReactNode } from "react";
import { usePathname } from "next/navigation";
import type { ProjectPermission } from "@/contracts/permissions";
import { ROLE_LABELS } from "@/contracts/roles";
import { useTRPC } from "../../../_components/providers";

interface Tab {
  label: string;
  href: (projectId: string) => string;
  permission: ProjectPermission;
  /** Hidden on an archived project (read-only, out of every queue). */
  writes?: boolean;
}

/** The project's tabs; each appears when the caller's role IN THIS PROJECT has its permission (contracts/permissions.ts). */
export const PROJECT_TABS: readonly Tab[] = [
  { label: "Overview", href: (id) => `/projects/${id}`, permission: "project.view" },
  { label: "Queue", href: (id) => `/queue/${id}`, permission: "annotate", writes: true },
  { label: "Cases", href: (id) => `/projects/${id}/cases`, permission: "cases.browse" },
  { label: "Import", href: (id) => `/projects/${id}/import`, permission: "cases.import", writes: true },
  { label: "Jobs", href: (id) => `/projects/${id}/jobs`, permission: "jobs.view" },
  { label: "Agreement", href: (id) => `/projects/${id}/agreement`, permission: "labels.agreement" },
  { label: "Adjudication", href: (id) => `/projects/${id}/adjudication`, permission: "labels.adjudicate", writes: true },
  { label: "Selection", href: (id) => `/projects/${id}/selection`, permission: "selection.view" },
  { label: "Settings", href: (id) => `/projects/${id}/settings`, permission: "project.configure" },
  { label: "Members", href: (id) => `/projects/${id}/members`, permission: "members.manage" },
];

const tabStyle = { padding: "8px 12px", borderBottom: "2px solid transparent", textDecoration: "none", color: "var(--ink)" } as const;

export function ProjectTabs({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
  if (!project.data) return null;
  const { name, archived, role, permissions } = project.data;
  // The longest matching href among ALL tabs is the current page (the overview's href is a prefix of every other).
  const current = PROJECT_TABS.map((t) => t.href(projectId)).filter((href) => pathname === href || pathname.startsWith(`${href}/`)).sort((a, b) => b.length - a.length)[0];
  // A page the caller's role may not use (an address typed or shared) still shows as its own tab, marked so,
  // instead of highlighting the overview; the page itself says who may use it.
  const tabs = PROJECT_TABS.filter((tab) => (permissions.includes(tab.permission) && !(archived && tab.writes)) || tab.href(projectId) === current);
  return (
    <header style={{ marginBottom: 18 }}>
      <p className="muted" style={{ margin: "0 0 4px", fontSize: 13 }}>
        <Link href="/projects">Projects</Link> / <span data-testid="project-name">{name}</span> · your role here: {ROLE_LABELS[role]}
        {archived && (
          <span className="badge inactive" data-testid="archived-badge" style={{ marginLeft: 8 }}>
            Archived — read-only
          </span>
        )}
      </p>
      <nav aria-label="Project" style={{ display: "flex", gap: 4, flexWrap: "wrap", borderBottom: "1px solid var(--line)" }}>
        {tabs.map((tab) => {
          const href = tab.href(projectId);
          const active = href === current;
          const forRole = permissions.includes(tab.permission);
          // The real reason comes first: an archived project refuses every change, whatever the role.
          const archivedWrite = forRole && archived && tab.writes === true;
          const usable = forRole && !archivedWrite;
          return (
            <Link
              key={tab.label}
              href={href}
              aria-current={active ? "page" : undefined}
              title={usable ? undefined : archivedWrite ? "This project is archived: read-only" : "Your role in this project may not use this page"}
              data-testid={usable ? undefined : archivedWrite ? "tab-archived" : "tab-not-for-role"}
              style={{ ...tabStyle, ...(active ? { borderBottomColor: "var(--accent)", fontWeight: 600 } : {}), ...(usable ? {} : { color: "var(--muted)", fontStyle: "italic" }) }}
            >
              {tab.label}
              {usable ? "" : archivedWrite ? " (archived — read-only)" : " (not for your role)"}
            </Link>
          );
        })}
      </nav>
    </header>
  );
}

/**
 * Around every page of a project: on an ARCHIVED project, a page that changes data (a tab marked
 * `writes`: Import, Adjudication) says "archived — read-only" up front and its forms and buttons
 * are disabled (a disabled fieldset disables every control inside it), instead of refusing after
 * an upload. The server refuses such writes anyway (the front door, CONFLICT).
 */
export function ArchivedGuard({ projectId, children }: { projectId: string; children: ReactNode }) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
  const page = PROJECT_TABS.filter((t) => pathname === t.href(projectId) || pathname.startsWith(`${t.href(projectId)}/`)).sort((a, b) => b.href(projectId).length - a.href(projectId).length)[0];
  const data = project.data;
  const frozen = data?.archived === true && page?.writes === true && data.permissions.includes(page.permission);
  if (!frozen || !data || !page) return <>{children}</>;
  return (
    <>
      <p className="panel" role="status" data-testid="archived-read-only">
        <strong>This project is archived — read-only.</strong> Nothing can be changed here ({page.label.toLowerCase()} included) until it is
        unarchived{data.permissions.includes("project.configure") ? " under Settings → Archive" : " by a data scientist or admin of the project"}.
      </p>
      <fieldset disabled aria-label="Archived — read-only" style={{ display: "contents" }}>
        {children}
      </fieldset>
    </>
  );
}
