import type { AnyTensor } from "../tensorTypes.js";
import { matmulShapes } from "../../types/matmul.js";
import { DTypeError } from "../../types/errors.js";
import { needsGrad, record } from "../autograd.js";
import { cpu } from "../backend/cpu.js";
import { wasm } from "../backend/wasm.js";
import { matmulSource } from "../codegen/js.js";
import { gemmBlock, gemmScratchFloats, gemmWasm } from "../codegen/wasm.js";
import { Tensor } from "../Tensor.js";
import { sumToShape } from "./binary.js";
import { broadcastStrides, type KernelOpDef } from "./defineOp.js";
import { deviceMatmul } from "./device.js";

/**
 * Matrix product. Forward: for float32 on the CPU (when WebAssembly SIMD is there and the product
 * is not tiny) the packed SIMD GEMM of `codegen/wasm.ts` reading strided operands directly;
 * otherwise the register-blocked kernel of `codegen/js.ts` over each pair of broadcast batch
 * matrices (the reference). Backward: `∂A = g · Bᵀ`, `∂B = Aᵀ · g`, summed over broadcast batch dims.
 */
export const matmul: KernelOpDef = {
  kind: "kernel",
  name: "matmul",
  gradName: "MmBackward0",
  js: "matmulSource",
  wgsl: "matmulWgsl",
  backward: null, // recorded in matmulOp, which keeps the 2-D views
};

const scratch = new Map<unknown, ArrayLike<number>>();

/**
 * A reusable scratch array of `like`'s kind holding at least `n` elements (the GEMM kernel packs
 * B into it), so a training loop does not allocate one per product.
 */
export function packScratch(like: ArrayLike<number>, n: number): ArrayLike<number> {
  const ctor = (like as unknown as { constructor: new (n: number) => ArrayLike<number> }).constructor;
  let s = scratch.get(ctor);
  if (!s || s.length < n) {
    s = new ctor(Math.max(n, 2 * (s?.length ?? 0)));
    scratch.set(ctor, s);
  }
  return s;
}

/**
 * Products with fewer multiply-adds than this run in the JS kernel: below it the WASM path's fixed
 * cost (copies into wasm memory, a few calls) is larger than what SIMD saves. Measured: ~0.5 µs
 * fixed cost; the JS kernel does ~2 GFLOP/s, so the break-even is near 1,000 multiply-adds.
 */
export const WASM_GEMM_MIN_MACS = 1024;

/** Whether a float32 CPU product of this size goes to the WASM SIMD GEMM. */
export function useWasmGemm(m: number, k: number, n: number): boolean {
  return wasm.available && m * k * n >= WASM_GEMM_MIN_MACS;
}

const gemmKey = () => (wasm.relaxed ? "gemm:f32:fma" : "gemm:f32") + (wasm.shared ? ":shared" : "");
const gemmModule = () => gemmWasm(wasm.shared, wasm.relaxed);

/**
 * Products with at least `minMacs` multiply-adds (and N ≥ 2·NR) are split over two threads when
 * `backend/threads.ts` has them (the columns of C halved at a multiple of NR, so every element is
 * summed in the same order as on one thread: the result is the same bit for bit). Below it the
 * hand-off to a spinning worker costs more than the second core saves (96³ ≈ 0.9 M was about even
 * on 2 vCPUs). `spin`: how many loads the worker spins after a product, waiting for the next,
 * before it sleeps — 0 for eager code (JS work runs between products), raised by compiled steps,
 * whose products come back to back. A worker that sleeps between products (spin 0) is woken for
 * products of at least {@link COLD_MIN_MACS} only: on the shared 2-vCPU VM this was tuned on a
 * wake-up costs ~0.1 ms, and eager MLP training ran ~20% slower when every product over
 * `minMacs` paid it. There `npm run bench` measured 1.2–1.7× for 256³–1024³ with two threads
 * (see bench/RESULTS.md).
 */
export const gemmThreads = { minMacs: 1 << 20, spin: 0 };

/** The smallest product (multiply-adds) worth waking a sleeping GEMM worker for (256³). */
export const COLD_MIN_MACS = 1 << 24;

