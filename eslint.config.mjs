// Lint rules that hold the architecture's boundaries (docs/ARCHITECTURE.md):
// workers/ml is pure (no I/O, no database, no runtime), and only the data-access layer touches Prisma.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const forbiddenInPureMl = [
  "fs", "node:fs", "fs/promises", "node:fs/promises", "path", "node:path", "child_process", "node:child_process",
  "net", "node:net", "http", "node:http", "https", "node:https", "worker_threads", "node:worker_threads",
  "@prisma/client", "@prisma/adapter-pg", "pg", "pg-boss", "onnxruntime-node", "onnxruntime-web", "next", "react",
];

export default tseslint.config(
  {
    ignores: [
      "node_modules/**", ".next/**", ".data/**", "storage/**", "next-env.d.ts", "test-results/**",
      "playwright-report/**", "sim-results/**", "bench-results/**", "server/db/generated/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": [
        "error",
        { selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name=/^(skip|only|todo)$/]", message: "No skipped, focused or todo tests." },
      ],
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
    files: ["app/**/*.{ts,tsx}", "server/api/**/*.ts", "workers/**/*.ts"],
    ignores: ["workers/ml/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "@prisma/client", message: "Only the data-access layer (server/db) imports Prisma." }] },
      ],
    },
  },
);
