/**
 * WebAssembly kernel generation: the third target of `runtime/codegen` (beside `js.ts` and
 * `wgsl.ts`). It emits the *binary* of a module (WebAssembly's "kernel text") from a small
 * hand-written encoder rather than through binaryen: the kernels need ~40 opcodes, structured
 * loops and SIMD128 (f32x4), which fit in the few helpers of `./wasmEncode.ts` (~100 lines),
 * whereas binaryen is a 10+ MB dependency with its own wasm/asm.js start-up cost and a second IR
 * to learn. The module
 * imports its memory (`env.mem`), so a backend (`backend/wasm.ts`) owns allocation and copies and
 * knows no ops; a shared memory (`shared: true`) lets worker threads run the same kernels.
 *
 * Kernels:
 * - `sgd(pTab, count, pH)`: one SGD step over a list of parameters in place (see {@link sgdWasm}).
 * - `gemm(pA, sam, sak, pB, sbk, sbn, pC, ldc, M, K, N, pAp, pBp, pT)`: `C = A · B` (f32) with A
 *   and B read through element strides (A[i, k] at pA + 4·(i·sam + k·sak)), so transposed views
 *   need no contiguous copy — the packing step reads them as they lie. C is row-major with row
 *   stride `ldc`. Structure (GotoBLAS/BLIS): for each K block of KC, pack B into NR-wide panels
 *   (pBp, KC·⌈N/NR⌉·NR floats); for each M block of MC, pack A into MR-high panels (pAp, MC·KC
 *   floats); then the MR×NR register-blocked f32x4 micro-kernel over every panel pair. Edge tiles
 *   go through a scratch tile at pT (MR·NR floats). All pointers are byte addresses.
 * - `packB(pB, sbk, sbn, K, N, pBp, j0, cols)` and `gemmPacked(pA, sam, sak, pBp, pC, ldc, M, K, N,
 *   pAp, pT)`: the same product in two steps, for two threads — all of B packed once (column
 *   ranges of it in parallel), then ranges of C's rows against that packing.
 * - the convolution and pooling kernels: `./wasmConv.ts`.
 */

import { I32, V128, add, and, call, div_s, eq, f32add, f32load, f32store, fadd4, fmadd4, fmul4, fneg4, forLoop, get, i32, ifElse, lt_s, min, moduleBytes, mul, seq, set, shl, shuf, store64Lane, sub, uleb, vload, vsplat, vstore, vzero, type Bytes, type Func } from "./wasmEncode.js";

// ---------------------------------------------------------------------------------------------
// GEMM

export interface GemmBlock {
  MR: number;
  NR: number;
  KC: number;
  MC: number;
}

/**
 * Register block (MR rows × NR columns; NR a multiple of 4) and cache blocks (KC, MC) of the f32
 * GEMM, measured on a 2-vCPU AMD EPYC under Node 20 (GFLOP/s at 512³): without FMA, 4×8 ≈ 34
 * (6×8 ≈ 26, 4×16 ≈ 32: more accumulators spill); with relaxed-SIMD FMA, 6×8/MC 96 ≈ 49
 * (4×8 ≈ 44). KC·NR·4 = 8 KiB of B and MR·KC·4 of A per micro-kernel stay in L1; MC·KC in L2.
 */
export function gemmBlock(fma: boolean): GemmBlock {
  return fma ? { MR: 6, NR: 8, KC: 256, MC: 96 } : { MR: 4, NR: 8, KC: 256, MC: 64 };
}

/** Floats of scratch the GEMM needs for packing: Ap (MC·KC), Bp (KC·⌈N/NR⌉·NR), T (MR·NR). */
export function gemmScratchFloats(n: number, b: GemmBlock): { ap: number; bp: number; t: number } {
  return { ap: b.MC * b.KC, bp: b.KC * Math.ceil(n / b.NR) * b.NR, t: b.MR * b.NR };
}

