import type { AnyTensor } from "../tensorTypes.js";
import { broadcastShapes } from "../../types/broadcast.js";
import { DTypeError } from "../../types/errors.js";
import { anomaly, checkForward } from "../anomaly.js";
import { type GradNode, needsGrad, record } from "../autograd.js";
import { cpu } from "../backend/cpu.js";
import { coalesce, elementwiseFlatSource, elementwiseSource, type FlatInput, inputNames, reduceLanesSource, type ReduceTemplate, reduceSource } from "../codegen/js.js";
import { allocOutput, type DType } from "../dtype.js";
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

/**
 * A fresh contiguous CPU tensor for the output of a kernel that writes every element (see
 * `allocOutput`: zero-filled, or poisoned under its test hook to catch a kernel that doesn't).
 */
export function emptyOutput<D extends DType>(shape: readonly number[], dtype: D): AnyTensor {
  return new Tensor(allocOutput(dtype, numel(shape)), shape, contiguousStrides(shape), 0, dtype) as unknown as AnyTensor;
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
  const nIn = inputs.length;
  let shape: readonly number[] = nIn > 0 ? inputs[0]!.shape : [];
  for (let i = 1; i < nIn; i++) {
    const s = inputs[i]!.shape;
    if (s !== shape && !sameShape(s, shape)) shape = broadcastShapes(def.name, shape, s);
  }
  const outDtype = def.dtype(promoted);
  const device = deviceOf(def.name, inputs, into);
  let out: AnyTensor;
  if (into) {
    broadcastShapes(def.name, into.shape, shape);
    shape = into.shape;
    out = into;
  } else if (device === "cpu") out = emptyOutput(shape, outDtype); // every kernel below writes every element
  else out = Tensor._empty([...shape], (gpuType(def.name, outDtype), outDtype), device);
  if (device !== "cpu") {
    const c = coalesce(shape, [out._strides, ...inputs.map((t) => broadcastStrides(t, shape))]);
    deviceElementwise(def, inputs, scalars, promoted, out, c);
  } else if ((!into || allContiguous1(into, shape)) && allFlat(inputs, shape)) {
    // Fast path: every input is a dense row-major tensor of the output's shape or one element
    // broadcast, and so is the output (fresh, or an in-place target): one flat loop over the
    // elements (`elementwiseFlatSource`), without `coalesce` or stride arrays.
    const n = into ? numel(shape) : out._data.length;
    const args = new Array<unknown>(4 + 2 * nIn);
    args[0] = out._data;
    args[1] = out._offset;
    args[2] = n;
    let modes = 0;
    // Whether the loop must go element by element: an input overlaps the output other than
    // element for element (see `elementwiseFlatSource`).
    let inOrder = false;
    for (let i = 0, m = 1; i < nIn; i++, m *= 3) {
      const t = inputs[i]!;
      args[3 + 2 * i] = t._data;
      args[4 + 2 * i] = t._offset;
      const shared = into !== undefined && t._data === into._data;
      // A broadcast element is read once, unless it may be one the loop writes (in place).
      if (n > 1 && isSingle(t)) {
        modes += m * (shared ? 2 : 1);
        inOrder ||= shared;
      } else inOrder ||= shared && t._offset !== into!._offset;
    }
    args[3 + 2 * nIn] = scalars;
    const k = ewKernel(def, promoted, out.dtype, inputs, scalars.length, FLAT + modes + (inOrder ? IN_ORDER : 0));
    cpu.run(k.key, k.source, args);
  } else {
    const strides = [out._strides, ...inputs.map((t) => broadcastStrides(t, shape))];
    const c = coalesce(shape, strides);
    const k = ewKernel(def, promoted, out.dtype, inputs, scalars.length, c.shape.length);
    cpu.run(k.key, k.source, [out._data, out._offset, c.strides[0], inputs.map((t) => t._data), inputs.map((t) => t._offset), c.strides.slice(1), c.shape, scalars]);
  }
  if (anomaly.on) checkForward(def.name, out, inputs);
  if (!into && def.backward && needsGrad(inputs)) {
    if (anomaly.on) {
      const bw = def.backward;
      record(out, def.gradName, inputs, (g) => bw(g, inputs, out, scalars));
    } else out._setGradFn(new EwNode(def.gradName, def.backward, inputs, out, scalars));
  }
  return out;
}

