"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { MEMBER_ROLES } from "@/contracts/members";
import { can } from "@/contracts/permissions";
import { ROLE_LABELS, ROLES, type RoleName } from "@/contracts/roles";
import { ZCreateUserInput } from "@/contracts/users";
import { TEXT_LIMITS } from "@/contracts/text-limits";
import { useTRPC } from "../../../_components/providers";

type FieldErrors = Partial<Record<"email" | "name" | "role" | "initialPassword" | "projects", string>>;

/** The project role a new user gets by default: their platform role (a platform admin is Admin in the project). */
const defaultProjectRole = (role: RoleName): RoleName => role;

export function UsersAdmin() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const users = useQuery(trpc.users.list.queryOptions());
  const projects = useQuery(trpc.projects.listMine.queryOptions());
  // Only projects whose members the caller may manage (and that are not archived): the invite would be refused for any other.
  const manageable = projects.data?.filter((project) => !project.archived && can(project.role, "members.manage"));
  const [platformRole, setPlatformRole] = useState<RoleName>("CLINICIAN");
  /** Projects the new user joins in the same step: project id → role there. */
  const [joins, setJoins] = useState<Record<string, RoleName>>({});
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<{ kind: "error" | "notice"; text: string } | null>(null);

  const create = useMutation(trpc.users.create.mutationOptions({ onSuccess: refresh }));
  const setRole = useMutation(trpc.users.setRole.mutationOptions({ onSuccess: refresh }));
  const setActive = useMutation(trpc.users.setActive.mutationOptions({ onSuccess: refresh }));
  const resetPassword = useMutation(trpc.users.resetPassword.mutationOptions());

  const report = (error: unknown) => setMessage({ kind: "error", text: error instanceof Error ? error.message : "Something went wrong." });

  async function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const projectsToJoin = Object.entries(joins).map(([projectId, role]) => ({ projectId, role }));
    const parsed = ZCreateUserInput.safeParse({ ...Object.fromEntries(form.entries()), projects: projectsToJoin });
    if (!parsed.success) {
      const flat = parsed.error.flatten().fieldErrors as Record<string, string[] | undefined>;
      setFieldErrors(Object.fromEntries(Object.entries(flat).map(([k, v]) => [k, v?.[0]])) as FieldErrors);
      return;
    }
    setFieldErrors({});
    try {
      const result = await create.mutateAsync(parsed.data);
      formElement.reset();
      setJoins({});
      setPlatformRole("CLINICIAN");
      await queryClient.invalidateQueries({ queryKey: trpc.projects.listMine.queryKey() });
      setMessage({
        kind: "notice",
        text:
          `Created ${result.user.email}` +
          (projectsToJoin.length ? ` and added them to ${projectsToJoin.length} project${projectsToJoin.length === 1 ? "" : "s"}` : "") +
          ". They must choose their own password at first sign-in." +
          (result.temporaryPassword ? ` Temporary password (shown once): ${result.temporaryPassword}` : ""),
      });
    } catch (error) {
      const field = (error as { data?: { field?: unknown } } | null)?.data?.field;
      if (field === "projects" || field === "email") setFieldErrors({ [field]: error instanceof Error ? error.message : "Check this field." });
      else report(error);
    }
  }

  return (
    <>
      <h1>Users</h1>
      <section className="panel">
        <h2 style={{ marginTop: 0 }}>Invite a user</h2>
        <form className="form-row" onSubmit={onCreate} noValidate aria-label="Invite a user">
          <label>
            E-mail
            <input name="email" type="email" required />
            {fieldErrors.email && <span className="error">{fieldErrors.email}</span>}
          </label>
          <label>
            Name
            <input name="name" required maxLength={TEXT_LIMITS.personName} />
            {fieldErrors.name && <span className="error">{fieldErrors.name}</span>}
          </label>
          <label>
            Role
            <select
              name="role"
              value={platformRole}
              onChange={(e) => {
                const role = e.target.value as RoleName;
                setPlatformRole(role);
                // Keep the chosen projects, with roles the new platform role allows.
                setJoins((current) => Object.fromEntries(Object.entries(current).map(([id, r]) => [id, r === "ADMIN" && role !== "ADMIN" ? defaultProjectRole(role) : r])));
              }}
            >
              {ROLES.map((role) => (
                <option key={role} value={role}>{ROLE_LABELS[role]}</option>
              ))}
            </select>
          </label>
          <label>
            Initial password (optional)
            <input name="initialPassword" type="password" autoComplete="new-password" placeholder="generated if empty" />
            {fieldErrors.initialPassword && <span className="error">{fieldErrors.initialPassword}</span>}
          </label>
          <button type="submit" disabled={create.isPending}>Invite</button>
          <fieldset style={{ flexBasis: "100%", border: 0, padding: 0, margin: 0 }} aria-label="Add to projects">
            <legend className="muted" style={{ fontSize: 14 }}>Add to projects (optional)</legend>
            {manageable?.length === 0 && (
              <p className="muted">
                You manage the members of no (active) project, so you cannot add the user to one here. Join a project as Admin on the Projects page first.
              </p>
            )}
            <div className="form-row" style={{ alignItems: "center" }}>
              {manageable?.map((project) => {
                const chosen = joins[project.id];
                return (
                  <span key={project.id} style={{ display: "inline-flex", gap: 6, alignItems: "center" }}>
                    <input
                      type="checkbox"
                      id={`join-${project.id}`}
                      checked={chosen !== undefined}
                      onChange={(e) =>
                        setJoins((current) => {
                          const next = { ...current };
                          if (e.target.checked) next[project.id] = defaultProjectRole(platformRole);
                          else delete next[project.id];
                          return next;
                        })
                      }
                    />
                    <label htmlFor={`join-${project.id}`} style={{ flexDirection: "row", color: "var(--ink)" }}>{project.name}</label>
                    {chosen !== undefined && (
                      <select aria-label={`Role in ${project.name}`} value={chosen} onChange={(e) => setJoins((current) => ({ ...current, [project.id]: e.target.value as RoleName }))}>
                        {(platformRole === "ADMIN" ? [...MEMBER_ROLES, "ADMIN" as const] : MEMBER_ROLES).map((role) => (
                          <option key={role} value={role}>{ROLE_LABELS[role]}</option>
                        ))}
                      </select>
                    )}
                  </span>
                );
              })}
            </div>
            {fieldErrors.projects && <span className="error">{fieldErrors.projects}</span>}
          </fieldset>
        </form>
      </section>
      {/* One message for the invite and the row actions, between the two: under the form, above the table. */}
      {message && <p className={message.kind} role={message.kind === "error" ? "alert" : "status"} data-testid="users-message">{message.text}</p>}

      <section className="panel">
        {users.isPending && <p className="muted">Loading…</p>}
        {users.error && <p className="error">{users.error.message}</p>}
        {users.data && (
          <table>
            <thead>
              <tr><th>Name</th><th>E-mail</th><th>Role</th><th>Status</th><th>Actions</th></tr>
            </thead>
            <tbody>
              {users.data.map((user) => (
                <tr key={user.id} data-testid={`user-row-${user.email}`}>
                  <td>{user.name}</td>
                  <td>{user.email}</td>
                  <td>
                    <select
                      aria-label={`Role of ${user.email}`}
                      value={user.role}
                      disabled={setRole.isPending}
                      onChange={(e) => {
                        const next = e.target.value as RoleName;
                        // A platform role change ends the user's sessions at once (server/services/user-service.ts setUserRole): ask first.
                        if (!window.confirm(`Change ${user.name}'s platform role from ${ROLE_LABELS[user.role]} to ${ROLE_LABELS[next]}? This signs ${user.name} out at once; they sign in again with the new role.`)) return;
                        setMessage(null);
                        setRole
                          .mutateAsync({ userId: user.id, role: next })
                          .then(() => setMessage({ kind: "notice", text: `${user.name} is now ${ROLE_LABELS[next]}; they were signed out and sign in again with the new role.` }), report);
                      }}
                    >
                      {ROLES.map((role) => (
                        <option key={role} value={role}>{ROLE_LABELS[role]}</option>
                      ))}
                    </select>
                  </td>
                  <td>{user.active ? <span className="badge">active</span> : <span className="badge inactive">deactivated</span>}</td>
                  <td style={{ display: "flex", gap: 8 }}>
                    <button
                      className={user.active ? "danger" : "secondary"}
                      disabled={setActive.isPending}
                      onClick={() => {
                        // Deactivation signs the user out at once and frees the cases they hold: ask first, as removing a project member does.
                        if (user.active && !window.confirm(`Deactivate ${user.name} (${user.email})? This signs ${user.name} out at once and they can no longer sign in; the cases they hold are freed. Their annotations stay.`)) return;
                        setMessage(null);
                        setActive
                          .mutateAsync({ userId: user.id, active: !user.active })
                          .then(
                            () => setMessage({ kind: "notice", text: user.active ? `${user.name} is deactivated and was signed out.` : `${user.name} is active again and can sign in.` }),
                            report,
                          );
                      }}
                    >
                      {user.active ? "Deactivate" : "Reactivate"}
                    </button>
                    <button
                      className="secondary"
                      onClick={() => {
                        if (!window.confirm(`Reset ${user.name}'s password (${user.email})? This ends ${user.name}'s sessions at once and shows a new temporary password once.`)) return;
                        resetPassword
                          .mutateAsync({ userId: user.id })
                          .then((r) => setMessage({ kind: "notice", text: `New temporary password for ${user.email} (shown once): ${r.temporaryPassword}. They must choose their own at their next sign-in; until then it opens nothing else.` }))
                          .catch(report);
                      }}
                    >
                      Reset password
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
