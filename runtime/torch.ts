/**
 * The `torch` namespace: creation functions, the seeded generator, and every Tensor op as a
 * function (`torch.softmax(x, 1)` is `x.softmax(1)`), as in PyTorch.
 */
import type { CatShape, StackShape } from "../types/join.js";
import type { Check, Ok } from "../types/check.js";
import type { BmmShape, MatmulShape, MmShape } from "../types/matmul.js";
import type { FlattenShape, PermuteShape, ReshapeShape, SqueezeShape, TShape, TransposeShape, UnsqueezeShape } from "../types/movement.js";
import type { DimArg, ReduceShape } from "../types/reduce.js";
import type { Shape } from "../types/shape.js";
import { ValueError } from "../types/errors.js";
import type { DType } from "./dtype.js";
import * as C from "./ops/composite.js";
import { whereOp } from "./ops/binary.js";
import { catOp, stackOp } from "./ops/movement.js";
import type { ValuesIndices } from "./ops/reduce.js";
import type { FloatOf, Promote, SumOf } from "./promote.js";
import { Tensor } from "./Tensor.js";
import type { AnyTensor, BinCheck, BinDType, BinShape, DimCheck, KeepArg } from "./tensorTypes.js";

export { arange, empty, emptyLike, eye, full, fullLike, linspace, ones, onesLike, rand, randint, randintLike, randLike, randn, randnLike, randperm, tensor, zeros, zerosLike } from "./creation.js";
export { Generator, initialSeed, manualSeed } from "./random.js";
export { noGrad, setGradEnabled, isGradEnabled } from "./autograd.js";
import { detectAnomaly, isAnomalyEnabled, setDetectAnomaly } from "./anomaly.js";
/**
 * `torch.autograd`: anomaly detection (`detectAnomaly(() => ...)` names the first op that produced
 * NaN/Inf in forward or backward).
 *
 * @example
 * torch.autograd.detectAnomaly(() => loss.backward());
 */
export const autograd = { detectAnomaly, setDetectAnomaly, isAnomalyEnabled };
export { getPrintOptions, setPrintOptions } from "./format.js";
export { Tensor } from "./Tensor.js";
/** WebGPU device setup: `await torch.webgpu.init()`, then `x.to("webgpu")` (see `runtime/webgpu.ts`). */
export * as webgpu from "./webgpu.js";
export { save, load, loadWithMetadata, saveBytes, loadBytes, loadBytesWithMetadata } from "./io/index.js";
export type { DType } from "./dtype.js";

/** PyTorch's dtype objects are strings here: `torch.float32 === "float32"`. */
export const float32 = "float32", float64 = "float64", int32 = "int32", int64 = "int64", bool = "bool";
/** Aliases PyTorch also has. */
export const float = "float32", double = "float64", int = "int32", long = "int64";

type ShapesOf<Ts extends readonly AnyTensor[]> = { [K in keyof Ts]: Ts[K] extends Tensor<infer S, DType> ? S : never };
type DTypesOf<Ts extends readonly AnyTensor[]> = Ts[number] extends { readonly dtype: infer D extends DType } ? D : never;
type PromoteAll<U extends DType> = [U] extends ["float64"] ? "float64" : "float64" extends U ? "float64" : "float32" extends U ? "float32" : "int64" extends U ? "int64" : "int32" extends U ? "int32" : "bool";

/**
 * Concatenates tensors along `dim` (shapes must agree elsewhere; the result's dim adds up).
 *
 * @example
 * torch.cat([torch.zeros(2, 3), torch.ones(4, 3)]).shape; // [6, 3]
 */
export function cat<const Ts extends readonly AnyTensor[], Dm extends number = 0>(tensors: Ts & Check<CatShape<ShapesOf<Ts>, Dm>>, dim?: Dm): Tensor<Ok<CatShape<ShapesOf<Ts>, Dm>>, PromoteAll<DTypesOf<Ts>>> {
  return catOp(tensors, dim ?? 0) as never;
}
/** PyTorch's alias of {@link cat}. */
export const concat = cat;

/**
 * Stacks equal-shaped tensors along a new dim.
 *
 * @example
 * torch.stack([torch.zeros(2, 3), torch.ones(2, 3)], 1).shape; // [2, 2, 3]
 */
export function stack<const Ts extends readonly AnyTensor[], Dm extends number = 0>(tensors: Ts & Check<StackShape<ShapesOf<Ts>, Dm>>, dim?: Dm): Tensor<Ok<StackShape<ShapesOf<Ts>, Dm>>, PromoteAll<DTypesOf<Ts>>> {
  return stackOp(tensors, dim ?? 0) as never;
}

