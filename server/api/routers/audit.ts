import { ZAuditListInput } from "@/contracts/users";
import { listAudit } from "../../services/audit-service";
import { createRouter, procedure } from "../trpc";

export const auditRouter = createRouter({
  list: procedure("audit.list").input(ZAuditListInput).query(({ ctx, input }) => listAudit(ctx.service, input)),
});
