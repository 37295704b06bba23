/**
 * The device side of the ops: what each op family hands the WebGPU backend — its kernel text
 * from `runtime/codegen/wgsl.ts` (built from the op entry's `wgsl` facet), its storages and
 * packed parameter words. The op functions in this folder call these where the tensors live on
 * a device, in place of their `cpu.run(...)` line; shapes, dtypes, views and autograd stay
 * shared, so every op is still defined once.
 */
import type { AnyTensor } from "../tensorTypes.js";
import { DeviceError, DTypeError, IndexError } from "../../types/errors.js";
import type { Device, DeviceKernel, DeviceStorage } from "../backend/Backend.js";
import { webgpuBackend } from "../backend/webgpu.js";
import { inputNames } from "../codegen/js.js";
import * as W from "../codegen/wgslOps.js";
import { type DType, isFloating } from "../dtype.js";
import { Tensor } from "../Tensor.js";
import type { ElementwiseOpDef, ReduceOpDef } from "./defineOp.js";

/**
 * The device all tensors of an op live on (`into`, the in-place target, first); a DeviceError
 * naming both devices when they differ.
 *
 * @example
 * deviceOf("add", [a, b]); // "cpu"
 */
export function deviceOf(op: string, ts: readonly (AnyTensor | null | undefined)[], into?: AnyTensor): Device {
  let first = into;
  // The first device tensor decides; 0-d CPU tensors may join it (PyTorch's "CPU scalars").
  if (!first) for (const t of ts) if (t && (!first || (first.device === "cpu" && t.device !== "cpu"))) first = t;
  if (!first) return "cpu";
  const d = first.device;
  for (const t of ts) if (t && t.device !== d && !(t.device === "cpu" && t.ndim === 0)) Tensor._deviceMismatch(op, first, t);
  return d;
}

/**
 * The WGSL type of `dtype` for op `op`, or a DTypeError naming the op (float64 has none).
 *
 * @example
 * gpuType("matmul", "float32"); // "f32"
 */
export function gpuType(op: string, dtype: DType): W.WgslScalar {
  if (dtype === "float64") throw new DTypeError(`${op}: dtype must be float32, int32, int64 or bool on webgpu, got float64 (convert with x.float() first)`);
  return W.wgslType(dtype);
}

function storage(t: AnyTensor): DeviceStorage {
  const s = t._gpu;
  if (!s) throw new DeviceError(`webgpu: a webgpu tensor was expected, got one on ${t.device}`);
  return s;
}

// A 1-D grid of WORKGROUP-wide groups covering n invocations, folded into 2-D past 65,535.
function grid1(n: number, per = W.WORKGROUP): [number, number, number] {
  const g = Math.ceil(n / per);
  return g <= 65535 ? [g, 1, 1] : [65535, Math.ceil(g / 65535), 1];
}