type WhereOperand = AnyTensor | number;
type OpShape<T> = T extends Tensor<infer S, DType> ? S : [];
type OpDType<T> = T extends { readonly dtype: infer D extends DType } ? D : "float32";
type IsTensor<T> = T extends { readonly dtype: DType } ? true : false;

/**
 * `cond ? x : y` elementwise with broadcasting (cond must be bool).
 *
 * @example
 * torch.where(x.gt(0), x, 0); // relu
 */
export function where<SC extends Shape, X extends WhereOperand, Y extends WhereOperand>(
  condition: Tensor<SC, "bool">,
  x: X & BinCheck<SC, X, "where">,
  y: Y & BinCheck<BinShape<SC, X, "where">, Y, "where">,
): Tensor<BinShape<BinShape<SC, X, "where">, Y, "where">, IsTensor<X> extends true ? (IsTensor<Y> extends true ? Promote<OpDType<X>, OpDType<Y>> : OpDType<X>) : IsTensor<Y> extends true ? OpDType<Y> : "float32"> {
  return whereOp(condition, x, y) as never;
}

/** `torch.matmul(a, b)` (see {@link Tensor.matmul}). */
export function matmul<S1 extends Shape, S2 extends Shape, D extends DType>(a: Tensor<S1, D>, b: Tensor<S2, D> & Check<MatmulShape<S1, S2>>): Tensor<Ok<MatmulShape<S1, S2>>, D> {
  return a.matmul(b as never) as never;
}
/** `torch.mm(a, b)`: 2-D product. */
export function mm<S1 extends Shape, S2 extends Shape, D extends DType>(a: Tensor<S1, D>, b: Tensor<S2, D> & Check<MmShape<S1, S2>>): Tensor<Ok<MmShape<S1, S2>>, D> {
  return a.mm(b as never) as never;
}
/** `torch.bmm(a, b)`: batched 3-D product. */
export function bmm<S1 extends Shape, S2 extends Shape, D extends DType>(a: Tensor<S1, D>, b: Tensor<S2, D> & Check<BmmShape<S1, S2>>): Tensor<Ok<BmmShape<S1, S2>>, D> {
  return a.bmm(b as never) as never;
}
/** `torch.flatten(x, startDim, endDim)`. */
export function flatten<S extends Shape, D extends DType, St extends number = 0, En extends number = -1>(x: Tensor<S, D> & Check<FlattenShape<S, St, En>>, startDim?: St, endDim?: En): Tensor<Ok<FlattenShape<S, St, En>>, D> {
  return (x as unknown as AnyTensor).flatten(startDim as never, endDim as never) as never;
}

type Bin<Op extends string> = <S extends Shape, D extends DType, T extends AnyTensor | number>(input: Tensor<S, D>, other: T & BinCheck<S, T, Op>) => Tensor<BinShape<S, T, Op>, BinDType<D, T>>;
type Cmp<Op extends string> = <S extends Shape, D extends DType, T extends AnyTensor | number>(input: Tensor<S, D>, other: T & BinCheck<S, T, Op>) => Tensor<BinShape<S, T, Op>, "bool">;
const bin = <Op extends string>(m: "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum") => ((a: AnyTensor, b: never) => (a[m] as (o: unknown) => AnyTensor)(b)) as unknown as Bin<Op>;
const cmp = <Op extends string>(m: "eq" | "ne" | "gt" | "ge" | "lt" | "le") => ((a: AnyTensor, b: never) => (a[m] as (o: unknown) => AnyTensor)(b)) as unknown as Cmp<Op>;

/** `torch.add(a, b)` (see {@link Tensor.add}). */
export const add: Bin<"add"> = bin("add");
/** `torch.sub(a, b)`. */
export const sub: Bin<"sub"> = bin("sub");
/** `torch.mul(a, b)`. */
export const mul: Bin<"mul"> = bin("mul");
/** `torch.div(a, b)` (true division). */
export const div: Bin<"div"> = bin("div");
/** `torch.pow(a, b)`. */
export const pow: Bin<"pow"> = bin("pow");
/** `torch.maximum(a, b)`. */
export const maximum: Bin<"maximum"> = bin("maximum");
/** `torch.minimum(a, b)`. */
export const minimum: Bin<"minimum"> = bin("minimum");
/** `torch.eq(a, b)`. */
export const eq: Cmp<"eq"> = cmp("eq");
/** `torch.ne(a, b)`. */
export const ne: Cmp<"ne"> = cmp("ne");
/** `torch.gt(a, b)`. */
export const gt: Cmp<"gt"> = cmp("gt");
/** `torch.ge(a, b)`. */
export const ge: Cmp<"ge"> = cmp("ge");
/** `torch.lt(a, b)`. */
export const lt: Cmp<"lt"> = cmp("lt");
/** `torch.le(a, b)`. */
export const le: Cmp<"le"> = cmp("le");

