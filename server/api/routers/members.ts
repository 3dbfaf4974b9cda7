import { ZAddMemberInput, ZJoinAsAdminInput, ZMembersListInput, ZRemoveMemberInput, ZSetMemberRoleInput } from "@/contracts/members";
import { addMember, joinProjectAsAdmin, listAllProjects, listMembers, removeMember, setMemberRole, whoToAsk } from "../../services/member-service";
import { createRouter, procedure } from "../trpc";

export const membersRouter = createRouter({
  list: procedure("members.list").input(ZMembersListInput).query(({ ctx, input }) => listMembers(ctx.service, input)),
  add: procedure("members.add").input(ZAddMemberInput).mutation(({ ctx, input }) => addMember(ctx.service, input)),
  setRole: procedure("members.setRole").input(ZSetMemberRoleInput).mutation(({ ctx, input }) => setMemberRole(ctx.service, input)),
  remove: procedure("members.remove").input(ZRemoveMemberInput).mutation(({ ctx, input }) => removeMember(ctx.service, input)),
  whoToAsk: procedure("members.whoToAsk").query(({ ctx }) => whoToAsk(ctx.service)),
  // Platform admins: every project, and joining one as its Admin (PLATFORM_PERMISSIONS "projects.administer").
  allProjects: procedure("members.allProjects").query(({ ctx }) => listAllProjects(ctx.service)),
  joinAsAdmin: procedure("members.joinAsAdmin").input(ZJoinAsAdminInput).mutation(({ ctx, input }) => joinProjectAsAdmin(ctx.service, input)),
});
