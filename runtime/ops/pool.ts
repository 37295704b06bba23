import type { AnyTensor } from "../tensorTypes.js";
/**
 * 2-D pooling: max pooling (with PyTorch's indices) and window averaging (avg and adaptive avg
 * pooling), each a kernel op whose backward is another kernel op — the adjoint — so gradients of
 * gradients stay expressible: max pooling's adjoint scatters into the argmax (its own backward is
 * a gather at the same indices); averaging's adjoint spreads `g / divisor` over each window (its
 * own backward is the averaging again).
 *
 * The shape-rule twins at the top only import from `types/` and belong in `types/conv.ts`.
 */
import type { Err } from "../../types/check.js";
import { type PoolOutSize, poolOutSize } from "../../types/conv.js";
import { DTypeError, ShapeError, ValueError } from "../../types/errors.js";
import { type Shape, type ShapeStr, shapeStr } from "../../types/shape.js";
import { needsGrad, noGrad, record } from "../autograd.js";
import { cpu } from "../backend/cpu.js";
import { wasm } from "../backend/wasm.js";
import { EAGER_SPLIT, maxPool2Launch } from "./launchRows.js";
import { maxPoolInsideSource, maxPoolSource, maxUnpoolAddSource, windowAvgSource } from "../codegen/jsConv.js";
import { Tensor } from "../Tensor.js";
import { type ImageRankMsg, imageRankMsg, imageStrides, type Opt, type Pair, pairArg, type PairH, type PairW } from "./conv.js";
import { emptyOutput, type KernelOpDef } from "./defineOp.js";
import { deviceMaxPool, deviceMaxUnpoolAdd, deviceWindowAvg, deviceWindowAvgAdjoint } from "./device.js";

// ---------------------------------------------------------------------------------------------
// Shape rules (move to types/conv.ts)
// ---------------------------------------------------------------------------------------------

/** The options of maxPool2d besides kernel size and stride. */
export interface MaxPool2dOptions {
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
  returnIndices?: boolean;
}

/** The options of avgPool2d besides kernel size and stride. */
export interface AvgPool2dOptions {
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead of its size. */
  divisorOverride?: number | null;
}

type PoolSide<H extends number, K extends number, S extends number, P extends number, D extends number, Ceil, Op extends string> =
  PoolOutSize<H, K, S, P, D, Ceil extends true ? true : Ceil extends false ? false : never, Op> extends infer R
    ? [Ceil] extends [boolean] ? (boolean extends Ceil ? number : R) : R
    : never;

type PoolBody<Lead extends number[], C extends number, H extends number, W extends number, K, St, O, Op extends string> =
  PoolSide<H, PairH<K>, PairH<St>, PairH<Opt<O, "padding", 0>>, PairH<Opt<O, "dilation", 1>>, Opt<O, "ceilMode", false>, Op> extends infer Ho
    ? Ho extends Err<string> ? Ho
      : PoolSide<W, PairW<K>, PairW<St>, PairW<Opt<O, "padding", 0>>, PairW<Opt<O, "dilation", 1>>, Opt<O, "ceilMode", false>, Op> extends infer Wo
        ? Wo extends Err<string> ? Wo : [...Lead, C, Ho & number, Wo & number]
        : never
    : never;

/**
 * Output shape of `maxPool2d(x, kernelSize, stride, opts)` / `avgPool2d(...)` (`Op` names the op in
 * messages): `[N, C, Ho, Wo]` (or unbatched `[C, Ho, Wo]`) with `Ho = PoolOutSize<H, kH, sH, pH,
 * dH, ceilMode>`; an `Err` for a wrong rank or a window that does not fit.
 *
 * @example
 * type S = Pool2dShape<[8, 16, 26, 26], 2, 2>; // [8, 16, 13, 13]
 */
