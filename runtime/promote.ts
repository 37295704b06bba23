import type { AnyTensor } from "./tensorTypes.js";
import type { DType } from "./dtype.js";
import type { Tensor } from "./Tensor.js";

const RANK: Record<DType, number> = { bool: 0, int32: 1, int64: 2, float32: 3, float64: 4 };
const CATEGORY: Record<DType, number> = { bool: 0, int32: 1, int64: 1, float32: 2, float64: 2 };
// The dtype a Python scalar of each category becomes (PyTorch's defaults).
const SCALAR_DTYPE: readonly DType[] = ["bool", "int64", "float32"];

/**
 * The larger of two dtypes (PyTorch's `torch.promote_types`): bool < int32 < int64 < float32 < float64.
 *
 * @example
 * promoteTypes("int64", "float32"); // "float32"
 */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The category of a JS scalar: 0 bool, 1 integer, 2 float. */
export function scalarCategory(x: number | boolean): number {
  return typeof x === "boolean" ? 0 : Number.isInteger(x) ? 1 : 2;
}

/**
 * PyTorch's `torch.result_type` over tensors and scalars: dimensioned tensors decide first; 0-d
 * tensors and then scalars only win when they are of a higher category (bool < int < float).
 * A JS number counts as an integer when `Number.isInteger` (JavaScript can't tell `2.0` from `2`).
 *
 * @example
 * resultType([torch.tensor([1, 2]), 2.5]); // "float32"
 */
export function resultType(operands: readonly (AnyTensor | number | boolean)[]): DType {
  let dim: DType | undefined;
  let zero: DType | undefined;
  let scalar = -1;
  for (const o of operands) {
    if (typeof o === "number" || typeof o === "boolean") scalar = Math.max(scalar, scalarCategory(o));
    else if (o.ndim === 0) zero = zero === undefined ? o.dtype : promoteTypes(zero, o.dtype);
    else dim = dim === undefined ? o.dtype : promoteTypes(dim, o.dtype);
  }
  let out = dim ?? zero ?? SCALAR_DTYPE[Math.max(scalar, 0)]!;
  if (dim !== undefined && zero !== undefined && CATEGORY[zero] > CATEGORY[out]) out = zero;
  if (scalar > CATEGORY[out]) out = SCALAR_DTYPE[scalar]!;
  return out;
}

/** Float dtypes stay; integer and bool become float32 (what exp, sqrt, div, mean return). */
export function toFloat(d: DType): DType {
  return d === "float64" || d === "float32" ? d : "float32";
}

/** Type-level twin of {@link promoteTypes}. */
export type Promote<A extends DType, B extends DType> = A extends B
  ? A
  : "float64" extends A | B
    ? "float64"
    : "float32" extends A | B
      ? "float32"
      : "int64" extends A | B
        ? "int64"
        : "int32" extends A | B
          ? "int32"
          : "bool";

/** Type-level twin of {@link toFloat}. */
export type FloatOf<D extends DType> = D extends "float64" ? "float64" : "float32";

/** dtype of `tensor op scalar` at the type level: a literal with a fraction makes ints float. */
export type PromoteScalar<D extends DType, N> = N extends boolean
  ? D
  : D extends "float32" | "float64"
    ? D
    : N extends number
      ? `${N}` extends `${string}.${string}` | `${string}e-${string}`
        ? "float32"
        : D extends "bool" ? "int64" : D
      : D;

/** dtype of a sum/prod: integers and bool accumulate in int64, as PyTorch. */
export type SumOf<D extends DType> = D extends "float32" | "float64" ? D : "int64";