type Un<R extends "same" | "float"> = <S extends Shape, D extends DType>(x: Tensor<S, D>) => Tensor<S, R extends "same" ? D : D extends "float64" ? "float64" : "float32">;
const un = <R extends "same" | "float">(m: "neg" | "abs" | "exp" | "log" | "sqrt" | "relu" | "sigmoid" | "tanh" | "sign" | "floor" | "ceil" | "round") => ((x: AnyTensor) => (x[m] as () => AnyTensor)()) as unknown as Un<R>;
/** `torch.neg(x)`. */
export const neg: Un<"same"> = un("neg");
/** `torch.abs(x)`. */
export const abs: Un<"same"> = un("abs");
/** `torch.sign(x)`. */
export const sign: Un<"same"> = un("sign");
/** `torch.exp(x)`. */
export const exp: Un<"float"> = un("exp");
/** `torch.log(x)`. */
export const log: Un<"float"> = un("log");
/** `torch.sqrt(x)`. */
export const sqrt: Un<"float"> = un("sqrt");
/** `torch.relu(x)`. */
export const relu: Un<"same"> = un("relu");
/** `torch.sigmoid(x)`. */
export const sigmoid: Un<"float"> = un("sigmoid");
/** `torch.tanh(x)`. */
export const tanh: Un<"float"> = un("tanh");
/** `torch.floor(x)`. */
export const floor: Un<"same"> = un("floor");
/** `torch.ceil(x)`. */
export const ceil: Un<"same"> = un("ceil");
/** `torch.round(x)`. */
export const round: Un<"same"> = un("round");

/** `torch.clamp(x, min, max)`. */
export function clamp<S extends Shape, D extends DType>(x: Tensor<S, D>, min?: number | null, max?: number | null): Tensor<S, D> {
  return x.clamp(min, max);
}

// Reductions and movement forward to the methods; the signatures repeat the methods' (a generic
// method's `Parameters<...>` / `ReturnType<...>` would lose its type parameters: the dims).
type Method<K extends keyof AnyTensor> = <S extends Shape, D extends DType, A extends unknown[]>(x: Tensor<S, D>, ...args: A) => ReturnType<Extract<Tensor<S, D>[K], (...a: never[]) => unknown>>;
const method = <K extends keyof AnyTensor>(k: K) =>
  ((x: AnyTensor, ...args: unknown[]) => (x[k] as (...a: unknown[]) => unknown)(...args)) as unknown as Method<K>;
const call = (x: unknown, k: string, args: readonly unknown[]): never => ((x as Record<string, (...a: unknown[]) => unknown>)[k]!.call(x, ...args)) as never;
type VarOpts<K extends boolean> = boolean | { unbiased?: boolean; correction?: number; keepdim?: K };
type Red<S extends Shape, Dm extends DimArg, K extends boolean, Op extends string> = Ok<ReduceShape<S, Dm, K, Op>>;