export type Pool2dShape<X extends Shape, K, St = K, O = {}, Op extends string = "maxPool2d"> =
  number extends X["length"]
    ? number[]
    : X extends readonly [infer N extends number, infer C extends number, infer H extends number, infer W extends number]
      ? PoolBody<[N], C, H, W, K, St, O, Op>
      : X extends readonly [infer C extends number, infer H extends number, infer W extends number]
        ? PoolBody<[], C, H, W, K, St, O, Op>
        : Err<ImageRankMsg<Op, ShapeStr<X>>>;

/** The size `adaptiveAvgPool2d` is asked for: one int, or `[h, w]` where `null` keeps the input's. */
export type AdaptiveSize = number | readonly [number | null, number | null];
type AdaptSide<P, H extends number> = P extends null ? H : P & number;

/**
 * Output shape of `adaptiveAvgPool2d(x, outputSize)`: `[N, C, oH, oW]` (or unbatched).
 *
 * @example
 * type S = AdaptiveAvgPool2dShape<[8, 512, 7, 9], 1>; // [8, 512, 1, 1]
 */
export type AdaptiveAvgPool2dShape<X extends Shape, P> =
  number extends X["length"]
    ? number[]
    : X extends readonly [infer N extends number, infer C extends number, infer H extends number, infer W extends number]
      ? [N, C, AdaptSide<PairLike<P, 0>, H>, AdaptSide<PairLike<P, 1>, W>]
      : X extends readonly [infer C extends number, infer H extends number, infer W extends number]
        ? [C, AdaptSide<PairLike<P, 0>, H>, AdaptSide<PairLike<P, 1>, W>]
        : Err<ImageRankMsg<"adaptiveAvgPool2d", ShapeStr<X>>>;
type PairLike<P, I extends 0 | 1> = P extends readonly [unknown, unknown] ? P[I] : P extends number ? P : number;

/** The runtime plan of a pooling op. */
export interface PoolPlan {
  batched: boolean;
  N: number; C: number; H: number; W: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  Ho: number; Wo: number;
  out: number[];
}

function imageDims(op: string, x: readonly number[]): { batched: boolean; N: number; C: number; H: number; W: number } {
  if (x.length !== 4 && x.length !== 3) throw new ShapeError(imageRankMsg(op, shapeStr(x)));
  const batched = x.length === 4;
  const [N, C, H, W] = (batched ? x : [1, ...x]) as [number, number, number, number];
  return { batched, N, C, H, W };
}

/**
 * Runtime twin of {@link Pool2dShape}: the plan of a pooling op (`op` names it in messages).
 *
 * @example
 * pool2dPlan("maxPool2d", [8, 16, 26, 26], 2, undefined, {}).out; // [8, 16, 13, 13]
 */
export function pool2dPlan(op: string, x: readonly number[], kernelSize: unknown, stride: unknown, opts: { padding?: unknown; dilation?: unknown; ceilMode?: boolean }): PoolPlan {
  const { batched, N, C, H, W } = imageDims(op, x);
  const [kh, kw] = pairArg(op, "kernel size", kernelSize, 1);
  // As PyTorch: no stride (or an empty one) means stride = kernel size.
  const noStride = stride === undefined || stride === null || (Array.isArray(stride) && stride.length === 0);
  const [sh, sw] = noStride ? [kh, kw] : pairArg(op, "stride", stride, 1);
  const [ph, pw] = pairArg(op, "padding", opts.padding ?? 0, 0);
  const [dh, dw] = pairArg(op, "dilation", opts.dilation ?? 1, 1);
  if (ph > kh / 2 || pw > kw / 2) {
    throw new ValueError(`${op}: padding must be at most half the kernel size, got padding [${ph}, ${pw}] for kernel [${kh}, ${kw}]`);
  }
  const ceil = opts.ceilMode ?? false;
  const Ho = poolOutSize(H, kh, sh, ph, dh, ceil, op);
  const Wo = poolOutSize(W, kw, sw, pw, dw, ceil, op);
  return { batched, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, out: batched ? [N, C, Ho, Wo] : [C, Ho, Wo] };
}

