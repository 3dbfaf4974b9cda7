import { z } from "zod";

export const ROLES = ["CLINICIAN", "DATA_SCIENTIST", "REVIEWER", "ADMIN"] as const;
export const ZRole = z.enum(ROLES);
export type RoleName = z.infer<typeof ZRole>;

export const ROLE_LABELS: Record<RoleName, string> = {
  CLINICIAN: "Clinician",
  DATA_SCIENTIST: "Data scientist",
  REVIEWER: "Reviewer",
  ADMIN: "Admin",
};
