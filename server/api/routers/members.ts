import { ZAddMemberInput, ZMembersListInput, ZRemoveMemberInput, ZSetMemberRoleInput } from "@/contracts/members";
import { addMember, listMembers, removeMember, setMemberRole, whoToAsk } from "../../services/member-service";
import { createRouter, procedure } from "../trpc";

export const membersRouter = createRouter({
  list: procedure("members.list").input(ZMembersListInput).query(({ ctx, input }) => listMembers(ctx.service, input)),
  add: procedure("members.add").input(ZAddMemberInput).mutation(({ ctx, input }) => addMember(ctx.service, input)),
  setRole: procedure("members.setRole").input(ZSetMemberRoleInput).mutation(({ ctx, input }) => setMemberRole(ctx.service, input)),
  remove: procedure("members.remove").input(ZRemoveMemberInput).mutation(({ ctx, input }) => removeMember(ctx.service, input)),
  whoToAsk: procedure("members.whoToAsk").query(({ ctx }) => whoToAsk(ctx.service)),
});
