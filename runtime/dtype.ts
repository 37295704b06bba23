/**
 * The element types a tensor can hold, named as in PyTorch (`torch.float32` → `"float32"`).
 *
 * | dtype     | storage        | PyTorch type name      |
 * |-----------|----------------|------------------------|
 * | float32   | Float32Array   | torch.FloatTensor      |
 * | float64   | Float64Array   | torch.DoubleTensor     |
 * | int32     | Int32Array     | torch.IntTensor        |
 * | int64     | Float64Array   | torch.LongTensor       |
 * | bool      | Uint8Array     | torch.BoolTensor       |
 *
 * int64 is stored in a Float64Array, so its values are exact within ±2^53 (JavaScript's safe
 * integers); beyond that they round. This is the one place typetorch differs from PyTorch's int64.
 *
 * @example
 * const x = torch.tensor([1, 2]);  // dtype "int64"
 * x.to("float32").dtype;           // "float32"
 */
export type DType = "float32" | "float64" | "int32" | "int64" | "bool";

/** The typed array that stores each dtype. */
export interface StorageOf {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  int64: Float64Array;
  bool: Uint8Array;
}

/** Any of the typed arrays a tensor may be stored in. */
export type TypedArray = StorageOf[DType];

/** All dtypes, in promotion order (bool < int32 < int64 < float32 < float64). */
export const DTYPES: readonly DType[] = ["bool", "int32", "int64", "float32", "float64"];

/** True for float32 and float64. */
export function isFloating(d: DType): d is "float32" | "float64" {
  return d === "float32" || d === "float64";
}

/** True for int32 and int64. */
export function isIntegral(d: DType): d is "int32" | "int64" {
  return d === "int32" || d === "int64";
}

/** Allocates zeroed storage of `n` elements for `dtype`. */
export function allocStorage<D extends DType>(dtype: D, n: number): StorageOf[D] {
  switch (dtype) {
    case "float32": return new Float32Array(n) as StorageOf[D];
    case "int32": return new Int32Array(n) as StorageOf[D];
    case "bool": return new Uint8Array(n) as StorageOf[D];
    default: return new Float64Array(n) as StorageOf[D];
  }
}

/**
 * @internal Test hook: with `poison` set, {@link allocOutput} fills what it returns with garbage
 * (NaN for floats), so a kernel that leaves an element of such an output unwritten shows in its
 * result.
 */
export const outputDebug = { poison: false };

/**
 * Storage of `n` elements for an output that a kernel writes in full before anyone reads it:
 * zero-filled as {@link allocStorage}'s (uninitialised memory saved 0–3% of a training step, within
 * the noise: not worth the risk), or, under the test hook `outputDebug.poison`, filled with garbage
 * so a kernel that misses an element is caught.
 *
 * @example
 * const out = allocOutput("float32", 1 << 20); // then write every element
 */
export function allocOutput<D extends DType>(dtype: D, n: number): StorageOf[D] {
  const a = allocStorage(dtype, n);
  if (outputDebug.poison) a.fill(dtype === "float32" || dtype === "float64" ? NaN : dtype === "bool" ? 0x5a : -0x5a5a5a);
  return a;
}
