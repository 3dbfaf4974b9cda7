import { describe, expect, it } from "vitest";
import { filtersFromSearchParams, filtersToSearchParams, ZCaseFilters, ZMoveCasesInput, type CaseFilters } from "./case-browser";

describe("case browser filters in the URL", () => {
  it("round-trips every filter through the search parameters", () => {
    const filters: CaseFilters = {
      split: "TEST",
      labelled: "no",
      label: "suspicious",
      annotatorId: "u1",
      disagreement: true,
      round: 3,
      hasImages: false,
      hasNarrative: true,
      importBatchId: "b1",
      search: '"chest pain" -nausea',
    };
    const params = filtersToSearchParams(filters);
    expect(filtersFromSearchParams(params)).toEqual({ filters, invalid: [] });
    expect(ZCaseFilters.parse(filtersFromSearchParams(params).filters)).toEqual(filters);
  });

  it("drops and names invalid parameters instead of failing, and ignores unknown ones", () => {
    const params = new URLSearchParams("split=ARCHIVE&round=two&hasImages=maybe&labelled=yes&search=%20%20&utm=x");
    expect(filtersFromSearchParams(params)).toEqual({ filters: { labelled: "yes" }, invalid: ["split", "hasImages", "round"] });
    expect(filtersFromSearchParams(new URLSearchParams("round=0")).invalid).toEqual(["round"]);
    expect(filtersToSearchParams({}).toString()).toBe("");
  });

  it("refuses bulk inputs with no case, a case twice or too many cases", () => {
    expect(ZMoveCasesInput.safeParse({ projectId: "p", caseIds: [], split: "TEST" }).success).toBe(false);
    expect(ZMoveCasesInput.safeParse({ projectId: "p", caseIds: ["a", "a"], split: "TEST" }).error?.issues[0]?.message).toBe("A case is selected twice");
    expect(ZMoveCasesInput.safeParse({ projectId: "p", caseIds: Array.from({ length: 501 }, (_, i) => `c${i}`), split: "SEED" }).success).toBe(false);
    expect(ZMoveCasesInput.safeParse({ projectId: "p", caseIds: ["a"], split: "ARCHIVE" }).success).toBe(false);
  });
});
