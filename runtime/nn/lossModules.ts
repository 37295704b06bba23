/**
 * Loss modules (`nn.CrossEntropyLoss()`, `nn.MSELoss()`, ...): the options kept at construction,
 * the computation delegated to the functional forms in `nn/loss`. Each call is shape-checked in
 * its type like the functional form.
 */
import type { Check } from "../../types/check.js";
import type { ClassTarget, ClassTargetShape, FloatTensor, SameDType, SameShape } from "../../types/loss.js";
import type { Shape } from "../../types/shape.js";
import type { DType } from "../dtype.js";
import type { Tensor } from "../Tensor.js";
import { bceLoss, bceWithLogits, type ClassLossDType, crossEntropy, huberLoss, l1Loss, type LossDType, mseLoss, nllLoss, type Reduced, type Reduction, smoothL1Loss } from "./loss.js";
import { ModuleBase } from "./Module.js";
import type { AnyTensor } from "../tensorTypes.js";

type Fn = (input: never, target: never, opts: never) => unknown;

abstract class Loss<R extends Reduction> extends ModuleBase {
  declare readonly __spec: { kind: "forward" };
  readonly reduction: R;
  protected readonly _opts: Record<string, unknown>;
  readonly #fn: Fn;
  constructor(fn: Fn, opts: { reduction?: R } & Record<string, unknown> = {}) {
    super();
    this.#fn = fn;
    this.reduction = (opts.reduction ?? "mean") as R;
    this._opts = { ...opts, reduction: this.reduction };
  }
  forward(input: AnyTensor, target: AnyTensor): AnyTensor {
    return this.#fn(input as never, target as never, this._opts as never) as AnyTensor;
  }
  override extraRepr(): string {
    return "";
  }
}

/** Call of the elementwise losses: input and target of one shape. */
interface PairLoss<R extends Reduction, Op extends string> {
  <S extends Shape, D extends DType, ST extends Shape, DT extends DType>(input: Tensor<S, D> & Check<FloatTensor<D, Op>>, target: Tensor<ST, DT> & Check<SameShape<S, ST, Op>>): Tensor<Reduced<R, S>, LossDType<D, DT>>;
}
/** Call of the class losses: logits `[N, C, ...]` and class targets. */
interface ClassLoss<R extends Reduction, Op extends string, Probs extends boolean> {
  <SI extends Shape, D extends DType, ST extends Shape, DT extends DType>(input: Tensor<SI, D> & Check<FloatTensor<D, Op>>, target: Tensor<ST, DT> & Check<ClassTarget<SI, ST, DT, Op, Probs>>): Tensor<Reduced<R, ClassTargetShape<SI>>, ClassLossDType<D, DT>>;
}

/**
 * Mean squared error `mean((input − target)²)` (or `sum`, or `none`), as `nn.MSELoss`.
 *
 * @example
 * nn.MSELoss()(torch.tensor([1.5, 2]), torch.tensor([1, 2], { dtype: "float32" })); // tensor(0.1250)
 */
export class MSELoss<R extends Reduction = "mean"> extends Loss<R> {
  constructor(opts: { reduction?: R } = {}) {
    super(mseLoss as Fn, opts);
  }
}
export interface MSELoss<R extends Reduction> extends PairLoss<R, "mseLoss"> {}

/** Mean absolute error, as `nn.L1Loss`. */
export class L1Loss<R extends Reduction = "mean"> extends Loss<R> {
  constructor(opts: { reduction?: R } = {}) {
    super(l1Loss as Fn, opts);
  }
}
export interface L1Loss<R extends Reduction> extends PairLoss<R, "l1Loss"> {}

/** Smooth L1 (`beta`), as `nn.SmoothL1Loss`. */
export class SmoothL1Loss<R extends Reduction = "mean"> extends Loss<R> {
  constructor(opts: { reduction?: R; beta?: number } = {}) {
    super(smoothL1Loss as Fn, opts);
  }
}
export interface SmoothL1Loss<R extends Reduction> extends PairLoss<R, "smoothL1Loss"> {}

/** Huber loss (`delta`), as `nn.HuberLoss`. */
export class HuberLoss<R extends Reduction = "mean"> extends Loss<R> {
  constructor(opts: { reduction?: R; delta?: number } = {}) {
    super(huberLoss as Fn, opts);
  }
}
export interface HuberLoss<R extends Reduction> extends PairLoss<R, "huberLoss"> {}

/** Binary cross-entropy on probabilities (`weight`), as `nn.BCELoss`. */
export class BCELoss<R extends Reduction = "mean"> extends Loss<R> {
  constructor(opts: { reduction?: R; weight?: AnyTensor | null } = {}) {
    super(bceLoss as Fn, opts);
  }
}
export interface BCELoss<R extends Reduction> {
  <S extends Shape, D extends DType, ST extends Shape, DT extends DType>(input: Tensor<S, D> & Check<FloatTensor<D, "bceLoss">>, target: Tensor<ST, DT> & Check<SameShape<S, ST, "bceLoss">> & Check<SameDType<D, DT, "bceLoss", "target">>): Tensor<Reduced<R, S>, D>;
}

/** Binary cross-entropy on logits, computed stably (`weight`, `posWeight`), as `nn.BCEWithLogitsLoss`. */
export class BCEWithLogitsLoss<R extends Reduction = "mean"> extends Loss<R> {
  constructor(opts: { reduction?: R; weight?: AnyTensor | null; posWeight?: AnyTensor | null } = {}) {
    super(bceWithLogits as Fn, opts);
  }
}
export interface BCEWithLogitsLoss<R extends Reduction> {
  <S extends Shape, D extends DType, ST extends Shape, DT extends DType>(input: Tensor<S, D> & Check<FloatTensor<D, "bceWithLogits">>, target: Tensor<ST, DT> & Check<SameShape<S, ST, "bceWithLogits">> & Check<FloatTensor<DT, "bceWithLogits", "target">>): Tensor<Reduced<R, S>, LossDType<D, DT>>;
}

/** Negative log-likelihood on log-probabilities (`weight`, `ignoreIndex`), as `nn.NLLLoss`. */
export class NLLLoss<R extends Reduction = "mean"> extends Loss<R> {
  constructor(opts: { reduction?: R; weight?: AnyTensor | null; ignoreIndex?: number } = {}) {
    super(nllLoss as Fn, opts);
  }
}
export interface NLLLoss<R extends Reduction> extends ClassLoss<R, "nllLoss", false> {}

/**
 * Cross-entropy on logits `[N, C]` (or `[N, C, d1, ...]`) with int64 class targets `[N]` or
 * class probabilities, computed stably through logSoftmax (`weight`, `ignoreIndex`,
 * `labelSmoothing`), as `nn.CrossEntropyLoss`.
 *
 * @example
 * const lossFn = nn.CrossEntropyLoss();
 * lossFn(logits, labels).backward();
 */
export class CrossEntropyLoss<R extends Reduction = "mean"> extends Loss<R> {
  constructor(opts: { reduction?: R; weight?: AnyTensor | null; ignoreIndex?: number; labelSmoothing?: number } = {}) {
    super(crossEntropy as Fn, opts);
  }
}
export interface CrossEntropyLoss<R extends Reduction> extends ClassLoss<R, "crossEntropy", true> {}
