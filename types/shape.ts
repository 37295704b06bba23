/**
 * One dimension of a tensor: a numeric literal (known to `tsc`) or `number` (known at run time).
 *
 * @example
 * type B = Dim; // 64, or number for a batch size read from a file
 */
export type Dim = number;

/**
 * A tensor's shape: a readonly tuple of dims. `[64, 784]` is a batch of 64 flat MNIST digits;
 * `readonly number[]` is a shape of unknown rank.
 *
 * @example
 * const s: Shape = [64, 784];
 */
export type Shape = readonly Dim[];

/** Renders a dim for a message: a literal as its digits, `number` as `number`. */
export type DimStr<D> = number extends D ? "number" : D extends number ? `${D}` : "?";

/** Renders a shape for a message: `[64, 783]`, `[number, 783]`. */
export type ShapeStr<S extends Shape> = number extends S["length"]
  ? "[...]"
  : `[${JoinDims<S>}]`;
// Tail-recursive (an accumulator), so it renders any rank up to PyTorch's 64 without TS2589.
type JoinDims<S extends Shape, Acc extends string = "", First extends boolean = true> = S extends readonly [infer H, ...infer T extends Shape]
  ? JoinDims<T, First extends true ? DimStr<H> : `${Acc}, ${DimStr<H>}`, false>
  : Acc;

/** Runtime twin of {@link ShapeStr}: `[64, 783]`. */
export function shapeStr(s: readonly number[]): string {
  return `[${s.join(", ")}]`;
}

/** True when `N` is a numeric literal type, false for `number`. */
export type IsLiteral<N> = number extends N ? false : N extends number ? true : false;

/** Makes a readonly tuple mutable (creators and rules return mutable tuples). */
export type Mutable<S extends Shape> = { -readonly [K in keyof S]: S[K] };
