import type { AnyTensor } from "../tensorTypes.js";
import { catShape, stackShape } from "../../types/join.js";
import { expandShape, flattenShape, permuteDims, reshapeShape, squeezeShape, tMsg, unsqueezeShape } from "../../types/movement.js";
import { normDim } from "../../types/dims.js";
import { broadcastShapes } from "../../types/broadcast.js";
import { ShapeError, ValueError } from "../../types/errors.js";
import { shapeStr } from "../../types/shape.js";
import { needsGrad, noGrad, record } from "../autograd.js";
import { type DType, isFloating, isIntegral } from "../dtype.js";
import { resultType } from "../promote.js";
import { Tensor } from "../Tensor.js";
import { sumToShape } from "./binary.js";
import { contiguousStrides, elementwiseOp, runElementwise, type ViewOpDef } from "./defineOp.js";
import { castDef } from "./unary.js";

/** Identity copy into fresh or existing storage (contiguous, clone, copy_). Backward: `g`. */
export const copy = elementwiseOp({
  name: "copy", arity: 1, gradName: "CloneBackward0", dtype: (d) => d,
  js: ([a]) => a!,
  wgsl: ([a]) => a!,
  backward: (g) => [g],
});

const badCast = (op: string, to: DType) => (v: number) => {
  throw new ValueError(`${op}: values must be finite to convert to ${to}, got ${v}`);
};

/**
 * Copies `src` into the existing view `dst` (broadcasting src), converting dtype as `to` does.
 * Used by copy_, cat and the backward of views.
 */
export function copyInto(dst: AnyTensor, src: AnyTensor, op = "copy_"): void {
  // src must broadcast *to* dst's shape (a larger src would be read out of its bounds).
  const s = broadcastShapes(op, dst.shape, src.shape);
  if (s.length !== dst.ndim || s.some((v, i) => v !== dst.shape[i])) {
    throw new ShapeError(`${op}: the source must broadcast to ${shapeStr(dst.shape)}, got ${shapeStr(src.shape)}`);
  }
  if (src.dtype === dst.dtype) runElementwise(copy, [src], [], src.dtype, dst);
  // A NaN/Inf met halfway through a float → int conversion would throw with dst half written:
  // convert into a temp first, so a failed copy_ leaves dst as it was.
  else if (isFloating(src.dtype) && isIntegral(dst.dtype)) copyInto(dst, runElementwise(castDef(dst.dtype), [src], [badCast(op, dst.dtype)], src.dtype), op);
  else runElementwise(castDef(dst.dtype), [src], [badCast(op, dst.dtype)], src.dtype, dst);
}

/** `x.to(dtype)`: a converted copy (the same tensor when the dtype already matches). */
export function castOp(x: AnyTensor, to: DType): AnyTensor {
  if (x.dtype === to) return x;
  return runElementwise(castDef(to), [x], [badCast("to", to)], x.dtype);
}

/** A strided view of `x`'s storage; `backward` maps the view's gradient to x's. */
function view(x: AnyTensor, shape: number[], strides: number[], offset: number, def: ViewOpDef, backward: (g: AnyTensor) => AnyTensor): AnyTensor {
  const v = Tensor._view(x, shape, strides, offset);
  if (needsGrad([x])) record(v, def.gradName, [x], (g) => [backward(g)]);
  return v;
}

const viewDef = (name: string, gradName: string): ViewOpDef => ({ kind: "view", name, gradName, backward: (g) => [g] });
/** View ops: no kernel; each op's backward is given where it builds the view. */
export const views = {
  reshape: viewDef("reshape", "ViewBackward0"),
  permute: viewDef("permute", "PermuteBackward0"),
  expand: viewDef("expand", "ExpandBackward0"),
  select: viewDef("select", "SelectBackward0"),
  slice: viewDef("slice", "SliceBackward0"),
  squeeze: viewDef("squeeze", "SqueezeBackward1"),
  unsqueeze: viewDef("unsqueeze", "UnsqueezeBackward0"),
} as const;

