import { ZCreateUserInput, ZResetPasswordInput, ZSetActiveInput, ZSetRoleInput } from "@/contracts/users";
import { createUser, listAllUsers, resetUserPassword, setUserActive, setUserRole } from "../../services/user-service";
import { createRouter, procedure } from "../trpc";

export const usersRouter = createRouter({
  list: procedure("users.list").query(({ ctx }) => listAllUsers(ctx.service)),
  create: procedure("users.create").input(ZCreateUserInput).mutation(({ ctx, input }) => createUser(ctx.service, input)),
  setRole: procedure("users.setRole").input(ZSetRoleInput).mutation(({ ctx, input }) => setUserRole(ctx.service, input)),
  setActive: procedure("users.setActive").input(ZSetActiveInput).mutation(({ ctx, input }) => setUserActive(ctx.service, input)),
  resetPassword: procedure("users.resetPassword").input(ZResetPasswordInput).mutation(({ ctx, input }) => resetUserPassword(ctx.service, input)),
});
