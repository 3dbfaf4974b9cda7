/**
 * The environment both processes (web and worker) validate at boot. One schema, parsed once;
 * anything wrong is reported as one clear line (StartupError) rather than a stack trace later.
 */
import fs from "node:fs";
import { z } from "zod";
import { StartupError } from "./startup-error";

/** Secrets that must never protect a real deployment (they appear in docs and examples). */
const KNOWN_WEAK_SECRETS = new Set(["secret", "changeme", "change-me", "development", "dev-secret", "nextauth-secret"]);

const ZServerEnv = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    DATABASE_URL: z
      .string({ error: "DATABASE_URL is not set" })
      .refine((value) => /^postgres(ql)?:\/\/[^\s]+$/.test(value), "DATABASE_URL must look like postgresql://user:password@host:port/database"),
    NEXTAUTH_SECRET: z.string().optional(),
    NEXTAUTH_URL: z.string().url().optional(),
    STORAGE_DIR: z.string().default("storage"),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    /** Hospital single sign-on: all three switch the generic OIDC provider on. */
    OIDC_ISSUER: z.string().url().optional(),
    OIDC_CLIENT_ID: z.string().optional(),
    OIDC_CLIENT_SECRET: z.string().optional(),
    OIDC_DISPLAY_NAME: z.string().default("Hospital sign-in"),
    /** Role given to a user who signs in through OIDC for the first time (admins adjust it later); never ADMIN. */
    OIDC_DEFAULT_ROLE: z.enum(["CLINICIAN", "DATA_SCIENTIST", "REVIEWER", "ADMIN"]).default("CLINICIAN"),
    /** Comma-separated e-mail domains whose OIDC users may sign in (e.g. "hospital.example,uni.example"); unset: any verified e-mail. */
    OIDC_ALLOWED_DOMAINS: z
      .string()
      .optional()
      .transform((value) =>
        (value ?? "")
          .split(",")
          .map((domain) => domain.trim().toLowerCase().replace(/^@/, ""))
          .filter(Boolean),
      )
      .refine((domains) => domains.every((domain) => /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain)), "OIDC_ALLOWED_DOMAINS must be a comma-separated list of domains, e.g. hospital.example"),
    /** Per account and client address: this many failures lock that pair for LOGIN_LOCK_MINUTES. */
    LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
    LOGIN_LOCK_MINUTES: z.coerce.number().int().min(1).default(15),
    /** Per client address, any accounts: attempts per LOGIN_LOCK_MINUTES before a doubling delay starts. */
    LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
    /** Per account, from any address: the longest progressive delay between attempts, in seconds (never a lock). */
    LOGIN_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    /** Password hashes computed at once by this web process; sign-ins beyond (and a short wait) get 429. */
    LOGIN_MAX_CONCURRENT_HASHES: z.coerce.number().int().min(1).max(64).default(2),
    /** Reverse proxies in front of the web server that append to X-Forwarded-For; 0 trusts only the TCP peer. */
    TRUSTED_PROXY_HOPS: z.coerce.number({ error: "TRUSTED_PROXY_HOPS must be a whole number" }).int().min(0).max(10).default(0),
    /** A session unused for this long ends (shared clinical workstations), checked on the server. */
    SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
    /** Largest upload the import page accepts, in MB (the whole request; zips may unpack to 2× this). */
    IMPORT_MAX_UPLOAD_MB: z.coerce.number().int().min(1).max(4096).default(512),
    /** Uploads this web process receives and imports at once; another gets 429 (each may hold up to IMPORT_MAX_UPLOAD_MB on disk and in memory). */
    IMPORT_MAX_CONCURRENT: z.coerce.number().int().min(1).max(64).default(2),
    /** The worker's per-minute loop check (retrain triggers, dead-job recovery); off leaves only on-demand checks. */
    LOOP_SCHEDULE: z.enum(["on", "off"], { error: "LOOP_SCHEDULE must be on or off" }).default("on"),
    /** Where onnxruntime runs encoders and trained heads: cpu (bundled) or cuda (needs the CUDA build of onnxruntime-node). */
    ONNX_EXECUTION_PROVIDER: z.enum(["cpu", "cuda"], { error: "ONNX_EXECUTION_PROVIDER must be cpu or cuda" }).default("cpu"),
    /** Folder of ONNX encoders a project may choose (settings → encoder); paths are relative to the working directory. Unset: only the built-in featuriser. */
    MODELS_DIR: z
      .string()
      .min(1)
      .refine((dir) => {
        try {
          return fs.statSync(dir).isDirectory();
        } catch {
          return false;
        }
      }, "MODELS_DIR must name an existing folder (the ONNX encoders a project may choose)")
      .optional(),
  })
  .superRefine((env, ctx) => {
    const oidc = [env.OIDC_ISSUER, env.OIDC_CLIENT_ID, env.OIDC_CLIENT_SECRET];
    if (oidc.some(Boolean) && !oidc.every(Boolean)) {
      ctx.addIssue({ code: "custom", path: ["OIDC_ISSUER"], message: "set all of OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET, or none" });
    }
    if (env.OIDC_DEFAULT_ROLE === "ADMIN") {
      ctx.addIssue({ code: "custom", path: ["OIDC_DEFAULT_ROLE"], message: "OIDC_DEFAULT_ROLE may not be ADMIN (an admin grants the admin role to a named user)" });
    }
    if (env.NODE_ENV === "production") {
      const secret = env.NEXTAUTH_SECRET ?? "";
      if (secret.length < 32 || KNOWN_WEAK_SECRETS.has(secret.toLowerCase())) {
        ctx.addIssue({
          code: "custom",
          path: ["NEXTAUTH_SECRET"],
          message: "in production NEXTAUTH_SECRET must be set to a random value of at least 32 characters (e.g. `openssl rand -base64 32`)",
        });
      }
    }
  });

export type ServerEnv = z.infer<typeof ZServerEnv>;

let cached: ServerEnv | undefined;

/** Parses process.env once; throws a StartupError naming every bad variable. */
export function loadServerEnv(source: Record<string, string | undefined> = process.env): ServerEnv {
  if (source === process.env && cached) return cached;
  const parsed = ZServerEnv.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "environment"}: ${issue.message}`).join("; ");
    throw new StartupError(`Invalid environment — ${problems}.`, "Fix the variables named above (see README, Configuration).");
  }
  if (source === process.env) cached = parsed.data;
  return parsed.data;
}

export function oidcEnabled(env: ServerEnv): boolean {
  return Boolean(env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET);
}
