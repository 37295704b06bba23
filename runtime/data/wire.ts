/**
 * @internal How batches and samples cross between threads: tensors become
 * `{ [TENSOR]: 1, dtype, shape, data }` with their storage transferred; everything else is what
 * structured clone copies (numbers, strings, arrays, plain objects, typed arrays).
 */
import { ValueError } from "../../types/errors.js";
import type { DType, TypedArray } from "../dtype.js";
import { contiguousStrides } from "../ops/defineOp.js";
import { Tensor } from "../Tensor.js";

const TENSOR = "__typetorchTensor";

interface WireTensor {
  [TENSOR]: 1;
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

/** @internal A value made ready for `postMessage`; `transfer` collects the buffers to move. */
export function encode(v: unknown, transfer: ArrayBuffer[]): unknown {
  if (v instanceof Tensor) {
    const data = v.data() as TypedArray; // always a fresh array
    if (data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) transfer.push(data.buffer);
    const w: WireTensor = { [TENSOR]: 1, dtype: v.dtype, shape: [...v.shape], data };
    return w;
  }
  if (Array.isArray(v)) return v.map((x) => encode(x, transfer));
  if (v !== null && typeof v === "object" && !ArrayBuffer.isView(v)) {
    const p = Object.getPrototypeOf(v);
    if (p !== Object.prototype && p !== null) {
      throw new ValueError(`DataLoader: a worker can only send tensors, numbers, booleans, strings, typed arrays, arrays and plain objects, got an object of class ${(v as object).constructor?.name}`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = encode(x, transfer);
    return out;
  }
  return v;
}

/** @internal The inverse of {@link encode}. */
export function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === "object" && !ArrayBuffer.isView(v)) {
    if ((v as Partial<WireTensor>)[TENSOR] === 1) {
      const w = v as WireTensor;
      return new Tensor(w.data as never, w.shape, contiguousStrides(w.shape), 0, w.dtype);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = decode(x);
    return out;
  }
  return v;
}

/** @internal An error as it crosses threads. */
export interface WireError {
  name: string;
  message: string;
  stack?: string | undefined;
}

/** @internal */
export function encodeError(e: unknown): WireError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: "Error", message: String(e) };
}