function requireFloat(op: string, x: AnyTensor): void {
  if (x.dtype !== "float32" && x.dtype !== "float64") throw new DTypeError(`${op}: input must be float32 or float64, got dtype ${x.dtype}`);
}

// ---------------------------------------------------------------------------------------------
// max pooling
// ---------------------------------------------------------------------------------------------

/**
 * maxPool2d: the max of each (dilated, padded) window, and its flat index into the `H·W` plane of
 * the input (int64, as PyTorch's `return_indices`). NaN propagates; padding never wins. Backward:
 * {@link maxUnpool2dAdd} of the gradient at the indices. JS kernel `maxPoolSource` (eager CPU:
 * its unrolled twin `maxPoolInsideSource` when every window lies inside the image, and
 * `maxUnpoolAddSource` for the adjoint; same results); the WGSL builder `maxPoolWgsl` comes
 * with the WebGPU backend.
 */
export const maxPool2d: KernelOpDef = {
  kind: "kernel",
  name: "maxPool2d",
  gradName: "MaxPool2DWithIndicesBackward0",
  js: "maxPoolSource",
  wgsl: "maxPoolWgsl",
  backward: (g, [x], _out, [indices, plan]) => [maxUnpoolAddOp(g, indices as AnyTensor, plan as PoolPlan).reshape(x!.shape)],
};

/**
 * maxUnpool2dAdd: the adjoint of max pooling — a zero image `[N, C, H, W]` with each gradient
 * entry added at its index in the plane. Backward: a gather at the same indices. JS kernel
 * `maxUnpoolAddSource`; the WGSL builder `maxUnpoolAddWgsl` comes with the WebGPU backend.
 */
export const maxUnpool2dAdd: KernelOpDef = {
  kind: "kernel",
  name: "maxUnpool2dAdd",
  gradName: "MaxUnpool2DAddBackward0",
  js: "maxUnpoolAddSource",
  wgsl: "maxUnpoolAddWgsl",
  backward: (g, [src], _out, [indices, plan]) => {
    const p = plan as PoolPlan;
    const planes = p.N * p.C;
    const gi = g.reshape([planes, p.H * p.W]).gather(1, (indices as AnyTensor).reshape([planes, p.Ho * p.Wo]) as never);
    return [gi.reshape(src!.shape)];
  },
};

/** `maxPool2d(x, kernelSize, stride, opts)` at run time: `[values, indices]`. */
export function maxPool2dOp(x: AnyTensor, kernelSize: Pair, stride: Pair | null | undefined, opts: MaxPool2dOptions = {}): [AnyTensor, AnyTensor] {
  requireFloat("maxPool2d", x);
  const p = pool2dPlan("maxPool2d", x.shape, kernelSize, stride, opts);
  // The CPU kernels write every value and index.
  const cpuDev = x.device === "cpu";
  const out = cpuDev ? emptyOutput(p.out, x.dtype) : Tensor._empty(p.out, x.dtype, x.device);
  const idx = cpuDev ? emptyOutput(p.out, "int64") : Tensor._empty(p.out, "int64", x.device);
  const [sn, sc, sh, sw] = imageStrides(x);
  if (x.device !== "cpu") deviceMaxPool(out, idx, x, p);
  else if (pool2InWasm(x, p)) {
    // MaxPool2d(2) of a contiguous float32 image: the WASM kernel (the JS kernel's values and
    // indices) on a copy in the arena; its float32 indices are exact below 2^24 pixels a plane
    const n = out.numel();
    wasm.reset();
    const pX = wasm.place(x._data as Float32Array, x._offset, x._offset + x.numel());
    const pO = wasm.reserve(n);
    const pI = wasm.reserve(n);
    maxPool2Launch(pO, pI, pX, p.N * p.C, p.H, p.W, p.Ho, p.Wo, EAGER_SPLIT);
    (out._data as Float32Array).set(wasm.f32.subarray(pO >> 2, (pO >> 2) + n));
    (idx._data as Float64Array).set(wasm.f32.subarray(pI >> 2, (pI >> 2) + n));
  } else {
    const args = [out._data, idx._data, x._data, x._offset, sn, sc, sh, sw, p.N, p.C, p.H, p.W, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.Ho, p.Wo];
    const k = maxPoolKernelFor(p);
    cpu.run(k.key, k.source, args);
  }
  if (needsGrad([x])) record(out, maxPool2d.gradName, [x], (g) => maxPool2d.backward!(g, [x], out, [idx, p]));
  return [out, idx];
}

