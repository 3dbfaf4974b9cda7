/**
 * Runs a command-line entry point: its resolved number is the exit code; a thrown error is printed
 * as one line (plus the StartupError-style hint when it has one) and exits 2 — no stack trace.
 */
export function runCli(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const hint = (error as { hint?: string }).hint;
      process.stderr.write(`error: ${(error as Error).message}${hint ? `\n  → ${hint}` : ""}\n`);
      process.exit(2);
    },
  );
}
