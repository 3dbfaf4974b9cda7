"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";
import type { EncoderConfig } from "@/contracts/encoder-config";
import { ZUpdateEncoderInput } from "@/contracts/project-settings";
import { ProgressBar } from "../../../../_components/charts";
import { serverFieldErrors, zodFieldErrors, type FieldErrors } from "../../../../_components/form-errors";
import { useTRPC } from "../../../../_components/providers";

type Kind = EncoderConfig["kind"];

const KIND_LABELS: Record<Kind, string> = {
  lsa: "LSA text encoder (TF-IDF of the narrative projected on directions fitted to this project's narratives; no model file)",
  builtin: "Built-in featuriser (hashed TF-IDF of the narrative; no model file)",
  "onnx-text": "ONNX text encoder (a folder with tokenizer.json and the model)",
  "onnx-image": "ONNX image encoder (a .onnx file; images are resized, cropped and normalised first)",
};

/** Every field as typed; turned into an EncoderConfig on "Try it" / "Save". */
interface FormState {
  kind: Kind;
  dim: string;
  path: string;
  modelFile: string;
  maxLength: string;
  outputName: string;
  resizeShortSide: string;
  cropSize: string;
  mean: [string, string, string];
  std: [string, string, string];
  windowCenter: string;
  windowWidth: string;
}

const num = (s: string) => (s.trim() === "" ? undefined : Number(s));
const opt = (s: string) => (s.trim() === "" ? undefined : s.trim());

function fromConfig(config: EncoderConfig): FormState {
  const base: FormState = {
    kind: config.kind,
    dim: "384",
    path: "",
    modelFile: "",
    maxLength: "",
    outputName: "",
    resizeShortSide: "256",
    cropSize: "224",
    mean: ["0.485", "0.456", "0.406"],
    std: ["0.229", "0.224", "0.225"],
    windowCenter: "",
    windowWidth: "",
  };
  if (config.kind === "builtin" || config.kind === "lsa") return { ...base, dim: String(config.dim) };
  if (config.kind === "onnx-text") return { ...base, path: config.path, modelFile: config.modelFile ?? "", maxLength: config.maxLength ? String(config.maxLength) : "", outputName: config.outputName ?? "" };
  const p = config.preprocess;
  return {
    ...base,
    path: config.path,
    outputName: config.outputName ?? "",
    resizeShortSide: String(p.resizeShortSide),
    cropSize: String(p.cropSize),
    mean: p.mean.map(String) as [string, string, string],
    std: p.std.map(String) as [string, string, string],
    windowCenter: p.dicomWindow ? String(p.dicomWindow.center) : "",
    windowWidth: p.dicomWindow ? String(p.dicomWindow.width) : "",
  };
}

function toConfig(f: FormState): unknown {
  if (f.kind === "builtin" || f.kind === "lsa") return { kind: f.kind, dim: num(f.dim) };
  if (f.kind === "onnx-text") return { kind: "onnx-text", path: f.path.trim(), modelFile: opt(f.modelFile), maxLength: num(f.maxLength), outputName: opt(f.outputName) };
  const window = f.windowCenter.trim() || f.windowWidth.trim() ? { center: Number(f.windowCenter), width: Number(f.windowWidth) } : undefined;
  return {
    kind: "onnx-image",
    path: f.path.trim(),
    outputName: opt(f.outputName),
    preprocess: { resizeShortSide: num(f.resizeShortSide), cropSize: num(f.cropSize), mean: f.mean.map(Number), std: f.std.map(Number), dicomWindow: window },
  };
}

/** Client-side zod paths ("encoderConfig.preprocess.cropSize") → the names the service uses ("preprocess.cropSize"). */
function withoutPrefix(errors: FieldErrors): FieldErrors {
  return Object.fromEntries(Object.entries(errors).map(([k, v]) => [k === "encoderConfig" ? "form" : k.replace(/^encoderConfig\./, ""), v]));
}