/** `torch.sum(x, dim?, keepdim?)` (see {@link Tensor.sum}). */
export function sum<S extends Shape, D extends DType, const Dm extends DimArg = undefined, K extends boolean = false>(x: Tensor<S, D>, dim?: Dm & Check<ReduceShape<S, Dm, K, "sum">>, keepdim?: KeepArg<K>): Tensor<Red<S, Dm, K, "sum">, SumOf<D>> {
  return call(x, "sum", [dim, keepdim]);
}
/** `torch.mean(x, dim?, keepdim?)`. */
export function mean<S extends Shape, D extends DType, const Dm extends DimArg = undefined, K extends boolean = false>(x: Tensor<S, D>, dim?: Dm & Check<ReduceShape<S, Dm, K, "mean">>, keepdim?: KeepArg<K>): Tensor<Red<S, Dm, K, "mean">, D> {
  return call(x, "mean", [dim, keepdim]);
}
/** `torch.prod(x, dim?, keepdim?)`. */
export function prod<S extends Shape, D extends DType, Dm extends number | undefined = undefined, K extends boolean = false>(x: Tensor<S, D>, dim?: Dm & Check<ReduceShape<S, Dm, K, "prod">>, keepdim?: KeepArg<K>): Tensor<Red<S, Dm, K, "prod">, SumOf<D>> {
  return call(x, "prod", [dim, keepdim]);
}
/** `torch.max(x)` / `torch.max(x, dim)` (values and indices). */
export function max<S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<[], D>;
export function max<S extends Shape, D extends DType, Dm extends number, K extends boolean = false>(x: Tensor<S, D>, dim: Dm & Check<ReduceShape<S, Dm, K, "max">>, keepdim?: KeepArg<K>): ValuesIndices<Tensor<Red<S, Dm, K, "max">, D>, Tensor<Red<S, Dm, K, "max">, "int64">>;
export function max(x: AnyTensor, ...args: unknown[]): unknown {
  return call(x, "max", args);
}
/** `torch.min(x)` / `torch.min(x, dim)` (values and indices). */
export function min<S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<[], D>;
export function min<S extends Shape, D extends DType, Dm extends number, K extends boolean = false>(x: Tensor<S, D>, dim: Dm & Check<ReduceShape<S, Dm, K, "min">>, keepdim?: KeepArg<K>): ValuesIndices<Tensor<Red<S, Dm, K, "min">, D>, Tensor<Red<S, Dm, K, "min">, "int64">>;
export function min(x: AnyTensor, ...args: unknown[]): unknown {
  return call(x, "min", args);
}
/** `torch.amax(x, dim?, keepdim?)`. */
export function amax<S extends Shape, D extends DType, const Dm extends DimArg = undefined, K extends boolean = false>(x: Tensor<S, D>, dim?: Dm & Check<ReduceShape<S, Dm, K, "amax">>, keepdim?: KeepArg<K>): Tensor<Red<S, Dm, K, "amax">, D> {
  return call(x, "amax", [dim, keepdim]);
}
type ArgShape<S extends Shape, Dm, K extends boolean, Op extends string> = Dm extends number ? Red<S, Dm, K, Op> : K extends true ? { -readonly [I in keyof S]: 1 } : [];
/** `torch.argmax(x, dim?, keepdim?)`. */
export function argmax<S extends Shape, D extends DType, Dm extends number | undefined = undefined, K extends boolean = false>(x: Tensor<S, D>, dim?: Dm & Check<ReduceShape<S, Dm, K, "argmax">>, keepdim?: KeepArg<K>): Tensor<ArgShape<S, Dm, K, "argmax">, "int64"> {
  return call(x, "argmax", [dim, keepdim]);
}
/** `torch.argmin(x, dim?, keepdim?)`. */
export function argmin<S extends Shape, D extends DType, Dm extends number | undefined = undefined, K extends boolean = false>(x: Tensor<S, D>, dim?: Dm & Check<ReduceShape<S, Dm, K, "argmin">>, keepdim?: KeepArg<K>): Tensor<ArgShape<S, Dm, K, "argmin">, "int64"> {
  return call(x, "argmin", [dim, keepdim]);
}
/** `torch.var(x, dim?, unbiased?)`. */
export function var_<S extends Shape, D extends DType, const Dm extends DimArg = undefined, K extends boolean = false>(x: Tensor<S, D>, dim?: Dm & Check<ReduceShape<S, Dm, K, "var">>, opts?: VarOpts<K>, keepdim?: K): Tensor<Red<S, Dm, K, "var">, FloatOf<D>> {
  return call(x, "var", [dim, opts, keepdim]);
}
/** `torch.std(x, dim?, unbiased?)`. */
export function std<S extends Shape, D extends DType, const Dm extends DimArg = undefined, K extends boolean = false>(x: Tensor<S, D>, dim?: Dm & Check<ReduceShape<S, Dm, K, "std">>, opts?: VarOpts<K>, keepdim?: K): Tensor<Red<S, Dm, K, "std">, FloatOf<D>> {
  return call(x, "std", [dim, opts, keepdim]);
}
/** `torch.logsumexp(x, dim, keepdim?)`. */
export function logsumexp<S extends Shape, D extends DType, const Dm extends DimArg = undefined, K extends boolean = false>(x: Tensor<S, D>, dim?: Dm & Check<ReduceShape<S, Dm, K, "logsumexp">>, keepdim?: KeepArg<K>): Tensor<Red<S, Dm, K, "logsumexp">, FloatOf<D>> {
  return call(x, "logsumexp", [dim, keepdim]);
}
/** `torch.softmax(x, dim)`. */
export function softmax<S extends Shape, D extends DType, Dm extends number>(x: Tensor<S, D>, dim: Dm & DimCheck<S, Dm, "softmax">): Tensor<S, FloatOf<D>> {
  return call(x, "softmax", [dim]);
}
/** `torch.logSoftmax(x, dim)` (PyTorch's `torch.log_softmax`). */
export function logSoftmax<S extends Shape, D extends DType, Dm extends number>(x: Tensor<S, D>, dim: Dm & DimCheck<S, Dm, "logSoftmax">): Tensor<S, FloatOf<D>> {
  return call(x, "logSoftmax", [dim]);
}
/** `torch.reshape(x, shape)` (one -1 is inferred). */
export function reshape<S extends Shape, D extends DType, const N extends readonly number[]>(x: Tensor<S, D> & Check<ReshapeShape<S, N, "reshape">>, shape: N): Tensor<Ok<ReshapeShape<S, N, "reshape">>, D> {
  return call(x, "reshape", [shape]);
}
/** `torch.transpose(x, d0, d1)`. */
export function transpose<S extends Shape, D extends DType, D0 extends number, D1 extends number>(x: Tensor<S, D> & Check<TransposeShape<S, D0, D1>>, dim0: D0, dim1: D1): Tensor<Ok<TransposeShape<S, D0, D1>>, D> {
  return call(x, "transpose", [dim0, dim1]);
}
/** `torch.permute(x, dims)`. */
export function permute<S extends Shape, D extends DType, const N extends readonly number[]>(x: Tensor<S, D> & Check<PermuteShape<S, N>>, dims: N): Tensor<Ok<PermuteShape<S, N>>, D> {
  return call(x, "permute", [dims]);
}
/** `torch.squeeze(x, dim?)`. */
export function squeeze<S extends Shape, D extends DType, Dm extends number | undefined = undefined>(x: Tensor<S, D> & Check<SqueezeShape<S, Dm>>, dim?: Dm): Tensor<Ok<SqueezeShape<S, Dm>>, D> {
  return call(x, "squeeze", [dim]);
}
/** `torch.unsqueeze(x, dim)`. */
export function unsqueeze<S extends Shape, D extends DType, Dm extends number>(x: Tensor<S, D> & Check<UnsqueezeShape<S, Dm>>, dim: Dm): Tensor<Ok<UnsqueezeShape<S, Dm>>, D> {
  return call(x, "unsqueeze", [dim]);
}
/** `torch.t(x)`. */
export function t<S extends Shape, D extends DType>(x: Tensor<S, D> & Check<TShape<S>>): Tensor<Ok<TShape<S>>, D> {
  return call(x, "t", []);
}
/** `torch.gather(x, dim, index)`. */
export const gather = method("gather");
/** `torch.indexSelect(x, dim, index)`. */
export const indexSelect = method("indexSelect");