// Whether eager max pooling runs the WASM 2×2 kernel: float32, contiguous, 2×2 windows at stride
// 2 inside the image, planes under 2^24 pixels, and enough work to pay for the copies.
function pool2InWasm(x: AnyTensor, p: PoolPlan): boolean {
  return x.dtype === "float32" && wasm.available && p.kh === 2 && p.kw === 2 && p.sh === 2 && p.sw === 2 && p.dh === 1 && p.dw === 1 &&
    windowsInside(p) && x.isContiguous() && p.H * p.W <= 1 << 24 && x.numel() >= 1 << 14;
}

/**
 * The max-pooling kernel for a geometry (eager's, and the compiler's for its fused programs): the
 * unrolled `maxPoolInsideSource` when every window lies inside the image and is small
 * (MaxPool2d(2) on an even size), else the general `maxPoolSource`; same values and indices.
 *
 * @example
 * const { key, source } = maxPoolKernelFor(plan); cpu.run(key, source, args);
 */
export function maxPoolKernelFor(p: PoolGeometry): { key: string; source: () => string } {
  if (windowsInside(p) && p.kh * p.kw <= 16) return { key: `pool:max:${p.kh}x${p.kw}`, source: () => maxPoolInsideSource(p.kh, p.kw) };
  return { key: "pool:max", source: maxPoolSource };
}

/** The fields of a pooling geometry that decide its kernel. */
type PoolGeometry = Pick<PoolPlan, "H" | "W" | "kh" | "kw" | "sh" | "sw" | "ph" | "pw" | "dh" | "dw" | "Ho" | "Wo">;

/** Whether every pooling window lies inside the image: no padding, the last window ends in it. */
export function windowsInside(p: PoolGeometry): boolean {
  return p.ph === 0 && p.pw === 0 && (p.Ho - 1) * p.sh + (p.kh - 1) * p.dh < p.H && (p.Wo - 1) * p.sw + (p.kw - 1) * p.dw < p.W;
}

/** Runs {@link maxUnpool2dAdd}: gradient `[N, C, Ho, Wo]` (any layout) → `[N, C, H, W]`. */
export function maxUnpoolAddOp(g: AnyTensor, indices: AnyTensor, p: PoolPlan): AnyTensor {
  const gc = noGrad(() => g.contiguous());
  const out = Tensor._empty([p.N, p.C, p.H, p.W], g.dtype, g.device);
  if (g.device !== "cpu") deviceMaxUnpoolAdd(out, gc, indices, p);
  else cpu.run("pool:unmax", maxUnpoolAddSource, [out._data, gc._data, gc._offset, indices._data, p.N * p.C, p.H * p.W, p.Ho * p.Wo]);
  if (needsGrad([g])) record(out, maxUnpool2dAdd.gradName, [g], (gg) => maxUnpool2dAdd.backward!(gg, [g], out, [indices, p]));
  return out;
}

// ---------------------------------------------------------------------------------------------
// window averaging: avgPool2d, adaptiveAvgPool2d
// ---------------------------------------------------------------------------------------------

/** Rectangular windows of an averaging op: rows `[hs, he)` per output row, columns per column, divisors. */
export interface Windows {
  N: number; C: number; H: number; W: number; Ho: number; Wo: number;
  hs: Int32Array; he: Int32Array; ws: Int32Array; we: Int32Array;
  dv: Float64Array;
}

