/**
 * Where tRPC is served (`/api/trpc/<procedure>[,<procedure>…][?batch=1&input=…]`), in a module of
 * its own without dependencies: the production server (server/web/server.ts) decides with it which
 * requests it answers itself without loading the API's code a second time.
 */
export const TRPC_ENDPOINT = "/api/trpc";

/** Whether a request path (without the query) is tRPC's: the endpoint itself or below it. */
export function isTrpcPath(pathname: string): boolean {
  return pathname === TRPC_ENDPOINT || pathname.startsWith(`${TRPC_ENDPOINT}/`);
}
