/**
 * Preloaded into the web process (`node --import ./scripts/peer-address.mjs next start`, see
 * scripts/start.ts): stamps every HTTP request with the TCP peer address in x-rads-peer-address,
 * replacing any value a client sent under that name. Next.js route handlers cannot see the socket,
 * and Next.js fills X-Forwarded-For from it only when the client sent none — so without this stamp
 * a client could choose the address that per-address sign-in limits count (issue 12, fault 2).
 * server/auth/client-address.ts reads the stamp (and X-Forwarded-For only for TRUSTED_PROXY_HOPS).
 */
import http from "node:http";
import https from "node:https";

const HEADER = "x-rads-peer-address";

function stamp(server) {
  server.prependListener("request", (request) => {
    request.headers[HEADER] = request.socket?.remoteAddress ?? "";
  });
  return server;
}

for (const module of [http, https]) {
  const createServer = module.createServer;
  module.createServer = function createStampedServer(...args) {
    return stamp(createServer.apply(this, args));
  };
}
