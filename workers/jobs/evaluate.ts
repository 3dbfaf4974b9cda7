/**
 * The `evaluate` job: (re-)evaluates a registered model version on the project's current TEST
 * split through its ONNX file and stores the metrics on the ModelVersion — e.g. after more TEST
 * cases were labelled, so a candidate and the active model are compared on the same cases.
 * Idempotent: evaluating twice writes the same numbers.
 */
import { z } from "zod";
import { evaluateClassifier } from "@/workers/ml/metrics";
import { findModelVersion, findProjectForLoop, updateModelMetrics } from "@/server/db/loop-repo";
import type { Prisma } from "@/server/db/client";
import { headPredictProba, loadHead, type HeadShape } from "@/models/registry";
import { defineJob } from "./job-runtime";
import { embeddingMatrix, labelledSets, projectClasses } from "./loop-data";

export const EVALUATE_JOB = "evaluate";

export const ZEvaluatePayload = z.object({ projectId: z.string().min(1), modelVersionId: z.string().min(1) });

export const evaluateJob = defineJob({
  name: EVALUATE_JOB,
  payload: ZEvaluatePayload,
  retryLimit: 3,
  retryDelaySeconds: 5,
  expireInSeconds: 3600,
  async run(ctx) {
    const { db } = ctx.worker;
    const model = await findModelVersion(db, ctx.payload.modelVersionId);
    if (!model || model.projectId !== ctx.payload.projectId) throw new Error(`Model version ${ctx.payload.modelVersionId} is not a model of project ${ctx.payload.projectId}`);
    const project = await findProjectForLoop(db, model.projectId);
    if (!project) throw new Error("The project no longer exists");
    const shape = (model.params as { shape?: HeadShape } | null)?.shape;
    if (!shape || !model.artifactKey || !model.checksum) throw new Error(`Model version ${model.version} has no registered ONNX artefact`);
    const classes = projectClasses(project);
    await ctx.reportProgress("loading the TEST split", 10);
    const { test } = await labelledSets(db, model.projectId, classes);
    if (test.length === 0) return { modelVersionId: model.id, testCases: 0, evaluated: false };
    const head = await loadHead({ artifactKey: model.artifactKey, checksum: model.checksum, shape }, (key) => ctx.worker.store.get(key), ctx.worker.provider);
    await ctx.reportProgress(`predicting ${test.length} TEST cases`, 40);
    const x = await embeddingMatrix(db, test.map((e) => e.caseId), model.encoderVersion);
    const evaluation = evaluateClassifier(await headPredictProba(head, x), Int32Array.from(test, (e) => e.label), classes.keys.length);
    const previous = (model.metrics ?? {}) as Record<string, unknown>;
    await updateModelMetrics(db, model.id, { ...previous, classes: classes.keys, test: evaluation, testCases: test.length, evaluatedAt: new Date().toISOString() } as unknown as Prisma.InputJsonValue);
    return { modelVersionId: model.id, testCases: test.length, macroF1: evaluation.macroF1, evaluated: true };
  },
});
