import { describe, expect, it } from "vitest";
import { restClassOf } from "./label-offer-defaults";

const c = (key: string, name = key) => ({ key, name });

describe("restClassOf", () => {
  it("is the only non-minority class", () => {
    expect(restClassOf([c("neuro", "Neurology"), c("cardio"), c("rest", "Everything else")], ["neuro", "cardio"])?.key).toBe("rest");
    expect(restClassOf([c("neuro"), c("misc", "Miscellaneous")], ["neuro"])?.key).toBe("misc");
  });

  it("among several non-minority classes, the one named like rest/other (key or name)", () => {
    expect(restClassOf([c("neuro"), c("ortho"), c("x", "Other")], ["neuro"])?.key).toBe("x");
    expect(restClassOf([c("neuro"), c("ortho"), c("non_minority", "Not neuro")], ["neuro"])?.key).toBe("non_minority");
  });

  it("is null when there is none or it is ambiguous", () => {
    expect(restClassOf([c("neuro"), c("ortho"), c("cardio")], ["neuro"])).toBeNull();
    expect(restClassOf([c("neuro"), c("rest"), c("other")], ["neuro"])).toBeNull();
    expect(restClassOf([c("a"), c("b")], ["a", "b"])).toBeNull();
  });
});
