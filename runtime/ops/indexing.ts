import type { AnyTensor } from "../tensorTypes.js";
import { broadcastShapes } from "../../types/broadcast.js";
import { normDim } from "../../types/dims.js";
import { DTypeError, IndexError, ShapeError, ValueError } from "../../types/errors.js";
import { ellipsisMsg, indexCountMsg, indexRangeMsg, parseSlice, sliceTextMsg } from "../../types/indexing.js";
import { selectOp, sliceOp } from "./movement.js";
import { shapeStr } from "../../types/shape.js";
import { needsGrad, noGrad, record } from "../autograd.js";
import { cpu } from "../backend/cpu.js";
import { gatherSource, indexAddSource, indexSelectSource } from "../codegen/js.js";
import { Tensor } from "../Tensor.js";
import type { KernelOpDef } from "./defineOp.js";
import { deferredIndexError, deviceGather, deviceIndexAdd, deviceIndexSelect, deviceOf, deviceScatterAdd } from "./device.js";

/** Gather-family kernels: `indexSelect`/`indexAdd` and `gather`/`scatterAdd` (each the other's backward). */
export const indexOps: readonly KernelOpDef[] = [
  { kind: "kernel", name: "indexSelect", gradName: "IndexSelectBackward0", js: "indexSelectSource", wgsl: "indexSelectWgsl", backward: null },
  { kind: "kernel", name: "indexAdd", gradName: "IndexAddBackward0", js: "indexAddSource", wgsl: "indexAddWgsl", backward: null },
  { kind: "kernel", name: "gather", gradName: "GatherBackward0", js: "gatherSource", wgsl: "gatherWgsl", backward: null },
  { kind: "kernel", name: "scatterAdd", gradName: "ScatterAddBackward0", js: "gatherSource", wgsl: "scatterAddWgsl", backward: null },
];

function requireIndex(op: string, idx: AnyTensor, allowInt32: boolean): void {
  if (idx.dtype !== "int64" && !(allowInt32 && idx.dtype === "int32")) {
    throw new DTypeError(`${op}: the index must be an int64${allowInt32 ? " (or int32)" : ""} tensor, got dtype ${idx.dtype}`);
  }
}

// `lo` is -size where negative indices count from the end, 0 where they are errors (gather).
const outOfRange = (op: string, dim: number, size: number, lo = -size) => (v: number) => {
  throw new IndexError(`${op}: index must be in [${lo}, ${size - 1}] for dim ${dim} of size ${size}, got ${v}`);
};

const prodOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** `x.indexSelect(dim, index)`: entries `index` (1-D) along dim; negatives count from the end. */
export function indexSelectOp(x: AnyTensor, dim: number, index: AnyTensor): AnyTensor {
  requireIndex("indexSelect", index, true);
  if (index.ndim > 1) throw new ShapeError(`indexSelect: the index must be 0-d or 1-d, got shape ${shapeStr(index.shape)}`);
  const d = normDim("indexSelect", dim, x.ndim);
  const device = deviceOf("indexSelect", [x, index]);
  const xc = x.contiguous();
  const ic = index.contiguous();
  const size = x.ndim === 0 ? 1 : x.shape[d]!;
  const shape = [...x.shape];
  if (x.ndim > 0) shape[d] = ic.numel();
  const out = Tensor._empty(shape, x.dtype, device);
  const pre = prodOf(x.shape.slice(0, d));
  const post = prodOf(x.shape.slice(d + 1));
  if (device !== "cpu") deviceIndexSelect(out, xc, ic, size, post, deferredIndexError(outOfRange("indexSelect", d, size)));
  else cpu.run("indexSelect", indexSelectSource, [out._data, xc._data.subarray(xc._offset), ic._data.subarray(ic._offset), pre, size, post, ic.numel(), outOfRange("indexSelect", d, size)]);
  if (needsGrad([x])) {
    record(out, "IndexSelectBackward0", [x], (g) => {
      const gx = Tensor._zeros([...x.shape], g.dtype, g.device);
      const gc = g.contiguous();
      if (g.device !== "cpu") deviceIndexAdd(gx, gc, ic, size, post);
      else cpu.run("indexAdd", indexAddSource, [gx._data, gc._data.subarray(gc._offset), ic._data.subarray(ic._offset), pre, size, post, ic.numel()]);
      return [gx];
    });
  }
  return out;
}

