import type { Check, Err, Ok } from "../types/check.js";
import { normDim } from "../types/dims.js";
import { DeviceError, DTypeError, ShapeError, ValueError } from "../types/errors.js";
import type { IndexItem, IndexShape, SelectShape } from "../types/indexing.js";
import type { BmmShape, MatmulShape, MmShape } from "../types/matmul.js";
import type { ExpandShape, FlattenShape, PermuteShape, ReshapeShape, SqueezeShape, TShape, TransposeShape, UnsqueezeShape } from "../types/movement.js";
import type { DimArg, ReduceShape } from "../types/reduce.js";
import type { Shape } from "../types/shape.js";
import { type GradNode, runBackward } from "./autograd.js";
import type { Device, DeviceStorage } from "./backend/Backend.js";
import { hasWebgpuBackend, webgpuBackend } from "./backend/webgpu.js";
import { allocStorage, type DType, isFloating, type StorageOf, type TypedArray } from "./dtype.js";
import { formatTensor } from "./format.js";
import * as C from "./ops/composite.js";
import * as B from "./ops/binary.js";
import { contiguousStrides } from "./ops/defineOp.js";
import * as I from "./ops/indexing.js";
import { matmulOp } from "./ops/matmul.js";
import * as M from "./ops/movement.js";
import * as R from "./ops/reduce.js";
import * as U from "./ops/unary.js";
import type { FloatOf, SumOf } from "./promote.js";
import { type Generator, normalFill, uniformFill } from "./random.js";
import type { AnyTensor, BinCheck, BinDType, BinShape, DimCheck, KeepArg } from "./tensorTypes.js";

/** PyTorch's legacy type names, as `x.type()` returns them. */
export const TYPE_NAMES = {
  float32: "torch.FloatTensor",
  float64: "torch.DoubleTensor",
  int32: "torch.IntTensor",
  int64: "torch.LongTensor",
  bool: "torch.BoolTensor",
} as const satisfies Record<DType, string>;
type TypeName = (typeof TYPE_NAMES)[DType];
type DTypeOfName<N extends TypeName> = { [K in DType]: (typeof TYPE_NAMES)[K] extends N ? K : never }[DType];

/** Nested JS arrays of a tensor's values (`toArray()`), by shape. */
export type NestedArray<S extends Shape, V = number> = number extends S["length"]
  ? unknown
  : S extends readonly [number, ...infer T extends Shape]
    ? NestedArray<T, V>[]
    : V;

type ValueOf<D extends DType> = D extends "bool" ? boolean : number;
type KeepOf<K> = K extends { keepdim?: infer V } ? (V extends boolean ? V : false) : K extends boolean ? K : false;
type Operand = AnyTensor | number | boolean;
type Sizes = readonly (number | readonly number[])[];
// Matched by pattern (not `N extends readonly number[]`), which resolves for sizes with a generic
// dim (`x.view(x.shape[0], -1)` inside a generic function) instead of deferring.
type FlatSizes<N extends Sizes> = N extends readonly [infer A extends readonly number[]] ? A : N extends readonly [...infer A extends number[]] ? A : number[];
type ThisCheck<S extends Shape, D extends DType, R> = Tensor<S, D> & Check<R>;

let nextId = 0;

// A device tensor's `_data`: any read or write of it throws, so a CPU kernel can never compute
// on device storage by mistake. One per storage, so `a._data === b._data` still means "aliases".
const deviceViews = new WeakMap<DeviceStorage, unknown>();
function deviceData(s: DeviceStorage): never {
  let p = deviceViews.get(s);
  if (!p) {
    const fail = (): never => {
      throw new DeviceError(`${s.device}: this op must run where the tensor lives, got a CPU read of ${s.device} storage (move it with await x.cpuAsync(), or read values with await x.toArrayAsync())`);
    };
    p = new Proxy(Object.create(null) as object, { get: fail, set: fail, has: fail, ownKeys: fail, getOwnPropertyDescriptor: fail });
    deviceViews.set(s, p);
  }
  return p as never;
}

function syncRead(op: string, device: Device): never {
  throw new DeviceError(`${op}: values of a ${device} tensor are read asynchronously (await x.${op}Async()), got a synchronous ${op}() on ${device}`);
}

/**
 * An n-dimensional array whose shape `S` and dtype `D` are part of its type, as in PyTorch with the
 * shape checked by `tsc`. Made by `torch.tensor`, `torch.zeros`, `torch.randn`, ... (never `new`).
 * Views (reshape, transpose, index with slices, expand, ...) share storage with their base.
 *
 * @example
 * const x = torch.tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float32" }); // Tensor<[2, 3], "float32">
 * x.matmul(torch.ones(3, 4)).shape;                                     // [2, 4]
 */
// The shape and dtype parameters are covariant (a Tensor<[2, 3]> is a Tensor<Shape>), which is
// what `out` declares. tsc cannot prove it through the conditional types of the shape rules in the
// method signatures and reports TS2636 here; without the annotation it would compare the methods
// structurally and reject that assignment, so the annotation stays and the check is silenced.
// @ts-ignore TS2636 (see above)
export class Tensor<out S extends Shape = Shape, out D extends DType = "float32"> {
  /** The size of each dim, e.g. `[64, 784]`. */
  readonly shape: S;
  /** The element type. */
  readonly dtype: D;
  /** Where the storage lives. */
  readonly device: Device = "cpu";
  /** @internal Device storage (null on the CPU, where `_data` holds the values). */
  _gpu: DeviceStorage | null = null;
  /** Whether autograd records ops on this tensor and `backward()` fills its `.grad`. */
  requiresGrad = false;
  /** The gradient accumulated by `backward()` (a leaf that requires grad), else null. */
  grad: Tensor<S, D> | null = null;
  /** The op that made this tensor, for autograd (null for leaves). */
  gradFn: GradNode | null = null;
  /** @internal */ _data: StorageOf[D];
  /** @internal */ _offset: number;
  /** @internal */ _strides: number[];
  /** @internal */ _retainsGrad = false;
  /** @internal */ readonly _id = nextId++;
  /** @internal This tensor as the shape-erased type the op implementations take. */
  get _any(): AnyTensor {
    return this as unknown as AnyTensor;
  }

