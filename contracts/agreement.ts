/**
 * Input of the label-agreement page and procedure (issue 14), and the shapes of its report.
 * The statistics themselves are computed by server/services/agreement-service.ts with workers/ml/agreement.ts.
 */
import { z } from "zod";

export const ZAgreementInput = z.object({ projectId: z.string().min(1, "Choose a project").max(64) });
export type AgreementInput = z.infer<typeof ZAgreementInput>;

/** A statistic with its bootstrap 95% interval (null where undefined, e.g. no pairable case) and the cases it rests on. */
export interface AgreementEstimate {
  value: number | null;
  low: number | null;
  high: number | null;
  /** Cases with at least two annotators' ratings. */
  cases: number;
}
