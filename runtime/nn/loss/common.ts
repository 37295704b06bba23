/**
 * What the losses share: the reduction option and its types, and the checks every loss runs.
 */
import { broadcastShapes } from "../../../types/broadcast.js";
import { ShapeError, ValueError } from "../../../types/errors.js";
import { type Shape, shapeStr } from "../../../types/shape.js";
import { whereOp } from "../../ops/binary.js";
import type { DType } from "../../dtype.js";
import type { Promote } from "../../promote.js";
import type { AnyTensor } from "../../tensorTypes.js";

/** How a loss combines its per-element values: their mean (the default), their sum, or none (all of them). */
export type Reduction = "mean" | "sum" | "none";

/** The option every loss takes. */
export interface ReductionOptions<R extends Reduction = Reduction> {
  /** `"mean"` (default), `"sum"` or `"none"`. */
  reduction?: R;
}

/** The shape of a loss: `[]` when reduced, the unreduced shape `S` for `"none"`. */
export type Reduced<R extends Reduction, S extends Shape> = R extends "none" ? S : [];

/** The floating point dtypes a loss computes in. */
export type FloatDType = "float32" | "float64";

/** The dtype of a loss over an input of dtype `D` and a target of dtype `DT` (PyTorch's promotion). */
export type LossDType<D extends DType, DT extends DType> = Promote<D, DT>;

/** The reduction option, checked: PyTorch's `ValueError` for anything else. */
export function reductionOf(op: string, r: unknown): Reduction {
  if (r === undefined) return "mean";
  if (r === "mean" || r === "sum" || r === "none") return r;
  throw new ValueError(`${op}: reduction must be "mean", "sum" or "none", got ${JSON.stringify(r)}`);
}

/** Applies a reduction to the per-element losses. */
export function reduce(loss: AnyTensor, r: Reduction): AnyTensor {
  return r === "mean" ? loss.mean() : r === "sum" ? loss.sum() : loss;
}

/**
 * `num / den` for a weighted mean whose denominator may be 0 (every target ignored): NaN then,
 * as PyTorch, but with a zero gradient, as PyTorch (a plain division would send `1/0` into the
 * backward pass, and the masking ops turn `inf · 0` into NaN).
 */
export function safeMean(num: AnyTensor, den: AnyTensor): AnyTensor {
  const zero = den.eq(0);
  return whereOp(zero, NaN, 0).add(num.div(whereOp(zero, 1, den)));
}

/** Throws unless `w` broadcasts to `shape` without growing it (bce weights, posWeight). */
export function broadcastsTo(op: string, what: string, w: AnyTensor, shape: readonly number[]): void {
  const msg = () => `${op}: ${what} must broadcast to the input's shape ${shapeStr(shape)}, got ${shapeStr(w.shape)}`;
  let out: number[];
  try {
    out = broadcastShapes(op, shape, w.shape);
  } catch {
    throw new ShapeError(msg());
  }
  if (out.length !== shape.length || out.some((d, i) => d !== shape[i])) throw new ShapeError(msg());
}

/** A number as messages print it: `nan`, `inf`, `1.5` (float32 values to 8 significant digits). */
export function numStr(v: number, dtype: DType): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  return String(dtype === "float32" ? Number(v.toPrecision(8)) : v);
}
