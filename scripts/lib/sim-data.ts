/**
 * Turn a labelled table into a minority-vs-rest simulation task: pick columns, attach text
 * groups, collapse each group of identical texts to ONE case (so the same text can never sit
 * in both the training pool and the test split), map labels to task classes and split.
 *
 * Task classes: 0 = "rest" (every non-minority label), 1..m = the minority labels in the order
 * the user gave them. The head learns this (m+1)-class task; the simulation scores minority vs rest.
 */
import { createRng, permutation } from "../../workers/ml/rng";
import { TableInputError } from "./csv";
import { cell, requireColumn, type Table } from "./table";

/**
 * How a group of rows with the same text gets one label:
 * - `minority-wins`: the group is minority class c when any of its rows carries minority label c
 *   (a text filed under "Neurology" AND "Consult" is a neurology note); a group carrying two
 *   different minority labels is dropped as ambiguous.
 * - `drop-conflicts`: a group whose rows map to more than one task class is dropped.
 * - `keep-first`: the task class of the group's first row.
 */
export type DedupeRule = "minority-wins" | "drop-conflicts" | "keep-first";

export interface TaskOptions {
  /** Text column; null for precomputed embeddings (no text: a row is a case unless `groups` joins rows). */
  textCol: string | null;
  labelCol: string;
  minority: string[];
  /** Per-row group ids (same id = same text), aligned with the table rows; null groups by exact text. */
  groups: string[] | null;
  dedupe: DedupeRule;
}

export interface TaskSummary {
  rowsRead: number;
  rowsEmptyText: number;
  groups: number;
  groupsDropped: number;
  /** Cases per task class, in `classNames` order. */
  classCounts: number[];
  /** How groups were formed, for the report. */
  groupedBy: string;
}

export interface PreparedTask {
  /** One text per case (the first row of its group). */
  texts: string[];
  /** Task class per case: 0 = rest, 1..m = minority. */
  labels: Int32Array;
  classNames: string[];
  minorityClasses: number[];
  /** Group id of each case (for the JSON output: which source texts a selection points at). */
  caseIds: string[];
  /** 1-based line of each case's first row in the data file. */
  caseLines: number[];
  /** 0-based table row of each case's first row (the embedding row of the case). */
  caseRows: number[];
  summary: TaskSummary;
}

export function prepareTask(table: Table, options: TaskOptions): PreparedTask {
  if (table.rows.length === 0) throw new TableInputError(table.file, 2, 1, "the file has a header but no data rows");
  const textC = options.textCol === null ? -1 : requireColumn(table, options.textCol, "--text-col");
  const labelC = requireColumn(table, options.labelCol, "--label-col");
  if (options.minority.length === 0) throw new Error("--minority: give at least one minority label");
  if (new Set(options.minority).size !== options.minority.length) throw new Error(`--minority lists a label twice: ${options.minority.join(", ")}`);

  const labelsPresent = new Map<string, number>();
  for (let r = 0; r < table.rows.length; r++) {
    const l = cell(table, r, labelC);
    labelsPresent.set(l, (labelsPresent.get(l) ?? 0) + 1);
  }
  for (const m of options.minority) {
    if (!labelsPresent.has(m)) {
      const known = [...labelsPresent.keys()].sort();
      const near = known.filter((k) => k.toLowerCase().includes(m.toLowerCase()) || m.toLowerCase().includes(k.toLowerCase()));
      throw new Error(
        `--minority ${JSON.stringify(m)}: no row of ${table.file} has this value in column ${JSON.stringify(options.labelCol)}` +
          (near.length > 0 ? `; did you mean ${near.map((k) => JSON.stringify(k)).join(" or ")}?` : "") +
          `; labels present: ${known.map((k) => JSON.stringify(k)).join(", ")}`,
      );
    }
  }
  if (labelsPresent.size - options.minority.length < 1) throw new Error("every label in the data is listed as minority: nothing is left for the rest class");
  if (options.groups && options.groups.length !== table.rows.length) {
    throw new Error(`internal: ${options.groups.length} group ids for ${table.rows.length} rows`);
  }

  const minorityIndex = new Map(options.minority.map((m, i) => [m, i + 1]));
  // Group rows. Without a group column, identical (trimmed) texts form a group: exact
  // duplicates would otherwise leak between pool and test.
  const groupRows = new Map<string, number[]>();
  let rowsEmptyText = 0;
  for (let r = 0; r < table.rows.length; r++) {
    const text = textC < 0 ? "" : cell(table, r, textC);
    if (textC >= 0 && text.trim() === "") {
      rowsEmptyText++;
      continue;
    }
    const key = options.groups ? `g:${options.groups[r]!}` : textC < 0 ? `r:${r}` : `t:${text.trim()}`;
    let list = groupRows.get(key);
    if (!list) groupRows.set(key, (list = []));
    list.push(r);
  }

  const texts: string[] = [];
  const labels: number[] = [];
  const caseIds: string[] = [];
  const caseLines: number[] = [];
  const caseRows: number[] = [];
  let dropped = 0;
  let ordinal = 0;
  for (const [key, rows] of groupRows) {
    ordinal++;
    const classes = rows.map((r) => minorityIndex.get(cell(table, r, labelC)) ?? 0);
    let cls: number | null;
    if (options.dedupe === "keep-first") {
      cls = classes[0]!;
    } else if (options.dedupe === "drop-conflicts") {
      cls = new Set(classes).size === 1 ? classes[0]! : null;
    } else {
      const minorities = new Set(classes.filter((c) => c > 0));
      cls = minorities.size === 0 ? 0 : minorities.size === 1 ? [...minorities][0]! : null;
    }
    if (cls === null) {
      dropped++;
      continue;
    }
    const first = rows[0]!;
    texts.push(textC < 0 ? "" : cell(table, first, textC));
    labels.push(cls);
    caseIds.push(options.groups ? key.slice(2) : textC < 0 ? `row#${first + 1}` : `text#${ordinal}`);
    caseLines.push(table.lines[first]!);
    caseRows.push(first);
  }
  if (texts.length === 0) throw new Error(`${table.file}: no usable cases left (all texts empty or all groups dropped by --dedupe ${options.dedupe})`);

  const classNames = ["rest", ...options.minority];
  const classCounts = classNames.map(() => 0);
  for (const l of labels) classCounts[l]!++;
  for (let c = 1; c < classNames.length; c++) {
    if (classCounts[c]! < 2) {
      throw new Error(
        `minority class ${JSON.stringify(classNames[c])} has ${classCounts[c]} usable case(s) after grouping and --dedupe ${options.dedupe}; ` +
          "at least 2 are needed (one for the pool, one for the test split)",
      );
    }
  }
  return {
    texts,
    labels: Int32Array.from(labels),
    classNames,
    minorityClasses: options.minority.map((_, i) => i + 1),
    caseIds,
    caseLines,
    caseRows,
    summary: {
      rowsRead: table.rows.length,
      rowsEmptyText,
      groups: groupRows.size,
      groupsDropped: dropped,
      classCounts,
      groupedBy: options.groups ? "group column" : textC < 0 ? "none: one case per row" : "identical text",
    },
  };
}

