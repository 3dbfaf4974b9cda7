/**
 * Limited-memory BFGS (Nocedal & Wright, "Numerical Optimization", 2nd ed., Alg. 7.4/7.5) with a
 * backtracking Armijo line search, for smooth convex objectives such as L2-regularised logistic
 * regression. Float64 throughout; deterministic.
 */

export interface LbfgsOptions {
  /** Stored curvature pairs m (default 10). */
  memory?: number;
  /** Stop when max |gradient| ≤ gradientTolerance (default 1e-5). */
  gradientTolerance?: number;
  /** Stop when the relative decrease of f in one step is below this (default 1e-12). */
  relativeTolerance?: number;
  /** Iteration cap (default 1000). */
  maxIterations?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  /** max |gradient| at the returned point. */
  gradientNorm: number;
  converged: boolean;
}

/**
 * Minimises f from x0. `fg(x, grad)` returns f(x) and writes ∇f(x) into `grad`.
 * Curvature pairs with sᵀy ≤ 0 (impossible for strictly convex f) are skipped.
 */
export function minimizeLbfgs(fg: (x: Float64Array, grad: Float64Array) => number, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const m = opts.memory ?? 10;
  const gtol = opts.gradientTolerance ?? 1e-5;
  const rtol = opts.relativeTolerance ?? 1e-12;
  const maxIt = opts.maxIterations ?? 1000;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = fg(x, g);
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(n);
  const alpha = new Float64Array(m);
  const xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  let it = 0;
  let converged = maxAbs(g) <= gtol;
  while (!converged && it < maxIt) {
    it++;
    // Two-loop recursion: d = −H g.
    for (let i = 0; i < n; i++) d[i] = -g[i]!;
    for (let j = sList.length - 1; j >= 0; j--) {
      alpha[j] = rho[j]! * dot(sList[j]!, d);
      axpy(-alpha[j]!, yList[j]!, d);
    }
    if (sList.length > 0) {
      const yl = yList[yList.length - 1]!;
      const gamma = dot(sList[sList.length - 1]!, yl) / dot(yl, yl);
      for (let i = 0; i < n; i++) d[i] = d[i]! * gamma;
    } else {
      const gn = Math.sqrt(dot(g, g));
      for (let i = 0; i < n; i++) d[i] = d[i]! / Math.max(gn, 1);
    }
    for (let j = 0; j < sList.length; j++) {
      const beta = rho[j]! * dot(yList[j]!, d);
      axpy(alpha[j]! - beta, sList[j]!, d);
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      sList.length = 0;
      yList.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = dot(g, d);
    }
    let step = 1;
    let fNew = Infinity;
    for (let ls = 0; ls < 60; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i]! + step * d[i]!;
      fNew = fg(xNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew <= f)) break; // no progress possible at float precision
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-300) {
      if (sList.length === m) {
        sList.shift();
        yList.shift();
        rho.shift();
      }
      sList.push(s);
      yList.push(y);
      rho.push(1 / sy);
    }
    const decrease = f - fNew;
    x = Float64Array.from(xNew);
    const t = g;
    g = gNew;
    gNew = t;
    f = fNew;
    if (maxAbs(g) <= gtol) converged = true;
    else if (decrease <= rtol * Math.max(Math.abs(f), 1)) converged = true;
  }
  return { x, f, iterations: it, gradientNorm: maxAbs(g), converged };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] = y[i]! + a * x[i]!;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
