import { can, canAny, PLATFORM_PERMISSIONS, type PlatformPermission, type ProjectPermission } from "./permissions";
import type { RoleName } from "./roles";

export interface NavItem {
  href: string;
  label: string;
  /** Shown when one of the user's roles grants this permission (contracts/permissions.ts); "all" for everyone. */
  permission: ProjectPermission | PlatformPermission | "all";
}

/** What the navigation offers. The server enforces access separately (the front door and the tRPC matrix). */
export const NAV_ITEMS: readonly NavItem[] = [
  { href: "/", label: "Overview", permission: "all" },
  { href: "/queue", label: "My queue", permission: "annotate" },
  { href: "/projects", label: "Projects", permission: "all" },
  { href: "/models", label: "Models", permission: "models.list" },
  { href: "/selection", label: "Selection", permission: "selection.view" },
  { href: "/admin/users", label: "Users", permission: "users.manage" },
  { href: "/admin/audit", label: "Audit log", permission: "audit.view" },
];

/**
 * The destinations of a user: project pages by the union of their platform role and their role in
 * each of their projects (a platform clinician who is a data scientist in one project sees
 * Selection); platform pages (users, audit) by the platform role alone.
 */
export function navItemsFor(platformRole: RoleName, projectRoles: readonly RoleName[] = []): NavItem[] {
  const union = [platformRole, ...projectRoles];
  return NAV_ITEMS.filter((item) => {
    if (item.permission === "all") return true;
    if (item.permission in PLATFORM_PERMISSIONS) return can(platformRole, item.permission);
    return canAny(union, item.permission);
  });
}
