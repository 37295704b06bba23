/**
 * Type-level plumbing of Tensor's methods: which shape and dtype an op returns for which operands,
 * and where a failed shape rule puts its message. The rules themselves live in `types/`.
 */
import type { Broadcast } from "../types/broadcast.js";
import type { Check, Ok } from "../types/check.js";
import type { NormDim } from "../types/dims.js";
import type { Shape } from "../types/shape.js";
import type { DType } from "./dtype.js";
import type { Promote, PromoteScalar } from "./promote.js";
import type { Tensor } from "./Tensor.js";

/** Any tensor, whatever its shape and dtype. */
export type AnyTensor = Tensor<Shape, DType>;

/** The shape of an operand: a tensor's, or `[]` for a scalar. */
export type ShapeOfOperand<T> = T extends Tensor<infer S, DType> ? S : [];

/** Shape of `x op other` with broadcasting. */
export type BinShape<S extends Shape, T, Op extends string> = Ok<Broadcast<S, ShapeOfOperand<T>, Op>>;

/** The check put on `other` in `x op other`. */
export type BinCheck<S extends Shape, T, Op extends string> = T extends Tensor<infer S2, DType> ? Check<Broadcast<S, S2, Op>> : unknown;

/** dtype of `x op other` (PyTorch's promotion, with JS numbers as Python scalars). */
// Matched on `dtype` alone: `T extends Tensor<Shape, infer D2>` defers for a tensor with a generic
// dim (`Tensor<[B, 256]>`), as `[B, 256] extends Shape` does.
export type BinDType<D extends DType, T> = T extends { readonly dtype: infer D2 extends DType } ? Promote<D, D2> : PromoteScalar<D, T>;

/** A dim argument's check for a tensor of shape S. */
export type DimCheck<S extends Shape, Dm extends number, Op extends string> = Check<NormDim<Dm, S["length"], Op>>;

/** `keepdim` given positionally or as `{ keepdim }`. */
export type KeepArg<K extends boolean> = K | { keepdim?: K };

/** Options that creation functions take, as PyTorch's keywords. */
export interface CreateOptions<D extends DType = DType> {
  dtype?: D;
  requiresGrad?: boolean;
  device?: "cpu";
}

/** The dtype a creation function returns: the `dtype` option, else the default. */
export type DTypeOpt<O, Default extends DType = "float32"> = O extends { dtype: infer D extends DType } ? D : Default;

/** A size given as `(2, 3)`, `([2, 3])`, or either followed by an options object. */
export type SizeArgs = readonly (number | readonly number[] | CreateOptions)[];

/** The shape named by size arguments: `[2, 3]` from `(2, 3)`, `([2, 3])`, `(2, 3, { dtype })`. */
export type SizeOf<A extends SizeArgs> = A extends readonly [infer S extends readonly number[], ...unknown[]]
  ? { -readonly [K in keyof S]: S[K] }
  : DropOpts<A>;
type DropOpts<A extends SizeArgs, Acc extends number[] = []> = A extends readonly [infer H, ...infer T extends SizeArgs]
  ? H extends number ? DropOpts<T, [...Acc, H]> : Acc
  : A extends readonly [] ? Acc : number[];

/** The options object at the end of size arguments, if any. */
export type OptsOf<A extends SizeArgs> = A extends readonly [...unknown[], infer L] ? (L extends CreateOptions ? L : {}) : {};
