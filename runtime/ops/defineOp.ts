import type { AnyTensor } from "../tensorTypes.js";
import { broadcastShapes } from "../../types/broadcast.js";
import { DTypeError } from "../../types/errors.js";
import { anomaly, checkForward } from "../anomaly.js";
import { needsGrad, record } from "../autograd.js";
import { cpu } from "../backend/cpu.js";
import { coalesce, elementwiseSource, inputNames, type ReduceTemplate, reduceSource } from "../codegen/js.js";
import type { DType } from "../dtype.js";
import { Tensor } from "../Tensor.js";
import { deviceElementwise, deviceOf, deviceReduce, gpuType } from "./device.js";

/** Backward of an op: gradient of the output → gradients of the inputs (null: not needed). */
export type Backward = (grad: AnyTensor, inputs: readonly AnyTensor[], out: AnyTensor, params: readonly any[]) => readonly (AnyTensor | null)[];

/** Expression template: input variable names (`a`, `b`, ... or `p0` for a scalar) → code. */
export type ExprTemplate = (x: readonly string[], dtype: DType) => string;

/**
 * An elementwise op's one entry: how its result dtype follows from its inputs, its JS and WGSL
 * expressions, and its backward in Tensor ops (`null` for ops with no gradient, like comparisons).
 */
export interface ElementwiseOpDef {
  readonly kind: "elementwise";
  readonly name: string;
  readonly arity: 0 | 1 | 2 | 3;
  /** PyTorch's grad_fn name, e.g. "AddBackward0". */
  readonly gradName: string;
  /** Result dtype from the promoted input dtype. */
  readonly dtype: (promoted: DType) => DType;
  /**
   * Operands this op rejects (PyTorch does, too), with the reason: by the promoted dtype, or by
   * the operands themselves (tensors, and the JS scalar of a tensor-scalar op where known).
   */
  readonly rejects?: (promoted: DType, operands: readonly (AnyTensor | number | boolean)[]) => string | undefined;
  readonly js: ExprTemplate;
  readonly wgsl: ExprTemplate;
  readonly backward: Backward | null;
}

/** A reduction's one entry: fold templates for JS and WGSL, result dtype, backward. */
export interface ReduceOpDef {
  readonly kind: "reduce";
  readonly name: string;
  readonly gradName: string;
  readonly dtype: (input: DType) => DType;
  readonly rejects?: (input: DType) => string | undefined;
  readonly js: (dtype: DType) => ReduceTemplate;
  readonly wgsl: (dtype: DType) => ReduceTemplate;
  readonly backward: Backward | null;
}

/** Ops whose kernels are builders of their own (matmul, gather, cat ...). */
export interface KernelOpDef {
  readonly kind: "kernel";
  readonly name: string;
  readonly gradName: string;
  /** Names the JS and WGSL kernel builders in `runtime/codegen`. */
  readonly js: string;
  readonly wgsl: string;
  readonly backward: Backward | null;
}

/** Ops that only make a new view of the same storage (reshape, permute, expand, slice ...). */
export interface ViewOpDef {
  readonly kind: "view";
  readonly name: string;
  readonly gradName: string;
  readonly backward: Backward;
}

/** Every op's facts in one place: see DESIGN.md §3. */
export type OpDef = ElementwiseOpDef | ReduceOpDef | KernelOpDef | ViewOpDef;

/** Declares an elementwise op. */
export function elementwiseOp(def: Omit<ElementwiseOpDef, "kind">): ElementwiseOpDef {
  return { kind: "elementwise", ...def };
}

/** Declares a reduction. */
export function reduceOp(def: Omit<ReduceOpDef, "kind">): ReduceOpDef {
  return { kind: "reduce", ...def };
}

/** The input strides that read `t` broadcast to `shape` (0 where a dim is broadcast). */
export function broadcastStrides(t: AnyTensor, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(0);
  const off = shape.length - t.ndim;
  for (let i = 0; i < t.ndim; i++) out[off + i] = t.shape[i] === 1 && shape[off + i] !== 1 ? 0 : t._strides[i]!;
  return out;
}

/** Contiguous (row-major) strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/**
 * Runs an elementwise op over tensors (broadcast together) and scalar params, writing into `into`
 * (an existing strided view, for in-place ops) or a fresh contiguous tensor of dtype `outDtype`.
 */