/** Index range [lo, hi) of `data` that strided matrices at `offs` (m×k, strides rs, cs) touch. */
function span(offs: readonly number[], rows: number, cols: number, rs: number, cs: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const ext = (rows - 1) * rs + (cols - 1) * cs;
  for (const o of offs) {
    if (o < lo) lo = o;
    if (o + ext + 1 > hi) hi = o + ext + 1;
  }
  return [lo, hi];
}

/**
 * The float32 GEMM through the generated WASM SIMD kernel (`codegen/wasm.ts`), for a batch of
 * products: for each t, `C[cOffs[t] + i·n + j] = Σₚ A[aOffs[t] + i·sam + p·sak] · B[bOffs[t] + p·sbk + j·sbn]`.
 * Strides are in elements and must be ≥ 0; A and B may be any strided views (a transposed `x.t()`
 * is packed as it lies, without a contiguous copy). Operands that live in the wasm memory
 * (`wasm.alloc`, as a compiled step's buffers do) are read in place, and a resident C is written in
 * place; other operands' touched element ranges are copied into wasm memory once for the whole
 * batch, and such a C is copied back per product.
 */
export function wasmSgemm(
  C: Float32Array, cOffs: readonly number[],
  A: Float32Array, aOffs: readonly number[], sam: number, sak: number,
  B: Float32Array, bOffs: readonly number[], sbk: number, sbn: number,
  m: number, k: number, n: number,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    for (const co of cOffs) C.fill(0, co, co + m * n);
    return;
  }
  const blk = gemmBlock(wasm.relaxed);
  const sc = gemmScratchFloats(n, blk);
  wasm.reset();
  // pA/pB: the byte address of element 0 of A/B (as if the whole array were in wasm memory)
  let pA = wasm.addressOf(A);
  if (pA < 0) {
    const [alo, ahi] = span(aOffs, m, k, sam, sak);
    pA = wasm.place(A, alo, ahi) - 4 * alo;
  }
  let pB = wasm.addressOf(B);
  if (pB < 0) {
    const [blo, bhi] = span(bOffs, k, n, sbk, sbn);
    pB = wasm.place(B, blo, bhi) - 4 * blo;
  }
  const cRes = wasm.addressOf(C);
  const pAp = wasm.reserve(sc.ap);
  const pBp = wasm.reserve(sc.bp);
  const pT = wasm.reserve(sc.t);
  const pCs = cRes < 0 ? wasm.reserve(m * n) : 0;
  const key = gemmKey();
  // The worker's half: columns [n0, n) of every product, with scratch of its own.
  const minMacs = gemmThreads.spin > 0 ? gemmThreads.minMacs : Math.max(gemmThreads.minMacs, COLD_MIN_MACS);
  const worker = m * k * n >= minMacs && n >= 2 * blk.NR ? wasm.worker(key, gemmModule, "gemm", 14) : null;
  const n0 = worker ? Math.ceil(n / 2 / blk.NR) * blk.NR : n;
  let wAp = 0, wBp = 0, wT = 0;
  if (worker) {
    const sc2 = gemmScratchFloats(n - n0, blk);
    wAp = wasm.reserve(sc2.ap);
    wBp = wasm.reserve(sc2.bp);
    wT = wasm.reserve(sc2.t);
  }
  for (let t = 0; t < cOffs.length; t++) {
    const pa = pA + 4 * aOffs[t]!;
    const pb = pB + 4 * bOffs[t]!;
    const pC = cRes < 0 ? pCs : cRes + 4 * cOffs[t]!;
    if (worker) {
      worker.start([pa, sam, sak, pb + 4 * n0 * sbn, sbk, sbn, pC + 4 * n0, n, m, k, n - n0, wAp, wBp, wT], gemmThreads.spin);
      try {
        wasm.run(key, gemmModule, "gemm", [pa, sam, sak, pb, sbk, sbn, pC, n, m, k, n0, pAp, pBp, pT]);
      } finally {
        worker.finish();
      }
    } else wasm.run(key, gemmModule, "gemm", [pa, sam, sak, pb, sbk, sbn, pC, n, m, k, n, pAp, pBp, pT]);
    if (cRes < 0) C.set(wasm.f32.subarray(pCs >> 2, (pCs >> 2) + m * n), cOffs[t]!);
  }
}

