import { describe, expect, it } from "vitest";
import { can, canAny, PLATFORM_PERMISSIONS, PROJECT_PERMISSION_NAMES, PROJECT_PERMISSIONS, rolesFor } from "./permissions";
import { ROLES } from "./roles";

describe("permission tables", () => {
  it("name only known roles, each permission held by someone, project and platform names apart", () => {
    for (const roles of [...Object.values(PROJECT_PERMISSIONS), ...Object.values(PLATFORM_PERMISSIONS)]) {
      expect(roles.length).toBeGreaterThan(0);
      for (const role of roles) expect(ROLES).toContain(role);
    }
    expect(PROJECT_PERMISSION_NAMES.filter((p) => p in PLATFORM_PERMISSIONS)).toEqual([]);
  });

  it("answers by the table: every member sees the project, clinicians annotate, only reviewers decide", () => {
    for (const role of ROLES) expect(can(role, "project.view")).toBe(true);
    expect(ROLES.filter((r) => can(r, "annotate"))).toEqual(["CLINICIAN", "ADMIN"]);
    expect(ROLES.filter((r) => can(r, "models.decide"))).toEqual(["REVIEWER"]);
    expect(ROLES.filter((r) => can(r, "cases.browse"))).toEqual(["DATA_SCIENTIST", "REVIEWER", "ADMIN"]);
    expect(ROLES.filter((r) => can(r, "projects.create"))).toEqual(["DATA_SCIENTIST", "ADMIN"]);
    expect(can(null, "project.view")).toBe(false);
    expect(can(undefined, "annotate")).toBe(false);
  });

  it("canAny takes the union of roles; rolesFor lists the table's roles", () => {
    expect(canAny(["CLINICIAN"], "selection.view")).toBe(false);
    expect(canAny(["CLINICIAN", "DATA_SCIENTIST"], "selection.view")).toBe(true);
    expect(canAny([], "project.view")).toBe(false);
    expect(rolesFor("users.manage")).toEqual(["ADMIN"]);
    expect(rolesFor("labels.export")).toEqual(PROJECT_PERMISSIONS["labels.export"]);
  });
});
