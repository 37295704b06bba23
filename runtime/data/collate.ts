/**
 * `default_collate`: how a list of samples becomes a batch.
 */
import { ShapeError, ValueError } from "../../types/errors.js";
import { shapeStr } from "../../types/shape.js";
import { isGradEnabled } from "../autograd.js";
import type { DType } from "../dtype.js";
import { stackOp } from "../ops/movement.js";
import { Tensor } from "../Tensor.js";
import type { AnyTensor } from "../tensorTypes.js";

type NumberDType<T extends number> = number extends T
  ? "int64" | "float64"
  : `${T}` extends `${string}.${string}` | `${string}e${string}` | "NaN" | "Infinity" | "-Infinity" ? "float64" : "int64";

/**
 * The batch the default collate makes of samples of type `T`, with batch dim `N`, as PyTorch's
 * `default_collate`: a tensor gains a leading dim, numbers become a `[N]` tensor (int64 when all
 * are integers, else float64; literal types decide it in the type, `number` gives both), booleans
 * a bool tensor, strings stay a `string[]`, Float32Array / Float64Array / Int32Array rows become
 * `[N, length]` tensors, and tuples, arrays and plain objects are batched part by part.
 *
 * @example
 * type B = Collated<[Tensor<[784]>, Tensor<[], "int64">], 64>; // [Tensor<[64, 784]>, Tensor<[64], "int64">]
 * type C = Collated<{ x: Tensor<[3]>; label: 0 | 1 }, number>; // { x: Tensor<[number, 3]>; label: Tensor<[number], "int64"> }
 */
export type Collated<T, N extends number> = [T] extends [Tensor<infer S, infer D>]
  ? Tensor<[N, ...S], D>
  : [T] extends [boolean]
    ? Tensor<[N], "bool">
    : [T] extends [number]
      ? Tensor<[N], NumberDType<T>>
      : [T] extends [string]
        ? string[]
        : [T] extends [Float32Array]
          ? Tensor<[N, number], "float32">
          : [T] extends [Float64Array]
            ? Tensor<[N, number], "float64">
            : [T] extends [Int32Array]
              ? Tensor<[N, number], "int32">
              : T extends readonly unknown[]
                ? { -readonly [K in keyof T]: Collated<T[K], N> }
                : T extends object
                  ? { -readonly [K in keyof T]: Collated<T[K], N> }
                  : never;

function describe(v: unknown): string {
  if (v === null) return "null";
  if (v instanceof Tensor) return `a tensor of shape ${shapeStr(v.shape)}`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === "object") return `an object (${(v as object).constructor?.name ?? "null prototype"})`;
  return typeof v === "string" ? `a string` : `${typeof v} ${String(v)}`;
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (v instanceof Tensor) return "tensor";
  if (v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array) return v.constructor.name;
  if (Array.isArray(v)) return "array";
  if (v !== null && typeof v === "object") {
    const p = Object.getPrototypeOf(v);
    return p === Object.prototype || p === null ? "object" : "other";
  }
  return typeof v;
}

const TYPED_DTYPE: Record<string, DType> = { Float32Array: "float32", Float64Array: "float64", Int32Array: "int32" };

/** Stacks same-shaped tensors along a new dim 0 (autograd-aware; one copy per tensor). */
function stackTensors(ts: readonly AnyTensor[]): AnyTensor {
  const first = ts[0]!;
  for (const t of ts) {
    if (t.shape.length !== first.shape.length || t.shape.some((s, i) => s !== first.shape[i])) {
      throw new ShapeError(`defaultCollate: tensors in a batch must have the same shape, got ${shapeStr(first.shape)} and ${shapeStr(t.shape)}`);
    }
  }
  const sameDType = ts.every((t) => t.dtype === first.dtype);
  if (!sameDType || (isGradEnabled() && ts.some((t) => t.requiresGrad))) return stackOp(ts, 0);
  const n = first.numel();
  const out = Tensor._empty([ts.length, ...first.shape], first.dtype);
  const od = out._data;
  ts.forEach((t, k) => {
    const c = t.contiguous();
    od.set(c._data.subarray(c._offset, c._offset + n) as never, k * n);
  });
  return out;
}

/**
 * PyTorch's `default_collate`: batches a list of samples of one structure.
 * - tensors → stacked along a new first dim (same shapes required);
 * - numbers → a `[N]` tensor, int64 when all are integers, else float64 (PyTorch decides by
 *   Python's int/float; JavaScript has one number type, so `1.0` counts as an integer);
 * - booleans → a bool tensor; strings → the array of them;
 * - Float32Array / Float64Array / Int32Array (PyTorch's NumPy arrays) → `[N, length]` tensors;
 * - arrays and tuples → an array of the collated positions (same lengths required);
 * - plain objects → an object of the collated keys (the first sample's keys).
 *
 * @example
 * data.defaultCollate([[torch.zeros(3), 0], [torch.ones(3), 1]]);
 * // [tensor of shape [2, 3], tensor([0, 1])]
 */
export function defaultCollate<T>(samples: readonly T[]): Collated<T, number> {
  return collate(samples as readonly unknown[]) as never;
}

function collate(batch: readonly unknown[]): unknown {
  if (batch.length === 0) throw new ValueError("defaultCollate: expected a non-empty list of samples, got []");
  const elem = batch[0];
  const kind = kindOf(elem);
  for (const b of batch) {
    const k = kindOf(b);
    if (k !== kind) throw new ValueError(`defaultCollate: every sample must have the same structure, got ${describe(elem)} and ${describe(b)}`);
  }
  switch (kind) {
    case "tensor":
      return stackTensors(batch as AnyTensor[]);
    case "number": {
      const xs = batch as number[];
      const isInt = xs.every((x) => Number.isInteger(x));
      const t = Tensor._empty([xs.length], isInt ? "int64" : "float64");
      t._data.set(xs);
      return t;
    }
    case "boolean": {
      const t = Tensor._empty([batch.length], "bool");
      batch.forEach((b, i) => (t._data[i] = b ? 1 : 0));
      return t;
    }
    case "string":
      return [...batch];
    case "Float32Array":
    case "Float64Array":
    case "Int32Array": {
      const rows = batch as (Float32Array | Float64Array | Int32Array)[];
      const len = rows[0]!.length;
      for (const r of rows) {
        if (r.length !== len) throw new ShapeError(`defaultCollate: typed arrays in a batch must have the same length, got ${len} and ${r.length}`);
      }
      const t = Tensor._empty([rows.length, len], TYPED_DTYPE[kind]!);
      rows.forEach((r, i) => t._data.set(r as never, i * len));
      return t;
    }
    case "array": {
      const arrs = batch as unknown[][];
      const len = arrs[0]!.length;
      for (const a of arrs) {
        if (a.length !== len) throw new ValueError(`defaultCollate: every sample must be an array of the same length, got ${len} and ${a.length}`);
      }
      const out: unknown[] = [];
      for (let j = 0; j < len; j++) out.push(collate(arrs.map((a) => a[j])));
      return out;
    }
    case "object": {
      const objs = batch as Record<string, unknown>[];
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(objs[0]!)) {
        for (const o of objs) {
          if (!(key in o)) throw new ValueError(`defaultCollate: every sample must have the key ${JSON.stringify(key)}, got a sample with keys [${Object.keys(o).join(", ")}]`);
        }
        out[key] = collate(objs.map((o) => o[key]));
      }
      return out;
    }
    default:
      throw new ValueError(`defaultCollate: samples must be tensors, numbers, booleans, strings, typed arrays, arrays or plain objects, got ${describe(elem)}`);
  }
}