function gatherPrep(op: string, x: AnyTensor, dim: number, index: AnyTensor) {
  requireIndex(op, index, false);
  if (index.ndim !== x.ndim) throw new ShapeError(`${op}: the index must have the input's rank ${x.ndim}, got shape ${shapeStr(index.shape)} for input ${shapeStr(x.shape)}`);
  const d = normDim(op, dim, x.ndim);
  for (let i = 0; i < x.ndim; i++) {
    if (i !== d && index.shape[i]! > x.shape[i]!) {
      throw new ShapeError(`${op}: the index may not be larger than the input outside dim ${d}, got index ${shapeStr(index.shape)} for input ${shapeStr(x.shape)}`);
    }
  }
  return d;
}

// x cut down to the index's extent outside dim d (gather reads only that part).
function narrowTo(x: AnyTensor, index: AnyTensor, d: number): AnyTensor {
  let v = x;
  for (let i = 0; i < x.ndim; i++) if (i !== d && index.shape[i] !== x.shape[i]) v = v._slice(i, 0, index.shape[i]!, 1);
  return v;
}

/** `x.gather(dim, index)`: `out[..i..] = x[..index[..i..]..]` along dim. */
export function gatherOp(x: AnyTensor, dim: number, index: AnyTensor): AnyTensor {
  const d = gatherPrep("gather", x, dim, index);
  const device = deviceOf("gather", [x, index]);
  const xv = narrowTo(x, index, d).contiguous();
  const ic = index.contiguous();
  const out = Tensor._empty([...index.shape], x.dtype, device);
  const pre = prodOf(index.shape.slice(0, d));
  const post = prodOf(index.shape.slice(d + 1));
  const xSize = x.ndim === 0 ? 1 : x.shape[d]!;
  const iSize = index.ndim === 0 ? 1 : index.shape[d]!;
  if (device !== "cpu") deviceGather(out, xv, ic, iSize, xSize, post, deferredIndexError(outOfRange("gather", d, xSize, 0)));
  else cpu.run("gather", () => gatherSource(false), [out._data, xv._data.subarray(xv._offset), null, ic._data.subarray(ic._offset), pre, iSize, xSize, post, outOfRange("gather", d, xSize, 0)]);
  if (needsGrad([x])) record(out, "GatherBackward0", [x], (g) => [Tensor._zeros([...x.shape], g.dtype, g.device).scatterAdd(d, index as never, g)]);
  return out;
}

// t cut down to the index's extent in every dim (the part of scatterAdd's src that is read).
function narrowAll(t: AnyTensor, index: AnyTensor): AnyTensor {
  let v = t;
  for (let i = 0; i < t.ndim; i++) if (index.shape[i] !== t.shape[i]) v = v._slice(i, 0, index.shape[i]!, 1);
  return v;
}

