import { describe, expect, it } from "vitest";
import { loadServerEnv } from "./env";
import { StartupError } from "./startup-error";

const base = { DATABASE_URL: "postgresql://u:p@localhost:5432/db" };

describe("environment validation", () => {
  it("accepts a minimal development environment", () => {
    expect(loadServerEnv({ ...base, NODE_ENV: "development" }).STORAGE_DIR).toBe("storage");
  });

  it("names a missing or malformed DATABASE_URL", () => {
    expect(() => loadServerEnv({ NODE_ENV: "development" })).toThrow(/DATABASE_URL/);
    expect(() => loadServerEnv({ NODE_ENV: "development", DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL must look like postgresql/);
  });

  it("refuses production without a strong auth secret", () => {
    expect(() => loadServerEnv({ ...base, NODE_ENV: "production" })).toThrow(StartupError);
    expect(() => loadServerEnv({ ...base, NODE_ENV: "production", NEXTAUTH_SECRET: "changeme" })).toThrow(/NEXTAUTH_SECRET/);
    expect(() => loadServerEnv({ ...base, NODE_ENV: "production", NEXTAUTH_SECRET: "x".repeat(31) })).toThrow(/at least 32/);
    expect(loadServerEnv({ ...base, NODE_ENV: "production", NEXTAUTH_SECRET: "k".repeat(40) }).NEXTAUTH_SECRET).toHaveLength(40);
  });

  it("requires the OIDC variables together", () => {
    expect(() => loadServerEnv({ ...base, OIDC_ISSUER: "https://sso.example.org" })).toThrow(/OIDC_CLIENT_ID/);
    const env = loadServerEnv({ ...base, OIDC_ISSUER: "https://sso.example.org", OIDC_CLIENT_ID: "id", OIDC_CLIENT_SECRET: "s" });
    expect(env.OIDC_DEFAULT_ROLE).toBe("CLINICIAN");
  });

  it("defaults the ONNX execution provider to cpu and names a bad value", () => {
    expect(loadServerEnv(base).ONNX_EXECUTION_PROVIDER).toBe("cpu");
    expect(loadServerEnv({ ...base, ONNX_EXECUTION_PROVIDER: "cuda" }).ONNX_EXECUTION_PROVIDER).toBe("cuda");
    expect(() => loadServerEnv({ ...base, ONNX_EXECUTION_PROVIDER: "gpu" })).toThrow(/ONNX_EXECUTION_PROVIDER must be cpu or cuda/);
  });
});
