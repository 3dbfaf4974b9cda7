"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type ChangeEvent, type FormEvent } from "react";
import { ZCreateProjectInput, type CreateProjectInput } from "@/contracts/project-admin";
import { CASE_CONTENTS, SELECTION_STRATEGIES, type CaseContent, type SelectionStrategyName } from "@/contracts/project-config";
import { TEXT_LIMITS } from "@/contracts/text-limits";
import { CASE_CONTENT_LABELS } from "../_components/case-content";
import { useTRPC } from "../../../_components/providers";
import { editorPath, issuesByPath, serverErrors, underPrefix } from "../_components/form-errors";
import { draftNumberErrors, emptyDraft, LabelSchemaEditor, labelSchemaDraftToInput, type LabelSchemaDraft } from "../_components/label-schema-editor";
import { CharCount } from "../../../_components/char-count";

const NUMBER = /^\s*\d+\s*$/;

/** The "New project" page: name, description, what a case holds, labels, minority classes, ρ and B — or a configuration file. */
export function NewProjectForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [caseContent, setCaseContent] = useState<CaseContent>("narrative");
  const [budget, setBudget] = useState("10");
  const [strategy, setStrategy] = useState<SelectionStrategyName>("rads");
  /** The .onnx image model (relative to MODELS_DIR) an images-only project needs: there is no built-in image encoder. */
  const [imageModel, setImageModel] = useState("");
  const [draft, setDraft] = useState<LabelSchemaDraft>(emptyDraft);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [fileErrors, setFileErrors] = useState<Record<string, string> | null>(null);
  const create = useMutation(trpc.projectAdmin.create.mutationOptions());

  async function send(input: CreateProjectInput, onErrors: (errors: Record<string, string>) => void) {
    try {
      const result = await create.mutateAsync(input);
      await queryClient.invalidateQueries({ queryKey: trpc.projects.listMine.queryKey() });
      router.push(`/projects/${result.project.id}`);
    } catch (error) {
      onErrors(serverErrors(error));
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const labels = labelSchemaDraftToInput(draft);
    const input: CreateProjectInput = {
      name,
      description,
      caseContent,
      labelSchema: labels.labelSchema,
      minorityClasses: labels.minorityClasses,
      selectionParams: { strategy, budget: NUMBER.test(budget) ? Number(budget) : (budget as unknown as number), rho: labels.rho },
      // Narrative (and both): the server's default text encoder (LSA). Images only: the model named here.
      // Left out when blank: the schema then says an images-only project needs an image encoder.
      ...(caseContent === "images" && imageModel.trim() !== "" ? { encoderConfig: { kind: "onnx-image" as const, path: imageModel.trim() } } : {}),
    };
    const parsed = ZCreateProjectInput.safeParse(input);
    const found = { ...(parsed.success ? {} : issuesByPath(parsed.error)), ...underPrefix(draftNumberErrors(draft), (p) => `selectionParams.${p}`) };
    if (!NUMBER.test(budget)) found["selectionParams.budget"] = "Enter B as a whole number";
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    await send(input, setErrors);
  }

  async function fromFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (!file) return;
    setFileErrors(null);
    let value: unknown;
    try {
      value = JSON.parse(await file.text());
    } catch {
      setFileErrors({ form: `${file.name} is not valid JSON.` });
      return;
    }
    const parsed = ZCreateProjectInput.safeParse(value);
    if (!parsed.success) {
      setFileErrors(issuesByPath(parsed.error));
      return;
    }
    await send(value as CreateProjectInput, setFileErrors);
  }

  const editorErrors = underPrefix(errors, editorPath);
  const encoderError = Object.entries(errors).find(([path]) => path === "encoderConfig" || path.startsWith("encoderConfig."))?.[1];
  const busy = create.isPending;
  return (
    <>
      <h1>New project</h1>
      <form className="panel" onSubmit={submit} noValidate aria-label="New project">
        <div className="form-row">
          <label style={{ flex: "1 1 280px" }}>
            Name
            <input value={name} maxLength={TEXT_LIMITS.projectName} onChange={(e) => setName(e.target.value)} disabled={busy} />
            <CharCount field="projectName" value={name} />
            {errors.name && <span className="error" data-testid="field-error">{errors.name}</span>}
          </label>
          <label>
            Cases per round (B)
            <input value={budget} inputMode="numeric" onChange={(e) => setBudget(e.target.value)} disabled={busy} size={6} />
            {errors["selectionParams.budget"] && <span className="error" data-testid="field-error">{errors["selectionParams.budget"]}</span>}
          </label>
          <label>
            Selection strategy
            <select value={strategy} onChange={(e) => setStrategy(e.target.value as SelectionStrategyName)} disabled={busy}>
              {SELECTION_STRATEGIES.map((s) => (
                <option key={s} value={s}>
                  {s === "rads" ? "rads (hunts minority classes)" : s}
                </option>
              ))}
            </select>
          </label>
        </div>
        <label style={{ marginTop: 12 }}>
          Description
          <textarea value={description} maxLength={TEXT_LIMITS.projectDescription} onChange={(e) => setDescription(e.target.value)} rows={2} disabled={busy} />
          <CharCount field="projectDescription" value={description} />
          {errors.description && <span className="error">{errors.description}</span>}
        </label>
        <fieldset style={{ border: 0, padding: 0, margin: "12px 0" }}>
          <legend className="muted">A case holds</legend>
          <div className="form-row">
            {CASE_CONTENTS.map((c) => (
              <label key={c} style={{ flexDirection: "row", alignItems: "center", gap: 6 }}>
                <input type="radio" name="caseContent" checked={caseContent === c} onChange={() => setCaseContent(c)} disabled={busy} />
                {CASE_CONTENT_LABELS[c]}
              </label>
            ))}
          </div>
        </fieldset>
        {caseContent === "images" ? (
          <label style={{ marginBottom: 12 }}>
            Image encoder (.onnx file in the models folder)
            <input value={imageModel} onChange={(e) => setImageModel(e.target.value)} placeholder="e.g. resnet/model.onnx" disabled={busy} aria-describedby="image-encoder-help" />
            <span id="image-encoder-help" className="muted">
              There is no built-in image encoder: name an ONNX image model by its path inside the models folder (MODELS_DIR). You can change it
              later under Settings → Encoder, which lists the models.
            </span>
            {encoderError && <span className="error" data-testid="field-error">{encoderError}</span>}
          </label>
        ) : (
          <p className="muted" data-testid="encoder-default">
            Encoder: LSA fitted on the project&apos;s narratives (change it later under Settings → Encoder).
          </p>
        )}
        <h2>Labels</h2>
        <p className="muted">
          The key is the stable id stored with every annotation (it cannot change later; the display name can). Mark the rare classes the
          selection should hunt for as minority classes.
        </p>
        <LabelSchemaEditor draft={draft} onChange={setDraft} errors={editorErrors} disabled={busy} />
        {errors.form && (
          <p className="error" role="alert">
            {errors.form}
          </p>
        )}
        <p className="form-row" style={{ marginBottom: 0 }}>
          <button type="submit" disabled={busy}>
            {busy ? "Creating…" : "Create project"}
          </button>
          <Link href="/projects">Cancel</Link>
        </p>
      </form>

      <section className="panel">
        <h2 style={{ marginTop: 0 }}>Or create it from a configuration file</h2>
        <p className="muted">
          A project&apos;s whole configuration as one JSON document — what <code>npm run project -- export</code> and the settings page&apos;s
          &quot;Download configuration&quot; give.
        </p>
        <label>
          Configuration file (JSON)
          <input type="file" accept=".json,application/json" onChange={fromFile} disabled={busy} />
        </label>
        {fileErrors && (
          <ul className="error" role="alert" data-testid="config-file-errors">
            {Object.entries(fileErrors).map(([path, message]) => (
              <li key={path}>{path === "form" ? message : `${path}: ${message}`}</li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
