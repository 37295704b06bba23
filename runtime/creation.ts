/**
 * Creation functions, PyTorch-style: shapes and dtypes inferred at the type level from literal
 * arguments; PyTorch's keywords as a trailing options object.
 */
import type { Add, Div, Gt, Neg, Sub } from "../types/arith.js";
import { DTypeError, ValueError } from "../types/errors.js";
import type { Shape } from "../types/shape.js";
import type { DType } from "./dtype.js";
import { isFloating } from "./dtype.js";
import { normalFill, randintFill, randpermArray, uniformFill, type Generator } from "./random.js";
import { Tensor } from "./Tensor.js";
import type { AnyTensor, CreateOptions, DTypeOpt, OptsOf, SizeArgs, SizeOf } from "./tensorTypes.js";

// ---------------------------------------------------------------------------------------------
// torch.tensor
// ---------------------------------------------------------------------------------------------

/** Nested arrays of numbers or booleans (what `torch.tensor` takes). */
export type NestedData = number | boolean | readonly NestedData[];

/** The shape of nested array data: `[[1, 2, 3], [4, 5, 6]]` → `[2, 3]`. */
export type DataShape<T, Depth extends 0[] = []> = Depth["length"] extends 12
  ? number[]
  : T extends readonly unknown[]
    ? number extends T["length"]
      ? [number, ...DataShape<T[number], [...Depth, 0]>]
      : T extends readonly [infer H, ...unknown[]] ? [T["length"], ...DataShape<H, [...Depth, 0]>] : [0]
    : [];
type Leaves<T> = T extends readonly (infer E)[] ? Leaves<E> : T;
type IsFloatLiteral<N> = N extends number ? (`${N}` extends `${string}.${string}` | `${string}e-${string}` ? true : false) : false;
/**
 * The dtype `torch.tensor` infers: all booleans → bool; all integer literals → int64; a literal
 * with a fraction → float32. Non-literal numbers could be either: `"float32" | "int64"` (pass
 * `{ dtype }` to say which).
 */
export type DataDType<T> = [Leaves<T>] extends [never]
  ? "float32" // no elements (`torch.tensor([])`), as PyTorch
  : [Leaves<T>] extends [boolean]
  ? "bool"
  : true extends IsFloatLiteral<Leaves<T>>
    ? "float32"
    : number extends Leaves<T>
      ? "float32" | "int64"
      : "int64";

function inferShape(data: NestedData, shape: number[], depth: number): void {
  if (Array.isArray(data)) {
    if (shape.length <= depth) shape.push(data.length);
    else if (shape[depth] !== data.length) throw new ValueError(`tensor: nested arrays must be rectangular, got lengths ${shape[depth]} and ${data.length} at depth ${depth}`);
    for (const d of data) inferShape(d as NestedData, shape, depth + 1);
  } else if (shape.length > depth) throw new ValueError(`tensor: nested arrays must be rectangular, got a number where an array of length ${shape[depth]} belongs at depth ${depth}`);
}

function flattenData(data: NestedData, out: (number | boolean)[], depth: number, rank: number): void {
  if (Array.isArray(data)) {
    if (depth >= rank) throw new ValueError(`tensor: nested arrays must be rectangular, got an array at depth ${depth} where numbers belong`);
    for (const d of data) flattenData(d as NestedData, out, depth + 1, rank);
  } else {
    if (typeof data !== "number" && typeof data !== "boolean") throw new ValueError(`tensor: elements must be numbers or booleans, got ${typeof data} (${String(data)})`);
    // inferShape takes the first path's depth; a number met before it (as in [1, [2]]) is ragged.
    if (depth < rank) throw new ValueError(`tensor: nested arrays must be rectangular, got a number at depth ${depth} where arrays belong`);
    out.push(data);
  }
}

/** The dtype PyTorch infers for values: bool, int64 (all integers), else float32. */
export function inferDType(values: readonly (number | boolean)[]): DType {
  if (values.length > 0 && values.every((v) => typeof v === "boolean")) return "bool";
  // Integers beyond ±2^53 can't be int64 exactly here: like a Python float literal, they are float32.
  return values.length > 0 && values.every((v) => typeof v === "boolean" || (Number.isInteger(v) && Math.abs(v) <= 2 ** 53)) ? "int64" : "float32";
}