/** `x.scatterAdd(dim, index, src)`: a copy of x with `src` added at `index` along dim. */
export function scatterAddOp(x: AnyTensor, dim: number, index: AnyTensor, src: AnyTensor): AnyTensor {
  const d = gatherPrep("scatterAdd", x, dim, index);
  const device = deviceOf("scatterAdd", [x, index, src]);
  if (src.ndim !== index.ndim || src.shape.some((s, i) => s < index.shape[i]!)) {
    throw new ShapeError(`scatterAdd: src must be at least as large as the index, got src ${shapeStr(src.shape)} and index ${shapeStr(index.shape)}`);
  }
  const out = x.clone();
  const xSize = x.ndim === 0 ? 1 : x.shape[d]!;
  const iSize = index.ndim === 0 ? 1 : index.shape[d]!;
  const pre = prodOf(index.shape.slice(0, d));
  const post = prodOf(index.shape.slice(d + 1));
  // The kernel walks [pre, xSize, post] contiguously: work in a buffer of that extent.
  const region = noGrad(() => narrowTo(out.detach(), index, d).contiguous().clone());
  const ic = index.contiguous();
  // The kernel reads src with the index's strides: src is cut to the index's extent in every
  // dim, dim d included (narrowTo keeps d, which is right for x but not for src).
  const sc = narrowAll(src, index).contiguous();
  if (device !== "cpu") deviceScatterAdd(region, sc, ic, iSize, xSize, post, deferredIndexError(outOfRange("scatterAdd", d, xSize, 0)));
  else cpu.run("scatterAdd", () => gatherSource(true), [region._data, null, sc._data.subarray(sc._offset), ic._data.subarray(ic._offset), pre, iSize, xSize, post, outOfRange("scatterAdd", d, xSize, 0)]);
  noGrad(() => narrowTo(out.detach(), index, d).copy_(region));
  if (needsGrad([x, src])) {
    record(out, "ScatterAddBackward0", [x, src], (g) => {
      const gs = g.gather(d, index as never);
      if (gs.shape.every((s, i) => s === src.shape[i])) return [g, gs];
      // src larger than the index: its unread part gets a zero gradient (PyTorch errors here).
      const full = Tensor._zeros([...src.shape], g.dtype, g.device);
      noGrad(() => narrowAll(full, index).copy_(gs));
      return [g, full];
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// x.index(...)
// ---------------------------------------------------------------------------------------------

type Item = number | string | null | readonly number[] | AnyTensor;

/** PyTorch's `x[items]` at run time: basic indexing as views, advanced indexing by indexSelect. */
export function indexOp(x: AnyTensor, items: readonly Item[]): AnyTensor {
  let consumed = 0;
  let ellipses = 0;
  for (const it of items) {
    if (it === "...") ellipses++;
    else if (it === null) continue;
    else if (it instanceof Tensor && it.dtype === "bool") consumed += Math.max(it.ndim, 1);
    else consumed++;
  }
  if (ellipses > 1) throw new ShapeError(ellipsisMsg(`${ellipses}`));
  if (consumed > x.ndim) throw new ShapeError(indexCountMsg(`${x.ndim}`, `${consumed}`));
  let v = x;
  let d = 0;
  let orig = 0; // dim of x the next item consumes, for messages
  const adv: Adv[] = [];
  for (const it of items) {
    if (it === "...") {
      d += x.ndim - consumed;
      orig += x.ndim - consumed;
    } else if (it === null) v = v.unsqueeze(d++);
    // Integers select right away, as PyTorch does (NumPy would treat them as advanced).
    else if (typeof it === "number") {
      const n = v.shape[d]!;
      if (!Number.isInteger(it) || it < -n || it >= n) throw new IndexError(indexRangeMsg(`${-n}`, `${n - 1}`, `${orig}`, `${n}`, `${it}`));
      v = selectOp(v, d, it, "index");
      orig++;
    } else if (typeof it === "string") {
      const s = parseSlice(it);
      if (!s) throw new ValueError(sliceTextMsg(it));
      v = sliceOp(v, d, s.start ?? undefined, s.stop ?? undefined, s.step ?? 1, "index");
      d++;
      orig++;
    } else {
      const t = it instanceof Tensor ? it : arrayIndex(it);
      if (t.dtype === "bool") {
        for (const [k, nz] of nonzero(t, v, d).entries()) adv.push({ dim: d + k, orig: orig + k, idx: nz });
        d += Math.max(t.ndim, 1);
        orig += Math.max(t.ndim, 1);
      } else {
        // int32 too is rejected, as PyTorch 1.13 does (indexSelect, unlike x[...], takes int32).
        if (t.dtype !== "int64") throw new DTypeError(`index: tensors used as indices must be int64 or bool, got dtype ${t.dtype}`);
        adv.push({ dim: d++, orig: orig++, idx: t });
      }
    }
  }
  return adv.length > 0 ? advanced(v, adv) : v;
}

function arrayIndex(a: readonly number[]): AnyTensor {
  const t = Tensor._empty([a.length], "int64");
  a.forEach((n, i) => {
    if (!Number.isInteger(n)) throw new ValueError(`index: index arrays must hold integers, got ${n}`);
    t._data[i] = n;
  });
  return t;
}

// Bool mask over dims d.. of v → one int64 index tensor per mask dim.
function nonzero(mask: AnyTensor, v: AnyTensor, d: number): AnyTensor[] {
  const m = mask.ndim === 0 ? mask.reshape([1]) : mask;
  for (let k = 0; k < m.ndim; k++) {
    if (m.shape[k] !== v.shape[d + k]) {
      throw new IndexError(`index: a bool mask must match the indexed dims, got mask ${shapeStr(mask.shape)} for dims of size ${shapeStr(v.shape.slice(d, d + m.ndim))}`);
    }
  }
  const data = m.data();
  const coords: number[][] = m.shape.map(() => []);
  const strides = m.shape.map((_, k) => prodOf(m.shape.slice(k + 1)));
  for (let i = 0; i < data.length; i++) {
    if (data[i]) strides.forEach((s, k) => coords[k]!.push(Math.floor(i / s) % m.shape[k]!));
  }
  return coords.map((c) => arrayIndex(c));
}

interface Adv {
  dim: number;
  orig: number;
  idx: AnyTensor;
}

function advanced(v: AnyTensor, adv: Adv[]): AnyTensor {
  let ishape: number[] = [];
  for (const a of adv) ishape = broadcastShapes("index", ishape, a.idx.shape);
  const dims = adv.map((a) => a.dim);
  const sizes = dims.map((d) => v.shape[d]!);
  // Linear index into the advanced dims (moved to the front), bounds checked per dim.
  let lin: AnyTensor | undefined;
  noGrad(() => {
    adv.forEach((a, k) => {
      const n = sizes[k]!;
      const idx = a.idx.to("int64").to(v.device);
      // On a device the bounds are checked by the indexSelect kernel (reported at readback).
      if (idx.numel() > 0 && idx.device === "cpu") {
        const lo = idx.min().item() as number;
        const hi = idx.max().item() as number;
        if (lo < -n || hi >= n) throw new IndexError(indexRangeMsg(`${-n}`, `${n - 1}`, `${a.orig}`, `${n}`, `${hi >= n ? hi : lo}`));
      }
      const wrapped = idx.add(idx.lt(0).to("int64").mul(n));
      lin = lin === undefined ? wrapped : lin.mul(n).add(wrapped);
    });
  });
  const rest = v.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const p = v.permute([...dims, ...rest]);
  const flat = p.reshape([prodOf(sizes), ...rest.map((i) => v.shape[i]!)]);
  const picked = flat.indexSelect(0, lin!.expand(ishape).reshape([-1]) as never);
  const out = picked.reshape([...ishape, ...rest.map((i) => v.shape[i]!)]);
  const adjacent = dims.every((d, k) => k === 0 || d === dims[k - 1]! + 1);
  if (!adjacent || dims[0] === 0) return out;
  // Adjacent advanced dims stay where they were (PyTorch and NumPy).
  const first = dims[0]!;
  const ni = ishape.length;
  const order = [...Array(first).keys()].map((i) => ni + i);
  order.push(...[...Array(ni).keys()]);
  for (let i = ni + first; i < out.ndim; i++) order.push(i);
  return out.permute(order);
}
