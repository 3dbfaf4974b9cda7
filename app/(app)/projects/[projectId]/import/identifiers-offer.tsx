"use client";

import { identifierCountsText } from "@/contracts/imports";
import type { IdentifierOffer } from "@/server/services/import-service";

/**
 * Narratives of the batch in which the identifier scan (server/import/narrative-identifiers.ts)
 * found likely identifiers — counts by kind; the rows are listed with the other problems (file and
 * line, never the values). The data scientist chooses: import with the findings masked, import as
 * written (recorded in the audit with the counts), or leave the batch out (nothing was imported).
 */
export function IdentifiersOffer({ offer, busy, onChoose, onDrop }: { offer: IdentifierOffer; busy: boolean; onChoose: (choice: "mask" | "keep") => void; onDrop: () => void }) {
  const kinds = identifierCountsText(offer.totals.byKind);
  return (
    <section className="panel" data-testid="identifiers-offer">
      <h2 style={{ marginTop: 0 }}>Likely identifiers in {offer.totals.rows} narrative{offer.totals.rows === 1 ? "" : "s"}</h2>
      <p>
        Found: {kinds}. The rows are listed below by file and line. Choose what to do with this batch:
      </p>
      <button type="button" onClick={() => onChoose("mask")} disabled={busy} data-testid="identifiers-mask">
        Import with them masked
      </button>{" "}
      <button type="button" onClick={() => onChoose("keep")} disabled={busy} data-testid="identifiers-keep">
        Import as written (recorded in the audit)
      </button>{" "}
      <button type="button" onClick={onDrop} disabled={busy} data-testid="identifiers-reject">
        Don&apos;t import this batch
      </button>
    </section>
  );
}