/**
 * The micro-kernel `micro(pa, pb, pc, ldc, kc, mr, nr, first, pT)`: an MR×NR block of C (rows
 * ldc floats apart) = (first ? 0 : C) + Σₖ Ap[k, 0..MR) ⊗ Bp[k, 0..NR), kept in MR·NR/4 f32x4
 * registers. Full tiles are stored with v128 stores; edge tiles (mr < MR or nr < NR) through the
 * scratch tile pT.
 */
function microKernel(MR: number, NR: number, fma: boolean): Func {
  const V = NR / 4;
  const [pa, pb, pc, ldc, kc, mr, nr, first, pT] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  // i32 locals
  const i = 9, j = 10, row = 11, addr = 12;
  // v128 locals
  const acc = (r: number, v: number) => 13 + r * V + v;
  const bv = (v: number) => 13 + MR * V + v;
  const av = 13 + MR * V + V;
  const init: Bytes[] = [];
  for (let r = 0; r < MR; r++) for (let v = 0; v < V; v++) init.push(seq(vzero, set(acc(r, v))));
  const step: Bytes[] = [];
  for (let v = 0; v < V; v++) step.push(seq(get(pb), vload(16 * v), set(bv(v))));
  for (let r = 0; r < MR; r++) {
    step.push(seq(get(pa), vsplat(4 * r), set(av)));
    for (let v = 0; v < V; v++) step.push(fma ? seq(get(av), get(bv(v)), get(acc(r, v)), fmadd4, set(acc(r, v))) : seq(get(acc(r, v)), get(av), get(bv(v)), fmul4, fadd4, set(acc(r, v))));
  }
  step.push(seq(get(pa), i32(4 * MR), add, set(pa), get(pb), i32(4 * NR), add, set(pb)));
  // k loop: while (kc > 0) { ...; kc-- }
  const kloop = seq(0x02, 0x40, 0x03, 0x40, get(kc), i32(1), lt_s, 0x0d, 1, ...step, get(kc), i32(1), sub, set(kc), 0x0c, 0, 0x0b, 0x0b);
  // full-tile store
  const full: Bytes[] = [];
  for (let r = 0; r < MR; r++) {
    full.push(seq(get(pc), i32(r), get(ldc), mul, i32(2), shl, add, set(addr)));
    for (let v = 0; v < V; v++) {
      full.push(
        ifElse(
          get(first),
          seq(get(addr), get(acc(r, v)), vstore(16 * v)),
          seq(get(addr), get(addr), vload(16 * v), get(acc(r, v)), fadd4, vstore(16 * v)),
        ),
      );
    }
  }
  // edge tile: spill to pT, then C[i, j] = (first ? 0 : C[i, j]) + T[i, j] for i < mr, j < nr
  const edge: Bytes[] = [];
  for (let r = 0; r < MR; r++) for (let v = 0; v < V; v++) edge.push(seq(get(pT), get(acc(r, v)), vstore(16 * (r * V + v))));
  edge.push(
    forLoop(i, i32(0), get(mr), i32(1), seq(
      get(pc), get(i), get(ldc), mul, i32(2), shl, add, set(row),
      forLoop(j, i32(0), get(nr), i32(1), seq(
        get(row), get(j), i32(2), shl, add, set(addr),
        get(addr),
        get(pT), get(i), i32(NR), mul, get(j), add, i32(2), shl, add, f32load(),
        get(first), 0x04, 0x7d /* if (result f32) */, 0x43, 0, 0, 0, 0, 0x05, get(addr), f32load(), 0x0b,
        f32add,
        f32store(),
      )),
    )),
  );
  const isFull = seq(get(mr), i32(MR), eq, get(nr), i32(NR), eq, and);
  return {
    params: 9,
    locals: [{ type: I32, count: 4 }, { type: V128, count: MR * V + V + 1 }],
    body: seq(...init, kloop, ifElse(isFull, seq(...full), seq(...edge))),
  };
}

/**
 * `packA(pA, sam, sak, mc, kc, pAp)`: A[i, k] (i < mc, k < kc; strided) into MR-high panels,
 * Ap[panel][k][r], zero-padding the rows past mc.
 * `packB(pB, sbk, sbn, kc, nc, pBp)`: B[k, j] into NR-wide panels Bp[panel][k][c], zero-padded.
 * Both are one generic strided gather: `pack(src, sOuter, sInner, nOuter, kc, dst, R)` writes
 * dst[(o / R)·kc·R + k·R + o % R] = src[o·sOuter + k·sInner] for o < ⌈nOuter/R⌉·R.
 */