  /** @internal Use torch.tensor / torch.zeros / ... to make tensors. */
  constructor(data: StorageOf[D], shape: readonly number[], strides: readonly number[], offset: number, dtype: D, gpu: DeviceStorage | null = null) {
    this._data = gpu ? deviceData(gpu) : data;
    if (gpu) {
      this._gpu = gpu;
      (this as { device: Device }).device = gpu.device;
    }
    this.shape = [...shape] as unknown as S;
    this._strides = [...strides];
    this._offset = offset;
    this.dtype = dtype;
  }

  // ---------------------------------------------------------------------------------------------
  // internal constructors
  // ---------------------------------------------------------------------------------------------

  /** @internal A fresh contiguous tensor (zero-filled) on `device`. */
  static _empty<D extends DType>(shape: readonly number[], dtype: D, device: Device = "cpu"): Tensor<Shape, D> {
    const n = shape.reduce((a, b) => a * b, 1);
    if (device !== "cpu") return new Tensor<Shape, D>(null as never, shape, contiguousStrides(shape), 0, dtype, webgpuBackend().alloc(dtype, n, true));
    return new Tensor<Shape, D>(allocStorage(dtype, n), shape, contiguousStrides(shape), 0, dtype);
  }
  /** @internal */
  static _zeros<D extends DType>(shape: readonly number[], dtype: D, device: Device = "cpu"): Tensor<Shape, D> {
    return Tensor._empty(shape, dtype, device);
  }
  /** @internal A 0-d tensor holding `v` on `device`. */
  static _scalar<D extends DType>(v: number | boolean, dtype: D, device: Device = "cpu"): Tensor<[], D> {
    const t = Tensor._empty([], dtype);
    t._data[0] = +v;
    return (device === "cpu" ? t : t._toDevice(device)) as unknown as Tensor<[], D>;
  }
  /** @internal A view of `base`'s storage. */
  static _view<D extends DType>(base: Tensor<Shape, D>, shape: readonly number[], strides: readonly number[], offset: number): Tensor<Shape, D> {
    return new Tensor<Shape, D>(base._data, shape, strides, offset, base.dtype, base._gpu);
  }
  /** @internal A copy of this CPU tensor on a device (a fresh leaf; autograd does not cross devices). */
  _toDevice(device: Device): AnyTensor {
    if (device === this.device) return this._any;
    if (this.device !== "cpu") throw new DeviceError(`to: a ${this.device} tensor moves to another device asynchronously (await x.cpuAsync()), got to("${device}")`);
    if (!hasWebgpuBackend()) throw new DeviceError(`to: the ${device} device must be initialised first (await torch.webgpu.init()), got to("${device}") before that`);
    const flat = this.data() as TypedArray;
    const t = new Tensor<Shape, DType>(null as never, this.shape, contiguousStrides(this.shape), 0, this.dtype, webgpuBackend().upload(this.dtype, flat));
    t.requiresGrad = this.requiresGrad;
    return t as unknown as AnyTensor;
  }
  /** @internal Moves this tensor's storage to `device` in place (Module.to): views made before keep the old storage. */
  _moveTo(device: Device): void {
    if (device === this.device) return;
    const t = this._toDevice(device);
    this._data = t._data as never;
    this._gpu = t._gpu;
    this._offset = 0;
    this._strides = [...t._strides];
    (this as { device: Device }).device = device;
    if (this.grad) (this.grad as unknown as Tensor)._moveTo(device);
  }
  /** @internal */
  static _deviceMismatch(op: string, a: AnyTensor, b: AnyTensor): never {
    throw new DeviceError(`${op}: tensors must be on the same device, got ${a.device} and ${b.device}`);
  }
  /** @internal */
  _setGradFn(fn: GradNode): void {
    this.gradFn = fn;
    this.requiresGrad = true;
  }
  /** @internal */
  _accumulateGrad(g: AnyTensor): void {
    // The first gradient is copied so a later in-place update of .grad can't alias another tensor;
    // later ones are added in place, as PyTorch's AccumulateGrad does (no new storage per step, and
    // a reference to .grad sees the sum).
    const gg = g.shape.length === this.shape.length ? g : g.reshape(this.shape as readonly number[]);
    const cur = this.grad as unknown as AnyTensor | null;
    if (cur && cur.dtype === gg.dtype && cur.device === gg.device && !cur.requiresGrad) cur.add_(gg);
    else this.grad = (cur ? cur.add(gg) : gg.clone()) as never;
  }
  /** @internal Slice with normalised bounds (used by cat, views' backward, indexing). */
  _slice(dim: number, start: number, stop: number, step: number): AnyTensor {
    return M.sliceOp(this._any, dim, start, stop, step);
  }

  // ---------------------------------------------------------------------------------------------
  // properties
  // ---------------------------------------------------------------------------------------------