const UNIT1: number[] = [1];
const ZERO1: number[] = [0];

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when every input is dense row-major with exactly `shape` (no broadcast, no view strides). */
function allContiguous(inputs: readonly AnyTensor[], shape: readonly number[]): boolean {
  for (let i = 0; i < inputs.length; i++) if (!allContiguous1(inputs[i]!, shape)) return false;
  return true;
}

// Whether every element of `t` is the one at its offset (one element, or one expanded: the
// gradient of a full reduction, a broadcast scalar).
function isSingle(t: AnyTensor): boolean {
  const s = t.shape;
  const st = t._strides;
  for (let d = 0; d < s.length; d++) if (s[d] !== 1 && st[d] !== 0) return false;
  return true;
}

/** True when every input is dense row-major with exactly `shape` or holds one element (broadcast). */
function allFlat(inputs: readonly AnyTensor[], shape: readonly number[]): boolean {
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i]!;
    if (!isSingle(t) && !allContiguous1(t, shape)) return false;
  }
  return true;
}

function allContiguous1(t: AnyTensor, shape: readonly number[]): boolean {
  const s = t.shape;
  if (s.length !== shape.length) return false;
  const st = t._strides;
  let acc = 1;
  for (let d = s.length - 1; d >= 0; d--) {
    const n = s[d]!;
    if (n !== shape[d]) return false;
    if (n !== 1 && st[d] !== acc) return false;
    acc *= n;
  }
  return true;
}

// The tape node of one recorded elementwise op (what `record` makes, as a class: no closure per call).
class EwNode implements GradNode {
  released?: boolean;
  constructor(
    readonly name: string,
    readonly bw: Backward,
    readonly inputs: readonly AnyTensor[],
    readonly out: AnyTensor,
    readonly scalars: readonly unknown[],
  ) {}
  backward(g: AnyTensor): readonly (AnyTensor | null)[] {
    return this.bw(g, this.inputs, this.out, this.scalars);
  }
}

// Kernel variants (see `ewKernel`): a rank r < FLAT is the strided kernel over r coalesced dims;
// FLAT + Σ mode·3^i (+ IN_ORDER) the flat kernel with input i read per `FLAT_MODES[mode]`,
// unrolled UNROLL times unless IN_ORDER.
const FLAT = 1024;
const IN_ORDER = 512;
const UNROLL = 4;
const FLAT_MODES: readonly FlatInput[] = ["dense", "hoist", "single"];

