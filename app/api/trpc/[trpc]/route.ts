import { answerTrpcCall, handleTrpcRequest } from "@/server/api/trpc-http";

// The tRPC API (server/api/trpc-http.ts: CSRF, request limits, session check, errors). Under
// `npm start -- --dev` Next.js routes requests here; the production server (scripts/web-server.mjs,
// server/web/server.ts) calls this compiled handler itself, outside Next's request pipeline, and
// its `answerCall` (the same API without Fetch Request/Response objects, server/api/trpc-resolve.ts).
const handler = Object.assign((request: Request) => handleTrpcRequest(request), { answerCall: answerTrpcCall });

export { handler as GET, handler as POST };
