"use client";

import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { SessionProvider } from "next-auth/react";
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import superjson from "superjson";
import { TRPC_MAX_BATCH } from "@/contracts/request-limits";
import type { AppRouter } from "@/server/api/root";
import { isEndingSessionOnPurpose, isUnauthorized, SESSION_ENDED_EVENT, SESSION_ENDED_MESSAGE, signInAfterSessionEnd } from "./session-end";

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

/**
 * The query client, the tRPC client and the session-end rule (session-end.ts): the first 401 of any
 * query or mutation, or of an image request, clears every cached answer, replaces the page with a
 * one-line notice (so no patient text stays on screen) and loads the sign-in page with the reason.
 * A 401 is not retried (the session will not come back by asking again).
 */
export function Providers({ children }: { children: ReactNode }) {
  const [ended, setEnded] = useState(false);
  const endedRef = useRef(false);
  const queryClientRef = useRef<QueryClient | null>(null);
  const endSession = useCallback(() => {
    if (endedRef.current || isEndingSessionOnPurpose() || window.location.pathname.startsWith("/signin")) return;
    endedRef.current = true;
    queryClientRef.current?.cancelQueries();
    queryClientRef.current?.clear();
    setEnded(true);
    // A full load, not a client-side push: nothing of this page's memory (cached cases, images) outlives it.
    window.location.replace(signInAfterSessionEnd(`${window.location.pathname}${window.location.search}`));
  }, []);
  const [queryClient] = useState(() => {
    const onError = (error: unknown) => {
      if (isUnauthorized(error)) endSession();
    };
    const client = new QueryClient({
      queryCache: new QueryCache({ onError }),
      mutationCache: new MutationCache({ onError }),
      defaultOptions: { queries: { staleTime: 10_000, retry: (failures, error) => !isUnauthorized(error) && failures < 1 } },
    });
    queryClientRef.current = client;
    return client;
  });
  useEffect(() => {
    window.addEventListener(SESSION_ENDED_EVENT, endSession);
    return () => window.removeEventListener(SESSION_ENDED_EVENT, endSession);
  }, [endSession]);
  const [trpcClient] = useState(() => createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: "/api/trpc", transformer: superjson, maxItems: TRPC_MAX_BATCH })] }));
  return (
    <SessionProvider>
      <QueryClientProvider client={queryClient}>
        <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
          {ended ? (
            <main className="signin panel" role="status" data-testid="session-ended">
              <p>{SESSION_ENDED_MESSAGE}</p>
            </main>
          ) : (
            children
          )}
        </TRPCProvider>
      </QueryClientProvider>
    </SessionProvider>
  );
}
