import type { AnyTensor } from "../tensorTypes.js";
/**
 * Composites: ops written as plain functions over Tensor methods, so they get autograd (and, in
 * compiled models, fusion) for free — softmax, logSoftmax, logsumexp, mean, var, std, clamp
 * variants, oneHot, allclose — plus the helpers of the in-place methods.
 */
import { broadcastShapes } from "../../types/broadcast.js";
import { normDim } from "../../types/dims.js";
import { DTypeError, ShapeError, ValueError } from "../../types/errors.js";
import { reduceShape } from "../../types/reduce.js";
import { shapeStr } from "../../types/shape.js";
import { isGradEnabled, noGrad } from "../autograd.js";
import type { DType } from "../dtype.js";
import { isFloating } from "../dtype.js";
import { promoteTypes, resultType } from "../promote.js";
import { Tensor } from "../Tensor.js";
import { binary, fit, fitScalar, whereOp } from "./binary.js";
import { type ElementwiseOpDef, elementwiseOp, runElementwise, runReduce } from "./defineOp.js";
import { copyInto } from "./movement.js";
import { keepDims, max as maxDef } from "./reduce.js";
import { clamp } from "./unary.js";

type Operand = AnyTensor | number | boolean;

/**
 * `alpha · other` for add/sub's `alpha` option (`op` names the method in messages). The op's own
 * checks run first, on the operands as given: scaling would turn a bool operand into an integer
 * one that `sub` no longer rejects. A fractional alpha would make integer operands float, so
 * PyTorch rejects it, and so does this.
 */
export function scaled(op: string, def: ElementwiseOpDef, x: AnyTensor, other: Operand, alpha: number): Operand {
  const promoted = resultType([x, other]);
  const reason = def.rejects?.(promoted, [x, other]);
  if (reason) throw new DTypeError(`${op}: ${reason}`);
  if (!isFloating(promoted) && !Number.isInteger(alpha)) throw new DTypeError(`${op}: alpha must be an integer for integer operands, got alpha=${alpha} for dtype ${promoted}`);
  return other instanceof Tensor ? other.mul(alpha) : +other * alpha;
}

/** `x.clamp(min, max)`, with either bound omitted (or given as `{ min, max }`). */
export function clampOp(x: AnyTensor, min?: number | null | { min?: number | null; max?: number | null }, max?: number | null): AnyTensor {
  if (min !== null && typeof min === "object") return clampOp(x, min.min, min.max);
  if ((min === undefined || min === null) && (max === undefined || max === null)) throw new ValueError("clamp: at least one of min and max must be given, got neither");
  const promoted = resultType([x, ...(min ?? null) !== null ? [min as number] : [], ...(max ?? null) !== null ? [max as number] : []]);
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  return runElementwise(clamp, [fit(x, promoted)], [fitScalar(lo, promoted), fitScalar(hi, promoted)], promoted);
}

function requireFloat(op: string, x: AnyTensor): void {
  if (!isFloating(x.dtype)) throw new DTypeError(`${op}: the input must be a floating point tensor, got dtype ${x.dtype} (convert with .float())`);
}

// Elements per reduced slot. A 0-d tensor reduced over "dim 0" (which PyTorch accepts) has one.
function count(x: AnyTensor, dims: readonly number[]): number {
  return dims.reduce((n, d) => n * (x.shape[d] ?? 1), 1);
}

/** `x.mean(dim, keepdim)`: sum / count (floating point only, as PyTorch). */
export function meanOp(x: AnyTensor, dim: number | readonly number[] | undefined, keepdim: boolean): AnyTensor {
  requireFloat("mean", x);
  const plan = reduceShape("mean", x.shape, dim, keepdim);
  return x.sum(dim, keepdim).div(count(x, plan.dims));
}

/** `torch.amax`: max over dims, no indices. Backward: split evenly among ties, as PyTorch. */
export function amaxOp(x: AnyTensor, dim: number | readonly number[] | undefined, keepdim: boolean): AnyTensor {
  const plan = reduceShape("amax", x.shape, dim, keepdim);
  if (x.numel() === 0) throw new ValueError(`amax: expected a non-empty tensor, got shape ${shapeStr(x.shape)}`);
  const [out] = noGrad(() => runReduce(maxDef, x, plan.dims, plan.out));
  if (!x.requiresGrad || !isGradEnabled()) return out;
  // Differentiable form: the mask of winners, normalised, times the broadcast output.
  const kept = keepDims(out, x.shape, plan.dims, keepdim || dim === undefined);
  const mask = x.eq(kept).to(x.dtype);
  const share = mask.div(mask.sum(plan.dims, true));
  const y = x.mul(share).sum(plan.dims, keepdim);
  return dim === undefined && !keepdim ? y.reshape([]) : y;
}