/**
 * avgPool2d (and adaptiveAvgPool2d, with other windows): each output is the sum of its window
 * divided by the window's divisor. Backward: {@link avgPool2dAdjoint}. JS kernel
 * `windowAvgSource(false)`; the WGSL builder `windowAvgWgsl` comes with the WebGPU backend.
 */
export const avgPool2d: KernelOpDef = {
  kind: "kernel",
  name: "avgPool2d",
  gradName: "AvgPool2DBackward0",
  js: "windowAvgSource",
  wgsl: "windowAvgWgsl",
  backward: (g, [x], _out, [win]) => [windowAvgAdjointOp(g, win as Windows).reshape(x!.shape)],
};

/**
 * The adjoint of window averaging: spreads `g / divisor` over each window of a zero image.
 * Backward: window averaging again. JS kernel `windowAvgSource(true)`; the WGSL builder
 * `windowAvgAdjointWgsl` comes with the WebGPU backend.
 */
export const avgPool2dAdjoint: KernelOpDef = {
  kind: "kernel",
  name: "avgPool2dAdjoint",
  gradName: "AvgPool2DAdjointBackward0",
  js: "windowAvgSource",
  wgsl: "windowAvgAdjointWgsl",
  backward: (g, [src], _out, [win]) => [windowAvgOp(g, win as Windows, avgPool2d.gradName).reshape(src!.shape)],
};

/** Window averaging of `x` (`[N, C, H, W]` or `[C, H, W]`) into `[N, C, Ho, Wo]`, recorded as `gradName`. */
export function windowAvgOp(x: AnyTensor, win: Windows, gradName: string, outShape: readonly number[] = [win.N, win.C, win.Ho, win.Wo]): AnyTensor {
  const out = Tensor._empty(outShape, x.dtype, x.device);
  const [sn, sc, sh, sw] = imageStrides(x);
  if (x.device !== "cpu") deviceWindowAvg(out, x, win);
  else cpu.run("pool:avg", () => windowAvgSource(false), [out._data, x._data, x._offset, sn, sc, sh, sw, win.N, win.C, win.Ho, win.Wo, win.hs, win.he, win.ws, win.we, win.dv]);
  if (needsGrad([x])) record(out, gradName, [x], (g) => avgPool2d.backward!(g, [x], out, [win]));
  return out;
}

/** The adjoint of {@link windowAvgOp}: gradient `[N, C, Ho, Wo]` → `[N, C, H, W]`. */
export function windowAvgAdjointOp(g: AnyTensor, win: Windows): AnyTensor {
  const gc = noGrad(() => g.contiguous());
  const out = Tensor._empty([win.N, win.C, win.H, win.W], g.dtype, g.device);
  if (g.device !== "cpu") deviceWindowAvgAdjoint(out, gc, win);
  else cpu.run("pool:avgT", () => windowAvgSource(true), [out._data, gc._data, gc._offset, win.N, win.C, win.H, win.W, win.Ho, win.Wo, win.hs, win.he, win.ws, win.we, win.dv]);
  if (needsGrad([g])) record(out, avgPool2dAdjoint.gradName, [g], (gg) => avgPool2dAdjoint.backward!(gg, [g], out, [win]));
  return out;
}

// PyTorch's avg_pool2d window along one dim: [start, end) clipped to the input, and the size
// counted with padding (the window clipped to input + padding).
function avgAxis(n: number, k: number, s: number, p: number, on: number): { lo: Int32Array; hi: Int32Array; padded: Int32Array } {
  const lo = new Int32Array(on);
  const hi = new Int32Array(on);
  const padded = new Int32Array(on);
  for (let o = 0; o < on; o++) {
    const a = o * s - p;
    const b = Math.min(a + k, n + p);
    padded[o] = b - a;
    lo[o] = Math.max(a, 0);
    hi[o] = Math.max(Math.min(b, n), lo[o]!);
  }
  return { lo, hi, padded };
}