/** `x.clone()`: always a fresh contiguous copy. */
export function runCopy(x: AnyTensor): AnyTensor {
  return runElementwise(copy, [x], [], x.dtype);
}

/** `x.contiguous()`: x itself when already row-major, else a row-major copy. */
export function contiguousOp(x: AnyTensor): AnyTensor {
  return x.isContiguous() ? x : runElementwise(copy, [x], [], x.dtype);
}

// Strides for viewing x as `shape` without a copy, or undefined (PyTorch's computeStride).
function viewStrides(x: AnyTensor, shape: readonly number[]): number[] | undefined {
  if (x.isContiguous()) return contiguousStrides(shape);
  const oldShape = x.shape;
  const oldStrides = x._strides;
  if (x.numel() === 0) return contiguousStrides(shape);
  const out = new Array<number>(shape.length);
  let viewD = shape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1]!;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d]!;
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= shape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return undefined;
      if (d > 0) {
        chunkBase = oldStrides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? out : undefined;
}

/** `x.reshape(shape)` (a view when the layout allows, else a copy) and `x.view(shape)` (view only). */
export function reshapeOp(x: AnyTensor, next: readonly number[], op: "reshape" | "view" = "reshape"): AnyTensor {
  const shape = reshapeShape(op, x.shape, next);
  const strides = viewStrides(x, shape);
  if (!strides) {
    if (op === "view") {
      throw new ShapeError(`view: a view of this memory layout is impossible (use reshape or .contiguous()), got shape ${shapeStr(x.shape)} with strides ${shapeStr(x._strides)} viewed as ${shapeStr(shape)}`);
    }
    return reshapeOp(contiguousOp(x), shape);
  }
  return view(x, shape, strides, x._offset, views.reshape, (g) => g.reshape(x.shape));
}

/** `x.flatten(startDim, endDim)`. */
export function flattenOp(x: AnyTensor, start = 0, end = -1): AnyTensor {
  return reshapeOp(x, flattenShape(x.shape, start, end));
}

/** `x.permute(...dims)`. */
export function permuteOp(x: AnyTensor, dims: readonly number[]): AnyTensor {
  const p = permuteDims(x.shape, dims);
  const inv = new Array<number>(p.length);
  p.forEach((d, i) => (inv[d] = i));
  return view(x, p.map((d) => x.shape[d]!), p.map((d) => x._strides[d]!), x._offset, views.permute, (g) => g.permute(inv));
}

/** `x.transpose(d0, d1)`. */
export function transposeOp(x: AnyTensor, d0: number, d1: number): AnyTensor {
  const a = normDim("transpose", d0, x.ndim);
  const b = normDim("transpose", d1, x.ndim);
  if (x.ndim === 0) return x;
  const dims = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permuteOp(x, dims);
}

/** `x.t()`: transpose of a ≤ 2-D tensor. */
export function tOp(x: AnyTensor): AnyTensor {
  if (x.ndim > 2) throw new ShapeError(tMsg(shapeStr(x.shape)));
  return x.ndim < 2 ? x : transposeOp(x, 0, 1);
}

/** `x.expand(...sizes)`: size-1 dims repeated by a 0 stride; no copy. */
export function expandOp(x: AnyTensor, sizes: readonly number[]): AnyTensor {
  const shape = expandShape(x.shape, sizes);
  const lead = shape.length - x.ndim;
  const strides = shape.map((s, i) => (i < lead ? 0 : x.shape[i - lead] === s ? x._strides[i - lead]! : 0));
  return view(x, shape, strides, x._offset, views.expand, (g) => sumToShape(g, x.shape));
}

/** `x.squeeze(dim?)`. */
export function squeezeOp(x: AnyTensor, dim?: number): AnyTensor {
  const shape = squeezeShape(x.shape, dim);
  const d = dim === undefined ? undefined : normDim("squeeze", dim, x.ndim);
  const keep = x.shape.map((s, i) => (d === undefined ? s !== 1 : i !== d || s !== 1));
  return view(x, shape, x._strides.filter((_, i) => keep[i]), x._offset, views.squeeze, (g) => g.reshape(x.shape));
}