function packKernel(): Func {
  const [src, sOuter, sInner, nOuter, kc, dst, R] = [0, 1, 2, 3, 4, 5, 6];
  const o = 7, k = 8, d = 9, s = 10, nPad = 11;
  // nPad = ceil(nOuter / R) * R
  const body = seq(
    get(nOuter), get(R), add, i32(1), sub, get(R), div_s, get(R), mul, set(nPad),
    forLoop(o, i32(0), get(nPad), i32(1), seq(
      // d = dst + 4·((o / R)·kc·R + o % R)
      get(dst),
      get(o), get(R), 0x6d, get(kc), mul, get(R), mul,
      get(o), get(R), 0x6f /* i32.rem_s */, add,
      i32(2), shl, add, set(d),
      ifElse(
        seq(get(o), get(nOuter), lt_s),
        seq(
          get(src), get(o), get(sOuter), mul, i32(2), shl, add, set(s),
          forLoop(k, i32(0), get(kc), i32(1), seq(
            get(d), get(s), f32load(), f32store(),
            get(d), get(R), i32(2), shl, add, set(d),
            get(s), get(sInner), i32(2), shl, add, set(s),
          )),
        ),
        forLoop(k, i32(0), get(kc), i32(1), seq(
          get(d), 0x43, 0, 0, 0, 0 /* f32.const 0 */, f32store(),
          get(d), get(R), i32(2), shl, add, set(d),
        )),
      ),
    )),
  );
  return { params: 7, locals: [{ type: I32, count: 5 }], body };
}

/**
 * `fast(src, sInner, panels, kc, dst)`: the packing of `packKernel` for R = `R` when the panel
 * dimension is contiguous (sOuter = 1: B row-major, or A stored transposed as in the backward's
 * `gᵀ·x`) and the panels are full: each k row of a panel is R consecutive floats, copied with
 * v128 (and one i64) loads and stores instead of R scalar ones.
 */
function packFastKernel(R: number): Func {
  const [src, sInner, panels, kc, dst] = [0, 1, 2, 3, 4];
  const p = 5, k = 6, sp = 7, s = 8, d = 9;
  const copy: Bytes[] = [];
  let off = 0;
  for (; off + 4 <= R; off += 4) copy.push(seq(get(d), get(s), vload(off * 4), vstore(off * 4)));
  for (; off + 2 <= R; off += 2) copy.push(seq(get(d), get(s), 0x29, 0, ...uleb(off * 4) /* i64.load */, 0x37, 0, ...uleb(off * 4) /* i64.store */));
  for (; off < R; off++) copy.push(seq(get(d), get(s), f32load(off * 4), f32store(off * 4)));
  const body = seq(
    get(dst), set(d), get(src), set(sp),
    forLoop(p, i32(0), get(panels), i32(1), seq(
      get(sp), set(s),
      forLoop(k, i32(0), get(kc), i32(1), seq(
        ...copy,
        get(s), get(sInner), i32(2), shl, add, set(s),
        get(d), i32(4 * R), add, set(d),
      )),
      get(sp), i32(4 * R), add, set(sp),
    )),
  );
  return { params: 5, locals: [{ type: I32, count: 5 }], body };
}


/**
 * `trans(src, sOuter, panels, kc, dst)`: the packing of `packKernel` for R = `R` when the
 * *other* dimension is contiguous (sInner = 1: A row-major, or B stored transposed as a Linear
 * weight) and the panels are full: four k values of four rows are loaded as four vectors and
 * transposed in registers (8 shuffles) into four k rows of the panel; with R = 6 the last two
 * rows go as 64-bit lanes; the k tail (kc mod 4) is copied element by element.
 */