/** `avgPool2d(x, kernelSize, stride, opts)` at run time. */
export function avgPool2dOp(x: AnyTensor, kernelSize: Pair, stride: Pair | null | undefined, opts: AvgPool2dOptions = {}): AnyTensor {
  requireFloat("avgPool2d", x);
  if ((opts as { dilation?: unknown }).dilation !== undefined) throw new ValueError("avgPool2d: there is no dilation option (PyTorch's avg_pool2d has none), got dilation");
  const p = pool2dPlan("avgPool2d", x.shape, kernelSize, stride, opts);
  const div = opts.divisorOverride ?? null;
  if (div !== null && (!Number.isInteger(div) || div === 0)) throw new ValueError(`avgPool2d: divisorOverride must be a non-zero integer, got ${div}`);
  const rows = avgAxis(p.H, p.kh, p.sh, p.ph, p.Ho);
  const cols = avgAxis(p.W, p.kw, p.sw, p.pw, p.Wo);
  const include = opts.countIncludePad ?? true;
  const dv = new Float64Array(p.Ho * p.Wo);
  for (let i = 0; i < p.Ho; i++) {
    for (let j = 0; j < p.Wo; j++) {
      const inside = (rows.hi[i]! - rows.lo[i]!) * (cols.hi[j]! - cols.lo[j]!);
      // An empty window (only padding, possible with ceilMode) averages to 0, as PyTorch's.
      dv[i * p.Wo + j] = inside === 0 ? 1 : div !== null ? div : include ? rows.padded[i]! * cols.padded[j]! : inside;
    }
  }
  const win: Windows = { N: p.N, C: p.C, H: p.H, W: p.W, Ho: p.Ho, Wo: p.Wo, hs: rows.lo, he: rows.hi, ws: cols.lo, we: cols.hi, dv };
  return windowAvgOp(x, win, avgPool2d.gradName, p.out);
}

/** `adaptiveAvgPool2d(x, outputSize)` at run time: PyTorch's windows `[⌊o·H/oH⌋, ⌈(o+1)·H/oH⌉)`. */
export function adaptiveAvgPool2dOp(x: AnyTensor, outputSize: AdaptiveSize): AnyTensor {
  requireFloat("adaptiveAvgPool2d", x);
  const { batched, N, C, H, W } = imageDims("adaptiveAvgPool2d", x.shape);
  const sz = typeof outputSize === "number" ? [outputSize, outputSize] : Array.isArray(outputSize) && outputSize.length === 2 ? outputSize : undefined;
  const [Ho, Wo] = (sz ?? []).map((v, i) => (v === null ? (i === 0 ? H : W) : v));
  if (Ho === undefined || Wo === undefined || ![Ho, Wo].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ValueError(`adaptiveAvgPool2d: outputSize must be a positive integer or a pair of them (null keeps the input size), got ${JSON.stringify(outputSize)}`);
  }
  if (H === 0 || W === 0) throw new ShapeError(`adaptiveAvgPool2d: input must have non-empty H and W, got ${shapeStr(x.shape)}`);
  const axis = (n: number, on: number) => {
    const lo = new Int32Array(on);
    const hi = new Int32Array(on);
    for (let o = 0; o < on; o++) {
      lo[o] = Math.floor((o * n) / on);
      hi[o] = Math.ceil(((o + 1) * n) / on);
    }
    return { lo, hi };
  };
  const r = axis(H, Ho);
  const c = axis(W, Wo);
  const dv = new Float64Array(Ho * Wo);
  for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) dv[i * Wo + j] = (r.hi[i]! - r.lo[i]!) * (c.hi[j]! - c.lo[j]!);
  const win: Windows = { N, C, H, W, Ho, Wo, hs: r.lo, he: r.hi, ws: c.lo, we: c.hi, dv };
  return windowAvgOp(x, win, "AdaptiveAvgPool2DBackward0", batched ? [N, C, Ho, Wo] : [C, Ho, Wo]);
}