/** `x.var(dim, unbiased | { unbiased, correction, keepdim }, keepdim)` and std. */
export function varOp(
  x: AnyTensor,
  dim: number | readonly number[] | undefined,
  opts: boolean | { unbiased?: boolean; correction?: number; keepdim?: boolean } | undefined,
  keepdim: boolean | undefined,
  op: "var" | "std",
): AnyTensor {
  requireFloat(op, x);
  const o = typeof opts === "object" ? opts : { unbiased: opts };
  const correction = o.correction ?? (o.unbiased === false ? 0 : 1);
  const keep = keepdim ?? o.keepdim ?? false;
  const plan = reduceShape(op, x.shape, dim, keep);
  const n = count(x, plan.dims);
  const mu = x.mean(plan.dims, true);
  const d = x.sub(mu);
  const v = d.mul(d).sum(plan.dims, keep).div(Math.max(n - correction, 0));
  const r = dim === undefined && !keep ? v.reshape([]) : v;
  if (op === "var") return r;
  // PyTorch defines std's gradient as 0 where std is 0 (√ has an infinite slope there). The root
  // is taken of 1 at those places, so no 0/0 reaches the gradient through the unused branch.
  const zero = r.eq(0);
  return whereOp(zero, 0, whereOp(zero, 1, r).sqrt());
}

/** `x.logsumexp(dim, keepdim)`: `m + log Σ e^(x − m)` with m the (detached) max; stable for large x. */
export function logsumexpOp(x: AnyTensor, dim: number | readonly number[] | undefined, keepdim: boolean): AnyTensor {
  const xf = isFloating(x.dtype) ? x : x.to("float32");
  const plan = reduceShape("logsumexp", x.shape, dim, keepdim);
  if (x.numel() === 0) return xf.sum(plan.dims, keepdim).log();
  const m = noGrad(() => {
    const mx = amaxOp(xf.detach(), plan.dims, true);
    return whereOp(mx.abs().eq(Infinity), 0, mx);
  });
  const s = xf.sub(m).exp().sum(plan.dims, true).log().add(m);
  return keepdim ? s : s.reshape(plan.out);
}

/** `x.softmax(dim)`: `e^(x − max) / Σ e^(x − max)`. */
export function softmaxOp(x: AnyTensor, dim: number): AnyTensor {
  // Checked here so a bad dim is reported as softmax's, not as the amax inside.
  const d = normDim("softmax", dim, x.ndim);
  requireFloat("softmax", x);
  const e = x.sub(stableMax(x, d)).exp();
  return e.div(e.sum(d, true));
}

/**
 * `x.logSoftmax(dim)`: `(x − m) − log Σ e^(x − m)` with m the row max, as PyTorch computes it.
 * (`x − logsumexp(x)` would round `m + log Σ` first and lose the low bits of large logits.)
 */
export function logSoftmaxOp(x: AnyTensor, dim: number): AnyTensor {
  const d = normDim("logSoftmax", dim, x.ndim);
  requireFloat("logSoftmax", x);
  const s = x.sub(stableMax(x, d));
  return s.sub(s.exp().sum(d, true).log());
}

// The detached max over `dim` (kept), with ±Inf replaced by 0 so that x − m stays finite-safe.
function stableMax(x: AnyTensor, dim: number): AnyTensor {
  return noGrad(() => {
    const mx = amaxOp(x.detach(), dim, true);
    return whereOp(mx.abs().eq(Infinity), 0, mx);
  });
}

/**
 * One-hot encoding of int64 class indices: `[...S] → [...S, numClasses]` (int64), as
 * `F.one_hot`; `numClasses = -1` uses `max + 1`.
 */
export function oneHotOp(x: AnyTensor, numClasses = -1): AnyTensor {
  if (x.dtype !== "int64") throw new DTypeError(`oneHot: the input must be an int64 tensor of class indices, got dtype ${x.dtype}`);
  if (!Number.isInteger(numClasses) || numClasses < -1) throw new ValueError(`oneHot: numClasses must be a non-negative integer or -1, got ${numClasses}`);
  if (x.numel() > 0 && (x.min().item() as number) < 0) throw new ValueError(`oneHot: class indices must be >= 0, got ${x.min().item()}`);
  const hi = x.numel() > 0 ? (x.max().item() as number) : -1;
  const n = numClasses < 0 ? hi + 1 : numClasses;
  if (n <= 0 && numClasses < 0) throw new ValueError("oneHot: can't infer numClasses from an empty tensor, got shape " + shapeStr(x.shape));
  if (hi >= n) throw new ValueError(`oneHot: class indices must be < numClasses (${n}), got ${hi}`);
  const classes = Tensor._empty([n], "int64");
  for (let i = 0; i < n; i++) classes._data[i] = i;
  return x.unsqueeze(-1).eq(classes).to("int64");
}

/** `|a − b| <= atol + rtol·|b|` everywhere (NaNs equal only with `equalNan`). */
export function allcloseOp(a: AnyTensor, b: AnyTensor, rtol = 1e-5, atol = 1e-8, equalNan = false): boolean {
  return iscloseOp(a, b, rtol, atol, equalNan).logicalNot().sum().item() === 0;
}

