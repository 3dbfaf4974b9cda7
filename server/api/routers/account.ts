import { ZChangePasswordInput } from "@/contracts/users";
import { changeOwnPassword } from "../../services/account-service";
import { createRouter, procedure } from "../trpc";

export const accountRouter = createRouter({
  changePassword: procedure("account.changePassword").input(ZChangePasswordInput).mutation(({ ctx, input }) => changeOwnPassword(ctx.service, input)),
});
