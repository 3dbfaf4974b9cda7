"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { ZUpdateLabelSchemaInput } from "@/contracts/project-admin";
import { useTRPC } from "../../../../_components/providers";
import { editorPath, issuesByPath, serverErrors, underPrefix } from "../../_components/form-errors";
import { draftFromSchema, draftNumberErrors, LabelSchemaEditor, labelSchemaDraftToInput, type LabelSchemaDraft, type LabelUse } from "../../_components/label-schema-editor";
import { useLabelsSaved } from "./settings-gate";

/** The label schema: classes, single/multi-label, minority classes and ρ; removing a used class asks for a mapping. */
export function LabelSchemaSection({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
  const usageQuery = useQuery(trpc.projectAdmin.labelUsage.queryOptions({ projectId }, { retry: false }));
  const save = useMutation(trpc.projectAdmin.updateLabels.mutationOptions());
  const [draft, setDraft] = useState<LabelSchemaDraft | null>(null);
  /** Edited since loaded or saved: until then the section follows the stored schema (another section or tab may change it). */
  const [dirty, setDirty] = useState(false);
  const labelsSaved = useLabelsSaved();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<string | null>(null);
  const config = project.data?.config;
  useEffect(() => {
    if (config && !dirty) setDraft(draftFromSchema(config.labelSchema, config.minorityClasses, config.selectionParams.rho));
  }, [config, dirty]);
  const usage = useMemo(
    () => (usageQuery.data ? new Map<string, LabelUse>(usageQuery.data.map((u) => [u.key, { annotations: u.annotations, importedLabels: u.importedLabels }])) : undefined),
    [usageQuery.data],
  );
  if (!project.data || !draft) return null;
  const readOnly = project.data.archived || save.isPending;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!draft) return;
    setNotice(null);
    const input = { projectId, ...labelSchemaDraftToInput(draft) };
    const parsed = ZUpdateLabelSchemaInput.safeParse(input);
    const found: Record<string, string> = { ...(parsed.success ? {} : issuesByPath(parsed.error)), ...draftNumberErrors(draft) };
    for (const r of draft.removed) {
      const use = usage?.get(r.key);
      if (use && use.annotations + use.importedLabels > 0 && !draft.mapping[r.key]) found[`mapping.${r.key}`] ??= `Choose the class the labels "${r.key}" move to, or keep it.`;
    }
    setErrors(found);
    if (Object.keys(found).length > 0 || !parsed.success) return;
    try {
      const result = await save.mutateAsync(input);
      const moved = result.remapped.annotationVersions + result.remapped.importedLabels;
      setNotice(
        moved > 0
          ? `Saved. ${result.remapped.annotationVersions} annotation version(s) written and ${result.remapped.importedLabels} imported label(s) moved for the removed classes.`
          : "Saved.",
      );
      setDraft(draftFromSchema(result.config.labelSchema, result.config.minorityClasses, result.config.selectionParams.rho));
      setDirty(false);
      // Labels, minority classes and ρ also show in other sections and pages: refetch everything, and
      // let the sections that hold their own copy of them start again from the saved values.
      await queryClient.invalidateQueries();
      labelsSaved();
    } catch (error) {
      setErrors(serverErrors(error));
      // A refusal to remove a class may come from labels written since the page loaded.
      await queryClient.invalidateQueries({ queryKey: trpc.projectAdmin.labelUsage.queryKey({ projectId }) });
    }
  }

  return (
    <section className="panel" aria-labelledby="labels-heading">
      <h2 id="labels-heading" style={{ marginTop: 0 }}>Label schema</h2>
      <p className="muted">
        Renaming a class keeps its key, so its annotations stay. The guideline is shown to clinicians beside the label in the case view.
      </p>
      <form onSubmit={submit} noValidate aria-label="Label schema">
        <LabelSchemaEditor
          draft={draft}
          onChange={(next) => {
            setDraft(next);
            setDirty(true);
          }}
          errors={underPrefix(errors, editorPath)}
          usage={usage}
          disabled={readOnly}
        />
        {errors.form && <p className="error" role="alert">{errors.form}</p>}
        <p className="form-row" style={{ marginBottom: 0 }}>
          <button type="submit" disabled={readOnly}>Save labels</button>
          <button
            type="button"
            className="secondary"
            disabled={readOnly}
            onClick={() => {
              setErrors({});
              setNotice(null);
              setDirty(false);
              setDraft(draftFromSchema(project.data!.config.labelSchema, project.data!.config.minorityClasses, project.data!.config.selectionParams.rho));
            }}
          >
            Discard changes
          </button>
          {notice && <span className="notice" role="status">{notice}</span>}
        </p>
      </form>
    </section>
  );
}
