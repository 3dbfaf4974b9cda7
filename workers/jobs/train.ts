/**
 * The `train` job: labels → embeddings → Trainer → evaluation on the TEST split → ONNX export →
 * a CANDIDATE ModelVersion, registered atomically:
 *   1. the ONNX head and the model card are written under temp keys (tmp/models/<project>/<run>/),
 *      read back and checksummed;
 *   2. they are published to models/<project>/<version>/ (each put is atomic; the version number is
 *      safe to pick here because the per-project training lock is held);
 *   3. ONE transaction inserts the ModelVersion with artifactKey and checksum AND marks the JobRun
 *      SUCCEEDED — so a worker killed at any point leaves either nothing registered (the queue
 *      retries the run and overwrites the same version's files) or a complete model whose run is
 *      finished (a retry finds it SUCCEEDED and does nothing).
 * Temp files of a killed run are swept at the next worker start (sweepOrphanArtifacts).
 * Then it asks for the candidate's speculative round (select.ts speculativeRun), so that the
 * approval only publishes a round computed while the reviewer reads the review page.
 */
import { z } from "zod";
import { parseStoredProjectConfig } from "@/contracts/project-config";
import { evaluateClassifier } from "@/workers/ml/metrics";
import { defaultLogisticConfig } from "@/workers/ml/heads/logistic";
import { labelErrorList } from "@/workers/ml/label-errors";
import { createRng } from "@/workers/ml/rng";
import { predictProba } from "@/workers/ml/mlp-head";
import { findModelVersionsOfJob, findProjectForLoop, insertCandidateModel, latestRoundOfCases, maxModelVersion } from "@/server/db/loop-repo";
import { lockProjectModels } from "@/server/db/review-repo";
import { insertAuditEvent } from "@/server/db/audit-repo";
import { succeedJobRun } from "@/server/db/job-runs-repo";
import type { Prisma } from "@/server/db/client";
import { logger } from "@/server/log";
import { headPredictProba, sessionFromBytes, sha256Hex } from "@/models/registry";
import { headOnnxSignature } from "@/models/onnx/head-export";
import { getTrainer } from "@/models/trainers/cpu-head-trainer";
import { projectHeadConfig, projectHeadKind, projectLogisticOptions } from "@/models/trainers/head-config";
import { logisticHeadTrainer } from "@/models/trainers/logistic-head-trainer";
import { loadProjectEmbeddings } from "@/server/services/embedding-service";
import { degenerateFeatures } from "./feature-checks";
import { defineJob } from "./job-runtime";
import { TRAINING_LABEL_RULE } from "@/server/services/training-label";
import { embeddingMatrix, ensureEmbeddings, labelledSets, projectClasses, trainingSetHash } from "./loop-data";
import { enqueueLoopJob } from "./loop-triggers";
import { SELECT_JOB, speculativeSelectDedupeKey } from "./select";

export const TRAIN_JOB = "train";

export const ZTrainPayload = z.object({
  projectId: z.string().min(1),
  reason: z.enum(["round-complete", "n-labels", "schedule", "manual"]).default("manual"),
  /** Head hyper-parameters over the project's settings.head (tests and benchmarks use small ones). */
  headConfig: z
    .object({
      hidden: z.array(z.number().int().min(1)).max(4).optional(),
      dropout: z.number().min(0).max(0.9).optional(),
      maxEpochs: z.number().int().min(1).max(10_000).optional(),
      patience: z.number().int().min(1).optional(),
      learningRate: z.number().positive().optional(),
      loss: z.enum(["cross-entropy", "weighted-cross-entropy", "focal"]).optional(),
    })
    .default({}),
  seed: z.number().int().default(1),
  trainer: z.string().optional(),
  /** Compute the next round for the candidate before its review (a `select` run with speculative: true); benchmarks turn it off for their baseline. */
  speculate: z.boolean().default(true),
});
export type TrainPayload = z.infer<typeof ZTrainPayload>;

export function tempArtifactPrefix(projectId: string, jobRunId: string): string {
  return `tmp/models/${projectId}/${jobRunId}`;
}