/** Elementwise closeness (bool), as `torch.isclose`. */
export function iscloseOp(a: AnyTensor, b: AnyTensor, rtol = 1e-5, atol = 1e-8, equalNan = false): AnyTensor {
  const dt = promoteTypes(a.dtype, b.dtype);
  const af = a.to(isFloating(dt) ? dt : "float64");
  const bf = b.to(isFloating(dt) ? dt : "float64");
  const close = af.sub(bf).abs().le(bf.abs().mul(rtol).add(atol)).logicalOr(af.eq(bf));
  return equalNan ? close.logicalOr(af.ne(af).logicalAnd(bf.ne(bf))) : close;
}

// ---------------------------------------------------------------------------------------------
// in-place helpers
// ---------------------------------------------------------------------------------------------

/** In-place ops may not rewrite a tensor autograd is tracking (PyTorch rejects it for leaves). */
export function guardInPlace(op: string, x: AnyTensor): void {
  if (!isGradEnabled()) return;
  if (x.requiresGrad && !x.gradFn) {
    throw new ValueError(`${op}: a leaf tensor that requires grad can't be modified in place, got requiresGrad=true (wrap the update in torch.noGrad)`);
  }
  if (x.gradFn) throw new ValueError(`${op}: in-place ops on a tensor made by ${x.gradFn.name} are not supported, got a tensor in the autograd graph (use the out-of-place form)`);
}

const fill = elementwiseOp({ name: "fill", arity: 0, gradName: "FillBackward0", dtype: (d) => d, js: ([v]) => v!, wgsl: ([v]) => v!, backward: null });

/** Sets every element of x (any layout) to v, converted to x's dtype. */
export function fillInPlace(x: AnyTensor, v: number): void {
  if (!isFloating(x.dtype) && x.dtype !== "bool" && !Number.isFinite(v)) throw new ValueError(`fill_: values must be finite for dtype ${x.dtype}, got ${v}`);
  const val = x.dtype === "bool" ? (v !== 0 ? 1 : 0) : isFloating(x.dtype) ? fitScalar(v, x.dtype) : Math.trunc(v);
  runElementwise(fill, [], [val], x.dtype, x);
}

/**
 * Runs a random fill on x: directly on contiguous storage, else through a temp and a copy.
 * `f` is told which, since PyTorch draws normals differently for non-contiguous tensors.
 */
export function fillRandom(x: AnyTensor, op: string, f: (out: Float32Array | Float64Array, contiguous: boolean) => void): void {
  if (x.dtype !== "float32" && x.dtype !== "float64") throw new DTypeError(`${op}: the tensor must be float32 or float64, got dtype ${x.dtype}`);
  if (x.device !== "cpu") {
    // Drawn on the CPU (the seeded generator's numbers), then copied to the device.
    const tmp = Tensor._empty([...x.shape], x.dtype);
    fillRandom(tmp, op, f);
    copyInto(x, tmp._toDevice(x.device), op);
    return;
  }
  if (x.isContiguous()) {
    f((x._data as Float32Array | Float64Array).subarray(x._offset, x._offset + x.numel()), true);
    return;
  }
  // PyTorch draws for a strided tensor in memory order (its TensorIterator sorts dims by
  // stride), not in index order: fill the temp in the order of x's dims by decreasing stride.
  const order = x.shape.map((_, i) => i).sort((a, b) => x._strides[b]! - x._strides[a]! || a - b);
  const v = x.permute(order as never);
  const tmp = Tensor._empty([...v.shape], x.dtype);
  f(tmp._data as Float32Array | Float64Array, false);
  copyInto(v, tmp, op);
}

/** `x op= other` (same dtype category or lower, shape unchanged). */
export function inPlace(x: AnyTensor, def: ElementwiseOpDef, other: Operand): void {
  const promoted = resultType([x, other]);
  const cat = (d: DType) => (d === "bool" ? 0 : isFloating(d) ? 2 : 1);
  if (cat(promoted) > cat(x.dtype) || (def.name === "div" && !isFloating(x.dtype))) {
    throw new DTypeError(`${def.name}_: the result dtype ${def.name === "div" ? "float32" : promoted} can't be stored in place into a ${x.dtype} tensor, got dtype ${x.dtype}`);
  }
  if (other instanceof Tensor) {
    const s = broadcastShapes(`${def.name}_`, x.shape, other.shape);
    if (s.length !== x.ndim || s.some((v, i) => v !== x.shape[i])) {
      throw new ShapeError(`${def.name}_: the other operand must broadcast to ${shapeStr(x.shape)} for an in-place op, got ${shapeStr(other.shape)}`);
    }
    // Reading x while writing it is safe elementwise, except where other aliases x with another layout.
    const src = other._data === x._data ? other.clone() : other;
    runElementwise(def, [x, fit(src, promoted)], [], promoted, x);
  } else runElementwise(def, [x], [fitScalar(+other, promoted)], promoted, x);
}

/** `x.clamp_(min, max)`. */
export function clampInPlace(x: AnyTensor, min?: number | null, max?: number | null): void {
  if ((min ?? null) === null && (max ?? null) === null) throw new ValueError("clamp_: at least one of min and max must be given, got neither");
  runElementwise(clamp, [x], [fitScalar(min ?? -Infinity, x.dtype), fitScalar(max ?? Infinity, x.dtype)], x.dtype, x);
}

export { binary };
