/**
 * Regression losses: mean squared error, L1, smooth L1 and Huber. Each is a composite of Tensor
 * ops (autograd for free); input and target must have one shape (PyTorch broadcasts with a warning;
 * typetorch rejects, at compile time where both shapes are literal and at run time).
 */
import type { Check } from "../../../types/check.js";
import { type FloatTensor, floatTensor, type SameShape, sameShape } from "../../../types/loss.js";
import type { Shape } from "../../../types/shape.js";
import { ValueError } from "../../../types/errors.js";
import type { DType } from "../../dtype.js";
import { whereOp } from "../../ops/binary.js";
import type { AnyTensor } from "../../tensorTypes.js";
import type { Tensor } from "../../Tensor.js";
import { type LossDType, type Reduced, type Reduction, type ReductionOptions, reduce, reductionOf } from "./common.js";

/** Options of {@link smoothL1Loss}. */
export interface SmoothL1Options<R extends Reduction = Reduction> extends ReductionOptions<R> {
  /** Where the loss turns from quadratic to linear (default 1; 0 makes it the L1 loss). */
  beta?: number;
}

/** Options of {@link huberLoss}. */
export interface HuberOptions<R extends Reduction = Reduction> extends ReductionOptions<R> {
  /** Where the loss turns from quadratic to linear (default 1, must be > 0). */
  delta?: number;
}

// The difference `input − target`, after the checks every regression loss runs.
function diff(op: string, input: AnyTensor, target: AnyTensor): AnyTensor {
  floatTensor(op, "input", input.dtype);
  sameShape(op, input.shape, target.shape);
  return input.sub(target);
}

/**
 * Mean squared error: `ℓᵢ = (xᵢ − yᵢ)²`, then the mean (default), the sum, or every `ℓᵢ`
 * (`reduction: "none"`, the input's shape). Input and target have the same shape; the input is
 * floating point.
 *
 * @example
 * const x = torch.tensor([[1, 2], [3, 4]], { dtype: "float32" });
 * const y = torch.tensor([[1, 0], [3, 3]], { dtype: "float32" });
 * nn.functional.mseLoss(x, y); // tensor(1.2500)  ((0 + 4 + 0 + 1) / 4)
 */
export function mseLoss<S extends Shape, D extends DType, ST extends Shape, DT extends DType, R extends Reduction = "mean">(
  input: Tensor<S, D> & Check<FloatTensor<D, "mseLoss">>,
  target: Tensor<ST, DT> & Check<SameShape<S, ST, "mseLoss">>,
  options?: ReductionOptions<R>,
): Tensor<Reduced<R, S>, LossDType<D, DT>> {
  const r = reductionOf("mseLoss", options?.reduction);
  const d = diff("mseLoss", input as unknown as AnyTensor, target as unknown as AnyTensor);
  return reduce(d.mul(d), r) as never;
}

/**
 * Mean absolute error: `ℓᵢ = |xᵢ − yᵢ|`, reduced as {@link mseLoss} (same shapes, float input).
 * The gradient at `xᵢ = yᵢ` is 0, as PyTorch's.
 *
 * @example
 * nn.functional.l1Loss(torch.tensor([1, 2, 3], { dtype: "float32" }), torch.tensor([1, 0, 4], { dtype: "float32" })); // tensor(1.)
 */
export function l1Loss<S extends Shape, D extends DType, ST extends Shape, DT extends DType, R extends Reduction = "mean">(
  input: Tensor<S, D> & Check<FloatTensor<D, "l1Loss">>,
  target: Tensor<ST, DT> & Check<SameShape<S, ST, "l1Loss">>,
  options?: ReductionOptions<R>,
): Tensor<Reduced<R, S>, LossDType<D, DT>> {
  const r = reductionOf("l1Loss", options?.reduction);
  return reduce(diff("l1Loss", input as unknown as AnyTensor, target as unknown as AnyTensor).abs(), r) as never;
}

/**
 * Smooth L1 loss: with `zᵢ = |xᵢ − yᵢ|`, `ℓᵢ = 0.5·zᵢ²/β` where `zᵢ < β`, else `zᵢ − 0.5·β`;
 * `β = 0` is the L1 loss. Reduced as {@link mseLoss} (same shapes, float input). β must be ≥ 0.
 *
 * @example
 * const x = torch.tensor([0.5, 3], { dtype: "float32" });
 * nn.functional.smoothL1Loss(x, torch.zerosLike(x), { reduction: "none" }); // tensor([0.1250, 2.5000])
 */
export function smoothL1Loss<S extends Shape, D extends DType, ST extends Shape, DT extends DType, R extends Reduction = "mean">(
  input: Tensor<S, D> & Check<FloatTensor<D, "smoothL1Loss">>,
  target: Tensor<ST, DT> & Check<SameShape<S, ST, "smoothL1Loss">>,
  options?: SmoothL1Options<R>,
): Tensor<Reduced<R, S>, LossDType<D, DT>> {
  const r = reductionOf("smoothL1Loss", options?.reduction);
  const beta = options?.beta ?? 1;
  if (!(beta >= 0)) throw new ValueError(`smoothL1Loss: beta must be >= 0, got ${beta}`);
  const d = diff("smoothL1Loss", input as unknown as AnyTensor, target as unknown as AnyTensor);
  const z = d.abs();
  if (beta === 0) return reduce(z, r) as never;
  return reduce(whereOp(z.lt(beta), d.mul(d).mul(0.5).div(beta), z.sub(0.5 * beta)), r) as never;
}

/**
 * Huber loss: with `zᵢ = |xᵢ − yᵢ|`, `ℓᵢ = 0.5·zᵢ²` where `zᵢ < δ`, else `δ·(zᵢ − 0.5·δ)`
 * (smooth L1 times δ, for β = δ). Reduced as {@link mseLoss} (same shapes, float input). δ must be > 0.
 *
 * @example
 * const x = torch.tensor([0.5, 3], { dtype: "float32" });
 * nn.functional.huberLoss(x, torch.zerosLike(x), { delta: 2, reduction: "none" }); // tensor([0.1250, 4.0000])
 */
export function huberLoss<S extends Shape, D extends DType, ST extends Shape, DT extends DType, R extends Reduction = "mean">(
  input: Tensor<S, D> & Check<FloatTensor<D, "huberLoss">>,
  target: Tensor<ST, DT> & Check<SameShape<S, ST, "huberLoss">>,
  options?: HuberOptions<R>,
): Tensor<Reduced<R, S>, LossDType<D, DT>> {
  const r = reductionOf("huberLoss", options?.reduction);
  const delta = options?.delta ?? 1;
  if (!(delta > 0)) throw new ValueError(`huberLoss: delta must be > 0, got ${delta}`);
  const d = diff("huberLoss", input as unknown as AnyTensor, target as unknown as AnyTensor);
  const z = d.abs();
  return reduce(whereOp(z.lt(delta), d.mul(d).mul(0.5), z.sub(0.5 * delta).mul(delta)), r) as never;
}