  /** Number of dims (`x.ndim`, PyTorch's `x.dim()`). */
  get ndim(): S["length"] {
    return this.shape.length;
  }
  /** Number of dims, as PyTorch's `x.dim()`. */
  dim(): S["length"] {
    return this.shape.length;
  }
  /** Number of elements. */
  numel(): number {
    let n = 1;
    for (const s of this.shape) n *= s;
    return n;
  }
  /** `x.size()` is the shape; `x.size(dim)` one dim (negative from the end). */
  size(): S;
  size<Dm extends number>(dim: Dm & DimCheck<S, Dm, "size">): number;
  size(dim?: number): S | number {
    if (dim === undefined) return this.shape;
    // normDim lets a 0-d tensor take dim 0 / -1 (as reductions do); it has no size there.
    if (this.ndim === 0) throw new ShapeError(`size: a 0-d tensor has no dims, got dim ${dim}`);
    return this.shape[normDim("size", dim, this.ndim)]!;
  }
  /** Elements to skip in storage per step along each dim. */
  stride(): number[] {
    return [...this._strides];
  }
  /** True when the tensor is laid out row-major without gaps. */
  isContiguous(): boolean {
    let acc = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      const n = this.shape[i]!;
      if (n !== 1 && this._strides[i] !== acc) return false;
      acc *= n;
    }
    return true;
  }
  /** True for float32/float64 tensors. */
  isFloatingPoint(): boolean {
    return isFloating(this.dtype);
  }

  // ---------------------------------------------------------------------------------------------
  // dtype conversion and copies
  // ---------------------------------------------------------------------------------------------

  /**
   * A copy converted to `dtype` (the tensor itself when it already is): float→int truncates
   * toward zero; NaN/Inf into an integer dtype throws. `to("cpu")` is the tensor itself.
   *
   * @example
   * torch.tensor([-2.7, 2.7]).to("int64").toArray(); // [-2, 2]
   */
  to<D2 extends DType>(dtype: D2 | { dtype: D2 }): Tensor<S, D2>;
  to(device: Device): Tensor<S, D>;
  to(arg: DType | Device | { dtype: DType }): unknown {
    if (arg === "cpu" || arg === "webgpu") return this._toDevice(arg);
    const dtype = typeof arg === "string" ? arg : arg.dtype;
    if (!(dtype in TYPE_NAMES)) {
      // A string that isn't a dtype is most likely a device (PyTorch's `x.to("cuda")`).
      if (typeof arg === "string" && /^(cuda|mps|xla|xpu|meta|webgpu|cpu)(:\d+)?$/.test(arg)) throw new DeviceError(`to: expected a dtype (${Object.keys(TYPE_NAMES).join(", ")}) or a device ("cpu", "webgpu"), got "${arg}"`);
      throw new ValueError(`to: dtype must be one of ${Object.keys(TYPE_NAMES).join(", ")}, got ${String(dtype)}`);
    }
    return M.castOp(this._any, dtype);
  }
  /**
   * `x.type()` is PyTorch's type name (`"torch.FloatTensor"`); `x.type(name)` converts to it.
   *
   * @example
   * torch.tensor([1.5]).type("torch.LongTensor").dtype; // "int64"
   */
  type(): (typeof TYPE_NAMES)[D];
  type<N extends TypeName>(name: N): Tensor<S, DTypeOfName<N>>;
  type(name?: string): unknown {
    if (name === undefined) return TYPE_NAMES[this.dtype];
    const d = (Object.keys(TYPE_NAMES) as DType[]).find((k) => TYPE_NAMES[k] === name);
    if (!d) throw new ValueError(`type: name must be one of ${Object.values(TYPE_NAMES).join(", ")}, got ${name}`);
    return this.to(d);
  }
  /** `x.to("float32")`. */
  float(): Tensor<S, "float32"> {
    return this.to("float32");
  }
  /** `x.to("float64")`. */
  double(): Tensor<S, "float64"> {
    return this.to("float64");
  }
  /** `x.to("int32")`. */
  int(): Tensor<S, "int32"> {
    return this.to("int32");
  }
  /** `x.to("int64")`. */
  long(): Tensor<S, "int64"> {
    return this.to("int64");
  }
  /** `x.to("bool")`. */
  bool(): Tensor<S, "bool"> {
    return this.to("bool");
  }
  /** A contiguous copy that autograd tracks (`x.clone()`). */
  clone(): Tensor<S, D> {
    return M.runCopy(this._any) as never;
  }
  /** The tensor itself when row-major, else a row-major copy. */
  contiguous(): Tensor<S, D> {
    return M.contiguousOp(this._any) as never;
  }
  /** A tensor sharing storage but cut from the autograd graph (`x.detach()`). */
  detach(): Tensor<S, D> {
    return Tensor._view(this._any, this.shape, this._strides, this._offset) as never;
  }

  // ---------------------------------------------------------------------------------------------
  // autograd
  // ---------------------------------------------------------------------------------------------

  /**
   * Sets `requiresGrad` in place (leaves only, as PyTorch) and returns the tensor.
   *
   * @example
   * const w = torch.randn(3, 4).requiresGrad_();
   */
  requiresGrad_(flag = true): this {
    if (this.gradFn && !flag) throw new ValueError("requiresGrad_: only leaf tensors can stop requiring grad, got a tensor made by " + this.gradFn.name + " (use detach())");
    if (flag && !isFloating(this.dtype)) throw new DTypeError(`requiresGrad_: only floating point tensors can require gradients, got dtype ${this.dtype}`);
    this.requiresGrad = flag;
    return this;
  }
  /** Keep `.grad` on this non-leaf tensor during backward (PyTorch's `retain_grad()`). */
  retainGrad(): this {
    this._retainsGrad = true;
    return this;
  }
  /**
   * Backpropagates from this tensor: accumulates `∂this/∂leaf` into every leaf's `.grad`.
   * A non-scalar tensor needs `gradient` (the vector in the vector-Jacobian product).
   *
   * @example
   * const w = torch.tensor([2.0, 3.0], { requiresGrad: true, dtype: "float32" });
   * w.mul(w).sum().backward(); // w.grad: [4, 6]
   */
  backward(gradient?: AnyTensor, opts: { retainGraph?: boolean } = {}): void {
    if (!this.requiresGrad) throw new ValueError("backward: the tensor must require grad (it has no grad_fn), got requiresGrad=false");
    let g: AnyTensor;
    if (gradient === undefined) {
      if (this.numel() !== 1) throw new ValueError(`backward: a gradient is needed for a non-scalar output, got shape [${this.shape.join(", ")}]`);
      g = Tensor._empty(this.shape, this.dtype, this.device).fill_(1);
    } else {
      // A gradient of another shape would broadcast somewhere inside the graph and give wrong sums.
      if (gradient.ndim !== this.ndim || gradient.shape.some((s, i) => s !== this.shape[i])) {
        throw new ShapeError(`backward: the gradient must have the output's shape [${this.shape.join(", ")}], got [${gradient.shape.join(", ")}]`);
      }
      g = gradient;
    }
    runBackward(this._any, g, opts.retainGraph ?? false);
  }

  // ---------------------------------------------------------------------------------------------
  // elementwise
  // ---------------------------------------------------------------------------------------------

  /** `-x`. */
  neg(): Tensor<S, D> { return U.unary(U.neg, this._any) as never; }
  /** `|x|`. */
  abs(): Tensor<S, D> { return U.unary(U.abs, this._any) as never; }
  /** -1, 0 or 1 by sign. */
  sign(): Tensor<S, D> { return U.unary(U.sign, this._any) as never; }
  /** `eˣ` (integers give float32). */
  exp(): Tensor<S, FloatOf<D>> { return U.unary(U.exp, this._any) as never; }
  /** Natural logarithm. */
  log(): Tensor<S, FloatOf<D>> { return U.unary(U.log, this._any) as never; }
  /** Square root. */
  sqrt(): Tensor<S, FloatOf<D>> { return U.unary(U.sqrt, this._any) as never; }
  /** `max(x, 0)`. */
  relu(): Tensor<S, D> { return U.unary(U.relu, this._any) as never; }
  /** `1 / (1 + e⁻ˣ)`. */
  sigmoid(): Tensor<S, FloatOf<D>> { return U.unary(U.sigmoid, this._any) as never; }
  /** Hyperbolic tangent. */
  tanh(): Tensor<S, FloatOf<D>> { return U.unary(U.tanh, this._any) as never; }
  /** Round down. */
  floor(): Tensor<S, D> { return U.unary(U.floor, this._any) as never; }
  /** Round up. */
  ceil(): Tensor<S, D> { return U.unary(U.ceil, this._any) as never; }
  /** Round half to even. */
  round(): Tensor<S, D> { return U.unary(U.round, this._any) as never; }
  /** Logical not (bool result). */
  logicalNot(): Tensor<S, "bool"> { return U.unary(U.logicalNot, this._any) as never; }
  /**
   * Limits values to `[min, max]` (either may be omitted/null), as `torch.clamp`.
   *
   * @example
   * torch.tensor([-1, 0.5, 2]).clamp(0, 1); // tensor([0.0000, 0.5000, 1.0000])
   */
  clamp(min?: number | null | { min?: number | null; max?: number | null }, max?: number | null): Tensor<S, D> {
    return C.clampOp(this._any, min, max) as never;
  }

  /**
   * `x + alpha·other` with broadcasting; `other` may be a tensor or a number.
   *
   * @example
   * torch.ones(2, 3).add(torch.ones(3)).shape; // [2, 3]
   */
  add<T extends Operand>(other: T & BinCheck<S, T, "add">, opts?: { alpha?: number }): Tensor<BinShape<S, T, "add">, BinDType<D, T>> {
    const o = opts?.alpha !== undefined && opts.alpha !== 1 ? C.scaled("add", B.add, this._any, other, opts.alpha) : other;
    return B.binary(B.add, this._any, o) as never;
  }
  /** `x − alpha·other` with broadcasting. */
  sub<T extends Operand>(other: T & BinCheck<S, T, "sub">, opts?: { alpha?: number }): Tensor<BinShape<S, T, "sub">, BinDType<D, T>> {
    const o = opts?.alpha !== undefined && opts.alpha !== 1 ? C.scaled("sub", B.sub, this._any, other, opts.alpha) : other;
    return B.binary(B.sub, this._any, o) as never;
  }
  /** `x · other` with broadcasting. */
  mul<T extends Operand>(other: T & BinCheck<S, T, "mul">): Tensor<BinShape<S, T, "mul">, BinDType<D, T>> {
    return B.binary(B.mul, this._any, other) as never;
  }
  /**
   * `x / other` (true division: integers give float32), or with `roundingMode` "floor"/"trunc".
   *
   * @example
   * torch.tensor([7, -7]).div(2, { roundingMode: "floor" }); // tensor([ 3, -4])
   */
  div<T extends Operand, RM extends "floor" | "trunc" | null | undefined = undefined>(
    other: T & BinCheck<S, T, "div">,
    opts?: { roundingMode?: RM },
  ): Tensor<BinShape<S, T, "div">, RM extends "floor" | "trunc" ? BinDType<D, T> : FloatOf<BinDType<D, T>>> {
    const rm = opts?.roundingMode;
    const def = rm === "floor" ? B.divFloor : rm === "trunc" ? B.divTrunc : B.div;
    if (rm !== undefined && rm !== null && rm !== "floor" && rm !== "trunc") throw new ValueError(`div: roundingMode must be "floor", "trunc" or null, got ${String(rm)}`);
    return B.binary(def, this._any, other) as never;
  }
  /** `xᵒᵗʰᵉʳ` with broadcasting. */
  pow<T extends Operand>(other: T & BinCheck<S, T, "pow">): Tensor<BinShape<S, T, "pow">, BinDType<D, T>> {
    return B.binary(B.pow, this._any, other) as never;
  }
  /** Elementwise maximum. */
  maximum<T extends AnyTensor>(other: T & BinCheck<S, T, "maximum">): Tensor<BinShape<S, T, "maximum">, BinDType<D, T>> {
    return B.binary(B.maximum, this._any, other) as never;
  }
  /** Elementwise minimum. */
  minimum<T extends AnyTensor>(other: T & BinCheck<S, T, "minimum">): Tensor<BinShape<S, T, "minimum">, BinDType<D, T>> {
    return B.binary(B.minimum, this._any, other) as never;
  }
  /** `x == other` (bool). */
  eq<T extends Operand>(other: T & BinCheck<S, T, "eq">): Tensor<BinShape<S, T, "eq">, "bool"> { return B.binary(B.eq, this._any, other) as never; }
  /** `x != other` (bool). */
  ne<T extends Operand>(other: T & BinCheck<S, T, "ne">): Tensor<BinShape<S, T, "ne">, "bool"> { return B.binary(B.ne, this._any, other) as never; }
  /** `x > other` (bool). */
  gt<T extends Operand>(other: T & BinCheck<S, T, "gt">): Tensor<BinShape<S, T, "gt">, "bool"> { return B.binary(B.gt, this._any, other) as never; }
  /** `x >= other` (bool). */
  ge<T extends Operand>(other: T & BinCheck<S, T, "ge">): Tensor<BinShape<S, T, "ge">, "bool"> { return B.binary(B.ge, this._any, other) as never; }
  /** `x < other` (bool). */
  lt<T extends Operand>(other: T & BinCheck<S, T, "lt">): Tensor<BinShape<S, T, "lt">, "bool"> { return B.binary(B.lt, this._any, other) as never; }
  /** `x <= other` (bool). */
  le<T extends Operand>(other: T & BinCheck<S, T, "le">): Tensor<BinShape<S, T, "le">, "bool"> { return B.binary(B.le, this._any, other) as never; }
  /** Logical and (bool). */
  logicalAnd<T extends Operand>(other: T & BinCheck<S, T, "logicalAnd">): Tensor<BinShape<S, T, "logicalAnd">, "bool"> { return B.binary(B.logicalAnd, this._any, other) as never; }
  /** Logical or (bool). */
  logicalOr<T extends Operand>(other: T & BinCheck<S, T, "logicalOr">): Tensor<BinShape<S, T, "logicalOr">, "bool"> { return B.binary(B.logicalOr, this._any, other) as never; }
  /** Logical xor (bool). */
  logicalXor<T extends Operand>(other: T & BinCheck<S, T, "logicalXor">): Tensor<BinShape<S, T, "logicalXor">, "bool"> { return B.binary(B.logicalXor, this._any, other) as never; }

  // ---------------------------------------------------------------------------------------------
  // reductions
  // ---------------------------------------------------------------------------------------------

  /**
   * Sum over `dim` (a dim, a list, or all when omitted); `keepdim` keeps reduced dims as 1.
   * Integers and bool sum to int64.
   *
   * @example
   * torch.ones(2, 3).sum(1).toArray(); // [3, 3]
   */
  sum<const Dm extends DimArg = undefined, K extends boolean = false>(dim?: Dm & Check<ReduceShape<S, Dm, K, "sum">>, keepdim?: KeepArg<K>): Tensor<Ok<ReduceShape<S, Dm, K, "sum">>, SumOf<D>> {
    return R.sumOp(this._any, dim, keepOf(keepdim)) as never;
  }
  /** Mean over `dim` (floating point tensors only, as PyTorch). */
  mean<const Dm extends DimArg = undefined, K extends boolean = false>(dim?: Dm & Check<ReduceShape<S, Dm, K, "mean">>, keepdim?: KeepArg<K>): Tensor<Ok<ReduceShape<S, Dm, K, "mean">>, D> {
    return C.meanOp(this._any, dim, keepOf(keepdim)) as never;
  }
  /** Product over one dim, or all. */
  prod<Dm extends number | undefined = undefined, K extends boolean = false>(dim?: Dm & Check<ReduceShape<S, Dm, K, "prod">>, keepdim?: KeepArg<K>): Tensor<Ok<ReduceShape<S, Dm, K, "prod">>, SumOf<D>> {
    return R.prodOp(this._any, dim, keepOf(keepdim)) as never;
  }
  /**
   * `x.max()` is the largest element; `x.max(dim)` gives `[values, indices]` (also `.values`,
   * `.indices`) along `dim`.
   *
   * @example
   * const [v, i] = torch.tensor([[1, 5], [7, 2]]).max(1); // v: [5, 7], i: [1, 0]
   */
  max(): Tensor<[], D>;
  max<Dm extends number, K extends boolean = false>(dim: Dm & Check<ReduceShape<S, Dm, K, "max">>, keepdim?: KeepArg<K>): R.ValuesIndices<Tensor<Ok<ReduceShape<S, Dm, K, "max">>, D>, Tensor<Ok<ReduceShape<S, Dm, K, "max">>, "int64">>;
  max(dim?: number, keepdim?: KeepArg<boolean>): unknown {
    return R.extremeOp("max", this._any, dim, keepOf(keepdim));
  }
  /** Smallest element, or `[values, indices]` along `dim` (see {@link Tensor.max}). */
  min(): Tensor<[], D>;
  min<Dm extends number, K extends boolean = false>(dim: Dm & Check<ReduceShape<S, Dm, K, "min">>, keepdim?: KeepArg<K>): R.ValuesIndices<Tensor<Ok<ReduceShape<S, Dm, K, "min">>, D>, Tensor<Ok<ReduceShape<S, Dm, K, "min">>, "int64">>;
  min(dim?: number, keepdim?: KeepArg<boolean>): unknown {
    return R.extremeOp("min", this._any, dim, keepOf(keepdim));
  }
  /** Max over several dims without indices (`torch.amax`). */
  amax<const Dm extends DimArg = undefined, K extends boolean = false>(dim?: Dm & Check<ReduceShape<S, Dm, K, "amax">>, keepdim?: KeepArg<K>): Tensor<Ok<ReduceShape<S, Dm, K, "amax">>, D> {
    return C.amaxOp(this._any, dim, keepOf(keepdim)) as never;
  }
  /**
   * Index of the largest element (of the flattened tensor without `dim`); first one on ties.
   *
   * @example
   * torch.tensor([[0.1, 0.2, 0.3, 0.8], [0.9, 0.1, 0.5, 0.1], [0.3, 0.9, 0.2, 0.3]]).argmax(0); // tensor([1, 2, 1, 0])
   */
  argmax<Dm extends number | undefined = undefined, K extends boolean = false>(dim?: Dm & Check<ReduceShape<S, Dm, K, "argmax">>, keepdim?: KeepArg<K>): Tensor<Dm extends number ? Ok<ReduceShape<S, Dm, K, "argmax">> : K extends true ? { -readonly [I in keyof S]: 1 } : [], "int64"> {
    return R.argOp("argmax", this._any, dim, keepOf(keepdim)) as never;
  }
  /** Index of the smallest element (see {@link Tensor.argmax}). */
  argmin<Dm extends number | undefined = undefined, K extends boolean = false>(dim?: Dm & Check<ReduceShape<S, Dm, K, "argmin">>, keepdim?: KeepArg<K>): Tensor<Dm extends number ? Ok<ReduceShape<S, Dm, K, "argmin">> : K extends true ? { -readonly [I in keyof S]: 1 } : [], "int64"> {
    return R.argOp("argmin", this._any, dim, keepOf(keepdim)) as never;
  }
  /**
   * Variance over `dim` with Bessel's correction by default (`unbiased: false` or `correction: 0`
   * for the population variance).
   *
   * @example
   * torch.tensor([1, 2, 3, 4], { dtype: "float32" }).var(); // tensor(1.6667)
   */
  var<const Dm extends DimArg = undefined, K extends boolean = false>(dim?: Dm & Check<ReduceShape<S, Dm, K, "var">>, opts?: boolean | { unbiased?: boolean; correction?: number; keepdim?: K }, keepdim?: K): Tensor<Ok<ReduceShape<S, Dm, K, "var">>, FloatOf<D>> {
    return C.varOp(this._any, dim, opts, keepdim, "var") as never;
  }
  /** Standard deviation: `√var` (see {@link Tensor.var}). */
  std<const Dm extends DimArg = undefined, K extends boolean = false>(dim?: Dm & Check<ReduceShape<S, Dm, K, "std">>, opts?: boolean | { unbiased?: boolean; correction?: number; keepdim?: K }, keepdim?: K): Tensor<Ok<ReduceShape<S, Dm, K, "std">>, FloatOf<D>> {
    return C.varOp(this._any, dim, opts, keepdim, "std") as never;
  }
  /** `log Σ eˣ` over `dim`, computed stably (the max is subtracted first). */
  logsumexp<const Dm extends DimArg = undefined, K extends boolean = false>(dim?: Dm & Check<ReduceShape<S, Dm, K, "logsumexp">>, keepdim?: KeepArg<K>): Tensor<Ok<ReduceShape<S, Dm, K, "logsumexp">>, FloatOf<D>> {
    return C.logsumexpOp(this._any, dim, keepOf(keepdim)) as never;
  }
  /**
   * `eˣ / Σ eˣ` along `dim` (a composite of max, sub, exp, sum, div: stable for large values).
   *
   * @example
   * torch.tensor([[1, 2, 3]], { dtype: "float32" }).softmax(1).sum(1); // tensor([1.])
   */
  softmax<Dm extends number>(dim: Dm & DimCheck<S, Dm, "softmax">): Tensor<S, FloatOf<D>> {
    return C.softmaxOp(this._any, dim) as never;
  }
  /** `log(softmax(x))`, computed as `x − logsumexp(x)`. */
  logSoftmax<Dm extends number>(dim: Dm & DimCheck<S, Dm, "logSoftmax">): Tensor<S, FloatOf<D>> {
    return C.logSoftmaxOp(this._any, dim) as never;
  }

  // ---------------------------------------------------------------------------------------------
  // matrix products
  // ---------------------------------------------------------------------------------------------

  /**
   * `torch.matmul`: dot product, matrix-vector, matrix-matrix or batched with broadcast batch dims.
   *
   * @example
   * torch.randn(64, 784).matmul(torch.randn(784, 256)).shape; // [64, 256]
   */
  matmul<S2 extends Shape>(other: Tensor<S2, D> & Check<MatmulShape<S, S2>>): Tensor<Ok<MatmulShape<S, S2>>, D> {
    return matmulOp(this._any, other, "matmul") as never;
  }
  /** Matrix product of two 2-D tensors. */
  mm<S2 extends Shape>(other: Tensor<S2, D> & Check<MmShape<S, S2>>): Tensor<Ok<MmShape<S, S2>>, D> {
    return matmulOp(this._any, other, "mm") as never;
  }
  /** Batched matrix product of two 3-D tensors. */
  bmm<S2 extends Shape>(other: Tensor<S2, D> & Check<BmmShape<S, S2>>): Tensor<Ok<BmmShape<S, S2>>, D> {
    return matmulOp(this._any, other, "bmm") as never;
  }

  // ---------------------------------------------------------------------------------------------
  // movement (views where possible)
  // ---------------------------------------------------------------------------------------------

  /**
   * The same elements in a new shape (`reshape(2, -1)` or `reshape([2, -1])`; one -1 is inferred).
   * A view when the layout allows, else a copy.
   *
   * @example
   * torch.arange(24).reshape(2, 3, 4).shape; // [2, 3, 4]
   */
  reshape<const N extends Sizes>(this: ThisCheck<S, D, ReshapeShape<S, FlatSizes<N>, "reshape">>, ...shape: N): Tensor<Ok<ReshapeShape<S, FlatSizes<N>, "reshape">>, D> {
    return M.reshapeOp(this._any, flatSizes(shape), "reshape") as never;
  }
  /** Like reshape, but only ever a view (an error when the layout does not allow one). */
  view<const N extends Sizes>(this: ThisCheck<S, D, ReshapeShape<S, FlatSizes<N>, "view">>, ...shape: N): Tensor<Ok<ReshapeShape<S, FlatSizes<N>, "view">>, D> {
    return M.reshapeOp(this._any, flatSizes(shape), "view") as never;
  }
  /**
   * Merges dims `startDim..endDim` into one.
   *
   * @example
   * torch.zeros(4, 3, 10).flatten(1).shape; // [4, 30]
   */
  flatten<St extends number = 0, En extends number = -1>(this: ThisCheck<S, D, FlattenShape<S, St, En>>, startDim?: St, endDim?: En): Tensor<Ok<FlattenShape<S, St, En>>, D> {
    return M.flattenOp(this._any, startDim ?? 0, endDim ?? -1) as never;
  }
  /** Swaps two dims (a view). */
  transpose<D0 extends number, D1 extends number>(this: ThisCheck<S, D, TransposeShape<S, D0, D1>>, dim0: D0, dim1: D1): Tensor<Ok<TransposeShape<S, D0, D1>>, D> {
    return M.transposeOp(this._any, dim0, dim1) as never;
  }
  /** Reorders dims: dim i of the result is dim `dims[i]` (a view). */
  permute<const N extends Sizes>(this: ThisCheck<S, D, PermuteShape<S, FlatSizes<N>>>, ...dims: N): Tensor<Ok<PermuteShape<S, FlatSizes<N>>>, D> {
    return M.permuteOp(this._any, flatSizes(dims)) as never;
  }
  /** Transpose of a ≤ 2-D tensor. */
  t(this: ThisCheck<S, D, TShape<S>>): Tensor<Ok<TShape<S>>, D> {
    return M.tOp(this._any) as never;
  }
  /** Removes size-1 dims (all, or just `dim`). */
  squeeze<Dm extends number | undefined = undefined>(this: ThisCheck<S, D, SqueezeShape<S, Dm>>, dim?: Dm): Tensor<Ok<SqueezeShape<S, Dm>>, D> {
    return M.squeezeOp(this._any, dim) as never;
  }
  /** Inserts a size-1 dim at `dim`. */
  unsqueeze<Dm extends number>(this: ThisCheck<S, D, UnsqueezeShape<S, Dm>>, dim: Dm): Tensor<Ok<UnsqueezeShape<S, Dm>>, D> {
    return M.unsqueezeOp(this._any, dim) as never;
  }
  /**
   * Repeats size-1 dims to `sizes` without copying (-1 keeps a dim).
   *
   * @example
   * torch.zeros(3, 1).expand(2, 3, 4).shape; // [2, 3, 4]
   */
  expand<const N extends Sizes>(this: ThisCheck<S, D, ExpandShape<S, FlatSizes<N>>>, ...sizes: N): Tensor<Ok<ExpandShape<S, FlatSizes<N>>>, D> {
    return M.expandOp(this._any, flatSizes(sizes)) as never;
  }
  /** `x.expand(other.shape)`. */
  expandAs<S2 extends Shape>(other: Tensor<S2, DType> & Check<ExpandShape<S, S2>>): Tensor<S2, D> {
    return M.expandOp(this._any, other.shape) as never;
  }
  /** The `index`-th slice along `dim`, which is removed (a view). */
  select<Dm extends number, I extends number>(this: ThisCheck<S, D, SelectShape<S, Dm, I>>, dim: Dm, index: I): Tensor<Ok<SelectShape<S, Dm, I>>, D> {
    return M.selectOp(this._any, dim, index) as never;
  }

  // ---------------------------------------------------------------------------------------------
  // indexing
  // ---------------------------------------------------------------------------------------------

  /**
   * PyTorch's `x[...]`: a number selects (the dim goes), a string slices (`":"`, `"1:3"`, `"::2"`,
   * `"-1:"`), `"..."` stands for the remaining dims, `null` adds a dim, and an integer array or
   * int64/bool tensor is advanced indexing. The result shape is computed in the type.
   *
   * @example
   * const yHat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]]);
   * yHat.index([0, 1], torch.tensor([0, 2])); // tensor([0.1000, 0.5000])
   * yHat.index(":", 1);                       // tensor([0.3000, 0.2000])
   */
  index<const Ix extends readonly IndexItem[]>(this: ThisCheck<S, D, IndexShape<S, Ix>>, ...items: Ix): Tensor<Ok<IndexShape<S, Ix>>, D> {
    return I.indexOp(this._any, items as never) as never;
  }
  /**
   * `out[i][j] = x[index[i][j]][j]` for dim 0 (generally: `index` replaces the `dim` coordinate).
   * `index` is int64 with x's rank.
   *
   * @example
   * torch.tensor([[1, 2], [3, 4]]).gather(1, torch.tensor([[0, 0], [1, 0]])); // [[1, 1], [4, 3]]
   */
  gather<SI extends Shape>(dim: number, index: Tensor<SI, "int64">): Tensor<SI, D> {
    return I.gatherOp(this._any, dim, index) as never;
  }
  /** Adds `src` into a copy of x at `index` along `dim` (`scatter_add`). */
  scatterAdd(dim: number, index: Tensor<Shape, "int64">, src: AnyTensor): Tensor<S, D> {
    return I.scatterAddOp(this._any, dim, index, src) as never;
  }
  /** The entries `index` (1-D int) along `dim`. */
  indexSelect(dim: number, index: Tensor<Shape, "int64" | "int32">): AnyTensor {
    return I.indexSelectOp(this._any, dim, index) as never;
  }

  // ---------------------------------------------------------------------------------------------
  // in place
  // ---------------------------------------------------------------------------------------------

  /** Sets every element to `value`. */
  fill_(value: number | boolean): this {
    C.guardInPlace("fill_", this._any);
    C.fillInPlace(this._any, +value);
    return this;
  }
  /** Sets every element to 0. */
  zero_(): this {
    return this.fill_(0);
  }
  /** Copies `src` (broadcast, converted to this dtype) into this tensor. */
  copy_(src: AnyTensor): this {
    C.guardInPlace("copy_", this._any);
    M.copyInto(this._any, src);
    return this;
  }
  /**
   * Fills with samples of `N(mean, std²)` from the default (or given) generator, as PyTorch's `normal_`.
   *
   * @example
   * torch.manualSeed(0); torch.empty(3).normal_(); // PyTorch's numbers after manual_seed(0)
   */
  normal_(mean = 0, std = 1, opts?: { generator?: Generator }): this {
    C.guardInPlace("normal_", this._any);
    C.fillRandom(this._any, "normal_", (out, contiguous) => normalFill(out, mean, std, opts?.generator, contiguous));
    return this;
  }
  /** Fills with samples of `U(from, to)`, as PyTorch's `uniform_`. */
  uniform_(from = 0, to = 1, opts?: { generator?: Generator }): this {
    C.guardInPlace("uniform_", this._any);
    C.fillRandom(this._any, "uniform_", (out) => uniformFill(out, from, to, opts?.generator));
    return this;
  }
  /** `x += alpha·other` in place. */
  add_(other: AnyTensor | number, opts?: { alpha?: number }): this {
    C.guardInPlace("add_", this._any);
    C.inPlace(this._any, B.add, opts?.alpha !== undefined && opts.alpha !== 1 ? C.scaled("add_", B.add, this._any, other, opts.alpha) : other);
    return this;
  }
  /** `x -= alpha·other` in place. */
  sub_(other: AnyTensor | number, opts?: { alpha?: number }): this {
    C.guardInPlace("sub_", this._any);
    C.inPlace(this._any, B.sub, opts?.alpha !== undefined && opts.alpha !== 1 ? C.scaled("sub_", B.sub, this._any, other, opts.alpha) : other);
    return this;
  }
  /** `x *= other` in place. */
  mul_(other: AnyTensor | number): this {
    C.guardInPlace("mul_", this._any);
    C.inPlace(this._any, B.mul, other);
    return this;
  }
  /** `x /= other` in place (float tensors). */
  div_(other: AnyTensor | number): this {
    C.guardInPlace("div_", this._any);
    C.inPlace(this._any, B.div, other);
    return this;
  }
  /** Clamps in place. */
  clamp_(min?: number | null, max?: number | null): this {
    C.guardInPlace("clamp_", this._any);
    C.clampInPlace(this._any, min, max);
    return this;
  }

  // ---------------------------------------------------------------------------------------------
  // read out
  // ---------------------------------------------------------------------------------------------

  /**
   * The value of a one-element tensor as a JS number (boolean for bool).
   *
   * @example
   * torch.tensor([[2.5]]).item(); // 2.5
   */
  item(): ValueOf<D> {
    if (this._gpu) syncRead("item", this.device);
    if (this.numel() !== 1) throw new ValueError(`item: the tensor must have exactly one element, got shape [${this.shape.join(", ")}] (${this.numel()} elements)`);
    const v = this._data[this._offset]!;
    return (this.dtype === "bool" ? v !== 0 : v) as ValueOf<D>;
  }
  /** The values as a new contiguous typed array (Float32Array for float32, ...). */
  data(): StorageOf[D] {
    if (this._gpu) syncRead("data", this.device);
    const c = this.contiguous();
    const n = c.numel();
    return (c._offset === 0 && c._data.length === n && c !== this ? c._data : c._data.slice(c._offset, c._offset + n)) as StorageOf[D];
  }
  /**
   * The values as nested JS arrays (PyTorch's `tolist()`).
   *
   * @example
   * torch.tensor([[1, 2], [3, 4]]).toArray(); // [[1, 2], [3, 4]]
   */
  toArray(): NestedArray<S, ValueOf<D>> {
    if (this._gpu) syncRead("toArray", this.device);
    return this._nest(this.data() as TypedArray);
  }
  /** @internal Nested arrays of flat row-major values of this shape. */
  _nest(values: TypedArray): NestedArray<S, ValueOf<D>> {
    const flat = Array.from(values, (v) => (this.dtype === "bool" ? v !== 0 : v));
    let i = 0;
    const build = (d: number): unknown => {
      if (d === this.shape.length) return flat[i++];
      const out: unknown[] = [];
      for (let k = 0; k < this.shape[d]!; k++) out.push(build(d + 1));
      return out;
    };
    return build(0) as NestedArray<S, ValueOf<D>>;
  }
  /** Alias of {@link Tensor.toArray}, PyTorch's name. */
  tolist(): NestedArray<S, ValueOf<D>> {
    return this.toArray();
  }
  /**
   * Printed as PyTorch prints it: `tensor([0.1000, 0.5000])`, with `dtype=`, `requires_grad=True`
   * or `grad_fn=<...>` suffixes.
   */
  toString(): string {
    if (this._gpu) return `tensor(<${this.numel()} values on ${this.device}: await x.toArrayAsync()>, shape=[${this.shape.join(", ")}], dtype=${this.dtype}, device='${this.device}')`;
    return formatTensor(this.data() as TypedArray, this.shape, this.dtype, {
      requiresGrad: this.requiresGrad && !this.gradFn,
      gradFn: this.gradFn?.name,
    });
  }
  /**
   * The values as a new contiguous typed array, read back from the device (any device).
   *
   * @example
   * await torch.ones(3).to("webgpu").dataAsync(); // Float32Array [1, 1, 1]
   */
  async dataAsync(): Promise<StorageOf[D]> {
    if (!this._gpu) return this.data();
    const c = this.contiguous();
    return (await webgpuBackend().read(c._gpu!, c._offset, c.numel())) as StorageOf[D];
  }
  /**
   * The values as nested JS arrays, read back from the device (any device).
   *
   * @example
   * await torch.tensor([[1, 2]]).to("webgpu").toArrayAsync(); // [[1, 2]]
   */
  async toArrayAsync(): Promise<NestedArray<S, ValueOf<D>>> {
    return this._nest((await this.dataAsync()) as TypedArray);
  }
  /**
   * The value of a one-element tensor, read back from the device (any device).
   *
   * @example
   * await x.to("webgpu").sum().itemAsync(); // 6
   */
  async itemAsync(): Promise<ValueOf<D>> {
    if (this.numel() !== 1) throw new ValueError(`itemAsync: the tensor must have exactly one element, got shape [${this.shape.join(", ")}] (${this.numel()} elements)`);
    const v = (await this.dataAsync())[0]!;
    return (this.dtype === "bool" ? v !== 0 : v) as ValueOf<D>;
  }
  /**
   * A CPU copy of this tensor (itself on the CPU), read back asynchronously: `x.to("cpu")` for a
   * device tensor. The copy is a fresh leaf (autograd does not cross devices).
   *
   * @example
   * const y = await x.to("webgpu").relu().cpuAsync(); // a CPU tensor
   */
  async cpuAsync(): Promise<Tensor<S, D>> {
    if (!this._gpu) return this;
    const data = await this.dataAsync();
    const t = new Tensor<S, D>(data, this.shape, contiguousStrides(this.shape), 0, this.dtype);
    t.requiresGrad = this.requiresGrad;
    return t;
  }
  /** Node's `console.log` shows the PyTorch form. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

function keepOf(k: KeepArg<boolean> | undefined): boolean {
  return typeof k === "object" ? (k.keepdim ?? false) : (k ?? false);
}

function flatSizes(s: Sizes): number[] {
  if (s.length === 1 && Array.isArray(s[0])) return [...(s[0] as readonly number[])];
  for (const v of s) if (typeof v !== "number") throw new ValueError(`size: expected numbers or one array of numbers, got ${JSON.stringify(s)}`);
  return s as number[];
}

export type { Err };