function kernel(label: string, source: string, writes: readonly boolean[], err = false): DeviceKernel {
  return { label, source, writes, err };
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Runs an elementwise op on the device: `out` (fresh or the in-place target) from `inputs` over
 * the coalesced shape `c` (strides: out's first, then each input's).
 */
export function deviceElementwise(def: ElementwiseOpDef, given: readonly AnyTensor[], scalars: readonly unknown[], promoted: DType, out: AnyTensor, c: { shape: number[]; strides: number[][] }): void {
  const op = def.name;
  const inputs = given.map((t) => (t.device === out.device ? t : t._toDevice(out.device)));
  const outT = gpuType(op, out.dtype);
  // Ops whose result is float take integer operands as floats (exp, div, ...).
  const ctD: DType = isFloating(out.dtype) && !isFloating(promoted) ? out.dtype : promoted;
  const ct = gpuType(op, ctD);
  const operands = inputs.map((t) => ({ type: gpuType(op, t.dtype), aliasOut: t._gpu === out._gpu }));
  const names = [...inputNames(inputs.length), ...scalars.map((_, k) => `p${k}`)];
  const expr = def.wgsl(names, ctD);
  const scalarTypes = scalars.map((v) => (typeof v === "number" || typeof v === "boolean" ? ct : undefined));
  const rank = c.shape.length;
  const src = W.elementwiseWgsl(expr, { out: outT, ct, inputs: operands, rank, scalars: scalarTypes });
  const n = prod(c.shape);
  const words: number[] = [n, out._offset, ...inputs.map((t) => t._offset), ...c.shape, ...c.strides.flat()];
  for (const v of scalars) words.push(typeof v === "number" || typeof v === "boolean" ? W.paramWord(+v, ct) : 0);
  const storages = [storage(out), ...inputs.filter((_, k) => !operands[k]!.aliasOut).map(storage)];
  webgpuBackend().run(kernel(op, src, W.elementwiseSpec(operands).writes), storages, words.map((w) => w >>> 0), grid1(n));
}

/** Runs a reduction on the device (same plan as the CPU's: coalesced outer and inner dims). */
export function deviceReduce(def: ReduceOpDef, x: AnyTensor, out: AnyTensor, idx: AnyTensor | undefined, outer: { shape: number[]; strides: number[][] }, innerShape: readonly number[], innerStrides: readonly number[]): void {
  const t = def.wgsl(x.dtype);
  const xT = gpuType(def.name, x.dtype);
  const outT = gpuType(def.name, out.dtype);
  const nOut = out.numel();
  if (nOut === 0) return;
  const is = innerShape.map((_, i) => innerStrides[i] ?? 0);
  const words = [nOut, x._offset, prod(innerShape), ...outer.shape, ...outer.strides[0]!, ...innerShape, ...is];
  const src = W.reduceWgsl(t, { x: xT, out: outT, outer: outer.shape.length, inner: innerShape.length });
  const storages = idx ? [storage(out), storage(idx), storage(x)] : [storage(out), storage(x)];
  const writes = idx ? [true, true, false] : [true, false];
  webgpuBackend().run(kernel(def.name, src, writes), storages, words.map((w) => w >>> 0), grid1(nOut, 1));
}

/**
 * Runs the tiled matmul on the device: `out [batch…, m, n]` from contiguous `a2`, `b2` whose
 * batch dims broadcast with strides `as`, `bs` (as the CPU loop reads them).
 */
export function deviceMatmul(out: AnyTensor, a2: AnyTensor, b2: AnyTensor, as: readonly number[], bs: readonly number[], batch: readonly number[], m: number, k: number, n: number): void {
  const t = gpuType("matmul", out.dtype);
  const nb = prod(batch);
  if (nb === 0 || m === 0 || n === 0) return;
  const words = [m, k, n, a2._offset, b2._offset];
  batch.forEach((s, d) => words.push(s, as[d]!, bs[d]!));
  webgpuBackend().run(kernel("matmul", W.matmulWgsl(t, batch.length), [true, false, false]), [storage(out), storage(a2), storage(b2)], words, [Math.ceil(n / 16), Math.ceil(m / 16), nb]);
}

/** `out[a, t, c] = x[a, index[t], c]` on the device (`report` builds the error for a bad index). */
export function deviceIndexSelect(out: AnyTensor, xc: AnyTensor, ic: AnyTensor, size: number, post: number, report: (v: number) => Error): void {
  const total = out.numel();
  const words = [total, size, post, ic.numel(), xc._offset, ic._offset];
  webgpuBackend().run(kernel("indexSelect", W.indexSelectWgsl(gpuType("indexSelect", out.dtype)), [true, false, false], true), [storage(out), storage(xc), storage(ic)], words, grid1(total), report);
}

/** indexSelect's adjoint on the device: `gx[a, j, c] = Σ_{t: index[t] = j} g[a, t, c]`. */
export function deviceIndexAdd(gx: AnyTensor, gc: AnyTensor, ic: AnyTensor, size: number, post: number): void {
  const total = gx.numel();
  const words = [total, size, post, ic.numel(), gc._offset, ic._offset];
  webgpuBackend().run(kernel("indexAdd", W.indexAddWgsl(gpuType("indexAdd", gx.dtype)), [true, false, false]), [storage(gx), storage(gc), storage(ic)], words, grid1(total));
}

/** gather on the device over contiguous `[pre, xSize, post]` / `[pre, iSize, post]` operands. */
export function deviceGather(out: AnyTensor, xv: AnyTensor, ic: AnyTensor, iSize: number, xSize: number, post: number, report: (v: number) => Error): void {
  const total = out.numel();
  const words = [total, iSize, xSize, post, xv._offset, ic._offset];
  webgpuBackend().run(kernel("gather", W.gatherWgsl(gpuType("gather", out.dtype)), [true, false, false], true), [storage(out), storage(xv), storage(ic)], words, grid1(total), report);
}

/** scatterAdd on the device into the contiguous region `[pre, xSize, post]` (in place). */
export function deviceScatterAdd(region: AnyTensor, sc: AnyTensor, ic: AnyTensor, iSize: number, xSize: number, post: number, report: (v: number) => Error): void {
  const total = region.numel();
  const words = [total, iSize, xSize, post, sc._offset, ic._offset];
  webgpuBackend().run(kernel("scatterAdd", W.scatterAddWgsl(gpuType("scatterAdd", region.dtype)), [true, false, false], true), [storage(region), storage(sc), storage(ic)], words, grid1(total), report);
}

/** An image tensor's four strides (`[N, C, H, W]`, N's 0 when unbatched). */
function imageWords(x: AnyTensor): number[] {
  const s = x._strides;
  return [x._offset, ...(x.ndim === 4 ? [s[0]!, s[1]!, s[2]!, s[3]!] : [0, s[0]!, s[1]!, s[2]!])];
}

const u32s = (w: readonly number[]) => w.map((v) => v >>> 0);

/** im2col on the device (see `codegen/wgsl.ts`). */
export function deviceIm2col(out: AnyTensor, x: AnyTensor, p: W.ImageGeom): void {
  const total = out.numel();
  webgpuBackend().run(kernel("im2col", W.im2colWgsl(gpuType("im2col", x.dtype)), [true, false]), [storage(out), storage(x)], u32s([total, ...W.geomWords(p), ...imageWords(x)]), grid1(total));
}

/** col2im on the device into the contiguous image `out`. */
export function deviceCol2im(out: AnyTensor, cols: AnyTensor, p: W.ImageGeom): void {
  const total = out.numel();
  webgpuBackend().run(kernel("col2im", W.col2imWgsl(gpuType("col2im", out.dtype)), [true, false]), [storage(out), storage(cols)], u32s([total, ...W.geomWords(p), cols._offset]), grid1(total));
}

/** conv2d on the device: a direct convolution (groups, bias) into the contiguous `out`. */
export function deviceConv2d(out: AnyTensor, x: AnyTensor, wc: AnyTensor, bias: AnyTensor | null | undefined, p: W.ImageGeom & { O: number; Og: number; G: number }): void {
  const total = out.numel();
  const geom = { ...p, C: p.C / p.G };
  const words = [total, ...W.geomWords(geom), ...imageWords(x), p.O, p.Og, wc._offset, bias ? bias._offset : 0, bias ? bias._strides[0]! : 0];
  const storages = bias ? [storage(out), storage(x), storage(wc), storage(bias)] : [storage(out), storage(x), storage(wc)];
  webgpuBackend().run(kernel("conv2d", W.conv2dWgsl(gpuType("conv2d", x.dtype), !!bias), bias ? [true, false, false, false] : [true, false, false]), storages, u32s(words), grid1(total));
}

/** Max pooling with indices on the device. */
export function deviceMaxPool(out: AnyTensor, idx: AnyTensor, x: AnyTensor, p: W.ImageGeom): void {
  const total = out.numel();
  webgpuBackend().run(kernel("maxPool2d", W.maxPoolWgsl(gpuType("maxPool2d", x.dtype)), [true, true, false]), [storage(out), storage(idx), storage(x)], u32s([total, ...W.geomWords(p), ...imageWords(x)]), grid1(total));
}

/** Max pooling's adjoint on the device into the contiguous image `out`. */
export function deviceMaxUnpoolAdd(out: AnyTensor, gc: AnyTensor, indices: AnyTensor, p: W.ImageGeom): void {
  const total = out.numel();
  const ic = indices.contiguous();
  webgpuBackend().run(kernel("maxUnpool2dAdd", W.maxUnpoolAddWgsl(gpuType("maxUnpool2dAdd", out.dtype)), [true, false, false]), [storage(out), storage(gc), storage(ic)], u32s([total, ...W.geomWords(p), gc._offset]), grid1(total));
}

/** The rectangular windows of an averaging op, as the kernels read them. */
export interface WindowArrays {
  N: number; C: number; H: number; W: number; Ho: number; Wo: number;
  hs: Int32Array; he: Int32Array; ws: Int32Array; we: Int32Array; dv: Float64Array;
}

function windowStorages(win: WindowArrays): [DeviceStorage, DeviceStorage] {
  const be = webgpuBackend();
  const w = new Float64Array(2 * win.Ho + 2 * win.Wo);
  w.set(win.hs, 0);
  w.set(win.he, win.Ho);
  w.set(win.ws, 2 * win.Ho);
  w.set(win.we, 2 * win.Ho + win.Wo);
  return [be.upload("int32", Int32Array.from(w)), be.upload("float32", Float32Array.from(win.dv))];
}

/** Window averaging on the device (avg / adaptive avg pooling). */
export function deviceWindowAvg(out: AnyTensor, x: AnyTensor, win: WindowArrays): void {
  const total = out.numel();
  const [ws, dv] = windowStorages(win);
  const words = [total, win.N, win.C, win.H, win.W, win.Ho, win.Wo, ...imageWords(x)];
  webgpuBackend().run(kernel("avgPool2d", W.windowAvgWgsl(gpuType("avgPool2d", x.dtype)), [true, false, false, false]), [storage(out), storage(x), ws, dv], u32s(words), grid1(total));
}

/** Window averaging's adjoint on the device into the contiguous image `out`. */
export function deviceWindowAvgAdjoint(out: AnyTensor, gc: AnyTensor, win: WindowArrays): void {
  const total = out.numel();
  const [ws, dv] = windowStorages(win);
  const words = [total, win.N, win.C, win.H, win.W, win.Ho, win.Wo, gc._offset];
  webgpuBackend().run(kernel("avgPool2dAdjoint", W.windowAvgAdjointWgsl(gpuType("avgPool2dAdjoint", out.dtype)), [true, false, false, false]), [storage(out), storage(gc), ws, dv], u32s(words), grid1(total));
}

/** An IndexError for a bad index a kernel reported, read back later. */
export function deferredIndexError(make: (v: number) => never): (v: number) => Error {
  return (v) => {
    try {
      make(v);
    } catch (e) {
      if (e instanceof IndexError) return new IndexError(`${e.message} (reported by the webgpu kernel at readback)`);
      return e as Error;
    }
    return new IndexError(`index out of range, got ${v}`);
  };
}
