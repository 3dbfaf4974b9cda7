import { describe, expect, it } from "vitest";
import { identifierCountsText } from "./imports";

describe("identifierCountsText", () => {
  it("words each kind in the singular or plural, most frequent first", () => {
    expect(identifierCountsText({ address: 1, name: 20 })).toBe("20 names, 1 address");
    expect(identifierCountsText({ name: 1, phone: 2, dob: 1, mrn: 3, email: 0 })).toBe("3 medical record numbers, 2 phone numbers, 1 date of birth, 1 name");
    expect(identifierCountsText({ email: 2, address: 2 })).toBe("2 addresses, 2 e-mail addresses");
    expect(identifierCountsText({})).toBe("");
  });
});
