/**
 * Binary cross entropy, on probabilities (`bceLoss`) and on logits (`bceWithLogits`, the stable
 * form). Composites of Tensor ops; input and target have one shape.
 */
import type { Check } from "../../../types/check.js";
import { ValueError } from "../../../types/errors.js";
import { type FloatTensor, floatTensor, type SameDType, sameDType, type SameShape, sameShape } from "../../../types/loss.js";
import type { Shape } from "../../../types/shape.js";
import { noGrad } from "../../autograd.js";
import type { DType } from "../../dtype.js";
import type { AnyTensor } from "../../tensorTypes.js";
import type { Tensor } from "../../Tensor.js";
import { broadcastsTo, type LossDType, numStr, type Reduced, type Reduction, type ReductionOptions, reduce, reductionOf } from "./common.js";

/** Options of {@link bceLoss}. */
export interface BCEOptions<R extends Reduction = Reduction> extends ReductionOptions<R> {
  /** Rescales each element's loss; broadcasts to the input's shape (e.g. `[C]` per class). */
  weight?: AnyTensor | null;
}

/** Options of {@link bceWithLogits}. */
export interface BCEWithLogitsOptions<R extends Reduction = Reduction> extends BCEOptions<R> {
  /** Weight of the positive term, broadcast to the input's shape (usually `[C]`: negatives/positives per class). */
  posWeight?: AnyTensor | null;
}

// Below this, log is under -100 anyway; clamping first keeps the log (and its gradient) finite at 0.
const TINY = 1e-44;

// max(log(v), -100) with a finite gradient everywhere (0 where the clamp is active).
function clampedLog(v: AnyTensor): AnyTensor {
  return v.clamp(TINY).log().clamp(-100);
}

/**
 * Binary cross entropy of probabilities: `ℓᵢ = −wᵢ·(yᵢ·log xᵢ + (1 − yᵢ)·log(1 − xᵢ))`, each log
 * clamped to ≥ −100 as PyTorch (so `xᵢ = 0` or `1` gives a finite loss), then reduced (mean by
 * default). Input and target have the same shape and dtype; `weight` broadcasts to it. Every input
 * value must lie in [0, 1] (NaN included, as PyTorch): else a `ValueError`. Prefer
 * {@link bceWithLogits} on logits: it is stable where `sigmoid` saturates.
 *
 * @example
 * const p = torch.tensor([0.9, 0.2], { dtype: "float32" });
 * nn.functional.bceLoss(p, torch.tensor([1, 0], { dtype: "float32" })); // tensor(0.1643)
 */
export function bceLoss<S extends Shape, D extends DType, ST extends Shape, DT extends DType, R extends Reduction = "mean">(
  input: Tensor<S, D> & Check<FloatTensor<D, "bceLoss">>,
  target: Tensor<ST, DT> & Check<SameShape<S, ST, "bceLoss">> & Check<SameDType<D, DT, "bceLoss", "target">>,
  options?: BCEOptions<R>,
): Tensor<Reduced<R, S>, D> {
  const op = "bceLoss";
  const r = reductionOf(op, options?.reduction);
  const x = input as unknown as AnyTensor;
  const y = target as unknown as AnyTensor;
  floatTensor(op, "input", x.dtype);
  sameShape(op, x.shape, y.shape);
  sameDType(op, "target", x.dtype, y.dtype);
  const w = options?.weight ?? undefined;
  if (w) broadcastsTo(op, "weight", w, x.shape);
  // (On a device the values can't be read synchronously: unchecked there.)
  if (x.device === "cpu") for (const v of x.data()) if (!(v >= 0 && v <= 1)) throw new ValueError(`${op}: input values must be in [0, 1], got ${numStr(v, x.dtype)}`);
  // PyTorch's form: (y − 1)·log(1 − x) − y·log(x)
  let loss = y.sub(1).mul(clampedLog(x.neg().add(1))).sub(y.mul(clampedLog(x)));
  if (w) loss = loss.mul(w.to(loss.dtype));
  return reduce(loss, r) as never;
}

/**
 * Binary cross entropy on logits, `sigmoid` folded in and computed stably:
 * `ℓᵢ = wᵢ·((1 − yᵢ)·xᵢ + (1 + (pᵢ − 1)·yᵢ)·log(1 + e^(−xᵢ)))`, with `log(1 + e^(−x))` taken as
 * `m + log(e^(−m) + e^(−x−m))`, `m = max(−x, 0)` (finite for logits like ±1e4), and `p` the
 * `posWeight` (default 1). Then reduced (mean by default). Input and target have the same shape,
 * both floating point; `weight` and `posWeight` broadcast to it.
 *
 * @example
 * const logits = torch.tensor([2.2, -1.4], { dtype: "float32" });
 * nn.functional.bceWithLogits(logits, torch.tensor([1, 0], { dtype: "float32" })); // tensor(0.1628)
 */
export function bceWithLogits<S extends Shape, D extends DType, ST extends Shape, DT extends DType, R extends Reduction = "mean">(
  input: Tensor<S, D> & Check<FloatTensor<D, "bceWithLogits">>,
  target: Tensor<ST, DT> & Check<SameShape<S, ST, "bceWithLogits">> & Check<FloatTensor<DT, "bceWithLogits", "target">>,
  options?: BCEWithLogitsOptions<R>,
): Tensor<Reduced<R, S>, LossDType<D, DT>> {
  const op = "bceWithLogits";
  const r = reductionOf(op, options?.reduction);
  const x = input as unknown as AnyTensor;
  const y = target as unknown as AnyTensor;
  floatTensor(op, "input", x.dtype);
  floatTensor(op, "target", y.dtype);
  sameShape(op, x.shape, y.shape);
  const w = options?.weight ?? undefined;
  const pw = options?.posWeight ?? undefined;
  if (w) broadcastsTo(op, "weight", w, x.shape);
  if (pw) broadcastsTo(op, "posWeight", pw, x.shape);
  // m is a shift only: log(e^(−m) + e^(−x−m)) + m is log(1 + e^(−x)) for any m, so it needs no gradient.
  const m = noGrad(() => x.detach().neg().clamp(0));
  const lse = m.neg().exp().add(x.neg().sub(m).exp()).log();
  let loss = y.neg().add(1).mul(x);
  if (pw) {
    const lw = pw.to(loss.dtype).sub(1).mul(y).add(1);
    loss = loss.add(lw.mul(lse.add(m)));
  } else loss = loss.add(m).add(lse);
  if (w) loss = loss.mul(w.to(loss.dtype));
  return reduce(loss, r) as never;
}