function packTransKernel(R: number): Func {
  const [src, sOuter, panels, kc, dst] = [0, 1, 2, 3, 4];
  const p = 5, k = 6, kb = 7, dp = 8, d = 9, r0 = 10; // row addresses: locals r0 .. r0+R-1
  const v = r0 + R; // v128 locals v .. v+7
  const rowLoad = (r: number) => seq(get(r0 + r), get(kb), add, vload());
  const body4: Bytes[] = [];
  // d = dp + 4·k·R: the first of the four k rows of the panel
  body4.push(seq(get(dp), get(k), i32(4 * R), mul, add, set(d)));
  for (let g = 0; g + 4 <= R; g += 4) {
    for (let t = 0; t < 4; t++) body4.push(seq(rowLoad(g + t), set(v + t)));
    body4.push(seq(get(v), get(v + 1), shuf([0, 4, 1, 5]), set(v + 4), get(v), get(v + 1), shuf([2, 6, 3, 7]), set(v + 5)));
    body4.push(seq(get(v + 2), get(v + 3), shuf([0, 4, 1, 5]), set(v + 6), get(v + 2), get(v + 3), shuf([2, 6, 3, 7]), set(v + 7)));
    const out = [[4, 6, [0, 1, 4, 5]], [4, 6, [2, 3, 6, 7]], [5, 7, [0, 1, 4, 5]], [5, 7, [2, 3, 6, 7]]] as const;
    out.forEach(([a, b, l], t) => body4.push(seq(get(d), get(v + a), get(v + b), shuf(l), vstore(4 * (t * R + g)))));
  }
  if (R % 4 === 2) {
    const g = R - 2;
    body4.push(seq(rowLoad(g), set(v), rowLoad(g + 1), set(v + 1)));
    body4.push(seq(get(v), get(v + 1), shuf([0, 4, 1, 5]), set(v + 2), get(v), get(v + 1), shuf([2, 6, 3, 7]), set(v + 3)));
    for (let t = 0; t < 4; t++) body4.push(seq(get(d), get(v + 2 + (t >> 1)), store64Lane(4 * (t * R + g), t & 1)));
  } else if (R % 4 !== 0) throw new Error(`packTransKernel: R = ${R} is not 4·n or 4·n + 2`);
  const tail: Bytes[] = [];
  for (let r = 0; r < R; r++) tail.push(seq(get(d), i32(4 * r), add, get(r0 + r), get(kb), add, f32load(), f32store()));
  const rows: Bytes[] = [];
  for (let r = 0; r < R; r++) rows.push(seq(get(src), get(p), i32(R), mul, i32(r), add, get(sOuter), mul, i32(2), shl, add, set(r0 + r)));
  const body = forLoop(p, i32(0), get(panels), i32(1), seq(
    ...rows,
    get(dst), get(p), get(kc), mul, i32(4 * R), mul, add, set(dp),
    forLoop(k, i32(0), seq(get(kc), i32(3), sub), i32(4), seq(get(k), i32(2), shl, set(kb), ...body4)),
    // k tail: k is where the vector loop stopped
    forLoop(k, get(k), get(kc), i32(1), seq(get(k), i32(2), shl, set(kb), get(dp), get(k), i32(4 * R), mul, add, set(d), ...tail)),
  ));
  return { params: 5, locals: [{ type: I32, count: 5 + R }, { type: V128, count: 8 }], body };
}

/**
 * `packR(src, sOuter, sInner, nOuter, kc, dst)`: `packKernel` with R = `R`, taking a vector path
 * for the full panels — `fast` (function `fFast`) when the panel dimension is contiguous, `trans`
 * (`fTrans`) when the other one is — and the generic one (`fPack`) for the rest.
 */
