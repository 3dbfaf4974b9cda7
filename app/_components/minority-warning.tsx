import Link from "next/link";

/** The server's minority watch (server/services/minority-watch.ts MinorityWatch), as the pages receive it. */
export interface MinorityWatchView {
  status: "blind" | "ok" | "unknown" | "no-model";
  message: string | null;
  suggestions: string[];
}

/**
 * The "selector sees no minority" warning of the selection, jobs and review pages (issue 15, item 2):
 * what the active model shows, and what helps, with links to where each is done. Renders nothing
 * unless the server found the active model blind to the minority classes.
 */
export function MinorityWarning({ watch, projectId }: { watch: MinorityWatchView | null | undefined; projectId: string }) {
  if (!watch || watch.status !== "blind" || !watch.message) return null;
  const links = [
    { href: `/projects/${projectId}/import`, text: "Import cases" },
    { href: `/projects/${projectId}/cases`, text: "Case browser" },
    { href: `/projects/${projectId}/settings/selection`, text: "Selection settings" },
  ];
  return (
    <div className="guard flagged" role="alert" data-testid="minority-warning">
      <strong>The selector sees no minority case.</strong> {watch.message}
      <p style={{ margin: "6px 0 2px" }}>What helps:</p>
      <ul>
        {watch.suggestions.map((s, i) => (
          <li key={s}>
            {s} <Link href={links[i]?.href ?? links[0]!.href}>{links[i]?.text ?? links[0]!.text}</Link>
          </li>
        ))}
      </ul>
    </div>
  );
}
