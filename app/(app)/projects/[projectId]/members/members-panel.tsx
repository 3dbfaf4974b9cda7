"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { MEMBER_ROLES, ZAddMemberInput } from "@/contracts/members";
import { ROLE_LABELS, type RoleName } from "@/contracts/roles";
import { serverFieldErrors, zodFieldErrors, type FieldErrors } from "../../../../_components/form-errors";
import { useTRPC } from "../../../../_components/providers";

/** Roles a user may hold in a project: the three project roles, plus Admin for platform admins. */
function rolesFor(platformRole: RoleName): readonly RoleName[] {
  return platformRole === "ADMIN" ? [...MEMBER_ROLES, "ADMIN"] : MEMBER_ROLES;
}

/** Every project role, in the order both dropdowns show them. */
const ALL_PROJECT_ROLES: readonly RoleName[] = [...MEMBER_ROLES, "ADMIN"];

const ROLE_HELP: Record<RoleName, string> = {
  CLINICIAN: "labels the cases of the queue",
  DATA_SCIENTIST: "configures the project, imports data, manages members",
  REVIEWER: "approves or rejects retrained models",
  ADMIN: "everything a data scientist can, and annotating (platform admins only)",
};

export function MembersPanel({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const members = useQuery(trpc.members.list.queryOptions({ projectId }, { retry: false }));
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.members.list.queryKey({ projectId }) });
  const add = useMutation(trpc.members.add.mutationOptions({ onSuccess: refresh }));
  const setRole = useMutation(trpc.members.setRole.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.members.remove.mutationOptions({ onSuccess: refresh }));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<{ kind: "error" | "notice"; text: string } | null>(null);
  const [newUserId, setNewUserId] = useState("");
  const [newRole, setNewRole] = useState<RoleName>("CLINICIAN");

  if (members.isPending) return <p className="muted">Loading…</p>;
  if (members.error) return <p className="error">{members.error.message}</p>;
  const data = members.data;
  const readOnly = data.archived;
  const chosen = data.candidates.find((c) => c.id === newUserId);
  const report = (error: unknown) => setMessage({ kind: "error", text: error instanceof Error ? error.message : "Something went wrong." });

  async function onAdd(event: FormEvent) {
    event.preventDefault();
    setMessage(null);
    const parsed = ZAddMemberInput.safeParse({ projectId, userId: newUserId, role: newRole });
    if (!parsed.success) return setErrors(zodFieldErrors(parsed.error));
    setErrors({});
    try {
      await add.mutateAsync(parsed.data);
      setMessage({ kind: "notice", text: `Added ${chosen?.name ?? "the user"} as ${ROLE_LABELS[parsed.data.role]}.` });
      setNewUserId("");
    } catch (error) {
      setErrors(serverFieldErrors(error));
    }
  }

  return (
    <>
      <h1>Members</h1>
      <p className="muted">
        What a member may do here follows their role in this project:{" "}
        {(["CLINICIAN", "DATA_SCIENTIST", "REVIEWER", "ADMIN"] as const).map((r, i) => (
          <span key={r}>
            {i > 0 && "; "}
            <strong>{ROLE_LABELS[r]}</strong> {ROLE_HELP[r]}
          </span>
        ))}
        . Every change is recorded in the audit log.
      </p>
      {readOnly && <p className="panel" role="status">This project is archived: its members cannot change.</p>}

      {!readOnly && (
        <section className="panel">
          <h2 style={{ marginTop: 0 }}>Add a member</h2>
          {data.candidates.length === 0 ? (
            <p className="muted">Every active user is already a member. An admin can create new users on the Users page.</p>
          ) : (
            <form className="form-row" onSubmit={onAdd} noValidate aria-label="Add a member">
              <label>
                User
                <select
                  value={newUserId}
                  onChange={(e) => {
                    setNewUserId(e.target.value);
                    // Admin is kept only for a platform admin.
                    const next = data.candidates.find((c) => c.id === e.target.value);
                    if (newRole === "ADMIN" && next?.platformRole !== "ADMIN") setNewRole("CLINICIAN");
                  }}
                  aria-label="User to add"
                >
                  <option value="">Choose…</option>
                  {data.candidates.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name} ({c.email}){c.platformRole === "ADMIN" ? " — platform admin" : ""}
                    </option>
                  ))}
                </select>
                {errors.userId && <span className="error" data-testid="field-error">{errors.userId}</span>}
              </label>
              <label>
                Role in this project
                <select value={newRole} onChange={(e) => setNewRole(e.target.value as RoleName)} aria-label="Role of the new member">
                  {/* The same four roles as a member row's dropdown; Admin only for a platform admin (the server refuses it for others). */}
                  {ALL_PROJECT_ROLES.map((r) => {
                    const allowed = rolesFor(chosen?.platformRole ?? "CLINICIAN").includes(r);
                    return (
                      <option key={r} value={r} disabled={!allowed}>
                        {ROLE_LABELS[r]}
                        {allowed ? "" : " (platform admins only)"}
                      </option>
                    );
                  })}
                </select>
                {errors.role && <span className="error" data-testid="field-error">{errors.role}</span>}
              </label>
              <button type="submit" disabled={add.isPending}>Add</button>
            </form>
          )}
          {errors.form && <p className="error" role="alert">{errors.form}</p>}
        </section>
      )}

      {message && <p className={message.kind} role={message.kind === "error" ? "alert" : "status"}>{message.text}</p>}

      <section className="panel">
        <table>
          <thead>
            <tr><th>Name</th><th>E-mail</th><th>Role in this project</th><th>Account</th><th /></tr>
          </thead>
          <tbody>
            {data.members.map((m) => (
              <tr key={m.userId} data-testid={`member-row-${m.email}`}>
                <td>{m.name}</td>
                <td>{m.email}</td>
                <td>
                  <select
                    aria-label={`Project role of ${m.email}`}
                    value={m.role}
                    disabled={readOnly || setRole.isPending}
                    onChange={(e) => {
                      const next = e.target.value as RoleName;
                      // A role decides what the member may do here at once (annotate, review, configure): confirm first.
                      if (!window.confirm(`Change ${m.name}'s role in this project from ${ROLE_LABELS[m.role]} to ${ROLE_LABELS[next]}? What they may do here changes at once.`)) return;
                      setMessage(null);
                      setRole.mutateAsync({ projectId, userId: m.userId, role: next }).then(() => setMessage({ kind: "notice", text: `${m.name} is now ${ROLE_LABELS[next]} in this project.` }), report);
                    }}
                  >
                    {rolesFor(m.platformRole).map((r) => (
                      <option key={r} value={r}>{ROLE_LABELS[r]}</option>
                    ))}
                  </select>
                </td>
                <td>{m.active ? <span className="badge">active</span> : <span className="badge inactive">deactivated</span>}</td>
                <td>
                  {!readOnly && (
                    <button
                      className="secondary"
                      disabled={remove.isPending}
                      onClick={() => {
                        if (!window.confirm(`Remove ${m.name} from this project? Their annotations stay.`)) return;
                        setMessage(null);
                        remove.mutateAsync({ projectId, userId: m.userId }).then(() => setMessage({ kind: "notice", text: `Removed ${m.name}.` }), report);
                      }}
                    >
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
