"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { IMPORT_ACCEPT, ZColumnMapping } from "@/contracts/imports";
import { useTRPC } from "../../../../_components/providers";
import type { IssueGroup } from "@/server/import/issues";
import type { PlanCounts } from "@/server/import/plan";
import type { IdentifierOffer } from "@/server/services/import-service";
import { IdentifiersOffer } from "./identifiers-offer";
import { UnknownLabelsOffer, type UnknownLabel, type UnknownLabelsAnswer } from "./unknown-labels-offer";

interface Issue {
  file: string;
  line?: number;
  field?: string;
  message: string;
}
// The import service's own counts and issue groups (type-only imports: nothing of the server reaches the browser).
type Counts = PlanCounts;
type Group = IssueGroup;
type Result =
  | { status: "imported"; batchId: string; counts: Counts; contentWarning?: string }
  | { status: "already-imported"; batchId: string; importedAt: string; caseCount: number }
  | { status: "rejected"; issues: Issue[]; groups: Group[]; issueCount: number; unknownLabels?: UnknownLabel[]; duplicateImages?: { file: string; existingCase: string }[]; identifiers?: IdentifierOffer };

interface Answers {
  labels?: UnknownLabelsAnswer;
  narrativeIdentifiers?: "mask" | "keep";
}

const MAPPING_FIELDS = [
  { key: "idCol", label: "Case id column", placeholder: "id, case_id or note_id" },
  { key: "textCol", label: "Text column", placeholder: "text, narrative or transcription" },
  { key: "labelCol", label: "Label column", placeholder: "label" },
  { key: "splitCol", label: "Split column", placeholder: "split (POOL/TEST/SEED)" },
  { key: "fileCol", label: "Image file column (manifest)", placeholder: "file" },
  { key: "metadataCols", label: "Metadata columns", placeholder: "all other columns" },
] as const;

/** Sends the form with XMLHttpRequest: fetch() has no upload progress events. */
function upload(url: string, form: FormData, onProgress: (fraction: number) => void): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "json";
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.response });
    xhr.onerror = () => reject(new Error("The upload failed (network error)."));
    xhr.send(form);
  });
}

