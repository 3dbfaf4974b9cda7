"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { ZUpdateProjectInput } from "@/contracts/project-admin";
import { CASE_CONTENTS, type CaseContent } from "@/contracts/project-config";
import { TEXT_LIMITS } from "@/contracts/text-limits";
import { useTRPC } from "../../../../_components/providers";
import { CASE_CONTENT_LABELS } from "../../_components/case-content";
import { issuesByPath, serverErrors } from "../../_components/form-errors";
import { CharCount } from "../../../../_components/char-count";

/** Name, description and what a case holds. */
export function GeneralSection({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
  const update = useMutation(trpc.projectAdmin.update.mutationOptions());
  const [form, setForm] = useState<{ name: string; description: string; caseContent: CaseContent } | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const config = project.data?.config;
  useEffect(() => {
    if (config && form === null) setForm({ name: config.name, description: config.description, caseContent: config.caseContent });
  }, [config, form]);
  if (!project.data || !form) return null;
  const readOnly = project.data.archived || update.isPending;

  async function save(event: FormEvent | null, acknowledgeContentMismatch = false) {
    event?.preventDefault();
    setSaved(false);
    const parsed = ZUpdateProjectInput.safeParse({ projectId, ...form, ...(acknowledgeContentMismatch ? { acknowledgeContentMismatch } : {}) });
    if (!parsed.success) return setErrors(issuesByPath(parsed.error));
    setErrors({});
    try {
      await update.mutateAsync(parsed.data);
      setSaved(true);
      await queryClient.invalidateQueries({ queryKey: trpc.projectAdmin.get.queryKey({ projectId }) });
      await queryClient.invalidateQueries({ queryKey: trpc.projects.listMine.queryKey() });
    } catch (error) {
      setErrors(serverErrors(error));
    }
  }

  return (
    <section className="panel" aria-labelledby="general-heading">
      <h2 id="general-heading" style={{ marginTop: 0 }}>General</h2>
      <form onSubmit={save} noValidate aria-label="General settings">
        <label>
          Name
          <input value={form.name} maxLength={TEXT_LIMITS.projectName} onChange={(e) => setForm({ ...form, name: e.target.value })} disabled={readOnly} />
          <CharCount field="projectName" value={form.name} />
          {errors.name && <span className="error" data-testid="field-error">{errors.name}</span>}
        </label>
        <label style={{ marginTop: 12 }}>
          Description
          <textarea value={form.description} rows={2} maxLength={TEXT_LIMITS.projectDescription} onChange={(e) => setForm({ ...form, description: e.target.value })} disabled={readOnly} />
          <CharCount field="projectDescription" value={form.description} />
          {errors.description && <span className="error" data-testid="field-error">{errors.description}</span>}
        </label>
        <fieldset style={{ border: 0, padding: 0, margin: "12px 0" }}>
          <legend className="muted">A case holds</legend>
          <div className="form-row">
            {CASE_CONTENTS.map((c) => (
              <label key={c} style={{ flexDirection: "row", alignItems: "center", gap: 6 }}>
                <input type="radio" name="settings-caseContent" checked={form.caseContent === c} onChange={() => setForm({ ...form, caseContent: c })} disabled={readOnly} />
                {CASE_CONTENT_LABELS[c]}
              </label>
            ))}
          </div>
          {errors.caseContent && (
            // The server's warning: how many cases do not fit the new content, and whether the encoder still does.
            <div className="error" role="alert" data-testid="content-warning" style={{ marginTop: 8 }}>
              <p style={{ margin: "0 0 6px" }}>{errors.caseContent}</p>
              <button type="button" className="danger" onClick={() => save(null, true)} disabled={readOnly}>
                Change it anyway
              </button>
            </div>
          )}
        </fieldset>
        {errors.form && <p className="error" role="alert">{errors.form}</p>}
        <p className="form-row" style={{ marginBottom: 0 }}>
          <button type="submit" disabled={readOnly}>Save</button>
          {saved && <span className="notice" role="status">Saved.</span>}
        </p>
      </form>
    </section>
  );
}
