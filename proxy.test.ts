import { createRequire } from "node:module";
import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { CSP_DIRECTIVES } from "./next.config";
import { config, HSTS_VALUE, pageContentSecurityPolicy, proxy, servedOverHttps, UPLOAD_ROUTES, uploadResponseHeaders } from "./proxy";

const scriptSrc = (policy: string) => policy.split("; ").find((d) => d.startsWith("script-src "))!;

describe("page CSP with a nonce and HSTS (issue 12, fault 12)", () => {
  it("no directive allows inline scripts or eval in production; the static policy has neither either", () => {
    for (const policy of [CSP_DIRECTIVES.join("; "), pageContentSecurityPolicy("abc", false)]) {
      expect(scriptSrc(policy)).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
    }
    expect(scriptSrc(pageContentSecurityPolicy("abc", false))).toMatch(/^script-src 'nonce-abc' 'self'/);
    // Only the development server's React needs eval.
    expect(scriptSrc(pageContentSecurityPolicy("abc", true))).toContain("'unsafe-eval'");
    // The other directives are the static ones, unchanged.
    expect(pageContentSecurityPolicy("abc", false).split("; ").filter((d) => !d.startsWith("script-src "))).toEqual(CSP_DIRECTIVES.filter((d) => !d.startsWith("script-src ")));
  });

  it("gives every request a fresh nonce, on the response and on the request Next.js renders with", () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const response = proxy(new NextRequest("http://127.0.0.1:3000/signin"));
      const policy = response.headers.get("content-security-policy")!;
      const nonce = /'nonce-([^']+)'/.exec(policy)![1]!;
      expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      // NextResponse.next({ request: { headers } }) passes overridden request headers this way.
      expect(response.headers.get("x-middleware-request-content-security-policy")).toBe(policy);
      expect(response.headers.get("x-middleware-request-x-nonce")).toBe(nonce);
      nonces.add(nonce);
    }
    expect(nonces.size).toBe(20);
  });

  it("sends HSTS only when served over https (NEXTAUTH_URL, or X-Forwarded-Proto from a declared proxy)", () => {
    const plain = new Request("http://127.0.0.1:3000/", { headers: { "x-forwarded-proto": "https" } });
    expect(servedOverHttps(plain, {})).toBe(false); // a client's own X-Forwarded-Proto counts for nothing
    expect(servedOverHttps(plain, { TRUSTED_PROXY_HOPS: "1" })).toBe(true);
    expect(servedOverHttps(new Request("http://127.0.0.1:3000/"), { TRUSTED_PROXY_HOPS: "1" })).toBe(false);
    expect(servedOverHttps(new Request("http://127.0.0.1:3000/"), { NEXTAUTH_URL: "https://rads.hospital.example" })).toBe(true);
    expect(servedOverHttps(new Request("http://127.0.0.1:3000/"), { NEXTAUTH_URL: "http://localhost:3000" })).toBe(false);
    const previous = process.env.NEXTAUTH_URL;
    try {
      process.env.NEXTAUTH_URL = "https://rads.hospital.example";
      expect(proxy(new NextRequest("http://127.0.0.1:3000/")).headers.get("strict-transport-security")).toBe(HSTS_VALUE);
      process.env.NEXTAUTH_URL = "http://localhost:3000";
      expect(proxy(new NextRequest("http://127.0.0.1:3000/")).headers.get("strict-transport-security")).toBeNull();
    } finally {
      if (previous === undefined) delete process.env.NEXTAUTH_URL;
      else process.env.NEXTAUTH_URL = previous;
    }
  });
});

describe("upload routes are outside the proxy (it cuts a body it buffers at 10 MB)", () => {
  // The matcher compiled as Next.js compiles it for the build's proxy manifest.
  const { getMiddlewareMatchers } = createRequire(import.meta.url)("next/dist/build/analysis/get-page-static-info.js") as {
    getMiddlewareMatchers: (matcher: unknown, nextConfig: object) => { regexp: string }[];
  };
  const [matcher] = getMiddlewareMatchers(config.matcher, {});
  const proxied = (pathname: string) => new RegExp(matcher!.regexp).test(pathname);

  it("the import upload is not proxied; pages, NextAuth and the other API routes are", () => {
    expect(config.matcher[0]!.source).toContain(UPLOAD_ROUTES.join("|"));
    expect(proxied("/api/projects/cm1abc/import")).toBe(false);
    expect(proxied("/api/projects/cm1abc/import/")).toBe(false);
    for (const pathname of ["/", "/signin", "/projects/cm1abc/import", "/api/auth/callback/credentials", "/api/projects/cm1abc/export", "/api/projects/cm1abc/importer", "/api/trpc/health.ping"]) {
      expect(proxied(pathname), pathname).toBe(true);
    }
    expect(proxied("/_next/static/chunks/app.js")).toBe(false);
  });

  it("an upload's answer carries HSTS itself when served over https", () => {
    expect(uploadResponseHeaders(new Request("http://127.0.0.1:3000/"), { NEXTAUTH_URL: "https://rads.hospital.example" })).toEqual({ "Strict-Transport-Security": HSTS_VALUE });
    expect(uploadResponseHeaders(new Request("http://127.0.0.1:3000/"), { NEXTAUTH_URL: "http://localhost:3000" })).toEqual({});
  });
});
