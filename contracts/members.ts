/**
 * Inputs of the members page and procedures (one zod schema each, shared by form and procedure).
 * A member's role in a project is ProjectMember.role: CLINICIAN, DATA_SCIENTIST or REVIEWER for
 * anyone; ADMIN only for platform admins (checked by server/services/member-service.ts, which
 * needs the database to know the user's platform role).
 */
import { z } from "zod";
import { ZRole } from "./roles";

const ZId = z.string().min(1).max(64);

/** Roles a member can hold in a project (ADMIN: platform admins only, see above). */
export const ZProjectRole = ZRole;
export type ProjectRoleName = z.infer<typeof ZProjectRole>;

/** The roles offered to users who are not platform admins. */
export const MEMBER_ROLES = ["CLINICIAN", "DATA_SCIENTIST", "REVIEWER"] as const;

export const ZMembersListInput = z.object({ projectId: ZId });
export type MembersListInput = z.infer<typeof ZMembersListInput>;

/** A platform admin joins a project as its Admin (platform permission "projects.administer"). */
export const ZJoinAsAdminInput = z.object({ projectId: ZId });
export type JoinAsAdminInput = z.infer<typeof ZJoinAsAdminInput>;

export const ZAddMemberInput = z.object({
  projectId: ZId,
  userId: z.string({ error: "Choose a user" }).min(1, "Choose a user").max(64),
  role: ZProjectRole,
});
export type AddMemberInput = z.infer<typeof ZAddMemberInput>;

export const ZRemoveMemberInput = z.object({ projectId: ZId, userId: ZId });
export type RemoveMemberInput = z.infer<typeof ZRemoveMemberInput>;

export const ZSetMemberRoleInput = z.object({ projectId: ZId, userId: ZId, role: ZProjectRole });
export type SetMemberRoleInput = z.infer<typeof ZSetMemberRoleInput>;

/** Creating a user can add them to projects in the same step (contracts/users.ts ZCreateUserInput.projects). */
export const ZInitialMembership = z.object({ projectId: ZId, role: ZProjectRole });
export type InitialMembership = z.infer<typeof ZInitialMembership>;
