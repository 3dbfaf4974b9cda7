"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { ROLE_LABELS } from "@/contracts/roles";
import { useTRPC } from "../_components/providers";

/** For a user in no project: who can add them (platform admins and the people who manage a project's members), with their e-mail, instead of a dead end. */
export function WhoToAsk() {
  const trpc = useTRPC();
  const answer = useQuery(trpc.members.whoToAsk.queryOptions());
  if (!answer.data || answer.data.inAnyProject) return null;
  const { contacts, canCreateProjects } = answer.data;
  return (
    <section className="panel" data-testid="who-to-ask">
      <h2 style={{ marginTop: 0 }}>You are not in a project yet</h2>
      {canCreateProjects && (
        <p>
          <Link className="button" href="/projects/new">Create a project</Link> <span className="muted">and add people to it on its Members page.</span>
        </p>
      )}
      {contacts.length === 0 ? (
        !canCreateProjects && <p className="muted">Nobody can add you yet: ask whoever runs this platform to create a data scientist or admin account.</p>
      ) : (
        <>
          <p className="muted">These people can add you to a project. Ask one of them:</p>
          <ul>
            {contacts.map((c, i) => (
              <li key={`${c.email}-${i}`} data-testid="contact">
                {c.name} &lt;<a href={`mailto:${c.email}`}>{c.email}</a>&gt;{" "}
                <span className="muted">
                  ({c.manages.length > 0 ? `manages ${c.manages.join(", ")}` : ROLE_LABELS[c.role]}
                  {c.manages.length > 0 && c.role === "ADMIN" ? "; platform admin" : ""})
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