const shape = (s: (number | string)[] | null) => (s ? `[${s.join(", ")}]` : "?");

export function EncoderSection({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const current = useQuery(trpc.encoder.get.queryOptions({ projectId }, { retry: false }));
  const models = useQuery(trpc.encoder.models.queryOptions({ projectId }, { retry: false }));
  const update = useMutation(trpc.encoder.update.mutationOptions());
  const [form, setForm] = useState<FormState | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [trying, setTrying] = useState(false);
  const [tried, setTried] = useState<string | null>(null);
  const [triedFailures, setTriedFailures] = useState<string[]>([]);
  const [jobRunId, setJobRunId] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const jobs = useQuery(
    trpc.jobs.list.queryOptions(
      { projectId, limit: 20 },
      {
        enabled: jobRunId !== null,
        refetchInterval: (query) => {
          const job = query.state.data?.jobs.find((j) => j.id === jobRunId);
          return job && (job.status === "QUEUED" || job.status === "RUNNING") ? 1000 : false;
        },
      },
    ),
  );
  const embedJob = jobs.data?.jobs.find((j) => j.id === jobRunId) ?? null;

  const data = current.data;
  useEffect(() => {
    if (data && !form) setForm(fromConfig(data.encoderConfig));
  }, [data, form]);

  if (current.error) return <section className="panel"><p className="error">{current.error.message}</p></section>;
  if (!data || !form) return <section className="panel"><p className="muted">Loading the encoder settings…</p></section>;
  const readOnly = data.archived || update.isPending;
  const set = (patch: Partial<FormState>) => {
    setForm({ ...form, ...patch });
    setTried(null);
  };

  function parsed() {
    const result = ZUpdateEncoderInput.safeParse({ projectId, encoderConfig: toConfig(form!) });
    if (!result.success) {
      setErrors(withoutPrefix(zodFieldErrors(result.error)));
      return null;
    }
    setErrors({});
    return result.data;
  }

  async function tryIt() {
    const input = parsed();
    if (!input) return;
    setTrying(true);
    setTried(null);
    setTriedFailures([]);
    try {
      const result = await queryClient.fetchQuery(trpc.encoder.tryIt.queryOptions(input, { staleTime: 0, retry: false }));
      const ok = result.cases.filter((c) => c.ok).length;
      setTried(`${ok} of ${result.cases.length} cases embedded: dimension ${result.dim}, ${Math.round(result.embedMs)} ms (model loaded in ${Math.round(result.loadMs)} ms).${result.note ? ` ${result.note.trim()}` : ""}`);
      setTriedFailures(result.cases.filter((c) => !c.ok).map((c) => `${c.externalId}: ${c.error}`));
    } catch (error) {
      setErrors(serverFieldErrors(error));
    } finally {
      setTrying(false);
    }
  }

  async function save() {
    const input = parsed();
    if (!input) return;
    setSaved(null);
    try {
      const result = await update.mutateAsync(input);
      setJobRunId(result.jobRunId);
      setSaved(result.changed ? "Saved. The project is being re-embedded with the new encoder:" : "Nothing changed.");
      await queryClient.invalidateQueries({ queryKey: trpc.encoder.get.queryKey({ projectId }) });
    } catch (error) {
      setErrors(serverFieldErrors(error));
    }
  }

  const err = (name: string) => errors[name] && <span className="error" data-testid="field-error">{errors[name]}</span>;
  const text = (name: "dim" | "path" | "modelFile" | "maxLength" | "outputName" | "resizeShortSide" | "cropSize" | "windowCenter" | "windowWidth", label: string, help: string, errorKey: string = name, extra: ReactNode = null) => (
    <label style={{ marginTop: 12 }}>
      <span style={{ color: "var(--ink)" }}>{label}</span>
      <input value={form[name]} onChange={(e) => set({ [name]: e.target.value } as Partial<FormState>)} disabled={readOnly} aria-label={label} list={name === "path" ? "encoder-paths" : undefined} />
      {extra}
      <span className="muted" style={{ fontSize: 13 }}>{help}</span>
      {err(errorKey)}
    </label>
  );
  const triple = (name: "mean" | "std", label: string, help: string) => (
    <label style={{ marginTop: 12 }}>
      <span style={{ color: "var(--ink)" }}>{label}</span>
      <span style={{ display: "flex", gap: 6 }}>
        {(["R", "G", "B"] as const).map((channel, i) => (
          <input
            key={channel}
            style={{ width: 90 }}
            value={form[name][i]}
            aria-label={`${label} ${channel}`}
            disabled={readOnly}
            onChange={(e) => {
              const next = [...form[name]] as [string, string, string];
              next[i] = e.target.value;
              set({ [name]: next } as Partial<FormState>);
            }}
          />
        ))}
      </span>
      <span className="muted" style={{ fontSize: 13 }}>{help}</span>
      {err(`preprocess.${name}`)}
    </label>
  );

  const suggestions =
    form.kind === "onnx-image"
      ? (models.data?.files ?? []).filter((f) => f.looksLike === "onnx-image").map((f) => f.path)
      : form.kind === "onnx-text"
        ? (models.data?.textEncoderDirs ?? []).map((d) => d.path)
        : [];

  return (
    <section className="panel" aria-labelledby="encoder-heading">
      <h2 id="encoder-heading" style={{ marginTop: 0 }}>Encoder</h2>
      <p className="muted">What turns a case into the vector the model and the selection work on. Changing it re-embeds every case of the project as a background job.</p>
      {"outsideModelsDir" in data.encoderConfig && data.encoderConfig.outsideModelsDir && (
        <p className="error">The stored encoder path is outside the models folder (MODELS_DIR); choose one inside it to change the encoder.</p>
      )}
      <fieldset style={{ border: 0, padding: 0, margin: 0 }} disabled={readOnly}>
        <legend className="muted">Encoder</legend>
        {(Object.keys(KIND_LABELS) as Kind[]).map((kind) => (
          <label key={kind} style={{ flexDirection: "row", gap: 8, color: "var(--ink)", marginTop: 6 }}>
            <input type="radio" name="encoder-kind" checked={form.kind === kind} onChange={() => set(kind === "lsa" ? { kind, dim: "100" } : kind === "builtin" ? { kind, dim: "384" } : { kind })} disabled={readOnly || (kind !== "builtin" && kind !== "lsa" && !data.modelsDirConfigured)} />
            {KIND_LABELS[kind]}
          </label>
        ))}
        {err("kind")}
        {!data.modelsDirConfigured && <p className="muted">ONNX encoders need a models folder: set MODELS_DIR for the web server and the worker.</p>}
      </fieldset>

      {form.kind === "builtin" && text("dim", "Vector width", "Width of the hashed TF-IDF vector (384 matches the small sentence encoders).")}
      {form.kind === "lsa" && text("dim", "Dimensions", "Number of LSA directions (100 measured best on clinical narratives; fitted by the embed job on this project's narratives).")}
      {form.kind !== "builtin" && form.kind !== "lsa" && (
        <>
          <datalist id="encoder-paths">
            {suggestions.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
          {text("path", form.kind === "onnx-image" ? "Model file (in the models folder)" : "Encoder folder (in the models folder)", form.kind === "onnx-image" ? "A .onnx file whose input is [batch, 3, height, width]." : "A folder holding tokenizer.json and model.onnx (or onnx/model.onnx).")}
          {form.kind === "onnx-text" && text("modelFile", "Model file inside the folder (optional)", "Only when it is not model.onnx / onnx/model.onnx.")}
          {form.kind === "onnx-text" && text("maxLength", "Tokens per text (optional)", "Longer narratives are truncated; default: the tokenizer's length, else 512.")}
          {text("outputName", "Output to use (optional)", "Default: last_hidden_state for text, the first output for images.")}
          {form.kind === "onnx-image" && (
            <>
              <div className="form-row" style={{ alignItems: "flex-start" }}>
                {text("resizeShortSide", "Resize the short side to (px)", "Aspect ratio kept.", "preprocess.resizeShortSide")}
                {text("cropSize", "Centre crop (px)", "The model's input height and width.", "preprocess.cropSize")}
              </div>
              <div className="form-row" style={{ alignItems: "flex-start" }}>
                {triple("mean", "Mean", "Per channel, after scaling pixels to 0–1.")}
                {triple("std", "Std", "Per channel, positive.")}
              </div>
              <div className="form-row" style={{ alignItems: "flex-start" }}>
                {text("windowCenter", "DICOM window centre (optional)", "When the file names no window.", "preprocess.dicomWindow")}
                {text("windowWidth", "DICOM window width (optional)", "Default: the image's min–max.", "preprocess.dicomWindow")}
              </div>
            </>
          )}
        </>
      )}
      {errors.form && <p className="error" role="alert">{errors.form}</p>}
      <p style={{ display: "flex", gap: 12, alignItems: "center", flexWrap: "wrap" }}>
        <button type="button" className="secondary" onClick={tryIt} disabled={trying || readOnly}>
          {trying ? "Trying…" : "Try it on three cases"}
        </button>
        <button type="button" onClick={save} disabled={readOnly}>Save and re-embed</button>
      </p>
      {tried && <p className="notice" role="status" data-testid="encoder-try-result">{tried}</p>}
      {triedFailures.length > 0 && (
        <ul className="error">
          {triedFailures.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      )}
      {saved && <p className="notice" role="status">{saved}</p>}
      {embedJob && <ProgressBar percent={embedJob.percent} label={embedJob.status === "FAILED" ? `failed: ${embedJob.error ?? ""}` : embedJob.stage} />}

      <h3>Models folder</h3>
      {models.isPending && <p className="muted">Reading the models folder…</p>}
      {models.error && <p className="error">{models.error.message}</p>}
      {models.data && !models.data.configured && <p className="muted">{models.data.message}</p>}
      {models.data?.configured && (
        <table data-testid="models-table">
          <thead>
            <tr><th>File</th><th>Inputs</th><th>Outputs</th><th>Size</th><th /></tr>
          </thead>
          <tbody>
            {models.data.files.map((f) => (
              <tr key={f.path}>
                <td><code>{f.path}</code></td>
                <td>{f.error ? <span className="error">{f.error}</span> : f.inputs.map((i) => <div key={i.name}><code>{i.name}</code> {i.type} {shape(i.shape)}</div>)}</td>
                <td>{f.outputs.map((o) => <div key={o.name}><code>{o.name}</code> {o.type} {shape(o.shape)}</div>)}</td>
                <td>{(f.sizeBytes / 1_048_576).toFixed(1)} MB</td>
                <td>
                  {f.looksLike && !readOnly && (
                    <button type="button" className="secondary" onClick={() => set(f.looksLike === "onnx-image" ? { kind: "onnx-image", path: f.path } : { kind: "onnx-text", path: f.path.split("/").slice(0, -1).join("/") || "." })}>
                      Use
                    </button>
                  )}
                </td>
              </tr>
            ))}
            {models.data.textEncoderDirs
              .filter((d) => d.modelFile === null)
              .map((d) => (
                <tr key={`dir-${d.path}`}>
                  <td><code>{d.path}/</code></td>
                  <td colSpan={4} className="muted">tokenizer.json without a model file: not usable as a text encoder yet</td>
                </tr>
              ))}
            {models.data.files.length === 0 && models.data.textEncoderDirs.length === 0 && (
              <tr><td colSpan={5} className="muted">No .onnx files in the models folder.</td></tr>
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}
