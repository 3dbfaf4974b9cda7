/**
 * What the unknown-labels offer proposes before the data scientist changes anything (pure, shared
 * by the offer and its unit test).
 */

/** Names that say "everything else" (key or display name, ignoring case, spaces, '_' and '-'). */
const REST_NAMES = new Set(["rest", "other", "others", "everythingelse", "none", "negative", "nonminority"]);

/**
 * The schema's "rest" class: the only class that is not a minority class, else the non-minority
 * class named like rest/other ("Other", "rest", "non-minority", …); null when there is none or it
 * is ambiguous. A file's labels that are not in the schema usually belong there: most of a
 * specialty column is not the minority the project hunts for.
 */
export function restClassOf<T extends { key: string; name: string }>(labels: readonly T[], minorityClasses: readonly string[]): T | null {
  const minority = new Set(minorityClasses);
  const rest = labels.filter((l) => !minority.has(l.key));
  if (rest.length === 1) return rest[0]!;
  const named = rest.filter((l) => [l.key, l.name].some((n) => REST_NAMES.has(n.toLowerCase().replace(/[\s_-]+/g, ""))));
  return named.length === 1 ? named[0]! : null;
}