export function ImportForm({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const projects = useQuery(trpc.projects.listMine.queryOptions());
  const batches = useQuery(trpc.imports.listBatches.queryOptions({ projectId }));
  const project = projects.data?.find((p) => p.id === projectId);
  const [files, setFiles] = useState<File[]>([]);
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [progress, setProgress] = useState<number | null>(null);
  const [phase, setPhase] = useState<"idle" | "uploading" | "checking">("idle");
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<string | null>(null);

  // The answers given to the offers (label map and classes to add, narratives with identifiers) for
  // these files, kept across the retries that answer the next offer; the Import button starts afresh.
  // Nothing is saved by answering: the classes to add travel with the import request.
  const [answers, setAnswers] = useState<Answers>({});

  async function submit(event: FormEvent) {
    event.preventDefault();
    setAnswers({});
    await runImport({}, undefined, {});
  }

  /**
   * Uploads the chosen files with the answers given so far plus `answer`: the label map and classes
   * to add after unknown labels, `narrativeIdentifiers` after narratives with likely identifiers;
   * `duplicateImages` when retrying after images already in the project.
   */
  async function runImport(answer: Answers, duplicateImages?: "skip" | "import", earlier = answers) {
    setError(null);
    setResult(null);
    const given: Answers = { ...earlier, ...answer };
    setAnswers(given);
    const parsed = ZColumnMapping.safeParse({
      ...mapping,
      ...(given.labels ? { labelMap: given.labels.labelMap, addLabels: given.labels.addLabels } : {}),
      ...(given.narrativeIdentifiers ? { narrativeIdentifiers: given.narrativeIdentifiers } : {}),
    });
    if (!parsed.success) {
      setError(parsed.error.issues.map((i) => i.message).join("; "));
      return;
    }
    if (files.length === 0) {
      setError("Choose at least one file.");
      return;
    }
    const form = new FormData();
    form.append("mapping", JSON.stringify(parsed.data));
    if (duplicateImages) form.append("duplicateImages", duplicateImages);
    for (const file of files) form.append("files", file, file.name);
    setPhase("uploading");
    setProgress(0);
    try {
      const response = await upload(`/api/projects/${encodeURIComponent(projectId)}/import`, form, (fraction) => {
        setProgress(fraction);
        if (fraction >= 1) setPhase("checking");
      });
      // The answer is here: the progress line and the button stop saying "checking" before the lists refresh.
      setPhase("idle");
      setProgress(null);
      const body = response.body as (Result & { error?: undefined }) | { error: { message: string } } | null;
      if (response.status !== 200 || !body || "error" in body) {
        setError((body && "error" in body && body.error?.message) || `The server answered ${response.status}.`);
      } else {
        setResult(body as Result);
        void queryClient.invalidateQueries({ queryKey: trpc.imports.listBatches.queryKey({ projectId }) });
        void queryClient.invalidateQueries({ queryKey: trpc.projects.listMine.queryKey() });
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setPhase("idle");
      setProgress(null);
    }
  }

  return (
    <>
      <h1>Import data{project ? ` — ${project.name}` : ""}</h1>
      <p className="muted">
        Narratives as CSV or JSONL (a case id and a text column; optional label, split POOL/TEST/SEED, other columns become metadata);
        images as DICOM, PNG or JPEG, single files or a .zip. A CSV with a file column maps images to cases; without one, DICOM images are
        grouped by study and other images make one case each. A batch is imported completely or not at all.
      </p>
      <p className="muted" data-testid="import-labelled-rows">
        <strong>Rows with a label</strong> are labels the model trains on from its first training; they are never queued for
        clinicians (a case browser "next round with priority" request is the one way to have one labelled again). TEST rows are held
        out to measure the model and never trained on. For a labelled row POOL and SEED train alike; an unlabelled row is selected for
        annotation only from POOL. The first selection round (a cold start) is drawn once unlabelled POOL cases exist.
      </p>
      <form className="panel" onSubmit={submit} aria-label="Import">
        <label>
          Files
          <input type="file" multiple accept={IMPORT_ACCEPT} onChange={(e) => setFiles(Array.from(e.target.files ?? []))} disabled={phase !== "idle"} />
        </label>
        {files.length > 0 && (
          <p className="muted" data-testid="chosen-files">
            {files.length} file(s), {(files.reduce((n, f) => n + f.size, 0) / (1024 * 1024)).toFixed(1)} MB
          </p>
        )}
        <fieldset style={{ border: 0, padding: 0, margin: "12px 0", display: "grid", gridTemplateColumns: "repeat(auto-fill, minmax(220px, 1fr))", gap: 12 }}>
          <legend className="muted" style={{ marginBottom: 6 }}>Column mapping (leave empty for the defaults)</legend>
          {MAPPING_FIELDS.map((field) => (
            <label key={field.key}>
              {field.label}
              <input
                value={mapping[field.key] ?? ""}
                placeholder={field.placeholder}
                onChange={(e) => setMapping({ ...mapping, [field.key]: e.target.value })}
                disabled={phase !== "idle"}
              />
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={phase !== "idle" || files.length === 0}>
          {phase === "uploading" ? "Uploading…" : phase === "checking" ? "Checking files…" : "Import"}
        </button>
        {progress !== null && (
          <div style={{ marginTop: 12 }}>
            <progress data-testid="upload-progress" max={1} value={progress} style={{ width: "100%" }} aria-label="Upload progress" />
            <span className="muted">{phase === "checking" ? "Uploaded; checking every file and row…" : `${Math.round(progress * 100)}% uploaded`}</span>
          </div>
        )}
        {error && (
          <p className="error" role="alert" data-testid="import-error">
            {error}
          </p>
        )}
      </form>

      {result?.status === "imported" && (
        <section className="panel" data-testid="import-result">
          <h2 style={{ marginTop: 0 }}>Imported</h2>
          {result.contentWarning && (
            <p role="status" data-testid="import-content-warning">
              <strong>Imported all the same:</strong> {result.contentWarning}.
            </p>
          )}
          <table>
            <tbody>
              <tr><th>Cases</th><td data-testid="count-cases">{result.counts.cases}</td></tr>
              <tr><th>With a narrative</th><td data-testid="count-narratives">{result.counts.narratives}</td></tr>
              <tr><th>Pool / test / seed</th><td>{result.counts.bySplit.POOL} / {result.counts.bySplit.TEST} / {result.counts.bySplit.SEED}</td></tr>
              <tr><th>Images</th><td data-testid="count-images">{result.counts.images} (DICOM {result.counts.dicom}, PNG/JPEG {result.counts.raster})</td></tr>
              {result.counts.duplicateImagesSkipped > 0 && <tr><th>Duplicate images skipped</th><td>{result.counts.duplicateImagesSkipped}</td></tr>}
            </tbody>
          </table>
          <p data-testid="import-next-steps">
            <strong>What happens next:</strong> when the project has no round yet and the batch brought unlabelled POOL cases,
            the worker draws one from them at once (a cold-start round); labelled rows are kept for training and never queued.
            The cases are embedded for the model when it next trains — follow both on
            the <Link href={`/projects/${projectId}/jobs`}>Jobs</Link> page.
            Clinicians then find the round in their queue, and the <Link href={`/projects/${projectId}/selection`}>Selection</Link> page
            shows why each case was chosen. To look through what was imported, open the <Link href={`/projects/${projectId}/cases`}>Case browser</Link>.
          </p>
        </section>
      )}
      {result?.status === "already-imported" && (
        <section className="panel" data-testid="import-result">
          <h2 style={{ marginTop: 0 }}>Already imported</h2>
          <p>These files, with this column mapping, were imported on {new Date(result.importedAt).toLocaleString()} ({result.caseCount} cases). Nothing was written.</p>
        </section>
      )}
      {result?.status === "rejected" && result.identifiers && (
        <IdentifiersOffer offer={result.identifiers} busy={phase !== "idle"} onChoose={(choice) => void runImport({ narrativeIdentifiers: choice })} onDrop={() => setResult(null)} />
      )}
      {result?.status === "rejected" && result.unknownLabels && result.unknownLabels.length > 0 && (
        <UnknownLabelsOffer projectId={projectId} unknown={result.unknownLabels} busy={phase !== "idle"} onRetry={(labels) => void runImport({ labels })} />
      )}
      {result?.status === "rejected" && (
        <section className="panel" data-testid="import-rejected">
          <h2 style={{ marginTop: 0 }}>Nothing was imported</h2>
          <p className="error">
            {result.issueCount} problem{result.issueCount === 1 ? "" : "s"} of {result.groups.length} kind{result.groups.length === 1 ? "" : "s"} found. Fix them
            and upload the batch again — a batch is imported completely or not at all.
          </p>
          {result.duplicateImages && result.duplicateImages.length > 0 && (
            <div data-testid="duplicate-images" style={{ margin: "12px 0" }}>
              <p>
                {result.duplicateImages.length} image{result.duplicateImages.length === 1 ? " is" : "s are"} already in this project (identical files).
              </p>
              <button type="button" onClick={() => void runImport({}, "skip")} disabled={phase !== "idle"}>
                Skip duplicate images and import the rest
              </button>{" "}
              <button type="button" onClick={() => void runImport({}, "import")} disabled={phase !== "idle"}>
                Import them again anyway
              </button>
            </div>
          )}
          {result.groups.map((group, g) => (
            <details key={g} open data-testid="import-issue-group" style={{ marginBottom: 12 }}>
              <summary>
                <strong data-testid="import-issue-count">{group.count}×</strong> {group.cause}
                {group.files.length > 0 && <span className="muted"> — {group.files.slice(0, 3).join(", ")}{group.files.length > 3 ? ", …" : ""}</span>}
              </summary>
              <table>
                <thead>
                  <tr><th>File</th><th>Line</th><th>Field</th><th>Problem</th></tr>
                </thead>
                <tbody>
                  {group.examples.map((issue, i) => (
                    <tr key={i} data-testid="import-issue">
                      <td>{issue.file}</td>
                      <td>{issue.line ?? ""}</td>
                      <td>{issue.field ?? ""}</td>
                      <td>{issue.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {group.count > group.examples.length && <p className="muted">… and {group.count - group.examples.length} more of this kind.</p>}
            </details>
          ))}
        </section>
      )}

      <section className="panel">
        <h2 style={{ marginTop: 0 }}>Import batches</h2>
        {batches.isPending && <p className="muted">Loading…</p>}
        {batches.error && <p className="error">{batches.error.message}</p>}
        {batches.data?.length === 0 && <p className="muted">No imports yet.</p>}
        {batches.data && batches.data.length > 0 && (
          <table>
            <thead>
              <tr><th>When</th><th>Source</th><th>By</th><th>Cases</th><th>Images</th></tr>
            </thead>
            <tbody>
              {batches.data.map((b) => (
                <tr key={b.id} data-testid="import-batch">
                  <td>{new Date(b.createdAt).toLocaleString()}</td>
                  <td>{b.source}</td>
                  <td>{b.createdBy}</td>
                  <td>{b.caseCount}</td>
                  <td>{b.imageCount}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <p><Link href="/projects">← Projects</Link></p>
    </>
  );
}
