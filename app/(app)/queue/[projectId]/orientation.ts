/**
 * Orientation markers of a 2-D image (the letters PACS viewers print at the edges), from Image
 * Orientation (Patient) (0020,0037): the row direction cosines (towards increasing column, i.e. the
 * right edge) then the column direction cosines (towards increasing row, the bottom edge), in the
 * DICOM patient system LPS (+x Left, +y Posterior, +z Superior/Head). Letters: R/L, A/P, H/F.
 */

/** "L", "R", "PH", …: the patient directions a unit vector points to, strongest first (components under 0.25 left out). */
export function directionLetters(v: readonly [number, number, number]): string {
  const letters: [number, string][] = [
    [Math.abs(v[0]), v[0] > 0 ? "L" : "R"],
    [Math.abs(v[1]), v[1] > 0 ? "P" : "A"],
    [Math.abs(v[2]), v[2] > 0 ? "H" : "F"],
  ];
  return letters
    .filter(([size]) => size >= 0.25)
    .sort((a, b) => b[0] - a[0])
    .slice(0, 2)
    .map(([, letter]) => letter)
    .join("");
}

/**
 * The four edge markers, or null when `orientation` is not six finite numbers forming two
 * non-zero vectors (a file without the attribute: no markers rather than wrong ones).
 */
export function orientationMarkers(orientation: unknown): { top: string; bottom: string; left: string; right: string } | null {
  const values = typeof orientation === "string" ? orientation.split("\\").map(Number) : Array.isArray(orientation) ? orientation.map(Number) : [];
  if (values.length !== 6 || values.some((n) => !Number.isFinite(n))) return null;
  const row: [number, number, number] = [values[0]!, values[1]!, values[2]!];
  const column: [number, number, number] = [values[3]!, values[4]!, values[5]!];
  if (Math.hypot(...row) < 0.5 || Math.hypot(...column) < 0.5) return null;
  const negate = (v: [number, number, number]): [number, number, number] => [-v[0], -v[1], -v[2]];
  return { right: directionLetters(row), left: directionLetters(negate(row)), bottom: directionLetters(column), top: directionLetters(negate(column)) };
}