function numel(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

// The kernel's cache key and source for `cpu.run` (every CPU kernel launch goes through it).
interface EwKernel {
  readonly key: string;
  readonly source: () => string;
}

// Elementwise kernels per op def, keyed by what the kernel text depends on (promoted dtype,
// arity, scalar count, variant) and by the dtypes of the output and inputs. The dtypes do not
// change the text: they give each combination its own compiled function, so the JIT sees one kind
// of typed array at each access (a kernel shared by Float32Array and Float64Array callers would
// run its loads and stores through polymorphic dispatch). The expression text and the long cache
// key are built once, and the same key string (its hash computed once) finds the compiled kernel
// in `cpu.run`.
const ewCache = new Map<ElementwiseOpDef, Map<DType, Map<number, EwKernel>>>();
const DTYPE_CODE: Record<DType, number> = { bool: 0, int32: 1, int64: 2, float32: 3, float64: 4 };

function ewKernel(def: ElementwiseOpDef, promoted: DType, outDtype: DType, inputs: readonly AnyTensor[], nScalars: number, variant: number): EwKernel {
  let byDtype = ewCache.get(def);
  if (!byDtype) ewCache.set(def, (byDtype = new Map()));
  let m = byDtype.get(promoted);
  if (!m) byDtype.set(promoted, (m = new Map()));
  const nIn = inputs.length;
  let code = ((variant * 4096 + nScalars) * 4 + nIn) * 8 + DTYPE_CODE[outDtype];
  for (let i = 0; i < nIn; i++) code = code * 8 + DTYPE_CODE[inputs[i]!.dtype];
  let k = m.get(code);
  if (!k) {
    const int64 = outDtype === "int64";
    const params = Array.from({ length: nScalars }, (_, i) => `p${i}`);
    // int64 lives in doubles, where integer results can come out as -0 (0 · -1, trunc(-0.5));
    // an integer has no -0, and `+ 0` makes it the 0 that toArray/item should show.
    const exprOf = (ins: readonly string[]) => {
      const raw = def.js([...ins, ...params], promoted);
      return int64 ? `(${raw}) + 0` : raw;
    };
    const expr = exprOf(inputNames(nIn));
    const dtypes = [outDtype, ...inputs.map((t) => t.dtype)].join(",");
    let tag: string;
    let source: () => string;
    if (variant >= FLAT) {
      const code = (variant - FLAT) % IN_ORDER;
      const unroll = variant - FLAT >= IN_ORDER ? 1 : UNROLL;
      const modes = Array.from({ length: nIn }, (_, i) => FLAT_MODES[Math.floor(code / 3 ** i) % 3]!);
      tag = `f${modes.map((x) => x[0]).join("")}${unroll}`;
      source = () => elementwiseFlatSource(exprOf, modes, nScalars, unroll);
    } else {
      tag = `${variant}`;
      source = () => elementwiseSource(expr, nIn, variant, nScalars);
    }
    // Keyed by the expression itself: several defs share a name (div and its rounding modes, the
    // casts), and a key by name would hand one of them another's cached kernel.
    k = { key: `ew:${expr}:${nIn}:${nScalars}:${tag}:${dtypes}`, source };
    m.set(code, k);
  }
  return k;
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
  let red = dims;
  for (let i = 0; i < dims.length; i++) if (dims[i]! >= x.ndim) {
    red = dims.filter((d) => d < x.ndim);
    break;
  }
  let oShape: number[], oStride: number[], innerShape: number[], innerStride: number[];
  if (x.device === "cpu" && red.length === x.ndim && allContiguous([x], x.shape)) {
    // Fast path: a full reduction of a dense tensor is one flat inner loop (what `coalesce` finds).
    const n = x.numel();
    oShape = UNIT1;
    oStride = ZERO1;
    innerShape = [n];
    innerStride = n === 1 ? ZERO1 : UNIT1;
  } else {
    const outerDims = x.shape.map((_, i) => i).filter((i) => !red.includes(i));
    const o = coalesce(outerDims.map((i) => x.shape[i]!), [outerDims.map((i) => x._strides[i]!)]);
    const inn = coalesce(red.map((i) => x.shape[i]!), [red.map((i) => x._strides[i]!)]);
    // A reduction over zero elements still has to write its init value, so keep empty inner loops.
    innerShape = red.some((i) => x.shape[i] === 0) ? [0] : inn.shape;
    oShape = o.shape;
    oStride = o.strides[0]!;
    innerStride = inn.strides[0]!;
  }
  if (x.device !== "cpu") deviceReduce(def, x, out, idx, { shape: oShape, strides: [oStride] }, innerShape, innerStride);
  else if (!t.withIndex && oShape.length === 1 && oShape[0]! >= LANES) {
    // Several outputs: fold LANES of them side by side (`reduceLanesSource`).
    const key = redKey(def, x.dtype, LANES_RANK, innerShape.length, scalars.length);
    cpu.run(key, () => reduceLanesSource(t, innerShape.length, scalars.length, LANES), [
      out._data, undefined, x._data, x._offset, oStride, innerStride, oShape, innerShape, scalars,
    ]);
  } else {
    const key = redKey(def, x.dtype, oShape.length, innerShape.length, scalars.length);
    cpu.run(key, () => reduceSource(t, oShape.length, innerShape.length, scalars.length), [
      out._data, idx?._data, x._data, x._offset, oStride, innerStride, oShape, innerShape, scalars,
    ]);
  }
  if (anomaly.on) checkForward(def.name, out, [x]);
  return [out, idx];
}

// Outputs folded side by side by `reduceLanesSource`, and the outer "rank" standing for it in `redKey`.
const LANES = 4;
const LANES_RANK = 4095;

// Reduction kernel keys per def and dtype, by ranks and scalar count (not rebuilt per call).
const redKeys = new Map<ReduceOpDef, Map<DType, Map<number, string>>>();

function redKey(def: ReduceOpDef, dtype: DType, outer: number, inner: number, nScalars: number): string {
  let byDtype = redKeys.get(def);
  if (!byDtype) redKeys.set(def, (byDtype = new Map()));
  let m = byDtype.get(dtype);
  if (!m) byDtype.set(dtype, (m = new Map()));
  const code = (outer * 4096 + inner) * 4096 + nScalars;
  let key = m.get(code);
  if (key === undefined) m.set(code, (key = `red:${def.name}:${dtype}:${outer === LANES_RANK ? `lanes${LANES}` : outer}:${inner}:${nScalars}`));
  return key;
}
