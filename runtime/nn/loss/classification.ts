/**
 * Classification losses: `nllLoss` on log-probabilities and `crossEntropy` on logits (logSoftmax
 * folded in). Composites of Tensor ops, with PyTorch 1.13's weights, ignoreIndex and label smoothing.
 */
import type { Check } from "../../../types/check.js";
import { DTypeError, IndexError, ValueError } from "../../../types/errors.js";
import {
  type ClassTarget,
  classTarget,
  type ClassTargetShape,
  classTargetShape,
  classRangeMsg,
  type ClassWeight,
  classWeight,
  type FloatTensor,
  floatTensor,
  sameDTypeMsg,
} from "../../../types/loss.js";
import type { Shape } from "../../../types/shape.js";
import type { DType } from "../../dtype.js";
import { whereOp } from "../../ops/binary.js";
import type { AnyTensor } from "../../tensorTypes.js";
import type { Tensor } from "../../Tensor.js";
import { type FloatDType, type LossDType, type Reduced, type Reduction, type ReductionOptions, reductionOf, safeMean } from "./common.js";

/** Options of {@link nllLoss}. `W` is the weight's type (the signatures check its shape). */
export interface NLLLossOptions<R extends Reduction = Reduction, W = AnyTensor> extends ReductionOptions<R> {
  /** A weight per class, `[C]`, of the input's dtype: rescales each target's loss (and the mean's denominator). */
  weight?: W | null;
  /** Targets with this value add nothing, neither to the loss nor to the mean's denominator (default -100). */
  ignoreIndex?: number;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions<R extends Reduction = Reduction, W = AnyTensor> extends NLLLossOptions<R, W> {
  /** In [0, 1]: the target becomes `(1 − ε)·target + ε/C` (default 0). */
  labelSmoothing?: number;
}

export type ClassLossDType<D extends DType, DT extends DType> = [DT] extends [FloatDType] ? LossDType<D, DT> : D;

interface Batched {
  x: AnyTensor;
  t: AnyTensor;
  unbatched: boolean;
}

// Validates the input and weight, and views an unbatched `[C]` input as `[1, C]` (index targets).
function prepare(op: string, input: AnyTensor, weight: AnyTensor | undefined): void {
  floatTensor(op, "input", input.dtype);
  classTargetShape(op, input.shape);
  if (weight) {
    classWeight(op, input.shape, weight.shape);
    if (weight.dtype !== input.dtype) throw new DTypeError(sameDTypeMsg(op, "weight", input.dtype, weight.dtype));
  }
}

function batch(x: AnyTensor, t: AnyTensor): Batched {
  return x.ndim === 1 ? { x: x.unsqueeze(0), t: t.reshape([1]), unbatched: true } : { x, t, unbatched: false };
}

// Class indices in [0, C-1] unless ignored, as PyTorch's "Target 3 is out of bounds".
function checkRange(op: string, t: AnyTensor, classes: number, ignoreIndex: number): void {
  // On a device the values can't be read synchronously: the gather kernel reports a bad one.
  if (t.device !== "cpu") return;
  for (const v of t.data()) {
    if (v !== ignoreIndex && (v < 0 || v >= classes)) throw new IndexError(classRangeMsg(op, classes - 1, v));
  }
}

/** Per-target losses `−w[yᵢ]·x[i, yᵢ]` (0 where ignored) and the mean's denominator `Σ w[yᵢ]` over kept targets. */
interface Picked {
  loss: AnyTensor;
  mask: AnyTensor;
  safe: AnyTensor;
  den: AnyTensor;
}

function pick(x: AnyTensor, t: AnyTensor, weight: AnyTensor | undefined, ignoreIndex: number): Picked {
  const mask = t.ne(ignoreIndex);
  const safe = whereOp(mask, t, 0);
  const picked = x.gather(1, safe.unsqueeze(1) as never).squeeze(1);
  if (weight) {
    const w = weight.index(safe as never);
    return { loss: whereOp(mask, picked.neg().mul(w), 0), mask, safe, den: whereOp(mask, w, 0).sum() };
  }
  return { loss: whereOp(mask, picked.neg(), 0), mask, safe, den: mask.sum().to(x.dtype) };
}

function reduceClass(loss: AnyTensor, den: AnyTensor, r: Reduction, unbatched: boolean): AnyTensor {
  if (r === "sum") return loss.sum();
  if (r === "mean") return safeMean(loss.sum(), den);
  return unbatched ? loss.reshape([]) : loss;
}

function nllCore(op: string, x: AnyTensor, t: AnyTensor, weight: AnyTensor | undefined, ignoreIndex: number, r: Reduction, ls: number): AnyTensor {
  const b = batch(x, t);
  const classes = b.x.shape[1]!;
  checkRange(op, b.t, classes, ignoreIndex);
  const p = pick(b.x, b.t, weight, ignoreIndex);
  const nll = reduceClass(p.loss, p.den, r, b.unbatched);
  if (ls === 0) return nll;
  // PyTorch 1.13: (1 − ε)·nll + ε/C · Σ_c −w_c·logp_c, masked and normalised as the nll part.
  const wl = weight ? b.x.mul(weight.reshape(b.x.shape.map((s, i) => (i === 1 ? s : 1)))) : b.x;
  const smooth = whereOp(p.mask, wl.sum(1).neg(), 0);
  return nll.mul(1 - ls).add(reduceClass(smooth, p.den, r, b.unbatched).mul(ls / classes));
}

/**
 * Negative log likelihood of class-index targets, for log-probabilities (`logSoftmax` output):
 * `ℓᵢ = −w[yᵢ]·x[i, yᵢ]` (0 where `yᵢ = ignoreIndex`); the mean is `Σ ℓᵢ / Σ w[yᵢ]` over the
 * targets not ignored (NaN when all are). Shapes: input `[N, C]`, `[N, C, d1, ...]` or unbatched
 * `[C]`; target the input's shape without the class dim (`[N]`, `[N, d1, ...]`, `[]`), int64, with
 * values in `[0, C−1]` (or ignoreIndex); weight `[C]`. `reduction: "none"` gives the target's shape.
 *
 * @example
 * const logp = torch.tensor([[-0.1, -2.4], [-1.9, -0.2]], { dtype: "float32" });
 * nn.functional.nllLoss(logp, torch.tensor([0, 1])); // tensor(0.1500)
 */
export function nllLoss<SI extends Shape, D extends DType, ST extends Shape, DT extends DType, R extends Reduction = "mean", SW extends Shape = Shape>(
  input: Tensor<SI, D> & Check<FloatTensor<D, "nllLoss">>,
  target: Tensor<ST, DT> & Check<ClassTarget<SI, ST, DT, "nllLoss", false>>,
  options?: NLLLossOptions<R, Tensor<SW, DType> & Check<ClassWeight<SI, SW, "nllLoss">>>,
): Tensor<Reduced<R, ClassTargetShape<SI>>, D> {
  const op = "nllLoss";
  const x = input as unknown as AnyTensor;
  const t = target as unknown as AnyTensor;
  const weight = (options?.weight ?? undefined) as AnyTensor | undefined;
  const r = reductionOf(op, options?.reduction);
  prepare(op, x, weight);
  classTarget(op, x.shape, t.shape, t.dtype, false);
  return nllCore(op, x, t, weight, options?.ignoreIndex ?? -100, r, 0) as never;
}

/**
 * Cross entropy of logits, PyTorch's `F.cross_entropy`: `logSoftmax` over the class dim (stable
 * for logits like 1e4) and then
 * - class-index targets (int64, the input's shape without the class dim): `ℓᵢ = −w[yᵢ]·logp[i, yᵢ]`,
 *   ignored where `yᵢ = ignoreIndex`; the mean divides by `Σ w[yᵢ]` over kept targets. With label
 *   smoothing ε: `(1 − ε)·ℓᵢ + ε/C · Σ_c −w_c·logp[i, c]` (kept targets, same denominator).
 * - class-probability targets (floating point, the input's shape): `ℓᵢ = −Σ_c w_c·t[i, c]·logp[i, c]`
 *   with `t = (1 − ε)·target + ε/C`; the mean divides by N (·d1·...), not by the weights.
 *
 * Shapes: input `[N, C]`, `[N, C, d1, ...]` or unbatched `[C]`; weight `[C]` of the input's dtype;
 * `reduction: "none"` gives `[N]` (`[N, d1, ...]`, `[]`).
 *
 * @example
 * const logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.2, 3.1], [0.3, 0.1, 2.2]], { dtype: "float32" });
 * nn.functional.crossEntropy(logits, torch.tensor([0, 1, 2, 2])); // tensor(0.2660)  (PyTorch: 0.26595759)
 */
export function crossEntropy<SI extends Shape, D extends DType, ST extends Shape, DT extends DType, R extends Reduction = "mean", SW extends Shape = Shape>(
  input: Tensor<SI, D> & Check<FloatTensor<D, "crossEntropy">>,
  target: Tensor<ST, DT> & Check<ClassTarget<SI, ST, DT, "crossEntropy">>,
  options?: CrossEntropyOptions<R, Tensor<SW, DType> & Check<ClassWeight<SI, SW, "crossEntropy">>>,
): Tensor<Reduced<R, ClassTargetShape<SI>>, ClassLossDType<D, DT>> {
  const op = "crossEntropy";
  const x = input as unknown as AnyTensor;
  const t = target as unknown as AnyTensor;
  const weight = (options?.weight ?? undefined) as AnyTensor | undefined;
  const r = reductionOf(op, options?.reduction);
  const ls = options?.labelSmoothing ?? 0;
  const ignoreIndex = options?.ignoreIndex ?? -100;
  if (!(ls >= 0 && ls <= 1)) throw new ValueError(`${op}: labelSmoothing must be in [0, 1], got ${ls}`);
  prepare(op, x, weight);
  const form = classTarget(op, x.shape, t.shape, t.dtype, true);
  const cd = x.ndim === 1 ? 0 : 1;
  const logp = x.logSoftmax(cd);
  if (form === "index") return nllCore(op, logp, t, weight, ignoreIndex, r, ls) as never;

  if (ignoreIndex >= 0) throw new ValueError(`${op}: ignoreIndex is not supported for class-probability targets, got ${ignoreIndex}`);
  const classes = x.shape[cd]!;
  const tt = ls > 0 ? t.mul(1 - ls).add(ls / classes) : t;
  let prod = logp.mul(tt);
  if (weight) prod = prod.mul(weight.reshape(x.shape.map((s, i) => (i === cd ? s : 1))));
  if (r === "none") return prod.sum(cd).neg() as never;
  const total = prod.sum().neg();
  return (r === "sum" ? total : total.div(x.numel() / classes)) as never;
}
