/**
 * Order of the review page's suspected label errors (suspected-label-errors.tsx): pure, so it is
 * tested without a browser (label-error-order.test.ts).
 */

import type { SuspectedLabelErrorRow } from "@/server/services/training-label-quality";

/** One suspected label error as the review page receives it (the service's row, one type for both). */
export type LabelErrorRow = SuspectedLabelErrorRow;

/** Rows shown at first and added by each "Show more". */
export const LABEL_ERRORS_PAGE_SIZE = 10;

/** How the list may be ordered; `margin` is the confident-learning ranking the train job stores. */
export const LABEL_ERROR_SORTS = {
  margin: { label: "Margin, largest first", value: (r: LabelErrorRow) => r.margin, descending: true },
  pSuggested: { label: "p(suggested), highest first", value: (r: LabelErrorRow) => r.pSuggested, descending: true },
  pGiven: { label: "p(given), lowest first", value: (r: LabelErrorRow) => r.pGiven, descending: false },
} as const;
export type LabelErrorSort = keyof typeof LABEL_ERROR_SORTS;

/**
 * The rows in the chosen order: by the sort's value, missing values (null) last, ties in the given
 * order (the train job's: largest margin first). Returns a new array; `rows` is not changed.
 */
export function sortLabelErrors<R extends LabelErrorRow>(rows: readonly R[], sort: LabelErrorSort): R[] {
  const { value, descending } = LABEL_ERROR_SORTS[sort];
  return rows
    .map((row, index) => ({ row, index, v: value(row) }))
    .sort((a, b) => {
      if (a.v === null || b.v === null) return a.v === b.v ? a.index - b.index : a.v === null ? 1 : -1;
      if (a.v !== b.v) return descending ? b.v - a.v : a.v - b.v;
      return a.index - b.index;
    })
    .map((x) => x.row);
}
