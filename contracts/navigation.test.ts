import { describe, expect, it } from "vitest";
import { navItemsFor } from "./navigation";

describe("navigation per role", () => {
  it("gives each role its own destinations", () => {
    expect(navItemsFor("CLINICIAN").map((i) => i.href)).toEqual(["/", "/queue", "/projects"]);
    expect(navItemsFor("REVIEWER").map((i) => i.href)).toEqual(["/", "/projects", "/models"]);
    expect(navItemsFor("DATA_SCIENTIST").map((i) => i.href)).toEqual(["/", "/projects", "/models", "/selection"]);
    expect(navItemsFor("ADMIN").map((i) => i.href)).toContain("/selection");
    expect(navItemsFor("ADMIN").map((i) => i.href)).toContain("/admin/audit");
  });

  it("shows the union of the platform role and the project roles", () => {
    // A platform clinician who is a data scientist in one project.
    expect(navItemsFor("CLINICIAN", ["DATA_SCIENTIST"]).map((i) => i.href)).toEqual(["/", "/queue", "/projects", "/models", "/selection"]);
    // Platform pages follow the platform role alone: ADMIN in a project does not open the user admin.
    expect(navItemsFor("REVIEWER", ["ADMIN"]).map((i) => i.href)).toEqual(["/", "/queue", "/projects", "/models", "/selection"]);
    expect(navItemsFor("ADMIN", []).map((i) => i.href)).toContain("/admin/users");
  });
});
