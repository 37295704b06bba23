import type { Check, Ok } from "../../types/check.js";
import { ValueError } from "../../types/errors.js";
import { type BatchNormShape, batchNormShape } from "../../types/layers.js";
import type { Shape } from "../../types/shape.js";
import { noGrad } from "../autograd.js";
import { ones, tensor, zeros } from "../creation.js";
import type { DType } from "../dtype.js";
import { batchNormOp, dropoutOp } from "../ops/norm.js";
import type { Tensor } from "../Tensor.js";
import type { AnyTensor } from "../tensorTypes.js";
import { ModuleBase, pyFloat } from "./Module.js";
import { Parameter, type ParameterTensor } from "./Parameter.js";

/** Keyword options of BatchNorm1d/2d (PyTorch's, camelCase). */
export interface BatchNormLayerOptions {
  eps?: number;
  /** Weight of the new batch statistic in the running average; null: a cumulative average. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

abstract class BatchNormBase<C extends number, R extends 1 | 2> extends ModuleBase {
  readonly numFeatures: C;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: ParameterTensor<[C]> | null;
  bias: ParameterTensor<[C]> | null;
  readonly #rank: R;

  constructor(numFeatures: C, opts: BatchNormLayerOptions, rank: R) {
    super();
    const name = `BatchNorm${rank}d`;
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) throw new ValueError(`${name}: numFeatures must be a positive integer, got ${numFeatures}`);
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    if (!(this.eps > 0)) throw new ValueError(`${name}: eps must be > 0, got ${this.eps}`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) throw new ValueError(`${name}: momentum must be in [0, 1] or null, got ${this.momentum}`);
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    this.#rank = rank;
    this.weight = this.affine ? (Parameter(ones(numFeatures)) as never) : null;
    this.bias = this.affine ? (Parameter(zeros(numFeatures)) as never) : null;
    // Registered under PyTorch's names, so state dicts (and checkpoints) carry PyTorch's keys.
    this.registerBuffer("running_mean", this.trackRunningStats ? zeros(numFeatures) : null);
    this.registerBuffer("running_var", this.trackRunningStats ? ones(numFeatures) : null);
    this.registerBuffer("num_batches_tracked", this.trackRunningStats ? tensor(0) : null);
  }

  #buf(name: string): AnyTensor | null {
    return (this as unknown as Record<string, AnyTensor | null>)[name] ?? null;
  }
  /** The running mean (`running_mean` in the state dict), or null without `trackRunningStats`. */
  get runningMean(): Tensor<[C]> | null {
    return this.#buf("running_mean") as never;
  }
  /** The running variance (`running_var`). */
  get runningVar(): Tensor<[C]> | null {
    return this.#buf("running_var") as never;
  }
  /** Batches seen in training (`num_batches_tracked`, int64). */
  get numBatchesTracked(): Tensor<[], "int64"> | null {
    return this.#buf("num_batches_tracked") as never;
  }

