/**
 * Domain errors thrown by services. The API layer maps each kind to an HTTP/tRPC status in ONE
 * place (server/api/trpc.ts); services never know about transport.
 */
export type DomainErrorKind = "BAD_INPUT" | "NOT_FOUND" | "CONFLICT" | "FORBIDDEN" | "UNAUTHORIZED" | "THROTTLED";

export class DomainError extends Error {
  constructor(readonly kind: DomainErrorKind, message: string, readonly details?: Record<string, unknown>) {
    super(message);
    this.name = "DomainError";
  }
}