/** Writes JS values into storage of `dtype`, rejecting what that dtype can't hold. */
export function fillFrom(t: AnyTensor, values: ArrayLike<number | boolean>, op: string): void {
  const d = t._data;
  const isInt = t.dtype === "int32" || t.dtype === "int64";
  for (let i = 0; i < values.length; i++) {
    const v = +values[i]!;
    if (isInt && !Number.isFinite(v)) throw new ValueError(`${op}: values must be finite for dtype ${t.dtype}, got ${v}`);
    if (t.dtype === "int64" && Math.abs(v) > 2 ** 53) throw new ValueError(`${op}: int64 values must be within ±2^53 to be exact, got ${v}`);
    // `+ 0`: trunc(-0.5) is -0, which int64 (stored as doubles) must not keep.
    d[i] = t.dtype === "bool" ? (v !== 0 ? 1 : 0) : isInt ? Math.trunc(v) + 0 : v;
  }
}

function finish<T extends AnyTensor>(t: T, opts: CreateOptions | undefined, op: string): T {
  if (opts?.device !== undefined && opts.device !== "cpu") throw new ValueError(`${op}: device must be "cpu" here, got ${String(opts.device)}`);
  if (opts?.requiresGrad) {
    if (!isFloating(t.dtype)) throw new DTypeError(`${op}: only floating point tensors can require gradients, got dtype ${t.dtype}`);
    t.requiresGrad = true;
  }
  return t;
}

function checkDType(op: string, d: unknown): DType | undefined {
  if (d === undefined) return undefined;
  if (d !== "float32" && d !== "float64" && d !== "int32" && d !== "int64" && d !== "bool") throw new ValueError(`${op}: dtype must be float32, float64, int32, int64 or bool, got ${String(d)}`);
  return d;
}

/**
 * A tensor from nested arrays (or a number, or a typed array), shape and dtype inferred — in the
 * type too. All-integer data infers int64 (JavaScript can't tell `1.0` from `1`), so float data
 * with whole values needs `{ dtype: "float32" }`.
 *
 * @example
 * torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]]); // Tensor<[2, 3], "float32">
 * torch.tensor([0, 2]);                              // Tensor<[2], "int64">
 * torch.tensor([1, 2], { dtype: "float32" });        // Tensor<[2], "float32">
 */
export function tensor<const T extends NestedData, O extends CreateOptions = {}>(data: T, opts?: O): Tensor<DataShape<T>, DTypeOpt<O, DataDType<T>>>;
export function tensor<O extends CreateOptions = {}>(data: Float32Array | Float64Array | Int32Array | Uint8Array, opts?: O): Tensor<[number], DTypeOpt<O, "float32">>;
export function tensor(data: NestedData | Float32Array | Float64Array | Int32Array | Uint8Array, opts?: CreateOptions): AnyTensor {
  if (ArrayBuffer.isView(data)) {
    const dt = checkDType("tensor", opts?.dtype) ?? (data instanceof Float64Array ? "float64" : data instanceof Int32Array ? "int32" : data instanceof Uint8Array ? "bool" : "float32");
    const t = Tensor._empty([data.length], dt);
    fillFrom(t, data, "tensor");
    return finish(t, opts, "tensor");
  }
  const shape: number[] = [];
  inferShape(data, shape, 0);
  const flat: (number | boolean)[] = [];
  flattenData(data, flat, 0, shape.length);
  const dtype = checkDType("tensor", opts?.dtype) ?? inferDType(flat);
  const t = Tensor._empty(shape, dtype);
  fillFrom(t, flat, "tensor");
  return finish(t, opts, "tensor");
}

// ---------------------------------------------------------------------------------------------
// sized creators
// ---------------------------------------------------------------------------------------------

/** Splits `(2, 3)`, `([2, 3])`, `(2, 3, opts)` into a shape and options, validating sizes. */
export function parseSize(op: string, args: readonly unknown[]): { shape: number[]; opts: CreateOptions & { generator?: Generator } } {
  let a = [...args];
  let opts = {};
  const last = a[a.length - 1];
  if (last !== null && typeof last === "object" && !Array.isArray(last)) {
    opts = last;
    a = a.slice(0, -1);
  }
  const shape = (a.length === 1 && Array.isArray(a[0]) ? a[0] : a) as unknown[];
  for (const s of shape) {
    if (typeof s !== "number" || !Number.isInteger(s) || s < 0) throw new ValueError(`${op}: sizes must be non-negative integers, got [${shape.map(String).join(", ")}]`);
  }
  return { shape: shape as number[], opts };
}


function sized(op: string, args: readonly unknown[], fill: (t: AnyTensor, gen?: Generator) => void, def: DType = "float32", floatOnly = false): AnyTensor {
  const { shape, opts } = parseSize(op, args);
  const dtype = checkDType(op, opts.dtype) ?? def;
  if (floatOnly && !isFloating(dtype)) throw new DTypeError(`${op}: dtype must be float32 or float64, got ${dtype}`);
  const t = Tensor._empty(shape, dtype);
  fill(t, opts.generator);
  return finish(t, opts, op);
}

