/** Inputs of the user-administration forms and procedures (one schema each, shared by both). */
import { z } from "zod";
import { ZInitialMembership } from "./members";
import { ZRole } from "./roles";
import { limitedText } from "./text-limits";
import { safeText } from "./text-safety";

export const ZEmail = z.string().trim().toLowerCase().email("Enter a valid e-mail address").max(254);

export const ZPassword = z.string().min(12, "Passwords have at least 12 characters").max(200);

export const ZCreateUserInput = z.object({
  email: ZEmail,
  name: limitedText("personName", safeText(z.string().trim().min(1, "Enter the person's name"))),
  role: ZRole,
  /** Empty: a temporary password is generated and shown once. */
  initialPassword: z.union([ZPassword, z.literal("")]).default(""),
  /** Projects the new user joins in the same step, each with their role there (one entry per project). */
  projects: z
    .array(ZInitialMembership)
    .max(100)
    .refine((list) => new Set(list.map((m) => m.projectId)).size === list.length, "A project is listed twice")
    .default([]),
});
export type CreateUserInput = z.infer<typeof ZCreateUserInput>;

export const ZSetRoleInput = z.object({ userId: z.string().min(1), role: ZRole });
export type SetRoleInput = z.infer<typeof ZSetRoleInput>;

export const ZSetActiveInput = z.object({ userId: z.string().min(1), active: z.boolean() });
export type SetActiveInput = z.infer<typeof ZSetActiveInput>;

export const ZResetPasswordInput = z.object({ userId: z.string().min(1) });
export type ResetPasswordInput = z.infer<typeof ZResetPasswordInput>;

export const ZSignInInput = z.object({ email: ZEmail, password: z.string().min(1, "Enter your password").max(200) });
export type SignInInput = z.infer<typeof ZSignInInput>;

export const ZAuditListInput = z.object({
  limit: z.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^\d+$/).optional(),
  action: z.string().max(80).optional(),
  /** Actor: part of a name or e-mail (case-insensitive), a user id, or "system" for events without a user (worker, CLI). */
  actor: z.string().trim().max(200).optional(),
  /** Target type, exactly (e.g. "ModelVersion"). */
  targetType: z.string().trim().max(80).optional(),
  /** Target id, exactly. */
  targetId: z.string().trim().max(200).optional(),
  /** Events at or after this day (YYYY-MM-DD, UTC). */
  from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "Use a date like 2026-11-30").optional(),
  /** Events on or before this day (YYYY-MM-DD, UTC). */
  to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "Use a date like 2026-11-30").optional(),
});
export type AuditListInput = z.infer<typeof ZAuditListInput>;

/** A signed-in user choosing a new password (required at first sign-in when mustChangePassword is set). */
export const ZChangePasswordInput = z
  .object({
    currentPassword: z.string().min(1, "Enter your current password").max(200),
    newPassword: ZPassword,
    confirmPassword: z.string().max(200),
  })
  .refine((v) => v.newPassword === v.confirmPassword, { message: "The two new passwords differ", path: ["confirmPassword"] })
  .refine((v) => v.newPassword !== v.currentPassword, { message: "Choose a password different from the current one", path: ["newPassword"] });
export type ChangePasswordInput = z.infer<typeof ZChangePasswordInput>;
