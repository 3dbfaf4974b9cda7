/**
 * Whether `npm start` seeds the demo project (scripts/start.ts). The demo's accounts share one
 * published password ("demo-password", printed at start and in the README), so on a real database
 * (DATABASE_URL) they would be an open door (issue 12, fault 12): there SEED_DEMO=true is refused
 * unless SEED_DEMO_ON_EXTERNAL_DATABASE=true says, knowingly, that this database is a throwaway.
 */
import { StartupError } from "../startup-error";

export interface SeedSettings {
  /** SEED_DEMO: "" (unset), "true" or "false". */
  seedDemo: string | undefined;
  /** Whether DATABASE_URL names an external database (not the embedded one). */
  external: boolean;
  /** SEED_DEMO_ON_EXTERNAL_DATABASE. */
  allowOnExternal: string | undefined;
}

/** "demo": seed the demo; "empty": no demo (the first admin is created on an empty database). Throws StartupError. */
export function seedPlan(settings: SeedSettings): "demo" | "empty" {
  const seed = settings.seedDemo ?? "";
  if (!["", "true", "false"].includes(seed)) {
    throw new StartupError(`SEED_DEMO must be true or false (got "${seed}").`, "SEED_DEMO=false starts an empty platform with one admin; leave it unset for the demo.");
  }
  if (seed === "false") return "empty";
  if (!settings.external) return "demo";
  if (seed === "") return "empty";
  if (settings.allowOnExternal === "true") return "demo";
  throw new StartupError(
    "SEED_DEMO=true on the database in DATABASE_URL would create demo accounts (an admin among them) whose password is published.",
    "Leave SEED_DEMO unset on a real database (its first admin gets a generated password), or, for a throwaway database only, also set SEED_DEMO_ON_EXTERNAL_DATABASE=true.",
  );
}
