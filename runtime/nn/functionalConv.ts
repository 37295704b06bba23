/**
 * The functional forms of the convolution-network layers (`torch.nn.functional`'s `conv2d`,
 * `max_pool2d`, `avg_pool2d`, `adaptive_avg_pool2d`, `batch_norm`, `dropout`), with the output
 * shape computed in the type for literal shapes: a channel mismatch or a window that does not fit
 * is a compile error with the same message the runtime throws.
 *
 * @example
 * import { torch } from "typetorch";
 * const x = torch.randn(4, 3, 32, 32);
 * const w = torch.randn(16, 3, 3, 3);
 * const y = conv2d(x, w, null, { padding: 1 });   // Tensor<[4, 16, 32, 32]>
 * const z = maxPool2d(y.relu(), 2);                // Tensor<[4, 16, 16, 16]>
 */
import type { Check, Ok } from "../../types/check.js";
import type { Shape } from "../../types/shape.js";
import type { DType } from "../dtype.js";
import { type Conv2dOptions, type Conv2dShape, conv2dOp, type ConvPadding, type Opt, type Pair } from "../ops/conv.js";
import { type BatchNormOptions, batchNormOp, type DropoutOptions, dropoutOp } from "../ops/norm.js";
import {
  type AdaptiveAvgPool2dShape,
  type AdaptiveSize,
  adaptiveAvgPool2dOp,
  type AvgPool2dOptions,
  avgPool2dOp,
  type MaxPool2dOptions,
  maxPool2dOp,
  type Pool2dShape,
} from "../ops/pool.js";
import type { Tensor } from "../Tensor.js";
import type { AnyTensor } from "../tensorTypes.js";

export type { AdaptiveSize, AvgPool2dOptions, BatchNormOptions, Conv2dOptions, ConvPadding, DropoutOptions, MaxPool2dOptions, Pair };

type FloatDType = "float32" | "float64";

/** maxPool2d's result: values, `[values, indices]` with `returnIndices: true`, either when unknown. */
export type MaxPoolResult<O, S extends Shape, D extends DType> = Opt<O, "returnIndices", false> extends infer R
  ? [R] extends [true] ? [Tensor<S, D>, Tensor<S, "int64">]
    : [R] extends [false | undefined] ? Tensor<S, D>
      : Tensor<S, D> | [Tensor<S, D>, Tensor<S, "int64">]
  : never;

// A rank error is reported on the input; the other failures of a rule on the argument they concern.
type RankOk<R> = R extends { readonly __shapeErr: `${string}: input must have 4 dims${string}` } ? unknown : Check<R>;
type RankCheck<R> = R extends { readonly __shapeErr: `${string}: input must have 4 dims${string}` } ? Check<R> : unknown;

/**
 * 2-D convolution (cross-correlation, as PyTorch):
 * `out[n, o, y, x] = bias[o] + Σ_{c, i, j} weight[o, c, i, j] · input[n, g·C/groups + c, y·s − p + i·d, x·s − p + j·d]`
 * for output channel `o` of group `g`.
 *
 * Shapes: `input [N, C, H, W]` (or unbatched `[C, H, W]`), `weight [O, C/groups, kH, kW]`,
 * `bias [O]` → `[N, O, Ho, Wo]` with `Ho = ⌊(H + 2·pH − dH·(kH − 1) − 1) / sH⌋ + 1` (`H` for
 * `padding: "same"`, which needs stride 1 and pads any odd remainder at the bottom/right).
 * float32/float64. Forward: im2col + blocked GEMM; backward: col2im of `Wᵀ·g`, `Σ g·colsᵀ`, `Σ g`.
 *
 * @example
 * const x = torch.randn(4, 3, 32, 32);
 * const w = torch.randn(16, 3, 3, 3, { requiresGrad: true });
 * const b = torch.zeros(16, { requiresGrad: true });
 * conv2d(x, w, b, { padding: 1 }).shape;                 // [4, 16, 32, 32] (also in the type)
 * conv2d(x, w, b, { stride: 2 }).shape;                  // [4, 16, 15, 15]
 * conv2d(torch.randn(4, 1, 28, 28), w);                  // compile + ShapeError:
 * // "conv2d: weight expects 3 input channels, got input [4, 1, 28, 28]"
 */
export function conv2d<SX extends Shape, SW extends Shape, D extends FloatDType, const O extends Conv2dOptions = {}>(
  input: Tensor<SX, D> & RankCheck<Conv2dShape<SX, SW, O>>,
  weight: Tensor<SW, D> & RankOk<Conv2dShape<SX, SW, O>>,
  bias?: Tensor<Shape, D> | null,
  opts?: O,
): Tensor<Ok<Conv2dShape<SX, SW, O>>, D> {
  return conv2dOp(input as AnyTensor, weight as AnyTensor, bias as AnyTensor | null | undefined, opts) as never;
}

/**
 * Max pooling over `kernelSize` windows (dilated by `dilation`, the input padded with −∞ by
 * `padding`, at most half the kernel): `out[n, c, y, x] = max_{i, j} input[n, c, y·s − p + i·d, x·s − p + j·d]`.
 * With `returnIndices: true`, also the int64 flat index of each max into its `H·W` input plane
 * (PyTorch's indices). The gradient flows to the argmax.
 *
 * Shapes: `[N, C, H, W]` (or `[C, H, W]`) → `[N, C, Ho, Wo]`, `Ho` as PyTorch's (with `ceilMode`
 * the last window may overhang if it starts inside the input or its left padding). `stride`
 * defaults to `kernelSize`.
 *
 * @example
 * const x = torch.randn(8, 16, 26, 26);
 * maxPool2d(x, 2).shape;                                          // [8, 16, 13, 13]
 * const [v, i] = maxPool2d(x, 3, 2, { ceilMode: true, returnIndices: true }); // [8, 16, 13, 13] each
 */