function packDispatch(R: number, fFast: number, fTrans: number, fPack: number): Func {
  const [src, sOuter, sInner, nOuter, kc, dst] = [0, 1, 2, 3, 4, 5];
  const full = 6;
  // the partial last panel (nOuter mod R outer indices) through the generic pack
  const rest = seq(
    ifElse(
      seq(get(nOuter), get(full), i32(R), mul, sub),
      seq(
        get(src), get(full), i32(4 * R), mul, get(sOuter), mul, add, get(sOuter), get(sInner),
        get(nOuter), get(full), i32(R), mul, sub, get(kc),
        get(dst), get(full), i32(4 * R), mul, get(kc), mul, add, i32(R), call(fPack),
      ),
    ),
  );
  const body = seq(
    get(nOuter), i32(R), div_s, set(full),
    ifElse(
      seq(get(sOuter), i32(1), eq),
      seq(get(src), get(sInner), get(full), get(kc), get(dst), call(fFast), rest),
      ifElse(
        seq(get(sInner), i32(1), eq),
        seq(get(src), get(sOuter), get(full), get(kc), get(dst), call(fTrans), rest),
        seq(get(src), get(sOuter), get(sInner), get(nOuter), get(kc), get(dst), i32(R), call(fPack)),
      ),
    ),
  );
  return { params: 6, locals: [{ type: I32, count: 1 }], body };
}

/**
 * The M-block loops of one K block: pack A[ic:ic+mc, pc:pc+kc] into pAp, then the micro-kernel over
 * every MR×NR tile of C[ic:ic+mc, 0:N] against the B panels at local `bp` (kc·⌈N/NR⌉·NR floats).
 * `p` names the locals (parameters and loop variables) of the calling driver.
 */
function mBlocks(p: Record<"pA" | "sam" | "sak" | "pC" | "ldc" | "M" | "N" | "pAp" | "pT" | "pc" | "kc" | "ic" | "mc" | "jr" | "ir" | "bp", number>, MR: number, NR: number, MC: number, fMicro: number, fPackA: number): Bytes {
  return forLoop(p.ic, i32(0), get(p.M), i32(MC), seq(
    min(i32(MC), seq(get(p.M), get(p.ic), sub)), set(p.mc),
    get(p.pA), get(p.ic), get(p.sam), mul, get(p.pc), get(p.sak), mul, add, i32(2), shl, add, get(p.sam), get(p.sak), get(p.mc), get(p.kc), get(p.pAp), call(fPackA),
    forLoop(p.jr, i32(0), get(p.N), i32(NR), seq(
      forLoop(p.ir, i32(0), get(p.mc), i32(MR), seq(
        get(p.pAp), get(p.ir), get(p.kc), mul, i32(2), shl, add, // pa
        get(p.bp), get(p.jr), get(p.kc), mul, i32(2), shl, add, // pb
        get(p.pC), get(p.ic), get(p.ir), add, get(p.ldc), mul, get(p.jr), add, i32(2), shl, add, // pc
        get(p.ldc), get(p.kc),
        min(i32(MR), seq(get(p.mc), get(p.ir), sub)),
        min(i32(NR), seq(get(p.N), get(p.jr), sub)),
        get(p.pc), 0x45 /* i32.eqz: first K block */,
        get(p.pT),
        call(fMicro),
      )),
    )),
  ));
}

/** The driver `gemm(pA, sam, sak, pB, sbk, sbn, pC, ldc, M, K, N, pAp, pBp, pT)` (see the module doc). */
function gemmDriver(MR: number, NR: number, KC: number, MC: number, fMicro: number, fPackA: number, fPackB: number): Func {
  const [pA, sam, sak, pB, sbk, sbn, pC, ldc, M, K, N, pAp, pBp, pT] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const pc = 14, kc = 15, ic = 16, mc = 17, jr = 18, ir = 19;
  const body = forLoop(pc, i32(0), get(K), i32(KC), seq(
    min(i32(KC), seq(get(K), get(pc), sub)), set(kc),
    // pack B[pc:pc+kc, 0:N]
    get(pB), get(pc), get(sbk), mul, i32(2), shl, add, get(sbn), get(sbk), get(N), get(kc), get(pBp), call(fPackB),
    mBlocks({ pA, sam, sak, pC, ldc, M, N, pAp, pT, pc, kc, ic, mc, jr, ir, bp: pBp }, MR, NR, MC, fMicro, fPackA),
  ));
  return { params: 14, locals: [{ type: I32, count: 6 }], body, export: "gemm" };
}