/**
 * A tensor of zeros: `torch.zeros(2, 3)`, `torch.zeros([2, 3])`, `torch.zeros(2, 3, { dtype: "int64" })`.
 *
 * @example
 * torch.zeros(2, 3); // Tensor<[2, 3], "float32">
 */
export function zeros<const A extends SizeArgs>(...size: A): Tensor<SizeOf<A>, DTypeOpt<OptsOf<A>, "float32">> {
  return sized("zeros", size, () => {}) as never;
}
/** A tensor of ones (see {@link zeros}). */
export function ones<const A extends SizeArgs>(...size: A): Tensor<SizeOf<A>, DTypeOpt<OptsOf<A>, "float32">> {
  return sized("ones", size, (t) => t.fill_(1)) as never;
}
/** An uninitialised tensor (here: zeros; see {@link zeros}). */
export function empty<const A extends SizeArgs>(...size: A): Tensor<SizeOf<A>, DTypeOpt<OptsOf<A>, "float32">> {
  return sized("empty", size, () => {}) as never;
}
/**
 * Uniform samples in [0, 1), PyTorch's numbers after the same `manualSeed`.
 *
 * @example
 * torch.manualSeed(0); torch.rand(3); // tensor([0.4963, 0.7682, 0.0885])
 */
export function rand<const A extends SizeArgs>(...size: A): Tensor<SizeOf<A>, DTypeOpt<OptsOf<A>, "float32">> {
  return sized("rand", size, (t, g) => uniformFill(t._data as Float32Array, 0, 1, g), "float32", true) as never;
}
/**
 * Standard normal samples, PyTorch's numbers after the same `manualSeed`.
 *
 * @example
 * torch.randn(53, 7, { requiresGrad: true }); // Tensor<[53, 7], "float32">
 */
export function randn<const A extends SizeArgs>(...size: A): Tensor<SizeOf<A>, DTypeOpt<OptsOf<A>, "float32">> {
  return sized("randn", size, (t, g) => normalFill(t._data as Float32Array, 0, 1, g), "float32", true) as never;
}

/** dtype `full` infers from its fill value: bool, int64 for an integer, else float32. */
export type FillDType<V> = V extends boolean ? "bool" : IsFloatLiteral<V> extends true ? "float32" : number extends V ? "float32" | "int64" : "int64";

/**
 * A tensor filled with `fillValue` (dtype from the value, as PyTorch 1.13: int → int64).
 *
 * @example
 * torch.full([2, 2], 7); // Tensor<[2, 2], "int64">
 */
export function full<const S extends readonly number[], const V extends number | boolean, O extends CreateOptions = {}>(size: S, fillValue: V, opts?: O): Tensor<{ -readonly [K in keyof S]: S[K] }, DTypeOpt<O, FillDType<V>>> {
  const { shape } = parseSize("full", [size]);
  const dtype = checkDType("full", opts?.dtype) ?? inferDType([fillValue]);
  const t = Tensor._empty(shape, dtype).fill_(fillValue);
  return finish(t, opts, "full") as never;
}

/**
 * The identity matrix `[n, m]` (m defaults to n).
 *
 * @example
 * torch.eye(3); // Tensor<[3, 3], "float32">
 */
export function eye<N extends number, M extends number = N, O extends CreateOptions = {}>(n: N, m?: M | O, opts?: O): Tensor<[N, M], DTypeOpt<O, "float32">> {
  const o = (typeof m === "object" ? m : opts) as CreateOptions | undefined;
  const cols = typeof m === "number" ? m : n;
  parseSize("eye", [n, cols]);
  const t = Tensor._empty([n, cols], checkDType("eye", o?.dtype) ?? "float32");
  for (let i = 0; i < Math.min(n, cols); i++) t._data[i * cols + i] = 1;
  return finish(t, o, "eye") as never;
}

/**
 * `steps` evenly spaced values from `start` to `end` inclusive (computed as PyTorch does: from
 * both ends toward the middle, in the result dtype).
 *
 * @example
 * torch.linspace(0, 1, 5); // tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
 */
