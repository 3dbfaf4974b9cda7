import type { RoleName } from "./roles";

export interface NavItem {
  href: string;
  label: string;
  roles: readonly RoleName[] | "all";
}

/** What each role sees in the navigation. The server enforces access separately (permissions.ts). */
export const NAV_ITEMS: readonly NavItem[] = [
  { href: "/", label: "Overview", roles: "all" },
  { href: "/queue", label: "My queue", roles: ["CLINICIAN", "ADMIN"] },
  { href: "/projects", label: "Projects", roles: "all" },
  { href: "/models", label: "Models", roles: ["REVIEWER", "DATA_SCIENTIST", "ADMIN"] },
  { href: "/selection", label: "Selection", roles: ["DATA_SCIENTIST", "ADMIN"] },
  { href: "/admin/users", label: "Users", roles: ["ADMIN"] },
  { href: "/admin/audit", label: "Audit log", roles: ["ADMIN"] },
];

export function navItemsFor(role: RoleName): NavItem[] {
  return NAV_ITEMS.filter((item) => item.roles === "all" || item.roles.includes(role));
}