/**
 * `packB(pB, sbk, sbn, K, N, pBp, j0, cols)`: columns [j0, j0 + cols) of B (j0 a multiple of NR;
 * cols clipped to N − j0), K block after K block, in the panels the `gemm` driver packs one block
 * at a time: block pc (of KC rows) at pBp + 4·pc·⌈N/NR⌉·NR, panel p of it kc·NR floats after
 * panel p − 1. Packed once — both threads packing column ranges of it — B is read by both
 * threads of a split product (`gemmPacked`).
 */
function packBAll(NR: number, KC: number, fPackB: number): Func {
  const [pB, sbk, sbn, K, N, pBp, j0, cols] = [0, 1, 2, 3, 4, 5, 6, 7];
  const pc = 8, nPad = 9, kc = 10;
  const body = seq(
    get(N), i32(NR - 1), add, i32(NR), div_s, i32(NR), mul, set(nPad),
    min(get(cols), seq(get(N), get(j0), sub)), set(cols),
    forLoop(pc, i32(0), get(K), i32(KC), seq(
      min(i32(KC), seq(get(K), get(pc), sub)), set(kc),
      get(pB), get(pc), get(sbk), mul, get(j0), get(sbn), mul, add, i32(2), shl, add, get(sbn), get(sbk), get(cols), get(kc),
      get(pBp), get(pc), get(nPad), mul, get(j0), get(kc), mul, add, i32(2), shl, add, call(fPackB),
    )),
  );
  return { params: 8, locals: [{ type: I32, count: 3 }], body, export: "packB" };
}

/**
 * `gemmPacked(pA, sam, sak, pBp, pC, ldc, M, K, N, pAp, pT)`: the `gemm` driver with B already
 * packed by `packB` at pBp — what each thread runs on its share of C's rows. Every element of C
 * is summed in the same order as by `gemm`, so the two agree bit for bit.
 */
function gemmPackedDriver(MR: number, NR: number, KC: number, MC: number, fMicro: number, fPackA: number): Func {
  const [pA, sam, sak, pBp, pC, ldc, M, K, N, pAp, pT] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const pc = 11, kc = 12, ic = 13, mc = 14, jr = 15, ir = 16, nPad = 17, bp = 18;
  const body = seq(
    get(N), i32(NR - 1), add, i32(NR), div_s, i32(NR), mul, set(nPad),
    forLoop(pc, i32(0), get(K), i32(KC), seq(
      min(i32(KC), seq(get(K), get(pc), sub)), set(kc),
      get(pBp), get(pc), get(nPad), mul, i32(2), shl, add, set(bp),
      mBlocks({ pA, sam, sak, pC, ldc, M, N, pAp, pT, pc, kc, ic, mc, jr, ir, bp }, MR, NR, MC, fMicro, fPackA),
    )),
  );
  return { params: 11, locals: [{ type: I32, count: 8 }], body, export: "gemmPacked" };
}

/**
 * Bytes of the f32 GEMM module (exports `gemm`, `packB` and `gemmPacked`, see the module doc), importing `env.mem`
 * (shared when `shared`); `fma` uses relaxed SIMD's `f32x4.relaxed_madd` in the micro-kernel.
 *
 * @example
 * const mod = new WebAssembly.Module(gemmWasm(false));
 */
export function gemmWasm(shared = false, fma = false, block: GemmBlock = gemmBlock(fma)): Uint8Array {
  const { MR, NR, KC, MC } = block;
  // functions: 0 micro-kernel, 1 generic pack, 2/3 contiguous-panel packs for MR/NR, 4/5
  // transposing packs for MR/NR, 6/7 the dispatchers for MR/NR, 8 the driver, 9/10 the split
  // product's B packing and driver
  const fns = [
    microKernel(MR, NR, fma), packKernel(), packFastKernel(MR), packFastKernel(NR), packTransKernel(MR), packTransKernel(NR),
    packDispatch(MR, 2, 4, 1), packDispatch(NR, 3, 5, 1), gemmDriver(MR, NR, KC, MC, 0, 6, 7),
    packBAll(NR, KC, 7), gemmPackedDriver(MR, NR, KC, MC, 0, 6),
  ];
  return moduleBytes(fns, shared);
}