/** `torch.matmul` / `mm` / `bmm` at run time. */
export function matmulOp(a: AnyTensor, b: AnyTensor, op: "matmul" | "mm" | "bmm" = "matmul"): AnyTensor {
  const plan = matmulShapes(op, a.shape, b.shape);
  if (a.dtype !== b.dtype) throw new DTypeError(`${op}: both arguments must have the same dtype, got ${a.dtype} and ${b.dtype}`);
  if (a.dtype === "bool") throw new DTypeError(`${op}: bool tensors are not supported, got dtype bool`);
  if (a.device !== b.device) Tensor._deviceMismatch(op, a, b);
  const { m, k, n, batch } = plan;
  const a1 = a.ndim === 1 ? a.reshape(plan.a) : a;
  const b1 = b.ndim === 1 ? b.reshape(plan.b) : b;
  // The WASM GEMM reads strided operands (e.g. the x.t() of Linear and of every backward) as they lie.
  const fast = a.device === "cpu" && a.dtype === "float32" && useWasmGemm(m, k, n) && a1._strides.every((x) => x >= 0) && b1._strides.every((x) => x >= 0);
  const a2 = fast ? a1 : a1.contiguous();
  const b2 = fast ? b1 : b1.contiguous();
  const out = Tensor._empty([...batch, m, n], a.dtype, a.device);
  const as = broadcastStrides(a2, [...batch, m, k]);
  const bs = broadcastStrides(b2, [...batch, k, n]);
  const nb = batch.reduce((x, y) => x * y, 1);
  const idx = new Array<number>(batch.length).fill(0);
  if (a.device !== "cpu") deviceMatmul(out, a2, b2, as, bs, batch, m, k, n);
  else if (fast) {
    const aOffs: number[] = [];
    const bOffs: number[] = [];
    const cOffs: number[] = [];
    for (let t = 0; t < nb; t++) {
      let ao = a2._offset;
      let bo = b2._offset;
      for (let d = 0; d < batch.length; d++) {
        ao += idx[d]! * as[d]!;
        bo += idx[d]! * bs[d]!;
      }
      aOffs.push(ao);
      bOffs.push(bo);
      cOffs.push(t * m * n);
      for (let d = batch.length - 1; d >= 0; d--) {
        if (++idx[d]! < batch[d]!) break;
        idx[d] = 0;
      }
    }
    const r = batch.length;
    wasmSgemm(out._data as Float32Array, cOffs, a2._data as Float32Array, aOffs, as[r]!, as[r + 1]!, b2._data as Float32Array, bOffs, bs[r]!, bs[r + 1]!, m, k, n);
  } else for (let t = 0; t < nb; t++) {
    let ao = a2._offset;
    let bo = b2._offset;
    for (let d = 0; d < batch.length; d++) {
      ao += idx[d]! * as[d]!;
      bo += idx[d]! * bs[d]!;
    }
    cpu.run("mm", matmulSource, [out._data, t * m * n, a2._data, ao, b2._data, bo, m, k, n, packScratch(b2._data, k * n)]);
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d]! < batch[d]!) break;
      idx[d] = 0;
    }
  }
  const result = out.reshape(plan.out);
  if (needsGrad([a, b])) {
    record(result, op === "mm" ? "MmBackward0" : op === "bmm" ? "BmmBackward0" : "MmBackward0", [a, b], (g) => {
      const g2 = g.reshape([...batch, m, n]);
      const ga = a.requiresGrad ? sumToShape(g2.matmul(b2.transpose(-1, -2)), a2.shape).reshape(a.shape) : null;
      const gb = b.requiresGrad ? sumToShape(a2.transpose(-1, -2).matmul(g2), b2.shape).reshape(b.shape) : null;
      return [ga, gb];
    });
  }
  return result;
}