  /** Resets the running statistics (mean 0, variance 1, no batches seen). */
  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.zero_();
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.zero_();
    });
  }

  protected _forward(x: AnyTensor): AnyTensor {
    batchNormShape(x.shape, this.numFeatures, this.#rank, `BatchNorm${this.#rank}d(${this.numFeatures})`);
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.numBatchesTracked) {
      noGrad(() => this.numBatchesTracked!.add_(1));
      if (this.momentum === null) factor = 1 / (this.numBatchesTracked.item() as number);
    }
    // Batch statistics in training, or whenever there are no running ones to use.
    const useBatch = this.training || (this.runningMean === null && this.runningVar === null);
    const track = !this.training || this.trackRunningStats;
    return batchNormOp(x, track ? this.runningMean : null, track ? this.runningVar : null, this.weight, this.bias, { training: useBatch, momentum: factor, eps: this.eps });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${this.momentum === null ? "None" : pyFloat(this.momentum)}, affine=${this.affine ? "True" : "False"}, track_running_stats=${this.trackRunningStats ? "True" : "False"}`;
  }
}

/** BatchNorm1d's call: `[N, C]` or `[N, C, L]`, unchanged. */
export interface BatchNorm1d<C extends number> {
  <S extends Shape, D extends DType>(x: Tensor<S, D> & Check<BatchNormShape<S, C, 1, `BatchNorm1d(${C})`>>): Tensor<Ok<BatchNormShape<S, C, 1, `BatchNorm1d(${C})`>>, D>;
}
/**
 * Batch normalisation over `[N, C]` or `[N, C, L]`: per channel, `(x − mean) / √(var + eps)`
 * scaled by `weight` and shifted by `bias`; batch statistics in training (updating the running
 * ones with `momentum`), running statistics in eval.
 *
 * @example
 * nn.BatchNorm1d(16)(torch.randn(8, 16)).shape; // [8, 16]
 */
export class BatchNorm1d<C extends number = number> extends BatchNormBase<C, 1> {
  declare readonly __spec: { kind: "batchNorm"; c: C; rank: 1; name: `BatchNorm1d(${C})` };
  constructor(numFeatures: C, opts: BatchNormLayerOptions = {}) {
    super(numFeatures, opts, 1);
  }
  forward<S extends Shape, D extends DType>(x: Tensor<S, D> & Check<BatchNormShape<S, C, 1, `BatchNorm1d(${C})`>>): Tensor<Ok<BatchNormShape<S, C, 1, `BatchNorm1d(${C})`>>, D> {
    return this._forward(x as AnyTensor) as never;
  }
}

/** BatchNorm2d's call: `[N, C, H, W]`, unchanged. */
export interface BatchNorm2d<C extends number> {
  <S extends Shape, D extends DType>(x: Tensor<S, D> & Check<BatchNormShape<S, C, 2, `BatchNorm2d(${C})`>>): Tensor<Ok<BatchNormShape<S, C, 2, `BatchNorm2d(${C})`>>, D>;
}
/**
 * Batch normalisation over `[N, C, H, W]`, per channel (see {@link BatchNorm1d}).
 *
 * @example
 * nn.BatchNorm2d(16)(torch.randn(8, 16, 5, 5)).shape; // [8, 16, 5, 5]
 */
export class BatchNorm2d<C extends number = number> extends BatchNormBase<C, 2> {
  declare readonly __spec: { kind: "batchNorm"; c: C; rank: 2; name: `BatchNorm2d(${C})` };
  constructor(numFeatures: C, opts: BatchNormLayerOptions = {}) {
    super(numFeatures, opts, 2);
  }
  forward<S extends Shape, D extends DType>(x: Tensor<S, D> & Check<BatchNormShape<S, C, 2, `BatchNorm2d(${C})`>>): Tensor<Ok<BatchNormShape<S, C, 2, `BatchNorm2d(${C})`>>, D> {
    return this._forward(x as AnyTensor) as never;
  }
}

/** Dropout's call: same shape. */
export interface Dropout {
  <S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, D>;
}
/**
 * Zeroes each element with probability `p` in training and scales the rest by `1/(1−p)`; the
 * identity in eval mode (`model.eval()`). Masks equal PyTorch's after the same seed.
 *
 * @example
 * const drop = nn.Dropout(0.5);
 * drop.eval(); drop(x); // x unchanged
 */
export class Dropout extends ModuleBase {
  declare readonly __spec: { kind: "same" };
  readonly p: number;
  constructor(p: number | { p?: number } = 0.5) {
    super();
    this.p = typeof p === "object" ? (p.p ?? 0.5) : p;
    if (!(this.p >= 0 && this.p <= 1)) throw new ValueError(`Dropout: p must be in [0, 1], got ${this.p}`);
  }
  forward<S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, D> {
    return dropoutOp(x as AnyTensor, { p: this.p, training: this.training }) as never;
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}
