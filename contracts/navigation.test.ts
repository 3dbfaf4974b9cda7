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
});
