"use client";

import Link from "next/link";
import type { AgreementEstimate } from "@/contracts/agreement";
// Type-only: the service's own shape of the figures (nothing of the server reaches the browser).
import type { TrainingLabelQuality as TrainingLabelQualityView } from "@/server/services/training-label-quality";

const f3 = (v: number | null) => (v === null ? "—" : v.toFixed(3));
function estimate(e: AgreementEstimate) {
  if (e.value === null) return `— (${e.cases} cases)`;
  return `${f3(e.value)} [${f3(e.low)}, ${f3(e.high)}] on ${e.cases} cases`;
}

/** The agreement of the labels the candidate was trained on and where those labels came from (issue 14). */
export function TrainingLabelQuality({ quality, projectId }: { quality: TrainingLabelQualityView; projectId: string }) {
  return (
    <section className="panel" data-testid="training-label-quality" id="training-label-quality">
      <h2 style={{ marginTop: 0 }}>Labels this model was trained on</h2>
      {quality.sources ? (
        <p>
          {quality.sources.adjudicated} adjudicated · {quality.sources.consensus} by majority of annotators · {quality.sources.imported} imported
        </p>
      ) : (
        <p className="muted">This model was trained before label sources were recorded.</p>
      )}
      {quality.rule && <p className="muted">Rule: {quality.rule}</p>}
      <table>
        <tbody>
          <tr><th scope="row">Krippendorff&apos;s α (95% interval)</th><td>{estimate(quality.krippendorffAlpha)}</td></tr>
          <tr><th scope="row">Fleiss&apos; κ</th><td>{estimate(quality.fleissKappa)}</td></tr>
          <tr><th scope="row">Percent agreement</th><td>{estimate(quality.percentAgreement)}</td></tr>
        </tbody>
      </table>
      <p className="muted">
        Over the {quality.trainingCases} training cases, annotations as they were at training time; {quality.casesWithTwoOrMore} had two or more annotators.{" "}
        <Link href={`/projects/${projectId}/agreement`}>Project agreement</Link>
      </p>
    </section>
  );
}
