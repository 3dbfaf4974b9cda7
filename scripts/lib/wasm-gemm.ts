/**
 * Source of truth for workers/ml's WebAssembly SIMD kernels: a tiny binary encoder (just the sections and
 * instructions used here) plus the kernels, written as TypeScript that emits instructions. Generating the
 * code (rather than writing .wat by hand) lets the register-blocked tiles and their remainder variants be
 * produced from one description each. `npm run build:wasm` (scripts/build-wasm.ts) writes the bytes into
 * workers/ml/wasm/gemm-wasm-bytes.ts; a unit test checks that the checked-in bytes equal a fresh build.
 *
 * Exported functions (all pointers and strides in bytes into the module's own exported memory "mem"):
 *   gemm_nt(m, n, k, pa, pb, po)   out[m,n] = A[m,k]·B[n,k]ᵀ       (dot-product form, f32x4 over k)
 *   gemm_tn(m, n, k, pa, pb, po)   out[m,n] = A[k,m]ᵀ·B[k,n]       (broadcast form, f32x4 over n)
 *   gemm_nn(m, n, k, pa, pb, po)   out[m,n] = A[m,k]·B[k,n]         (broadcast form, f32x4 over n)
 *   adam(pw, pg, pm, pv, len, stepScale, invBc2, decay)  one AdamW step, f32x4 over the parameters
 *   transpose(src, rows, cols, dst)  dst[cols,rows] = src[rows,cols]ᵀ
 * Summation order is fixed by (m, n, k) alone, so results are deterministic run to run.
 */

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
type ValType = typeof I32 | typeof F32 | typeof V128;

function uleb(value: number, out: number[]): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

function sleb(value: number, out: number[]): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function name(s: string, out: number[]): void {
  const bytes = new TextEncoder().encode(s);
  uleb(bytes.length, out);
  out.push(...bytes);
}

/** A local variable or parameter index. */
type Local = { index: number; type: ValType };

/** One function body under construction; methods append instructions. */
class Func {
  readonly code: number[] = [];
  readonly params: Local[];
  private readonly extra: ValType[] = [];