export function linspace<N extends number, O extends CreateOptions = {}>(start: number, end: number, steps: N, opts?: O): Tensor<[N], DTypeOpt<O, "float32">> {
  if (!Number.isInteger(steps) || steps < 0) throw new ValueError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = checkDType("linspace", opts?.dtype) ?? "float32";
  const t = Tensor._empty([steps], dtype);
  const f = dtype === "float32" ? Math.fround : (x: number) => x;
  if (steps === 1) t._data[0] = start;
  else if (steps > 1) {
    const s = f(start);
    const e = f(end);
    const step = f((e - s) / (steps - 1));
    const half = Math.floor(steps / 2);
    for (let i = 0; i < steps; i++) {
      const v = i < half ? f(s + f(step * i)) : f(e - f(step * (steps - i - 1)));
      t._data[i] = isFloating(dtype) ? v : dtype === "bool" ? (v !== 0 ? 1 : 0) : Math.trunc(v) + 0; // no -0 in ints
    }
  }
  return finish(t, opts, "linspace") as never;
}

type IntLit<N> = N extends number ? (number extends N ? false : IsFloatLiteral<N> extends true ? false : true) : false;
/** Length of `arange(start, end, step)` for literal integers (`number` otherwise). */
export type ArangeLen<S extends number, E extends number, St extends number> = [IntLit<S>, IntLit<E>, IntLit<St>] extends [true, true, true]
  ? St extends 0
    ? number // the run time throws (a step of 0); not `never`
    : Gt<St, 0> extends true
      ? Gt<E, S> extends true ? Div<Add<Sub<E, S>, Sub<St, 1>>, St> : 0
      : Gt<S, E> extends true ? Div<Add<Sub<S, E>, Sub<Neg<St>, 1>>, Neg<St>> : 0
  : number;
type ArangeDType<S, E, St> = true extends IsFloatLiteral<S> | IsFloatLiteral<E> | IsFloatLiteral<St>
  ? "float32"
  : [IntLit<S>, IntLit<E>, IntLit<St>] extends [true, true, true] ? "int64" : "float32" | "int64";

/**
 * Values `start, start + step, ...` below `end` (`arange(end)` starts at 0). Integer arguments give
 * int64, any fractional one float32; literal integer arguments give a literal length.
 *
 * @example
 * torch.arange(5);            // Tensor<[5], "int64">: tensor([0, 1, 2, 3, 4])
 * torch.arange(1, 2.5, 0.5);  // tensor([1.0000, 1.5000, 2.0000])
 * torch.arange(24, { dtype: "float32" });
 */
export function arange<E extends number, O extends CreateOptions = {}>(end: E, opts?: O): Tensor<[ArangeLen<0, E, 1>], DTypeOpt<O, ArangeDType<0, E, 1>>>;
export function arange<S extends number, E extends number, O extends CreateOptions = {}>(start: S, end: E, opts?: O): Tensor<[ArangeLen<S, E, 1>], DTypeOpt<O, ArangeDType<S, E, 1>>>;
export function arange<S extends number, E extends number, St extends number, O extends CreateOptions = {}>(start: S, end: E, step: St, opts?: O): Tensor<[ArangeLen<S, E, St>], DTypeOpt<O, ArangeDType<S, E, St>>>;
export function arange(...args: (number | CreateOptions)[]): AnyTensor {
  const nums = args.filter((a): a is number => typeof a === "number");
  const opts = args.find((a): a is CreateOptions => typeof a === "object");
  const [start, end, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
  for (const v of [start, end, step]) if (!Number.isFinite(v)) throw new ValueError(`arange: start, end and step must be finite, got ${v}`);
  if (step === 0) throw new ValueError("arange: step must be nonzero, got 0");
  if ((end - start) * step < 0) throw new ValueError(`arange: the step's sign must lead from start to end, got start=${start}, end=${end}, step=${step}`);
  const dtype = checkDType("arange", opts?.dtype) ?? (nums.every(Number.isInteger) ? "int64" : "float32");
  const n = Math.ceil((end - start) / step);
  const t = Tensor._empty([n], dtype);
  for (let i = 0; i < n; i++) t._data[i] = isFloating(dtype) ? start + step * i : Math.trunc(start + step * i) + 0; // no -0 in ints
  return finish(t, opts, "arange");
}

/**
 * Uniform random integers in `[low, high)` (low defaults to 0), int64 unless `dtype` says otherwise.
 *
 * @example
 * torch.randint(0, 10, [3]); // Tensor<[3], "int64">
 * torch.randint(10, [2, 2]);  // Tensor<[2, 2], "int64">
 */
export function randint<const S extends readonly number[], O extends RandOpts = {}>(high: number, size: S, opts?: O): Tensor<{ -readonly [K in keyof S]: S[K] }, DTypeOpt<O, "int64">>;
export function randint<const S extends readonly number[], O extends RandOpts = {}>(low: number, high: number, size: S, opts?: O): Tensor<{ -readonly [K in keyof S]: S[K] }, DTypeOpt<O, "int64">>;
export function randint(...args: unknown[]): AnyTensor {
  const sizeAt = args.findIndex((a) => Array.isArray(a));
  if (sizeAt < 1) throw new ValueError("randint: expected (high, size) or (low, high, size) with size an array, got " + JSON.stringify(args));
  const [low, high] = sizeAt === 1 ? [0, args[0] as number] : [args[0] as number, args[1] as number];
  const opts = (args[sizeAt + 1] ?? {}) as RandOpts;
  const { shape } = parseSize("randint", [args[sizeAt]]);
  const dtype = checkDType("randint", opts.dtype) ?? "int64";
  const t = Tensor._empty(shape, dtype);
  if (dtype === "bool") throw new DTypeError("randint: dtype bool is not supported, got bool");
  randintFill(t._data as Float64Array, low, high, opts.generator);
  return finish(t, opts, "randint");
}

/** Options of the random creators. */
export interface RandOpts<D extends DType = DType> extends CreateOptions<D> {
  generator?: Generator;
}

/**
 * A random permutation of `0..n-1` (int64), PyTorch's after the same seed.
 *
 * @example
 * torch.randperm(4); // Tensor<[4], "int64">
 */
export function randperm<N extends number, O extends RandOpts = {}>(n: N, opts?: O): Tensor<[N], DTypeOpt<O, "int64">> {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`randperm: n must be a non-negative integer, got ${n}`);
  const p = randpermArray(n, opts?.generator);
  const t = Tensor._empty([n], checkDType("randperm", opts?.dtype) ?? "int64");
  fillFrom(t, p, "randperm");
  return finish(t, opts, "randperm") as never;
}

