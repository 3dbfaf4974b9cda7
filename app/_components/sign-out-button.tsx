"use client";

import { signOut } from "next-auth/react";
import { endingSessionOnPurpose } from "./session-end";

export function SignOutButton() {
  return (
    <button className="secondary" style={{ marginTop: 10 }} onClick={() => {
        endingSessionOnPurpose();
        void signOut({ callbackUrl: "/signin" });
      }}>
      Sign out
    </button>
  );
}
