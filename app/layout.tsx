import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "./_components/providers";
import "./globals.css";

// Every page renders per request: the CSP nonce (proxy.ts) is new each time, a prerendered page would carry none.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: "RADS Annotate",
  description: "Clinical annotation and active learning for rare findings",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
