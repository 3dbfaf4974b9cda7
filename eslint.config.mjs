// Lint rules that hold the architecture's boundaries (docs/ARCHITECTURE.md):
// workers/ml is pure (no I/O, no database, no runtime), and only the data-access layer touches Prisma.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const forbiddenInPureMl = [
  "fs", "node:fs", "fs/promises", "node:fs/promises", "path", "node:path", "child_process", "node:child_process",
  "net", "node:net", "http", "node:http", "https", "node:https", "worker_threads", "node:worker_threads",
  "@prisma/client", "@prisma/adapter-pg", "pg", "pg-boss", "onnxruntime-node", "onnxruntime-web", "next", "react",
];

const prismaMessage = "Only the data-access layer (server/db) touches Prisma: move the query into a server/db repository.";
const prismaPackages = ["@prisma/client", "@prisma/adapter-pg", "prisma"];
// Model delegates of prisma/schema.prisma (camel-cased model names) and their query operations.
const prismaModels = [
  "user", "loginThrottle", "project", "projectMember", "importBatch", "case", "caseImage", "annotation", "annotationDraft",
  "embedding", "modelVersion", "selectionRound", "queueItem", "queueLease", "jobRun", "prediction", "auditEvent",
];
const prismaOperations = [
  "findMany", "findFirst", "findFirstOrThrow", "findUnique", "findUniqueOrThrow", "create", "createMany", "createManyAndReturn",
  "update", "updateMany", "updateManyAndReturn", "upsert", "delete", "deleteMany", "count", "aggregate", "groupBy",
];
const noSkippedTests = { selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name=/^(skip|only|todo)$/]", message: "No skipped, focused or todo tests." };

export default tseslint.config(
  {
    ignores: [
      "node_modules/**", ".next/**", ".data/**", "storage/**", "next-env.d.ts", "test-results/**",
      "playwright-report/**", "sim-results/**", "bench-results/**", "server/db/generated/**",
      // Built by scripts/build-codecs.ts from the codec packages (git-ignored), not our source.
      "public/codecs/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": ["error", noSkippedTests],
    },
  },
  {
    files: ["workers/ml/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: forbiddenInPureMl.map((name) => ({ name, message: "workers/ml is pure: typed arrays in and out, no I/O." })),
          patterns: [
            { group: ["**/app/**", "**/server/**", "**/models/**", "**/prisma/**", "@/app/*", "@/server/*", "@/models/*", "@/prisma/*", "**/workers/jobs/**"], message: "workers/ml imports nothing from app/, server/, models/ or prisma/." },
          ],
        },
      ],
      "no-restricted-globals": ["error", { name: "fetch", message: "workers/ml does no I/O." }, { name: "process", message: "workers/ml reads no environment." }],
      "no-restricted-properties": ["error", { object: "Math", property: "random", message: "Use the seeded Rng passed in (workers/ml/rng.ts)." }],
    },
  },
  {
    // Prisma stays in server/db: no import of the generated client (server/db/generated/…) or of a
    // Prisma package, and no query through a model delegate or a raw query (`db.case.findMany`,
    // `tx.$queryRaw`) — those belong in a server/db repository. Transactions (`db.$transaction`) may
    // be opened by services. Tests set up their own rows and are exempt.
    files: ["app/**/*.{ts,tsx}", "server/**/*.ts", "workers/**/*.ts", "models/**/*.ts", "scripts/**/*.ts"],
    ignores: ["workers/ml/**", "server/db/**", "**/*.test.ts", "**/*.int.test.ts", "server/testing/**", "workers/testing/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: prismaPackages.map((name) => ({ name, message: prismaMessage })),
          patterns: [{ group: ["**/db/generated", "**/db/generated/**", "@/server/db/generated", "@/server/db/generated/**", "@prisma/*"], message: prismaMessage }],
        },
      ],
      "no-restricted-syntax": [
        "error",
        noSkippedTests,
        { selector: `CallExpression[callee.type='MemberExpression'][callee.object.type='MemberExpression'][callee.object.property.name=/^(${prismaModels.join("|")})$/][callee.property.name=/^(${prismaOperations.join("|")})$/]`, message: prismaMessage },
        { selector: "CallExpression[callee.type='MemberExpression'][callee.property.name=/^\\$(queryRaw|executeRaw|queryRawUnsafe|executeRawUnsafe)$/]", message: prismaMessage },
        { selector: "TaggedTemplateExpression[tag.type='MemberExpression'][tag.property.name=/^\\$(queryRaw|executeRaw)$/]", message: prismaMessage },
      ],
    },
  },
);