export function maxPool2d<S extends Shape, D extends FloatDType, const K extends Pair, const St extends Pair | null | undefined = undefined, const O extends MaxPool2dOptions = {}>(
  input: Tensor<S, D> & Check<Pool2dShape<S, K, St extends Pair ? St : K, O, "maxPool2d">>,
  kernelSize: K,
  stride?: St,
  opts?: O,
): MaxPoolResult<O, Ok<Pool2dShape<S, K, St extends Pair ? St : K, O, "maxPool2d">>, D> {
  const [values, indices] = maxPool2dOp(input as AnyTensor, kernelSize, stride, opts);
  return (opts?.returnIndices ? [values, indices] : values) as never;
}

/**
 * Average pooling: `out[n, c, y, x] = Σ_{window} input / divisor`, the window `kernelSize` at
 * stride `stride` (default `kernelSize`) over the input zero-padded by `padding` (at most half
 * the kernel). The divisor is `divisorOverride` if given, else the window size counting the
 * padding (`countIncludePad`, default) or only the input elements it covers.
 *
 * Shapes: `[N, C, H, W]` (or `[C, H, W]`) → `[N, C, Ho, Wo]` (as maxPool2d, without dilation).
 *
 * @example
 * avgPool2d(torch.randn(2, 3, 7, 7), 3, 2, { padding: 1, countIncludePad: false }).shape; // [2, 3, 4, 4]
 */
export function avgPool2d<S extends Shape, D extends FloatDType, const K extends Pair, const St extends Pair | null | undefined = undefined, const O extends AvgPool2dOptions = {}>(
  input: Tensor<S, D> & Check<Pool2dShape<S, K, St extends Pair ? St : K, O, "avgPool2d">>,
  kernelSize: K,
  stride?: St,
  opts?: O,
): Tensor<Ok<Pool2dShape<S, K, St extends Pair ? St : K, O, "avgPool2d">>, D> {
  return avgPool2dOp(input as AnyTensor, kernelSize, stride, opts) as never;
}

/**
 * Adaptive average pooling to a fixed output size: output row `o` of `oH` averages input rows
 * `[⌊o·H/oH⌋, ⌈(o+1)·H/oH⌉)` (columns alike), as PyTorch.
 *
 * Shapes: `[N, C, H, W]` (or `[C, H, W]`) → `[N, C, oH, oW]`; `outputSize` is one int or `[oH, oW]`
 * (`null` keeps that input dim).
 *
 * @example
 * adaptiveAvgPool2d(torch.randn(8, 512, 7, 7), 1).shape; // [8, 512, 1, 1]
 */
export function adaptiveAvgPool2d<S extends Shape, D extends FloatDType, const P extends AdaptiveSize>(
  input: Tensor<S, D> & Check<AdaptiveAvgPool2dShape<S, P>>,
  outputSize: P,
): Tensor<Ok<AdaptiveAvgPool2dShape<S, P>>, D> {
  return adaptiveAvgPool2dOp(input as AnyTensor, outputSize) as never;
}

/**
 * Batch normalisation over channel dim 1 of `input [N, C, ...]`:
 * `y = (x − μ) / √(σ² + eps) · weight + bias`, per channel. `training: true` uses the batch mean
 * and biased variance (over every dim but 1) and updates `runningMean`/`runningVar` in place:
 * `r ← (1 − momentum)·r + momentum·stat`, with the unbiased variance (as PyTorch); `training:
 * false` (the default, as `F.batch_norm`) uses the running statistics. `weight`, `bias` and the
 * running statistics are `[C]`.
 *
 * @example
 * const rm = torch.zeros(16), rv = torch.ones(16);
 * const y = batchNorm(torch.randn(8, 16, 13, 13), rm, rv, null, null, { training: true }); // rm, rv updated
 */
export function batchNorm<S extends Shape, D extends FloatDType>(
  input: Tensor<S, D>,
  runningMean: Tensor<Shape, D> | null | undefined,
  runningVar: Tensor<Shape, D> | null | undefined,
  weight?: Tensor<Shape, D> | null,
  bias?: Tensor<Shape, D> | null,
  opts?: BatchNormOptions,
): Tensor<S, D> {
  return batchNormOp(input as AnyTensor, runningMean as AnyTensor | null | undefined, runningVar as AnyTensor | null | undefined, weight as AnyTensor | null | undefined, bias as AnyTensor | null | undefined, opts) as never;
}

/**
 * Dropout: in training, zeroes each element with probability `p` and scales the rest by
 * `1 / (1 − p)`, so the expectation is unchanged; the identity otherwise. The mask is drawn as
 * PyTorch 1.13 draws it on the CPU, so after the same `manualSeed` it is PyTorch's mask.
 *
 * @example
 * torch.manualSeed(0);
 * dropout(torch.ones(8), { p: 0.5 }); // tensor([0., 0., 2., 0., 0., 0., 2., 2.]), as PyTorch
 */
export function dropout<S extends Shape, D extends FloatDType>(input: Tensor<S, D>, opts?: DropoutOptions): Tensor<S, D> {
  return dropoutOp(input as AnyTensor, opts) as never;
}