/** `x.unsqueeze(dim)`. */
export function unsqueezeOp(x: AnyTensor, dim: number): AnyTensor {
  const { shape, dim: d } = unsqueezeShape(x.shape, dim);
  const strides = [...x._strides];
  strides.splice(d, 0, d < x.ndim ? x._strides[d]! * x.shape[d]! : 1);
  return view(x, shape, strides, x._offset, views.unsqueeze, (g) => g.reshape(x.shape));
}

// Gradient of a view that picks part of x: zeros everywhere else.
function scatterBack(x: AnyTensor, g: AnyTensor, pick: (t: AnyTensor) => AnyTensor): AnyTensor {
  const gx = Tensor._zeros([...x.shape], g.dtype, g.device);
  noGrad(() => copyInto(pick(gx), g));
  return gx;
}

/** `x.select(dim, i)` (what `x.index(i)` does per dim): the dim removed, a view. */
export function selectOp(x: AnyTensor, dim: number, index: number, op = "select"): AnyTensor {
  const d = normDim(op, dim, x.ndim);
  const n = x.shape[d]!;
  if (!Number.isInteger(index) || index < -n || index >= n) {
    throw new ShapeError(`${op}: index must be in [${-n}, ${n - 1}] for dim ${d} of size ${n}, got ${index}`);
  }
  const i = index < 0 ? index + n : index;
  const shape = x.shape.filter((_, k) => k !== d);
  const strides = x._strides.filter((_, k) => k !== d);
  return view(x, shape, strides, x._offset + i * x._strides[d]!, views.select, (g) => scatterBack(x, g, (t) => t.select(d, i)));
}

/** Python slice bounds resolved for a dim of size n (step > 0). */
export function sliceBounds(n: number, start: number | undefined, stop: number | undefined, step: number): { start: number; len: number } {
  const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const s = start === undefined ? 0 : clampIdx(start);
  const e = stop === undefined ? n : clampIdx(stop);
  return { start: s, len: Math.max(0, Math.ceil((e - s) / step)) };
}

/** `x.narrow`-style slice `start:stop:step` along `dim`: a view. */
export function sliceOp(x: AnyTensor, dim: number, start: number | undefined, stop: number | undefined, step = 1, op = "slice"): AnyTensor {
  const d = normDim(op, dim, x.ndim);
  if (!Number.isInteger(step) || step <= 0) throw new ValueError(`${op}: slice step must be a positive integer, got ${step}`);
  const b = sliceBounds(x.shape[d]!, start, stop, step);
  const shape = [...x.shape];
  shape[d] = b.len;
  const strides = [...x._strides];
  strides[d] = x._strides[d]! * step;
  return view(x, shape, strides, x._offset + b.start * x._strides[d]!, views.slice, (g) => scatterBack(x, g, (t) => t._slice(d, b.start, b.start + b.len * step, step)));
}

/** `torch.cat(tensors, dim)`: dtypes promote as PyTorch. */
export function catOp(tensors: readonly AnyTensor[], dim = 0): AnyTensor {
  const { shape, dim: d } = catShape(tensors.map((t) => t.shape), dim);
  const dtype = resultType(tensors);
  const out = Tensor._empty(shape, dtype, tensors[0]?.device ?? "cpu");
  let at = 0;
  for (const t of tensors) {
    const n = t.shape[d]!;
    noGrad(() => copyInto(out._slice(d, at, at + n, 1), t, "cat"));
    at += n;
  }
  if (needsGrad(tensors)) {
    record(out, "CatBackward0", tensors, (g) => {
      let pos = 0;
      return tensors.map((t) => {
        const n = t.shape[d]!;
        const s = g._slice(d, pos, pos + n, 1);
        pos += n;
        return s;
      });
    });
  }
  return out;
}

/** `torch.stack(tensors, dim)`: unsqueeze each, then cat. */
export function stackOp(tensors: readonly AnyTensor[], dim = 0): AnyTensor {
  const { dim: d } = stackShape(tensors.map((t) => t.shape), dim);
  return catOp(tensors.map((t) => t.unsqueeze(d)), d);
}
