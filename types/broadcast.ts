import type { Err } from "./check.js";
import { ShapeError } from "./errors.js";
import { type Shape, type ShapeStr, shapeStr } from "./shape.js";
import type { DimKind, Konst, Same } from "./util.js";

/** Message of a failed broadcast. */
export type BroadcastMsg<Op extends string, A extends string, B extends string> =
  `${Op}: shapes must broadcast (each dim equal, or 1), got ${A} and ${B}`;
/** Runtime twin of {@link BroadcastMsg}. */
export function broadcastMsg<Op extends string, A extends string, B extends string>(op: Op, a: A, b: B): BroadcastMsg<Op, A, B> {
  return `${op}: shapes must broadcast (each dim equal, or 1), got ${a} and ${b}`;
}

// One dim pair → `[dim]`, or false: equal (incl. the same generic), a 1 on either side, else the
// literal side when the other is `number` or generic (checked at run time); two different literals
// (neither 1) don't broadcast.
type BDim<A, B, K extends Konst> = Same<A, B> extends true
  ? [A]
  : Same<B, K["one"]> extends true
    ? [A]
    : Same<A, K["one"]> extends true
      ? [B]
      : DimKind<A, K> extends "lit"
        ? DimKind<B, K> extends "lit"
          ? false
          : [A]
        : DimKind<B, K> extends "lit"
          ? [B]
          : DimKind<A, K> extends "gen"
            ? [A]
            : [B];

type BroadcastRec<A extends Shape, B extends Shape, Acc extends number[], K extends Konst> = A extends readonly [
  ...infer AR extends Shape,
  infer AL extends number,
]
  ? B extends readonly [...infer BR extends Shape, infer BL extends number]
    ? BDim<AL, BL, K> extends [infer R extends number]
      ? BroadcastRec<AR, BR, [R, ...Acc], K>
      : false
    : [...A, ...Acc]
  : [...B, ...Acc];

/**
 * The shape of `a op b` under NumPy/PyTorch broadcasting: align from the right; each pair of dims
 * must be equal or one of them 1; missing leading dims count as 1.
 *
 * @example
 * type S = Broadcast<[2, 1, 3], [4, 3]>; // [2, 4, 3]
 * type E = Broadcast<[2, 3], [4, 5]>;    // Err<"add: shapes must broadcast (each dim equal, or 1), got [2, 3] and [4, 5]">
 *
 * `K` is internal (see `Konst` in util.ts): leave it to its default.
 */
export type Broadcast<A extends Shape, B extends Shape, Op extends string = "add", K extends Konst = Konst> = number extends
  | A["length"]
  | B["length"]
  ? number[]
  : BroadcastRec<A, B, [], K> extends infer R
    ? R extends false
      ? Err<BroadcastMsg<Op, ShapeStr<A>, ShapeStr<B>>>
      : R
    : never;

/**
 * Runtime twin of {@link Broadcast}: the broadcast shape, or a `ShapeError` with the same message.
 *
 * @example
 * broadcastShapes("add", [2, 1, 3], [4, 3]); // [2, 4, 3]
 */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 1; i <= n; i++) {
    const x = i <= a.length ? a[a.length - i]! : 1;
    const y = i <= b.length ? b[b.length - i]! : 1;
    if (x !== y && x !== 1 && y !== 1) throw new ShapeError(broadcastMsg(op, shapeStr(a), shapeStr(b)));
    out[n - i] = x === 1 ? y : x;
  }
  return out;
}