/**
 * One-hot encoding of int64 class indices (`F.one_hot`): `[...S]` → `[...S, numClasses]`.
 *
 * @example
 * torch.oneHot(torch.tensor([0, 2]), 3); // tensor([[1, 0, 0], [0, 0, 1]])
 */
export function oneHot<S extends Shape, N extends number = number>(x: Tensor<S, "int64">, numClasses?: N): Tensor<[...S, N], "int64"> {
  return C.oneHotOp(x, numClasses ?? -1) as never;
}

/**
 * True when `|a − b| <= atol + rtol·|b|` everywhere (shapes broadcast).
 *
 * @example
 * torch.allclose(torch.tensor([1, 2]), torch.tensor([1, 2.0000001])); // true
 */
export function allclose(a: AnyTensor, b: AnyTensor, opts: { rtol?: number; atol?: number; equalNan?: boolean } = {}): boolean {
  return C.allcloseOp(a, b, opts.rtol, opts.atol, opts.equalNan);
}
/** Elementwise closeness as a bool tensor (`torch.isclose`). */
export function isclose(a: AnyTensor, b: AnyTensor, opts: { rtol?: number; atol?: number; equalNan?: boolean } = {}): AnyTensor {
  return C.iscloseOp(a, b, opts.rtol, opts.atol, opts.equalNan);
}
/** True when shapes and values are equal (`torch.equal`). */
export function equal(a: AnyTensor, b: AnyTensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((s, i) => s === b.shape[i]) && a.ne(b as never).sum().item() === 0;
}

/**
 * Python's `len(x)`: the size of the first dim (or of anything with a `length`).
 *
 * @example
 * torch.len(torch.zeros(5, 3)); // 5
 */
export function len(x: AnyTensor | { readonly length: number }): number {
  if (x instanceof Tensor) {
    if (x.ndim === 0) throw new ValueError("len: a 0-d tensor has no length, got shape []");
    return x.shape[0]!;
  }
  return x.length;
}

/** `torch.isTensor(x)`. */
export function isTensor(x: unknown): x is AnyTensor {
  return x instanceof Tensor;
}

/** `torch.numel(x)`. */
export function numel(x: AnyTensor): number {
  return x.numel();
}