  constructor(
    readonly exportName: string,
    paramTypes: ValType[],
  ) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  local(type: ValType): Local {
    this.extra.push(type);
    return { index: this.params.length + this.extra.length - 1, type };
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  private simd(opcode: number): this {
    this.code.push(0xfd);
    uleb(opcode, this.code);
    return this;
  }
  private memarg(align: number, offset: number): this {
    uleb(align, this.code);
    uleb(offset, this.code);
    return this;
  }

  get(l: Local): this {
    this.op(0x20);
    uleb(l.index, this.code);
    return this;
  }
  set(l: Local): this {
    this.op(0x21);
    uleb(l.index, this.code);
    return this;
  }
  i32(v: number): this {
    this.op(0x41);
    sleb(v, this.code);
    return this;
  }
  f32(v: number): this {
    this.op(0x43);
    const b = new Uint8Array(Float32Array.of(v).buffer);
    this.code.push(...b);
    return this;
  }
  add(): this { return this.op(0x6a); }
  sub(): this { return this.op(0x6b); }
  mul(): this { return this.op(0x6c); }
  and(): this { return this.op(0x71); }
  shl(): this { return this.op(0x74); }
  ltS(): this { return this.op(0x48); }
  leS(): this { return this.op(0x4c); }
  eqz(): this { return this.op(0x45); }
  fAdd(): this { return this.op(0x92); }
  fMul(): this { return this.op(0x94); }
  fSub(): this { return this.op(0x93); }
  fDiv(): this { return this.op(0x95); }
  fSqrt(): this { return this.op(0x91); }
  fLoad(offset = 0): this { return this.op(0x2a).memarg(2, offset); }
  fStore(offset = 0): this { return this.op(0x38).memarg(2, offset); }
  /** Alignment hint 4 bytes: callers' arrays are only guaranteed Float32-aligned. */
  vLoad(offset = 0): this { return this.simd(0x00).memarg(2, offset); }
  vLoadSplat(offset = 0): this { return this.simd(0x09).memarg(2, offset); }
  vStore(offset = 0): this { return this.simd(0x0b).memarg(2, offset); }
  vZero(): this {
    this.simd(0x0c);
    for (let i = 0; i < 16; i++) this.code.push(0);
    return this;
  }
  vSplat(): this { return this.simd(0x13); }
  vLane(lane: number): this { return this.simd(0x1f).op(lane); }
  vAdd(): this { return this.simd(0xe4); }
  vSub(): this { return this.simd(0xe5); }
  vMul(): this { return this.simd(0xe6); }
  vDiv(): this { return this.simd(0xe7); }
  vSqrt(): this { return this.simd(0xe3); }

  /** while (cond) { body } — cond leaves an i32 on the stack. */
  whileLoop(cond: () => void, body: () => void): this {
    this.op(0x02, 0x40, 0x03, 0x40);
    cond();
    this.eqz().op(0x0d, 1); // br_if 1: leave the block when the condition is false
    body();
    this.op(0x0c, 0, 0x0b, 0x0b); // br 0 (loop again); end loop; end block
    return this;
  }

  /** l = l + delta (i32). */
  bump(l: Local, delta: number | Local): this {
    this.get(l);
    if (typeof delta === "number") this.i32(delta);
    else this.get(delta);
    return this.add().set(l);
  }

  encodeBody(): number[] {
    const body: number[] = [];
    // Locals in runs of equal type.
    const runs: [number, ValType][] = [];
    for (const t of this.extra) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    uleb(runs.length, body);
    for (const [count, t] of runs) {
      uleb(count, body);
      body.push(t);
    }
    body.push(...this.code, 0x0b);
    const out: number[] = [];
    uleb(body.length, out);
    out.push(...body);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------
// gemm_nt: out[i,j] = Σ_t A[i,t]·B[j,t]. Tiles of MR rows of A × NR rows of B, each pair accumulated in an
// f32x4 over t (4 consecutive k at a time), lanes summed ((l0+l1)+(l2+l3)) at the end, then the k % 4 tail in
// scalar f32. MR × NR = 4 × 2 keeps 8 accumulators + 4 A vectors + 1 B vector inside x64's 16 xmm registers.
// ---------------------------------------------------------------------------------------------------------
const NT_MR = 4;
const NT_NR = 2;
const NT_UNROLL = 2;

function buildGemmNT(): Func {
  const f = new Func("gemm_nt", [I32, I32, I32, I32, I32, I32]);
  const [m, n, k, pa, pb, po] = f.params as [Local, Local, Local, Local, Local, Local];
  const i = f.local(I32);
  const j = f.local(I32);
  const kb = f.local(I32); // row stride in bytes (k·4)
  const k4b = f.local(I32); // bytes covered by whole vectors ((k & ~3)·4)
  const off = f.local(I32);
  const aRow = Array.from({ length: NT_MR }, () => f.local(I32));
  const bRow = Array.from({ length: NT_NR }, () => f.local(I32));
  const acc = Array.from({ length: NT_MR }, () => Array.from({ length: NT_NR }, () => f.local(V128)));
  const va = Array.from({ length: NT_MR }, () => f.local(V128));
  const vb = f.local(V128);
  const s = Array.from({ length: NT_MR }, () => Array.from({ length: NT_NR }, () => f.local(F32)));
  const oRow = f.local(I32);

  f.get(k).i32(2).shl().set(kb); // k << 2
  f.get(k).i32(-4).and().i32(2).shl().set(k4b);

  // One mr × nr tile at (i, j); mr ≤ NT_MR, nr ≤ NT_NR.
  const tile = (mr: number, nr: number): void => {
    for (let r = 0; r < mr; r++) {
      f.get(pa).get(i).i32(r).add().get(kb).mul().add().set(aRow[r]!);
      for (let c = 0; c < nr; c++) f.vZero().set(acc[r]![c]!);
    }
    for (let c = 0; c < nr; c++) f.get(pb).get(j).i32(c).add().get(kb).mul().add().set(bRow[c]!);
    f.i32(0).set(off);
    // Vectors at byte offset off + 16·u; unrolled by NT_UNROLL (immediate offsets), then one at a time.
    const step = (u: number): void => {
      for (let r = 0; r < mr; r++) f.get(aRow[r]!).get(off).add().vLoad(16 * u).set(va[r]!);
      for (let c = 0; c < nr; c++) {
        f.get(bRow[c]!).get(off).add().vLoad(16 * u).set(vb);
        for (let r = 0; r < mr; r++) f.get(acc[r]![c]!).get(va[r]!).get(vb).vMul().vAdd().set(acc[r]![c]!);
      }
    };
    f.whileLoop(
      () => f.get(off).i32(16 * NT_UNROLL).add().get(k4b).leS(),
      () => {
        for (let u = 0; u < NT_UNROLL; u++) step(u);
        f.bump(off, 16 * NT_UNROLL);
      },
    );
    f.whileLoop(
      () => f.get(off).get(k4b).ltS(),
      () => {
        step(0);
        f.bump(off, 16);
      },
    );
    for (let r = 0; r < mr; r++) {
      for (let c = 0; c < nr; c++) {
        const a = acc[r]![c]!;
        f.get(a).vLane(0).get(a).vLane(1).fAdd().get(a).vLane(2).get(a).vLane(3).fAdd().fAdd().set(s[r]![c]!);
      }
    }
    // k % 4 tail, scalar (off == k4b here).
    f.whileLoop(
      () => f.get(off).get(kb).ltS(),
      () => {
        for (let r = 0; r < mr; r++) {
          for (let c = 0; c < nr; c++) {
            f.get(s[r]![c]!).get(aRow[r]!).get(off).add().fLoad().get(bRow[c]!).get(off).add().fLoad().fMul().fAdd().set(s[r]![c]!);
          }
        }
        f.bump(off, 4);
      },
    );
    for (let r = 0; r < mr; r++) {
      // oRow = po + ((i + r)·n + j)·4
      f.get(po).get(i).i32(r).add().get(n).mul().get(j).add().i32(2).shl().add().set(oRow);
      for (let c = 0; c < nr; c++) f.get(oRow).get(s[r]![c]!).fStore(4 * c);
    }
  };

  const rowsOf = (mr: number): void => {
    f.i32(0).set(j);
    f.whileLoop(
      () => f.get(j).i32(NT_NR).add().get(n).leS(),
      () => {
        tile(mr, NT_NR);
        f.bump(j, NT_NR);
      },
    );
    f.whileLoop(
      () => f.get(j).get(n).ltS(),
      () => {
        tile(mr, 1);
        f.bump(j, 1);
      },
    );
  };

  f.i32(0).set(i);
  f.whileLoop(
    () => f.get(i).i32(NT_MR).add().get(m).leS(),
    () => {
      rowsOf(NT_MR);
      f.bump(i, NT_MR);
    },
  );
  f.whileLoop(
    () => f.get(i).get(m).ltS(),
    () => {
      rowsOf(1);
      f.bump(i, 1);
    },
  );
  return f;
}

// ---------------------------------------------------------------------------------------------------------
// gemm_tn / gemm_nn: out[i,j] = Σ_t A(i,t)·B[t,j] with B [k,n] row-major. Tiles of MR output rows × NV f32x4
// column vectors: per t, NV vectors of B's row t are loaded once and each of the MR values A(i+r,t) is
// splatted and multiplied in. A(i,t) = A[t,i] (tn: A is [k,m], the MR values are adjacent) or A[i,t] (nn: A is
// [m,k], one pointer per row). Every output is a sum over t = 0..k−1 in order. Columns past the last whole
// vector (n % 4) use the scalar variant of the same tile.
// ---------------------------------------------------------------------------------------------------------
const BN_MR = 2;
const BN_NV = 4;

function buildGemmBroadcast(exportName: string, aTransposed: boolean): Func {
  const f = new Func(exportName, [I32, I32, I32, I32, I32, I32]);
  const [m, n, k, pa, pb, po] = f.params as [Local, Local, Local, Local, Local, Local];
  const i = f.local(I32);
  const j = f.local(I32);
  const t = f.local(I32);
  const nb = f.local(I32); // B row stride in bytes
  const aStepT = f.local(I32); // bytes between A(i,t) and A(i,t+1)
  const aStepI = f.local(I32); // bytes between A(i,t) and A(i+1,t)
  const aP = Array.from({ length: BN_MR }, () => f.local(I32));
  const bP = f.local(I32);
  const acc = Array.from({ length: BN_MR }, () => Array.from({ length: BN_NV }, () => f.local(V128)));
  const vb = Array.from({ length: BN_NV }, () => f.local(V128));
  const sa = Array.from({ length: BN_MR }, () => f.local(V128));
  const sacc = Array.from({ length: BN_MR }, () => f.local(F32));
  const sb = f.local(F32);
  const oRow = f.local(I32);

  f.get(n).i32(2).shl().set(nb);
  if (aTransposed) {
    f.get(m).i32(2).shl().set(aStepT);
    f.i32(4).set(aStepI);
  } else {
    f.i32(4).set(aStepT);
    f.get(k).i32(2).shl().set(aStepI);
  }

  const startTile = (mr: number): void => {
    for (let r = 0; r < (aTransposed ? 1 : mr); r++) f.get(pa).get(i).i32(r).add().get(aStepI).mul().add().set(aP[r]!);
    f.get(pb).get(j).i32(2).shl().add().set(bP);
    f.i32(0).set(t);
  };
  const outRow = (r: number): void => {
    f.get(po).get(i).i32(r).add().get(n).mul().get(j).add().i32(2).shl().add().set(oRow);
  };

  const vectorTile = (mr: number, nv: number): void => {
    startTile(mr);
    for (let r = 0; r < mr; r++) for (let v = 0; v < nv; v++) f.vZero().set(acc[r]![v]!);
    f.whileLoop(
      () => f.get(t).get(k).ltS(),
      () => {
        // MR splatted A values stay in registers while each B vector is loaded once and used MR times.
        for (let r = 0; r < mr; r++) {
          // tn: A(i+r, t) are adjacent, so one pointer with immediate offsets serves every row.
          if (aTransposed) f.get(aP[0]!).vLoadSplat(4 * r).set(sa[r]!);
          else f.get(aP[r]!).vLoadSplat().set(sa[r]!);
          if (!aTransposed) f.bump(aP[r]!, aStepT);
        }
        for (let v = 0; v < nv; v++) {
          f.get(bP).vLoad(16 * v).set(vb[0]!);
          for (let r = 0; r < mr; r++) f.get(acc[r]![v]!).get(sa[r]!).get(vb[0]!).vMul().vAdd().set(acc[r]![v]!);
        }
        if (aTransposed) f.bump(aP[0]!, aStepT);
        f.bump(bP, nb).bump(t, 1);
      },
    );
    for (let r = 0; r < mr; r++) {
      outRow(r);
      for (let v = 0; v < nv; v++) f.get(oRow).get(acc[r]![v]!).vStore(16 * v);
    }
  };

  const scalarTile = (mr: number): void => {
    startTile(mr);
    for (let r = 0; r < mr; r++) f.f32(0).set(sacc[r]!);
    f.whileLoop(
      () => f.get(t).get(k).ltS(),
      () => {
        f.get(bP).fLoad().set(sb);
        for (let r = 0; r < mr; r++) {
          if (aTransposed) f.get(sacc[r]!).get(aP[0]!).fLoad(4 * r).get(sb).fMul().fAdd().set(sacc[r]!);
          else f.get(sacc[r]!).get(aP[r]!).fLoad().get(sb).fMul().fAdd().set(sacc[r]!);
          if (!aTransposed) f.bump(aP[r]!, aStepT);
        }
        if (aTransposed) f.bump(aP[0]!, aStepT);
        f.bump(bP, nb).bump(t, 1);
      },
    );
    for (let r = 0; r < mr; r++) {
      outRow(r);
      f.get(oRow).get(sacc[r]!).fStore();
    }
  };

  const rowsOf = (mr: number): void => {
    f.i32(0).set(j);
    f.whileLoop(
      () => f.get(j).i32(4 * BN_NV).add().get(n).leS(),
      () => {
        vectorTile(mr, BN_NV);
        f.bump(j, 4 * BN_NV);
      },
    );
    f.whileLoop(
      () => f.get(j).i32(4).add().get(n).leS(),
      () => {
        vectorTile(mr, 1);
        f.bump(j, 4);
      },
    );
    f.whileLoop(
      () => f.get(j).get(n).ltS(),
      () => {
        scalarTile(mr);
        f.bump(j, 1);
      },
    );
  };

  f.i32(0).set(i);
  f.whileLoop(
    () => f.get(i).i32(BN_MR).add().get(m).leS(),
    () => {
      rowsOf(BN_MR);
      f.bump(i, BN_MR);
    },
  );
  f.whileLoop(
    () => f.get(i).get(m).ltS(),
    () => {
      rowsOf(1);
      f.bump(i, 1);
    },
  );
  return f;
}

// ---------------------------------------------------------------------------------------------------------
// adam: for each parameter, m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
// w ← w − stepScale·m / (√(v·invBc2) + ε) − decay·w, in f32 (f32x4 body, scalar tail).
// ---------------------------------------------------------------------------------------------------------
export const ADAM_CONSTANTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

function buildAdam(): Func {
  const f = new Func("adam", [I32, I32, I32, I32, I32, F32, F32, F32]);
  const [pw, pg, pm, pv, len, stepScale, invBc2, decay] = f.params as Local[] as [Local, Local, Local, Local, Local, Local, Local, Local];
  const off = f.local(I32);
  const end = f.local(I32);
  const end4 = f.local(I32);
  const g = f.local(V128);
  const mi = f.local(V128);
  const vi = f.local(V128);
  const w = f.local(V128);
  const cB1 = f.local(V128);
  const cB1c = f.local(V128);
  const cB2 = f.local(V128);
  const cB2c = f.local(V128);
  const cEps = f.local(V128);
  const cStep = f.local(V128);
  const cInv = f.local(V128);
  const cDecay = f.local(V128);
  const sg = f.local(F32);
  const sm = f.local(F32);
  const sv = f.local(F32);
  const sw = f.local(F32);
  const { beta1, beta2, eps } = ADAM_CONSTANTS;

  f.get(len).i32(2).shl().set(end);
  f.get(len).i32(-4).and().i32(2).shl().set(end4);
  f.f32(beta1).vSplat().set(cB1);
  f.f32(1 - beta1).vSplat().set(cB1c);
  f.f32(beta2).vSplat().set(cB2);
  f.f32(1 - beta2).vSplat().set(cB2c);
  f.f32(eps).vSplat().set(cEps);
  f.get(stepScale).vSplat().set(cStep);
  f.get(invBc2).vSplat().set(cInv);
  f.get(decay).vSplat().set(cDecay);
  f.i32(0).set(off);
  f.whileLoop(
    () => f.get(off).get(end4).ltS(),
    () => {
      f.get(pg).get(off).add().vLoad().set(g);
      f.get(cB1).get(pm).get(off).add().vLoad().vMul().get(cB1c).get(g).vMul().vAdd().set(mi);
      f.get(cB2).get(pv).get(off).add().vLoad().vMul().get(cB2c).get(g).vMul().get(g).vMul().vAdd().set(vi);
      f.get(pm).get(off).add().get(mi).vStore();
      f.get(pv).get(off).add().get(vi).vStore();
      f.get(pw).get(off).add().vLoad().set(w);
      f.get(pw).get(off).add();
      f.get(w).get(cStep).get(mi).vMul().get(vi).get(cInv).vMul().vSqrt().get(cEps).vAdd().vDiv().vSub();
      f.get(cDecay).get(w).vMul().vSub().vStore();
      f.bump(off, 16);
    },
  );
  f.whileLoop(
    () => f.get(off).get(end).ltS(),
    () => {
      f.get(pg).get(off).add().fLoad().set(sg);
      f.f32(beta1).get(pm).get(off).add().fLoad().fMul().f32(1 - beta1).get(sg).fMul().fAdd().set(sm);
      f.f32(beta2).get(pv).get(off).add().fLoad().fMul().f32(1 - beta2).get(sg).fMul().get(sg).fMul().fAdd().set(sv);
      f.get(pm).get(off).add().get(sm).fStore();
      f.get(pv).get(off).add().get(sv).fStore();
      f.get(pw).get(off).add().fLoad().set(sw);
      f.get(pw).get(off).add();
      f.get(sw).get(stepScale).get(sm).fMul().get(sv).get(invBc2).fMul().fSqrt().f32(eps).fAdd().fDiv().fSub();
      f.get(decay).get(sw).fMul().fSub().fStore();
      f.bump(off, 4);
    },
  );
  return f;
}

// transpose(src, rows, cols, dst): dst[cols, rows] = src[rows, cols]ᵀ (scalar; used to turn A·Bᵀ into the
// faster broadcast form A·(Bᵀ) when the product is large enough to pay for it).
function buildTranspose(): Func {
  const f = new Func("transpose", [I32, I32, I32, I32]);
  const [src, rows, cols, dst] = f.params as [Local, Local, Local, Local];
  const i = f.local(I32);
  const j = f.local(I32);
  const sp = f.local(I32);
  const dp = f.local(I32);
  const rb = f.local(I32);
  f.get(rows).i32(2).shl().set(rb);
  f.get(src).set(sp);
  f.i32(0).set(i);
  f.whileLoop(
    () => f.get(i).get(rows).ltS(),
    () => {
      f.get(dst).get(i).i32(2).shl().add().set(dp);
      f.i32(0).set(j);
      f.whileLoop(
        () => f.get(j).get(cols).ltS(),
        () => {
          f.get(dp).get(sp).fLoad().fStore();
          f.bump(sp, 4).bump(dp, rb).bump(j, 1);
        },
      );
      f.bump(i, 1);
    },
  );
  return f;
}

function section(id: number, content: number[], out: number[]): void {
  out.push(id);
  uleb(content.length, out);
  out.push(...content);
}

/** The whole module: one memory (1 page, grown by the host), exported as "mem", and the kernels. */
export function buildGemmWasm(): Uint8Array<ArrayBuffer> {
  const funcs = [buildGemmNT(), buildGemmBroadcast("gemm_tn", true), buildGemmBroadcast("gemm_nn", false), buildAdam(), buildTranspose()];
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

  // Types: one per function (duplicates are legal and keep the indices trivial).
  const types: number[] = [];
  uleb(funcs.length, types);
  for (const fn of funcs) {
    types.push(0x60);
    uleb(fn.params.length, types);
    for (const p of fn.params) types.push(p.type);
    types.push(0); // no results
  }
  section(1, types, out);

  const fsec: number[] = [];
  uleb(funcs.length, fsec);
  funcs.forEach((_, idx) => uleb(idx, fsec));
  section(3, fsec, out);

  const mem: number[] = [1, 0x00, 1]; // one memory, limits {min 1 page}, no maximum
  section(5, mem, out);

  const exps: number[] = [];
  uleb(funcs.length + 1, exps);
  name("mem", exps);
  exps.push(0x02, 0);
  funcs.forEach((fn, idx) => {
    name(fn.exportName, exps);
    exps.push(0x00);
    uleb(idx, exps);
  });
  section(7, exps, out);

  const code: number[] = [];
  uleb(funcs.length, code);
  for (const fn of funcs) code.push(...fn.encodeBody());
  section(10, code, out);
  return Uint8Array.from(out);
}

/** Base64 of `bytes` without Buffer (the same encoding `atob` reverses). */
function base64(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let s = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i]!;
    const b1 = i + 1 < bytes.length ? bytes[i + 1]! : 0;
    const b2 = i + 2 < bytes.length ? bytes[i + 2]! : 0;
    const triple = (b0 << 16) | (b1 << 8) | b2;
    s += alphabet[(triple >> 18) & 63]! + alphabet[(triple >> 12) & 63]!;
    s += i + 1 < bytes.length ? alphabet[(triple >> 6) & 63]! : "=";
    s += i + 2 < bytes.length ? alphabet[triple & 63]! : "=";
  }
  return s;
}

/** The TypeScript module that embeds the bytes (workers/ml must not read files). */
export function renderBytesModule(bytes: Uint8Array): string {
  const b64 = base64(bytes);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 100) lines.push(`  "${b64.slice(i, i + 100)}"`);
  return [
    "// Generated by `npm run build:wasm` (scripts/build-wasm.ts from scripts/lib/wasm-gemm.ts). Do not edit.",
    `/** WebAssembly SIMD kernels for workers/ml (${bytes.length} bytes, base64). */`,
    "export const GEMM_WASM_BASE64 =",
    lines.join(" +\n") + ";",
    "",
  ].join("\n");
}
