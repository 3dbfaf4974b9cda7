/**
 * An error the platform can explain in one line at start-up (bad configuration, port in use, ...).
 * Entry points print `message` and `hint` and exit non-zero instead of showing a stack trace.
 */
export class StartupError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = "StartupError";
  }
}

/** Prints a StartupError as one clear line (plus what to do) and exits 1; rethrows anything else. */
export function exitOnStartupError(error: unknown): never {
  if (error instanceof StartupError) {
    process.stderr.write(`error: ${error.message}\n  → ${error.hint}\n`);
    process.exit(1);
  }
  throw error;
}
