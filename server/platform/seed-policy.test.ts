import { describe, expect, it } from "vitest";
import { StartupError } from "../startup-error";
import { seedPlan } from "./seed-policy";

describe("demo seeding on a real database (issue 12, fault 12)", () => {
  it("refuses SEED_DEMO=true on DATABASE_URL without the explicit throwaway flag", () => {
    expect(() => seedPlan({ seedDemo: "true", external: true, allowOnExternal: undefined })).toThrow(StartupError);
    expect(() => seedPlan({ seedDemo: "true", external: true, allowOnExternal: "yes" })).toThrow(/password is published/);
    expect(seedPlan({ seedDemo: "true", external: true, allowOnExternal: "true" })).toBe("demo");
  });

  it("keeps the defaults: the demo on the embedded database, an empty platform on a real one", () => {
    expect(seedPlan({ seedDemo: undefined, external: false, allowOnExternal: undefined })).toBe("demo");
    expect(seedPlan({ seedDemo: "true", external: false, allowOnExternal: undefined })).toBe("demo");
    expect(seedPlan({ seedDemo: undefined, external: true, allowOnExternal: undefined })).toBe("empty");
    expect(seedPlan({ seedDemo: "false", external: false, allowOnExternal: undefined })).toBe("empty");
    expect(() => seedPlan({ seedDemo: "yes", external: false, allowOnExternal: undefined })).toThrow(/SEED_DEMO must be true or false/);
  });
});
