import { describe, expect, it } from "vitest";
import { TRPC_MAX_BATCH, TRPC_MAX_BODY_BYTES } from "@/contracts/request-limits";
import { batchLength, limitTrpcRequest, markLimitedBody } from "./request-limits";

const ORIGIN = "http://localhost:3000";

/** A body of `size` bytes served in 64 KiB chunks, counting how many bytes the reader really pulled. */
function countingBody(size: number) {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const counter = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulled >= size) return controller.close();
      const part = chunk.subarray(0, Math.min(chunk.byteLength, size - counter.pulled));
      counter.pulled += part.byteLength;
      controller.enqueue(part);
    },
  });
  return { stream, counter };
}

function post(pathname: string, body: BodyInit, headers: Record<string, string> = {}) {
  return new Request(`${ORIGIN}${pathname}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers }, duplex: "half" } as RequestInit);
}

describe("tRPC request limits (issue 12, fault 8)", () => {
  it("refuses a 64 MiB body declared by Content-Length without reading it", async () => {
    const { stream, counter } = countingBody(64 * 1024 * 1024);
    const answer = await limitTrpcRequest(post("/api/trpc/annotations.saveDraft?batch=1", stream, { "content-length": String(64 * 1024 * 1024) }), "/api/trpc");
    expect(answer).toBeInstanceOf(Response);
    expect((answer as Response).status).toBe(413);
    expect(((await (answer as Response).json()) as { error: { message: string } }).error.message).toMatch(/larger than 4096 KiB/);
    expect(counter.pulled).toBeLessThanOrEqual(2 * 64 * 1024);
  });

  it("refuses a 64 MiB chunked body (no Content-Length) after reading just past the cap", async () => {
    const { stream, counter } = countingBody(64 * 1024 * 1024);
    const answer = await limitTrpcRequest(post("/api/trpc/annotations.saveDraft?batch=1", stream), "/api/trpc");
    expect((answer as Response).status).toBe(413);
    expect(counter.pulled).toBeLessThanOrEqual(TRPC_MAX_BODY_BYTES + 2 * 64 * 1024);
  });

  it("refuses a batch of 200 calls before reading the body, on GET and POST", async () => {
    const names = Array.from({ length: 200 }, () => "me.get").join(",");
    const get = await limitTrpcRequest(new Request(`${ORIGIN}/api/trpc/${names}?batch=1&input={}`), "/api/trpc");
    expect((get as Response).status).toBe(400);
    expect(((await (get as Response).json()) as { error: { message: string } }).error.message).toBe(`A batch may hold at most ${TRPC_MAX_BATCH} calls; this one has 200.`);
    const { stream, counter } = countingBody(64 * 1024 * 1024);
    const viaPost = await limitTrpcRequest(post(`/api/trpc/${encodeURIComponent(names)}?batch=1`, stream), "/api/trpc");
    expect((viaPost as Response).status).toBe(400);
    // The stream's own read-ahead may fill one chunk; nothing more is read.
    expect(counter.pulled).toBeLessThanOrEqual(64 * 1024);
  });

  it("passes a request within the limits on, with the same body", async () => {
    const names = Array.from({ length: TRPC_MAX_BATCH }, () => "me.get").join(",");
    const body = JSON.stringify({ 0: { json: { caseId: "c1", text: "x".repeat(100_000) } } });
    const answer = await limitTrpcRequest(post(`/api/trpc/${names}?batch=1`, body), "/api/trpc");
    expect(answer).toBeInstanceOf(Request);
    expect(await (answer as Request).text()).toBe(body);
    expect(batchLength(new URL(`${ORIGIN}/api/trpc/${names}`), "/api/trpc")).toBe(TRPC_MAX_BATCH);
    expect(batchLength(new URL(`${ORIGIN}/api/trpc/me.get`), "/api/trpc")).toBe(1);
  });

  it("passes a body the production server already read under the cap on as the same Request, and refuses one it found too large", async () => {
    const body = JSON.stringify({ json: { caseId: "c1" } });
    const read = markLimitedBody(post("/api/trpc/annotations.submit", body), { complete: true, bytes: body.length });
    const passed = await limitTrpcRequest(read, "/api/trpc");
    expect(passed).toBe(read);
    expect(await (passed as Request).text()).toBe(body);
    const cut = markLimitedBody(post("/api/trpc/annotations.submit", ""), { complete: false, bytes: TRPC_MAX_BODY_BYTES + 1 });
    const refused = await limitTrpcRequest(cut, "/api/trpc");
    expect((refused as Response).status).toBe(413);
    expect((refused as Response).headers.get("connection")).toBe("close");
    // Read under a larger cap than this check's: refused here all the same.
    const over = markLimitedBody(post("/api/trpc/annotations.submit", "x".repeat(2048)), { complete: true, bytes: 2048 });
    expect(((await limitTrpcRequest(over, "/api/trpc", { maxBatch: TRPC_MAX_BATCH, maxBodyBytes: 1024 })) as Response).status).toBe(413);
    // The batch limit still comes first.
    const names = Array.from({ length: 200 }, () => "me.get").join(",");
    const batch = markLimitedBody(post(`/api/trpc/${names}?batch=1`, "{}"), { complete: true, bytes: 2 });
    expect(((await limitTrpcRequest(batch, "/api/trpc")) as Response).status).toBe(400);
  });
});
