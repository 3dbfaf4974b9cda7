/**
 * The benchmarks' HTTP client for the platform's API (what the pages do, without the pages):
 * a cookie jar, sign-in through NextAuth's credentials endpoint (csrf token + cookie, retried
 * while the sign-in route answers 429 because its password-hashing slots are full) and tRPC calls
 * (GET for queries, POST for mutations, superjson's `{ json }` envelope). Used by
 * scripts/bench-workspace.ts and scripts/profile-api.ts.
 */

/** A tRPC call that did not return a result: HTTP status, tRPC code and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly procedure: string,
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(`${procedure}: ${status} ${message}`.trim());
  }
}

export interface ApiClientOptions {
  /** e.g. http://127.0.0.1:3000 — where calls go; `base` may be changed later (another server, same cookies). */
  base: string;
  password: string;
  /** Per-request timeout (ms); none when unset. */
  timeoutMs?: number;
}

export class ApiClient {
  private readonly cookies = new Map<string, string>();
  base: string;

  constructor(
    readonly email: string,
    private readonly options: ApiClientOptions,
  ) {
    this.base = options.base;
  }

  private signal() {
    return this.options.timeoutMs ? AbortSignal.timeout(this.options.timeoutMs) : undefined;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** Keeps every Set-Cookie of a response (name=value only). */
  keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(";")[0]!;
      const eq = pair.indexOf("=");
      if (eq > 0) this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }

  /** Signs in with e-mail + password; throws when no session cookie came back. */
  async signIn(): Promise<void> {
    const csrf = await fetch(`${this.base}/api/auth/csrf`, { headers: { cookie: this.cookieHeader() }, signal: this.signal() });
    this.keep(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    let response: Response;
    for (let attempt = 0; ; attempt++) {
      response = await fetch(`${this.base}/api/auth/callback/credentials`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: this.cookieHeader(), origin: this.base },
        body: new URLSearchParams({ csrfToken, email: this.email, password: this.options.password, json: "true" }),
        signal: this.signal(),
      });
      if (response.status !== 429 || attempt >= 60) break;
      await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 300));
    }
    this.keep(response);
    await response.arrayBuffer();
    if (![...this.cookies.keys()].some((k) => k.includes("session-token"))) throw new Error(`sign-in failed for ${this.email} (${response.status})`);
  }

  /** One tRPC call; the result's `json`, or an ApiError. */
  async call<T>(kind: "query" | "mutation", procedure: string, input: unknown): Promise<T> {
    const headers = { cookie: this.cookieHeader(), origin: this.base, "content-type": "application/json" };
    const response =
      kind === "query"
        ? await fetch(`${this.base}/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, { headers, signal: this.signal() })
        : await fetch(`${this.base}/api/trpc/${procedure}`, { method: "POST", headers, body: JSON.stringify({ json: input }), signal: this.signal() });
    this.keep(response);
    const text = await response.text();
    let body: { result?: { data?: { json?: T } }; error?: { json?: { message?: string; data?: { code?: string } } } } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new ApiError(procedure, response.status, undefined, `not JSON: ${text.slice(0, 120)}`);
    }
    if (!response.ok || !body.result?.data) throw new ApiError(procedure, response.status, body.error?.json?.data?.code, body.error?.json?.message ?? "");
    return body.result.data.json as T;
  }
}

/** Linear-interpolated quantile (q in 0–1); NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