export function artifactPrefix(projectId: string, version: number): string {
  return `models/${projectId}/${version}`;
}

/** Largest |onnxruntime − workers/ml| probability difference tolerated before an export is refused. */
const EXPORT_TOLERANCE = 1e-4;

export const trainJob = defineJob({
  name: TRAIN_JOB,
  payload: ZTrainPayload,
  retryLimit: 3,
  retryDelaySeconds: 5,
  expireInSeconds: 2 * 3600,
  projectLock: true,
  async run(ctx) {
    const { db, store } = ctx.worker;
    const { projectId } = ctx.payload;
    const existing = await findModelVersionsOfJob(db, projectId, ctx.jobRunId);
    if (existing.length > 0) return { modelVersionId: existing[0]!.id, version: existing[0]!.version, alreadyRegistered: true };

    await ctx.reportProgress("loading labels", 2);
    const project = await findProjectForLoop(db, projectId);
    if (!project) throw new Error(`Project ${projectId} no longer exists`);
    const config = parseStoredProjectConfig(project);
    const classes = projectClasses(config);
    const sets = await labelledSets(db, projectId, classes);
    // The TEST split is for evaluation only; this is the one place that would leak it, so check.
    const leaked = sets.training.filter((e) => e.split === "TEST");
    if (leaked.length > 0) throw new Error(`Refusing to train: ${leaked.length} TEST-split case(s) in the training set`);
    const present = new Set(sets.training.map((e) => e.label));
    if (present.size < 2) throw new Error(`Not enough labels to train: the labelled training cases cover ${present.size} class(es), at least two are needed`);

    await ctx.reportProgress("embedding", 8);
    const { encoderVersion, computed } = await ensureEmbeddings(ctx.worker, projectId, project.encoderConfig);
    await ctx.reportProgress("loading embeddings", 15);
    const loaded = await loadProjectEmbeddings(db, projectId, encoderVersion, sets.training.map((e) => e.caseId));
    if (loaded.missing.length > 0) {
      throw new Error(`Not training: ${loaded.missing.length} of the ${sets.training.length} labelled training cases have no embedding from the project's encoder (an image that could not be read? see the latest embed run's failures). Fix or remove those cases, then retrain.`);
    }
    const x = loaded.matrix;
    const degenerate = degenerateFeatures(x);
    if (degenerate) throw new Error(`Not training: the features of the project's encoder cannot separate any classes — ${degenerate}. Check the encoder configuration and the cases' narratives or images, then retrain.`);
    const y = Int32Array.from(sets.training, (e) => e.label);

    // The same head configuration the what-if simulates with (models/trainers/head-config.ts).
    const headConfig = projectHeadConfig(project.settings, ctx.payload.headConfig);
    // settings.head.kind: the logistic head (c by CV; on LSA vectors the 50 + 100-column average) or the MLP.
    const headKind = projectHeadKind(project.settings);
    const trainer = ctx.payload.trainer === undefined && headKind === "logistic" ? logisticHeadTrainer : getTrainer(ctx.payload.trainer ?? config.settings.trainer);
    const logistic = projectLogisticOptions(classes.minority, encoderVersion);
    await ctx.reportProgress(`training (${trainer.name}, ${x.rows} cases)`, 25);
    const started = Date.now();
    const trained = await trainer.train({ x, y, numClasses: classes.keys.length, config: headConfig, logistic, seed: ctx.payload.seed });
    const trainMs = Date.now() - started;

    // Suspected label errors (issue 14, workers/ml/label-errors.ts): out-of-fold probabilities of the
    // trained head's logistic parts (the MLP: one logistic part at the default c), confident-learning flags.
    await ctx.reportProgress("looking for suspected label errors", 60);
    const parts = trained.logistic ? trained.logistic.chosenC.map((c, i) => ({ c, dims: trained.logistic!.dims[i] ?? x.cols })) : [{ c: defaultLogisticConfig.defaultC, dims: x.cols }];
    const labelErrors = labelErrorList(x, y, sets.training.map((e) => e.caseId), classes.keys, parts, { folds: 5, classWeight: "balanced", maxIterations: 200, limit: 200 }, createRng(ctx.payload.seed));

    await ctx.reportProgress("evaluating on the TEST split", 70);
    const head = await sessionFromBytes(trained.onnx, trained.shape, ctx.worker.provider);
    let evaluation: ReturnType<typeof evaluateClassifier> | null = null;
    let exportCheck: number | null = null;
    try {
      if (trained.weights) {
        // The file is what selection will run: prove it computes what was trained.
        const sample = { data: x.data.subarray(0, Math.min(x.rows, 256) * x.cols), rows: Math.min(x.rows, 256), cols: x.cols };
        const a = await headPredictProba(head, sample);
        const b = predictProba(trained.weights, sample);
        exportCheck = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
        if (exportCheck > EXPORT_TOLERANCE) throw new Error(`ONNX export differs from the trained head by ${exportCheck}`);
      }
      if (sets.test.length > 0) {
        const xt = await embeddingMatrix(db, sets.test.map((e) => e.caseId), encoderVersion);
        const probs = await headPredictProba(head, xt);
        evaluation = evaluateClassifier(probs, Int32Array.from(sets.test, (e) => e.label), classes.keys.length);
      }
    } finally {
      await head.session.release();
    }

    await ctx.reportProgress("writing the model files", 85);
    const rounds = await latestRoundOfCases(db, projectId);
    const snapshot = {
      labelCount: sets.training.length,
      trainingSetHash: trainingSetHash(sets.training),
      cases: sets.training.map((e) => ({
        caseId: e.caseId,
        split: e.split,
        annotationId: e.annotationId,
        annotationVersion: e.annotationVersion,
        labelSource: e.source,
        label: classes.keys[e.label],
        round: rounds.get(e.caseId)?.number ?? null,
      })),
      rounds: [...new Set(sets.training.map((e) => rounds.get(e.caseId)?.number).filter((n): n is number => n !== undefined))].sort((a, b) => a - b),
      classCounts: Object.fromEntries(classes.keys.map((k, i) => [k, sets.training.filter((e) => e.label === i).length])),
      // Recorded so a reviewer can see the guarantee, not just trust it.
      testSplit: { cases: sets.test.length, inTraining: 0 },
      unknownLabels: sets.unknownLabels,
      // The training-label rule (issue 14) and what it decided: adjudicated / consensus / imported, and the excluded cases.
      labelRule: TRAINING_LABEL_RULE,
      labelSources: Object.fromEntries((["adjudicated", "consensus", "imported"] as const).map((k) => [k, sets.training.filter((e) => e.source === k).length])),
      excludedCases: sets.excluded,
    };
    const params = {
      jobRunId: ctx.jobRunId,
      trainer: trained.trainer,
      device: trainer.device,
      head: trained.config,
      headKind: trained.logistic ? "logistic" : "mlp",
      ...(trained.logistic ? { logistic: trained.logistic } : {}),
      shape: trained.shape,
      seed: ctx.payload.seed,
      reason: ctx.payload.reason,
      classes: classes.keys,
      minorityClasses: project.minorityClasses,
      report: { epochsRun: trained.report.epochsRun, bestEpoch: trained.report.bestEpoch, trainLoss: trained.report.trainLoss, validationLoss: trained.report.validationLoss },
      trainMs,
      embeddingsComputed: computed,
    };
    const metrics = { classes: classes.keys, test: evaluation, testCases: sets.test.length, exportMaxAbsDiff: exportCheck, labelErrors: labelErrors.list, labelErrorsSkipped: labelErrors.skipped };
    const checksum = sha256Hex(trained.onnx);
    const version = (await maxModelVersion(db, projectId)) + 1;
    const card = {
      format: "rads-model-card",
      formatVersion: 1,
      projectId,
      version,
      encoderVersion,
      onnx: { file: "head.onnx", sha256: checksum, bytes: trained.onnx.length, ...headOnnxSignature({ inputDim: trained.shape.inputDim, hidden: trained.shape.hidden, numClasses: trained.shape.numClasses, dropout: trained.shape.dropout, layers: [] }) },
      intendedUse: "Ranks unlabelled cases of this project for annotation and, when the project allows it, shows clinicians a suggestion. Not a diagnostic device.",
      training: { ...params, labelCount: snapshot.labelCount, classCounts: snapshot.classCounts, rounds: snapshot.rounds, trainingSetHash: snapshot.trainingSetHash, testSplit: snapshot.testSplit },
      evaluation: evaluation ? { n: evaluation.n, accuracy: evaluation.accuracy, balancedAccuracy: evaluation.balancedAccuracy, macroF1: evaluation.macroF1, macroAuprc: evaluation.macroAuprc, ece: evaluation.ece, perClass: evaluation.perClass.map((c) => ({ class: classes.keys[c.classIndex], support: c.support, precision: c.precision, recall: c.recall, f1: c.f1, auprc: c.auprc })) } : null,
      limitations: [
        `Training label of a case: ${TRAINING_LABEL_RULE}; cases whose annotators split without an adjudication are left out, and the label noise that remains is not modelled.`,
        evaluation ? `Evaluated on ${evaluation.n} TEST-split cases only.` : "No labelled TEST-split cases: the model is unevaluated.",
      ],
    };
    const cardJson = new TextEncoder().encode(JSON.stringify(card, null, 2));

    const temp = tempArtifactPrefix(projectId, ctx.jobRunId);
    await store.put(`${temp}/head.onnx`, trained.onnx);
    await store.put(`${temp}/card.json`, cardJson);
    const readBack = await store.get(`${temp}/head.onnx`);
    if (sha256Hex(readBack) !== checksum) throw new Error("The ONNX file read back from the blob store does not match what was written");
    const final = artifactPrefix(projectId, version);
    await store.put(`${final}/head.onnx`, readBack);
    await store.put(`${final}/card.json`, await store.get(`${temp}/card.json`));

    await ctx.reportProgress("registering the candidate", 95);
    const model = await db.$transaction(async (tx) => {
      await lockProjectModels(tx, projectId);
      const again = await findModelVersionsOfJob(tx, projectId, ctx.jobRunId);
      if (again.length > 0) return again[0]!;
      const row = await insertCandidateModel(tx, {
        projectId,
        version,
        encoderVersion,
        metrics: metrics as unknown as Prisma.InputJsonValue,
        trainingSnapshot: snapshot as unknown as Prisma.InputJsonValue,
        params: params as unknown as Prisma.InputJsonValue,
        artifactKey: `${final}/head.onnx`,
        checksum,
        triggeredById: ctx.requestedById,
      });
      await insertAuditEvent(tx, {
        actorId: ctx.requestedById,
        actorRole: null,
        action: "model.candidate-registered",
        targetType: "ModelVersion",
        targetId: row.id,
        projectId,
        details: { version, jobRunId: ctx.jobRunId, labelCount: snapshot.labelCount, reason: ctx.payload.reason, checksum },
      });
      const result = { modelVersionId: row.id, version, labelCount: snapshot.labelCount, testCases: sets.test.length, macroF1: evaluation?.macroF1 ?? null };
      if (!(await succeedJobRun(tx, ctx.jobRunId, result))) throw new Error("The train run is no longer RUNNING (recovered by another worker?); not registering");
      return row;
    });
    for (const key of [`${temp}/head.onnx`, `${temp}/card.json`]) await store.delete(key).catch(() => undefined);
    logger.info("candidate model registered", { projectId, modelVersionId: model.id, version: model.version, jobRunId: ctx.jobRunId });
    if (ctx.payload.speculate) {
      // The model is registered whatever happens here: a round that cannot be requested now is computed at approval.
      await enqueueLoopJob(ctx.worker, {
        kind: SELECT_JOB,
        projectId,
        payload: { projectId, modelVersionId: model.id, reason: "speculative", speculative: true },
        dedupeKey: speculativeSelectDedupeKey(projectId, model.id),
        requestedById: ctx.requestedById,
      }).catch((error: Error) => logger.warn("speculative round not requested", { projectId, modelVersionId: model.id, error: error.message }));
    }
    return { modelVersionId: model.id, version: model.version, labelCount: snapshot.labelCount, testCases: sets.test.length, macroF1: evaluation?.macroF1 ?? null };
  },
});