/**
 * Group ids per data row from a sidecar table joined on `idCol`.
 * @throws TableInputError naming the data row whose id the sidecar lacks, or a duplicated sidecar id.
 */
export function groupsFromSidecar(data: Table, sidecar: Table, idCol: string, groupCol: string): string[] {
  const dataId = requireColumn(data, idCol, "--id-col (in the data)");
  const sideId = requireColumn(sidecar, idCol, "--id-col (in the groups file)");
  const sideGroup = requireColumn(sidecar, groupCol, "--group-col");
  const byId = new Map<string, string>();
  for (let r = 0; r < sidecar.rows.length; r++) {
    const id = cell(sidecar, r, sideId);
    if (byId.has(id)) throw new TableInputError(sidecar.file, sidecar.cellLine(r, sideId), sidecar.cellColumn(r, sideId), `id ${JSON.stringify(id)} appears twice`);
    byId.set(id, cell(sidecar, r, sideGroup));
  }
  return data.rows.map((_, r) => {
    const id = cell(data, r, dataId);
    const g = byId.get(id);
    if (g === undefined) {
      throw new TableInputError(data.file, data.cellLine(r, dataId), data.cellColumn(r, dataId), `id ${JSON.stringify(id)} has no row in the groups file ${sidecar.file}`);
    }
    return g;
  });
}

/** Group ids read from a column of the data itself. */
export function groupsFromColumn(data: Table, groupCol: string): string[] {
  const c = requireColumn(data, groupCol, "--group-col");
  return data.rows.map((_, r) => cell(data, r, c));
}

/**
 * Stratified split of cases into train and test: each class contributes round(fraction × count)
 * test cases (at least 1 and at most count − 1 for classes with ≥ 2 cases), shuffled by `seed`.
 * Cases are already one per text group, so the split is by group.
 */
export function stratifiedTestSplit(labels: Int32Array, numClasses: number, testFraction: number, seed: number): { train: Int32Array; test: Int32Array } {
  if (!(testFraction > 0 && testFraction < 1)) throw new Error(`--test-fraction must be in (0, 1), got ${testFraction}`);
  const rng = createRng(seed);
  const test: number[] = [];
  const train: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const members: number[] = [];
    labels.forEach((l, i) => {
      if (l === c) members.push(i);
    });
    const order = permutation(members.length, rng);
    let k = Math.round(testFraction * members.length);
    if (members.length >= 2) k = Math.min(Math.max(k, 1), members.length - 1);
    order.forEach((o, j) => (j < k ? test : train).push(members[o]!));
  }
  test.sort((a, b) => a - b);
  train.sort((a, b) => a - b);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}
