/**
 * Why a finished what-if may not mean much (issue 15): too few minority cases in TEST to tell the
 * strategies' minority F1 apart, or too few labelled pool cases for the strategies to choose differently.
 */
export function whatIfCaveats(result: { testSize: number; testPrior: number | null; trainSize: number; trainPrior: number | null; aggregates: { budget: number }[] }, minTestSupport: number): string[] {
  const out: string[] = [];
  const testMinority = result.testPrior !== null ? Math.round(result.testSize * result.testPrior) : null;
  if (testMinority !== null && testMinority < minTestSupport) {
    out.push(`The TEST split holds ${testMinority} minority ${testMinority === 1 ? "case" : "cases"} (the project asks for at least ${minTestSupport}): differences in minority F1 between strategies rest on ${testMinority === 1 ? "that case" : "those cases"} and are mostly noise.`);
  }
  const trainMinority = result.trainPrior !== null ? Math.round(result.trainSize * result.trainPrior) : null;
  const maxBudget = Math.max(0, ...result.aggregates.map((a) => a.budget));
  if (result.trainSize < 5 * maxBudget || (trainMinority !== null && trainMinority < 3)) {
    out.push(`Only ${result.trainSize} labelled pool cases${trainMinority !== null ? ` (${trainMinority} of the minority)` : ""} to replay: the strategies soon pick the same cases, so their curves cannot differ much. Label more cases before trusting the comparison.`);
  }
  return out;
}