// ---------------------------------------------------------------------------------------------
// *Like
// ---------------------------------------------------------------------------------------------

// *Like results live where x lives (made on the CPU, then moved).
function onDeviceOf(x: AnyTensor, t: AnyTensor): AnyTensor {
  return x.device === "cpu" ? t : t._toDevice(x.device);
}

type Like<S extends Shape, D extends DType, O> = Tensor<{ -readonly [K in keyof S]: S[K] }, DTypeOpt<O, D>>;

/** Zeros of x's shape (and dtype unless given). */
export function zerosLike<S extends Shape, D extends DType, O extends CreateOptions = {}>(x: Tensor<S, D>, opts?: O): Like<S, D, O> {
  return onDeviceOf(x, zeros([...x.shape], { dtype: x.dtype, ...opts })) as never;
}
/** Ones of x's shape (and dtype unless given). */
export function onesLike<S extends Shape, D extends DType, O extends CreateOptions = {}>(x: Tensor<S, D>, opts?: O): Like<S, D, O> {
  return onDeviceOf(x, ones([...x.shape], { dtype: x.dtype, ...opts })) as never;
}
/** An uninitialised (zero) tensor of x's shape. */
export function emptyLike<S extends Shape, D extends DType, O extends CreateOptions = {}>(x: Tensor<S, D>, opts?: O): Like<S, D, O> {
  return onDeviceOf(x, empty([...x.shape], { dtype: x.dtype, ...opts })) as never;
}
/** `fillValue` in x's shape (and dtype unless given). */
export function fullLike<S extends Shape, D extends DType, O extends CreateOptions = {}>(x: Tensor<S, D>, fillValue: number | boolean, opts?: O): Like<S, D, O> {
  return onDeviceOf(x, full([...x.shape], fillValue, { dtype: x.dtype, ...opts })) as never;
}
/** Uniform samples in x's shape. */
export function randLike<S extends Shape, D extends DType, O extends RandOpts = {}>(x: Tensor<S, D>, opts?: O): Like<S, D, O> {
  return onDeviceOf(x, rand([...x.shape], { dtype: x.dtype, ...opts })) as never;
}
/** Normal samples in x's shape. */
export function randnLike<S extends Shape, D extends DType, O extends RandOpts = {}>(x: Tensor<S, D>, opts?: O): Like<S, D, O> {
  return onDeviceOf(x, randn([...x.shape], { dtype: x.dtype, ...opts })) as never;
}
/** Random integers in `[low, high)` in x's shape. */
export function randintLike<S extends Shape, D extends DType, O extends RandOpts = {}>(x: Tensor<S, D>, low: number, high?: number, opts?: O): Like<S, D, O> {
  const [lo, hi] = high === undefined ? [0, low] : [low, high];
  return randint(lo, hi, [...x.shape], { dtype: x.dtype, ...opts }) as never;
}
