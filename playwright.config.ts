/**
 * End-to-end tests in Debian's Chromium (Playwright's own browser download does not work offline).
 * The web server is the real platform: `scripts/start.ts` on a fresh embedded database in a
 * temporary folder chosen by scripts/e2e.ts (E2E_DATA_DIR), production build, web + worker.
 */
import { defineConfig } from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3100);

export default defineConfig({
  testDir: "playwright",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["json", { outputFile: "test-results/e2e-results.json" }]],
  use: {
    baseURL: `http://localhost:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    },
  },
  // One platform serves the whole run, so specs share the demo project. The review spec approves
  // models and completes the demo's follow-up round, which leaves no queue for the workspace spec:
  // it runs in a project of its own, after all the others.
  // project-setup.spec.ts starts an EMPTY platform of its own (SEED_DEMO=false, other ports:
  // playwright/empty-platform.ts) and builds a team's project from nothing through the UI.
  projects: [
    { name: "platform", testIgnore: /(review|project-setup|honest-screens|dicom-fidelity)\.spec\.ts$/ },
    // Issue 11: every DICOM file drawn like its reference; a project of its own, so that no other
    // spec waits on it (a failure here does not stop the review and honest-screens projects).
    { name: "dicom", testMatch: /dicom-fidelity\.spec\.ts$/ },
    { name: "review", testMatch: /review\.spec\.ts$/, dependencies: ["platform"] },
    // Issue 15: honest screens; its chart check reads the demo project after the review spec.
    { name: "honest-screens", testMatch: /honest-screens\.spec\.ts$/, dependencies: ["review"] },
    { name: "project-setup", testMatch: /project-setup\.spec\.ts$/ },
  ],
  webServer: {
    command: "npx tsx scripts/start.ts",
    url: `http://127.0.0.1:${port}/api/trpc/health.ping`,
    timeout: 600_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGINT", timeout: 30_000 },
    env: {
      PORT: String(port),
      DATA_DIR: process.env.E2E_DATA_DIR ?? ".data/e2e",
      EMBEDDED_PG_PORT: process.env.E2E_PG_PORT ?? "54341",
      LOG_LEVEL: "warn",
    },
  },
});
