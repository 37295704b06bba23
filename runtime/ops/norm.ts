import type { AnyTensor } from "../tensorTypes.js";
/**
 * Normalisation and regularisation composites: batch norm and dropout, written over Tensor ops
 * (so they get autograd, and fusion in compiled models, for free — DESIGN.md §3).
 */
import { DTypeError, ShapeError, ValueError } from "../../types/errors.js";
import { shapeStr } from "../../types/shape.js";
import { noGrad } from "../autograd.js";
import { type Generator, bernoulliFill } from "../random.js";
import { Tensor } from "../Tensor.js";

/** Options of {@link batchNormOp} (PyTorch's `F.batch_norm` keywords). */
export interface BatchNormOptions {
  /** Batch statistics (and a running-stats update) when true; the running statistics when false. Default false. */
  training?: boolean;
  /** Weight of the new batch statistic in the running average. Default 0.1. */
  momentum?: number;
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
}

function requireFloat(op: string, x: AnyTensor): void {
  if (x.dtype !== "float32" && x.dtype !== "float64") throw new DTypeError(`${op}: input must be float32 or float64, got dtype ${x.dtype}`);
}

/**
 * `F.batch_norm` at run time: normalises each channel (dim 1) of `input [N, C, ...]`.
 * Training: by the batch mean and biased variance over every dim but 1, and, where given, the
 * running statistics are updated in place: `r ← (1 − momentum)·r + momentum·stat` with the
 * UNBIASED batch variance, as PyTorch. Eval: by the running statistics. Then `·weight + bias`.
 */
export function batchNormOp(
  input: AnyTensor,
  runningMean: AnyTensor | null | undefined,
  runningVar: AnyTensor | null | undefined,
  weight?: AnyTensor | null,
  bias?: AnyTensor | null,
  opts: BatchNormOptions = {},
): AnyTensor {
  const op = "batchNorm";
  requireFloat(op, input);
  if (input.ndim < 2) throw new ShapeError(`${op}: input must have at least 2 dims [N, C, ...], got ${shapeStr(input.shape)}`);
  const C = input.shape[1]!;
  const params: [string, AnyTensor | null | undefined][] = [["runningMean", runningMean], ["runningVar", runningVar], ["weight", weight], ["bias", bias]];
  for (const [name, t] of params) {
    if (!t) continue;
    if (t.ndim !== 1 || t.shape[0] !== C) throw new ShapeError(`${op}: ${name} must have shape [${C}] (one per channel of input ${shapeStr(input.shape)}), got ${shapeStr(t.shape)}`);
    if (t.dtype !== input.dtype) throw new DTypeError(`${op}: ${name} must have the input's dtype ${input.dtype}, got dtype ${t.dtype}`);
  }
  const training = opts.training ?? false;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  if (!(eps >= 0)) throw new ValueError(`${op}: eps must be >= 0, got ${eps}`);
  const dims = input.shape.map((_, i) => i).filter((i) => i !== 1);
  const bshape = input.shape.map((s, i) => (i === 1 ? s : 1));
  const col = (t: AnyTensor) => t.reshape(bshape);
  let xhat: AnyTensor;
  if (training) {
    const n = input.numel() / Math.max(C, 1);
    if (n <= 1) throw new ValueError(`${op}: expected more than 1 value per channel when training, got input size ${shapeStr(input.shape)}`);
    const mean = input.mean(dims as never, true);
    const xc = input.sub(mean);
    const v = xc.mul(xc).mean(dims as never, true);
    xhat = xc.div(v.add(eps).sqrt());
    noGrad(() => {
      if (runningMean) runningMean.mul_(1 - momentum).add_(mean.detach().reshape([C]).mul(momentum));
      if (runningVar) runningVar.mul_(1 - momentum).add_(v.detach().reshape([C]).mul(momentum * (n / (n - 1))));
    });
  } else {
    if (!runningMean || !runningVar) throw new ValueError(`${op}: runningMean and runningVar are required when not training, got ${runningMean ? "" : "runningMean=null "}${runningVar ? "" : "runningVar=null"}`.trimEnd());
    xhat = input.sub(col(runningMean)).div(col(runningVar).add(eps).sqrt());
  }
  let y = weight ? xhat.mul(col(weight)) : xhat;
  if (bias) y = y.add(col(bias));
  return y;
}

/** Options of {@link dropoutOp}. */
export interface DropoutOptions {
  /** Probability of zeroing an element. Default 0.5. */
  p?: number;
  /** Identity when false. Default true (as `F.dropout`). */
  training?: boolean;
  /** Generator of the mask (default: the global one, `torch.manualSeed`). */
  generator?: Generator;
}

/**
 * `F.dropout` at run time: `x · mask / (1 − p)` with `mask ~ Bernoulli(1 − p)` drawn as PyTorch
 * 1.13 draws it on the CPU (one 53-bit uniform per element, in order), so the same seed gives the
 * same mask. `p = 0`, `training = false` or an empty input return the input itself; `p = 1`
 * returns `x · 0` without drawing (NaN stays NaN, as PyTorch).
 */
export function dropoutOp(input: AnyTensor, opts: DropoutOptions = {}): AnyTensor {
  const p = opts.p ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw new ValueError(`dropout: p must be in [0, 1], got ${p}`);
  requireFloat("dropout", input);
  if (p === 0 || !(opts.training ?? true) || input.numel() === 0) return input;
  if (p === 1) return input.mul(Tensor._scalar(0, input.dtype, input.device));
  const mask = Tensor._empty([...input.shape], input.dtype);
  bernoulliFill(mask._data as Float32Array | Float64Array, 1 - p, opts.generator);
  mask.div_(1 - p);
  // The mask is drawn on the CPU (PyTorch's numbers), then moved to where the input lives.
  return input.mul(mask._toDevice(input.device));
}