// ---------------------------------------------------------------------------------------------
// SGD

/** The terms an SGD update has (the kernel is specialised on them; the numbers are run-time values). */
export interface SgdTerms {
  readonly momentum: boolean;
  /** The momentum buffer starts as the gradient (the first step). */
  readonly first: boolean;
  readonly nesterov: boolean;
  readonly weightDecay: boolean;
  readonly maximize: boolean;
  /** `1 − dampening` is exactly 1: the `d · (1 − dampening)` product is skipped. */
  readonly undamped: boolean;
}

/**
 * Bytes of a module exporting `sgd(pTab, count, pH)`: PyTorch 1.13's SGD update of `count`
 * float32 parameters in place, four lanes at a time. `pTab` holds `count` rows of four i32:
 * the byte addresses of the parameter, its gradient and its momentum buffer, and the bytes to
 * update (a multiple of 16); `pH` the float32 scalars `[−lr, momentum, 1 − dampening, weightDecay]`.
 * Per element: `d = ±g (+ wd·p)`, `b = first ? d : mu·b + (1 − damp)·d`,
 * `d = nesterov ? d + mu·b : b`, `p += −lr·d`. Every f32x4 op rounds to float32 as the JS
 * kernel's `Math.fround` at each step does, so the two agree bit for bit.
 *
 * @example
 * const mod = new WebAssembly.Module(sgdWasm(true, { momentum: true, first: false, nesterov: false, weightDecay: false, maximize: false, undamped: true }));
 */
export function sgdWasm(shared: boolean, t: SgdTerms): Uint8Array {
  const [pTab, count, pH] = [0, 1, 2];
  const [r, pP, pG, pB, bytes, i] = [3, 4, 5, 6, 7, 8];
  const [lr, mu, damp1, wd, d, b] = [9, 10, 11, 12, 13, 14];
  const i32load = (off: number) => [0x28, 2, ...uleb(off)];
  const at = (base: number) => seq(get(base), get(i), add);
  const loop: Bytes[] = [at(pG), vload(), ...(t.maximize ? [fneg4] : []), set(d)];
  if (t.weightDecay) loop.push(get(d), at(pP), vload(), get(wd), fmul4, fadd4, set(d));
  if (t.momentum) {
    loop.push(t.first ? get(d) : seq(at(pB), vload(), get(mu), fmul4, get(d), ...(t.undamped ? [] : [get(damp1), fmul4]), fadd4), set(b));
    loop.push(at(pB), get(b), vstore());
    loop.push(t.nesterov ? seq(get(d), get(b), get(mu), fmul4, fadd4) : get(b), set(d));
  }
  loop.push(at(pP), at(pP), vload(), get(d), get(lr), fmul4, fadd4, vstore());
  const row = (k: number) => seq(get(pTab), get(r), i32(4), shl, add, i32load(4 * k));
  const body = seq(
    get(pH), vsplat(0), set(lr), get(pH), vsplat(4), set(mu), get(pH), vsplat(8), set(damp1), get(pH), vsplat(12), set(wd),
    forLoop(r, i32(0), get(count), i32(1), seq(
      row(0), set(pP), row(1), set(pG), row(2), set(pB), row(3), set(bytes),
      forLoop(i, i32(0), get(bytes), i32(16), seq(...loop)),
    )),
  );
  return moduleBytes([{ params: 3, locals: [{ type: I32, count: 6 }, { type: V128, count: 6 }], body, export: "sgd" }], shared);
}

/**
 * A minimal module using f32x4 ops (and `f32x4.relaxed_madd` when `relaxed`): `WebAssembly.validate`
 * of it says whether SIMD128 (relaxed SIMD) is there.
 */
export function simdProbeWasm(relaxed = false): Uint8Array {
  const op = relaxed ? seq(vzero, vzero, vzero, fmadd4) : seq(vzero, vzero, fadd4);
  return moduleBytes([{ params: 0, locals: [{ type: V128, count: 1 }], body: seq(op, set(0)), export: "probe" }], false);
}
