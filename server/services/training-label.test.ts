import { describe, expect, it } from "vitest";
import { annotatorsDisagree, trainingLabel, type AnnotationVote } from "./training-label";

let n = 0;
const vote = (authorId: string, labels: string[], opts: Partial<AnnotationVote> = {}): AnnotationVote => ({
  id: `a${++n}`, authorId, version: 1, kind: "SUBMITTED", labels, createdAt: new Date(1_700_000_000_000 + n * 1000), ...opts,
});

describe("trainingLabel", () => {
  it("takes one annotator's latest version, else the imported label, else excludes", () => {
    const v2 = vote("a", ["rare"], { version: 2 });
    expect(trainingLabel([vote("a", ["common"]), v2], "other")).toMatchObject({ label: "rare", source: "consensus", annotationId: v2.id, annotationVersion: 2, voters: 1, votes: 1 });
    expect(trainingLabel([], "other")).toMatchObject({ label: "other", source: "imported", annotationId: null });
    expect(trainingLabel([vote("a", [], { kind: "SKIPPED" })], null)).toMatchObject({ label: null, source: "excluded" });
  });

  it("needs a strict majority of annotators: 2 of 3 wins, 1–1 is excluded", () => {
    expect(trainingLabel([vote("a", ["x"]), vote("b", ["y"]), vote("c", ["x"])], null)).toMatchObject({ label: "x", source: "consensus", voters: 3, votes: 2 });
    expect(trainingLabel([vote("a", ["x"]), vote("b", ["y"])], "x")).toMatchObject({ label: null, source: "excluded", voters: 2, votes: 1 });
  });

  it("prefers the newest adjudication over any majority", () => {
    const adj1 = vote("r", ["y"], { kind: "ADJUDICATED" });
    const adj2 = vote("r", ["x"], { kind: "ADJUDICATED", version: 2 });
    expect(trainingLabel([vote("a", ["y"]), vote("b", ["y"]), adj1], null)).toMatchObject({ label: "y", source: "adjudicated", annotationId: adj1.id, votes: 2 });
    expect(trainingLabel([vote("a", ["x"]), vote("b", ["y"]), adj1, adj2], null)).toMatchObject({ label: "x", source: "adjudicated", annotationId: adj2.id, votes: 1 });
  });
  it("gives a gold case its own label: gold answers never vote (adjudicated, else imported)", () => {
    const answers = [vote("a", ["x"]), vote("b", ["x"]), vote("c", ["x"])];
    expect(trainingLabel(answers, "y")).toMatchObject({ label: "x", source: "consensus" });
    expect(trainingLabel(answers, "y", { gold: true })).toMatchObject({ label: "y", source: "imported", annotationId: null, voters: 3, votes: 0 });
    const adj = vote("r", ["z"], { kind: "ADJUDICATED" });
    expect(trainingLabel([...answers, adj], "y", { gold: true })).toMatchObject({ label: "z", source: "adjudicated", annotationId: adj.id });
    expect(trainingLabel([], "y", { gold: true })).toMatchObject({ label: "y", source: "imported", voters: 0 });
  });
});

describe("annotatorsDisagree", () => {
  it("compares the annotators' latest label sets", () => {
    expect(annotatorsDisagree([vote("a", ["x"]), vote("b", ["x"])])).toBe(false);
    expect(annotatorsDisagree([vote("a", ["x"]), vote("b", ["y"])])).toBe(true);
    expect(annotatorsDisagree([vote("a", ["y"]), vote("a", ["x"], { version: 2 }), vote("b", ["x"])])).toBe(false);
    expect(annotatorsDisagree([vote("a", ["x", "y"]), vote("b", ["y", "x"])])).toBe(false);
  });
});