export function runElementwise(
  def: ElementwiseOpDef,
  inputs: readonly AnyTensor[],
  scalars: readonly unknown[],
  promoted: DType,
  into?: AnyTensor,
): AnyTensor {
  const reason = def.rejects?.(promoted, inputs);
  if (reason) throw new DTypeError(`${def.name}: ${reason}`);
  let shape: number[] = inputs.length > 0 ? [...inputs[0]!.shape] : [];
  for (let i = 1; i < inputs.length; i++) shape = broadcastShapes(def.name, shape, inputs[i]!.shape);
  const outDtype = def.dtype(promoted);
  const device = deviceOf(def.name, inputs, into);
  let out: AnyTensor;
  if (into) {
    broadcastShapes(def.name, into.shape, shape);
    shape = [...into.shape];
    out = into;
  } else out = Tensor._empty(shape, device === "cpu" ? outDtype : (gpuType(def.name, outDtype), outDtype), device);
  const strides = [out._strides, ...inputs.map((t) => broadcastStrides(t, shape))];
  const c = coalesce(shape, strides);
  const rank = c.shape.length;
  const names = [...inputNames(inputs.length), ...scalars.map((_, k) => `p${k}`)];
  const raw = def.js(names, promoted);
  // int64 lives in doubles, where integer results can come out as -0 (0 · -1, trunc(-0.5));
  // an integer has no -0, and `+ 0` makes it the 0 that toArray/item should show.
  const expr = out.dtype === "int64" ? `(${raw}) + 0` : raw;
  // Keyed by the expression itself: several defs share a name (div and its rounding modes, the
  // casts), and a key by name would hand one of them another's cached kernel.
  const key = `ew:${expr}:${inputs.length}:${scalars.length}:${rank}`;
  if (device !== "cpu") deviceElementwise(def, inputs, scalars, promoted, out, c);
  else cpu.run(key, () => elementwiseSource(expr, inputs.length, rank, scalars.length), [
    out._data, out._offset, c.strides[0], inputs.map((t) => t._data), inputs.map((t) => t._offset), c.strides.slice(1), c.shape, scalars,
  ]);
  if (anomaly.on) checkForward(def.name, out, inputs);
  if (!into && def.backward && needsGrad(inputs)) {
    const bw = def.backward;
    record(out, def.gradName, inputs, (g) => bw(g, inputs, out, scalars));
  }
  return out;
}

/**
 * Runs a reduction of `x` over sorted, normalised `dims` into a tensor of shape `outShape`
 * (plus an int64 index tensor for `withIndex` templates).
 */
export function runReduce(def: ReduceOpDef, x: AnyTensor, dims: readonly number[], outShape: readonly number[], scalars: readonly unknown[] = []): [AnyTensor, AnyTensor | undefined] {
  const reason = def.rejects?.(x.dtype);
  if (reason) throw new DTypeError(`${def.name}: ${reason}`);
  const t = def.js(x.dtype);
  const out = Tensor._empty([...outShape], def.dtype(x.dtype), x.device);
  const idx = t.withIndex ? Tensor._empty([...outShape], "int64", x.device) : undefined;
  // A 0-d tensor accepts dim 0 / -1 (as PyTorch) and reduces over its one element: it has no
  // such dim to walk, so keep only the dims the tensor has.
  const red = dims.filter((i) => i < x.ndim);
  const outerDims = x.shape.map((_, i) => i).filter((i) => !red.includes(i));
  const o = coalesce(outerDims.map((i) => x.shape[i]!), [outerDims.map((i) => x._strides[i]!)]);
  const inn = coalesce(red.map((i) => x.shape[i]!), [red.map((i) => x._strides[i]!)]);
  // A reduction over zero elements still has to write its init value, so keep empty inner loops.
  const innerShape = red.some((i) => x.shape[i] === 0) ? [0] : inn.shape;
  const key = `red:${def.name}:${x.dtype}:${o.shape.length}:${innerShape.length}:${scalars.length}`;
  if (x.device !== "cpu") deviceReduce(def, x, out, idx, o, innerShape, inn.strides[0]!);
  else cpu.run(key, () => reduceSource(t, o.shape.length, innerShape.length, scalars.length), [
    out._data, idx?._data, x._data, x._offset, o.strides[0], inn.strides[0], o.shape, innerShape, scalars,
  ]);
  if (anomaly.on) checkForward(def.name, out, [x]);
  return [out, idx];
}
