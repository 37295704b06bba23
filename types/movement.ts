import type { Div, Mod, Product } from "./arith.js";
import type { Err } from "./check.js";
import { type NormDim, normDim } from "./dims.js";
import { ShapeError } from "./errors.js";
import { type Shape, type ShapeStr, shapeStr } from "./shape.js";
import type { DimKind, Konst, Same, ToNum } from "./util.js";

// ---------------------------------------------------------------------------------------------
// reshape / view
// ---------------------------------------------------------------------------------------------

/** Message of a reshape whose element count doesn't fit. */
export type ReshapeMsg<Op extends string, N extends string, S extends string> = `${Op}: shape must have ${N} elements, got ${S}`;
/** Runtime twin of {@link ReshapeMsg}. */
export function reshapeMsg<Op extends string, N extends string, S extends string>(op: Op, n: N, s: S): ReshapeMsg<Op, N, S> {
  return `${op}: shape must have ${n} elements, got ${s}`;
}
/** Message of a reshape with a bad dim value. */
export type ReshapeDimsMsg<Op extends string, S extends string> = `${Op}: dims must be >= 0 with at most one -1, got ${S}`;
/** Runtime twin of {@link ReshapeDimsMsg}. */
export function reshapeDimsMsg<Op extends string, S extends string>(op: Op, s: S): ReshapeDimsMsg<Op, S> {
  return `${op}: dims must be >= 0 with at most one -1, got ${s}`;
}

type CountNeg<S extends Shape, Kn extends Konst, Acc extends 0[] = []> = S extends readonly [infer H, ...infer T extends Shape]
  ? Same<H, Kn["neg1"]> extends true ? CountNeg<T, Kn, [...Acc, 0]> : CountNeg<T, Kn, Acc>
  : Acc["length"];
// A literal below -1 (generic and `number` dims are checked at run time).
type HasBadNeg<S extends Shape, Kn extends Konst> = S extends readonly [infer H extends number, ...infer T extends Shape]
  ? Same<H, Kn["neg1"]> extends true
    ? HasBadNeg<T, Kn>
    : DimKind<H, Kn> extends "lit"
      ? `${H}` extends `-${string}` ? true : HasBadNeg<T, Kn>
      : HasBadNeg<T, Kn>
  : false;
type WithoutNeg<S extends Shape, Kn extends Konst> = { -readonly [I in keyof S]: Same<S[I], Kn["neg1"]> extends true ? 1 : S[I] };
type Fill<S extends Shape, V extends number, Kn extends Konst> = { -readonly [I in keyof S]: Same<S[I], Kn["neg1"]> extends true ? V : S[I] };
/** `"num"` if any dim is `number`, else `"gen"` if any is generic, else `"lit"` (tail-recursive). */
type KindOfAll<S extends Shape, Kn extends Konst, Acc extends "lit" | "gen" = "lit"> = S extends readonly [infer H, ...infer T extends Shape]
  ? DimKind<H, Kn> extends infer D
    ? D extends "num" ? "num" : KindOfAll<T, Kn, D extends "gen" ? "gen" : Acc>
    : never
  : Acc;

/**
 * Shape of `x.reshape(...New)` / `x.view(...New)`: same number of elements; one dim may be -1
 * (inferred). With a `number` dim anywhere the -1 becomes `number`; with a generic one (inside a
 * generic function) it is computed from the generic (`Div<Product<[B, 784]>, 784>`), which resolves
 * at the call site; both are checked at run time.
 *
 * @example
 * type S = ReshapeShape<[4, 6], [2, -1]>; // [2, 12]
 */
export type ReshapeShape<S extends Shape, New extends Shape, Op extends string = "reshape", Kn extends Konst = Konst> = number extends New["length"]
  ? number[]
  : HasBadNeg<New, Kn> extends true
    ? Err<ReshapeDimsMsg<Op, ShapeStr<New>>>
    : CountNeg<New, Kn> extends infer C
      ? C extends 0 | 1
        ? number extends S["length"]
          ? Fill<New, number, Kn>
          : StripGen<S, New, Kn> extends [infer Pre extends number[], infer SM extends Shape, infer NM extends Shape, infer Post extends number[]]
            ? KindOfAll<[...SM, ...WithoutNeg<NM, Kn>], Kn> extends infer KA
              ? KA extends "num"
                ? Fill<New, number, Kn>
                : KA extends "gen"
                  ? Fill<New, Div<Product<SM>, Product<WithoutNeg<NM, Kn>>>, Kn>
                  : ExactReshape<Product<SM>, NM, C, Op, Kn> extends infer R
                    ? R extends number[] ? [...Pre, ...R, ...Post] : R
                    : never
              : never
            : never
        : Err<ReshapeDimsMsg<Op, ShapeStr<New>>>
      : never;
// The same generic dim at the front (or back) of both shapes cancels out of the element counts:
// `[B, 16, 5, 5]` viewed as `[B, -1]` is `[B, 400]`. (Only generics: two `number` dims may differ.)
type StripGen<S extends Shape, N extends Shape, Kn extends Konst, Pre extends number[] = []> =
  S extends readonly [infer SH extends number, ...infer ST extends Shape]
    ? N extends readonly [infer NH, ...infer NT extends Shape]
      ? Same<SH, NH> extends true
        ? DimKind<SH, Kn> extends "gen" ? StripGen<ST, NT, Kn, [...Pre, SH]> : StripBack<S, N, Kn, Pre>
        : StripBack<S, N, Kn, Pre>
      : StripBack<S, N, Kn, Pre>
    : StripBack<S, N, Kn, Pre>;
type StripBack<S extends Shape, N extends Shape, Kn extends Konst, Pre extends number[], Post extends number[] = []> =
  S extends readonly [...infer ST extends Shape, infer SL extends number]
    ? N extends readonly [...infer NT extends Shape, infer NL]
      ? Same<SL, NL> extends true
        ? DimKind<SL, Kn> extends "gen" ? StripBack<ST, NT, Kn, Pre, [SL, ...Post]> : [Pre, S, N, Post]
        : [Pre, S, N, Post]
      : [Pre, S, N, Post]
    : [Pre, S, N, Post];
type ExactReshape<N extends number, New extends Shape, C, Op extends string, Kn extends Konst> = number extends N | Product<WithoutNeg<New, Kn>>
  ? Fill<New, number, Kn> // a product beyond 2^53
  : C extends 1
  ? Product<WithoutNeg<New, Kn>> extends infer P extends number
    ? P extends 0
      ? Err<ReshapeMsg<Op, `${N}`, ShapeStr<New>>>
      : Mod<N, P> extends 0
        ? Fill<New, Div<N, P>, Kn>
        : Err<ReshapeMsg<Op, `${N}`, ShapeStr<New>>>
    : never
  : Product<New> extends N
    ? Fill<New, never, Kn>
    : Err<ReshapeMsg<Op, `${N}`, ShapeStr<New>>>;

/**
 * Runtime twin of {@link ReshapeShape}: the new shape with -1 filled in.
 *
 * @example
 * reshapeShape("reshape", [4, 6], [2, -1]); // [2, 12]
 */
export function reshapeShape(op: string, shape: readonly number[], next: readonly number[]): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  let neg = -1;
  let known = 1;
  for (let i = 0; i < next.length; i++) {
    const d = next[i]!;
    if (d === -1 && neg < 0) neg = i;
    else if (!Number.isInteger(d) || d < 0) throw new ShapeError(reshapeDimsMsg(op, shapeStr(next)));
    else known *= d;
  }
  const out = [...next];
  if (neg >= 0) {
    if (known === 0 || n % known !== 0) throw new ShapeError(reshapeMsg(op, `${n}`, shapeStr(next)));
    out[neg] = n / known;
  } else if (known !== n) throw new ShapeError(reshapeMsg(op, `${n}`, shapeStr(next)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// flatten
// ---------------------------------------------------------------------------------------------

/** Message of flatten with startDim after endDim. */
export type FlattenOrderMsg<S extends string, E extends string> = `flatten: startDim must be <= endDim, got startDim=${S}, endDim=${E}`;
/** Runtime twin of {@link FlattenOrderMsg}. */
export function flattenOrderMsg<S extends string, E extends string>(s: S, e: E): FlattenOrderMsg<S, E> {
  return `flatten: startDim must be <= endDim, got startDim=${s}, endDim=${e}`;
}

// Take dims [Start, End] out of S: [before, inside, after].
type Cut<S extends Shape, Start extends number, End extends number, I extends 0[] = [], Pre extends number[] = [], Mid extends number[] = [], Post extends number[] = []> =
  S extends readonly [infer H extends number, ...infer T extends Shape]
    ? LtIdx<I["length"], Start> extends true
      ? Cut<T, Start, End, [...I, 0], [...Pre, H], Mid, Post>
      : LeIdx<I["length"], End> extends true
        ? Cut<T, Start, End, [...I, 0], Pre, [...Mid, H], Post>
        : Cut<T, Start, End, [...I, 0], Pre, Mid, [...Post, H]>
    : [Pre, Mid, Post];
type Range<N extends number, Acc extends number[] = []> = Acc["length"] extends N ? Acc[number] : Range<N, [...Acc, Acc["length"]]>;
type LtIdx<A extends number, B extends number> = A extends Range<B> ? true : false;
type LeIdx<A extends number, B extends number> = A extends Range<B> | B ? true : false;

/**
 * Shape of `x.flatten(startDim, endDim)`: dims startDim..endDim (inclusive, negatives from the
 * end) multiplied into one. A 0-d tensor becomes `[1]`.
 *
 * @example
 * type S = FlattenShape<[4, 3, 10, 10], 1>; // [4, 300]
 */
export type FlattenShape<S extends Shape, Start extends number = 0, End extends number = -1> = number extends S["length"]
  ? number[]
  : S extends readonly []
    ? NormDim<Start, 0, "flatten"> extends Err<string> ? NormDim<Start, 0, "flatten"> : NormDim<End, 0, "flatten"> extends Err<string> ? NormDim<End, 0, "flatten"> : [1]
    : NormDim<Start, S["length"], "flatten"> extends infer A
      ? A extends Err<string>
        ? A
        : NormDim<End, S["length"], "flatten"> extends infer B
          ? B extends Err<string>
            ? B
            : number extends A | B
              ? number[]
              : LeIdx<A & number, B & number> extends true
                ? Cut<S, A & number, B & number> extends [infer P extends number[], infer M extends number[], infer Q extends number[]]
                  ? [...P, Product<M>, ...Q]
                  : never
                : Err<FlattenOrderMsg<`${Start}`, `${End}`>>
          : never
      : never;

/**
 * Runtime twin of {@link FlattenShape}.
 *
 * @example
 * flattenShape([4, 3, 10, 10], 1, -1); // [4, 300]
 */
export function flattenShape(shape: readonly number[], start = 0, end = -1): number[] {
  const a = normDim("flatten", start, shape.length);
  const b = normDim("flatten", end, shape.length);
  if (shape.length === 0) return [1];
  if (a > b) throw new ShapeError(flattenOrderMsg(`${start}`, `${end}`));
  const mid = shape.slice(a, b + 1).reduce((x, y) => x * y, 1);
  return [...shape.slice(0, a), mid, ...shape.slice(b + 1)];
}

// ---------------------------------------------------------------------------------------------
// transpose / permute / t
// ---------------------------------------------------------------------------------------------

type Swap<S extends Shape, A extends number, B extends number> = { -readonly [K in keyof S]: ToNum<K> extends A ? S[B] : ToNum<K> extends B ? S[A] : S[K] };

/**
 * Shape of `x.transpose(d0, d1)`: the two dims swapped.
 *
 * @example
 * type S = TransposeShape<[2, 3, 4], 0, -1>; // [4, 3, 2]
 */
export type TransposeShape<S extends Shape, D0 extends number, D1 extends number> = number extends S["length"]
  ? number[]
  : NormDim<D0, S["length"], "transpose"> extends infer A
    ? A extends Err<string>
      ? A
      : NormDim<D1, S["length"], "transpose"> extends infer B
        ? B extends Err<string>
          ? B
          : number extends A | B
            ? { -readonly [K in keyof S]: number }
            : S extends readonly [] ? [] : Swap<S, A & number, B & number>
        : never
    : never;

/** Message of permute given something other than a permutation. */
export type PermuteMsg<R extends string, Ds extends string> = `permute: dims must be a permutation of the ${R} dims, got ${Ds}`;
/** Runtime twin of {@link PermuteMsg}. */
export function permuteMsg<R extends string, Ds extends string>(r: R, ds: Ds): PermuteMsg<R, Ds> {
  return `permute: dims must be a permutation of the ${r} dims, got ${ds}`;
}

type PermuteRec<S extends Shape, Ds extends Shape, Seen extends number, Acc extends number[] = []> =
  Ds extends readonly [infer H extends number, ...infer T extends Shape]
    ? NormDim<H, S["length"], "permute"> extends infer N
      ? N extends number
        ? number extends N
          ? number[]
          : N extends Seen
            ? false
            : PermuteRec<S, T, Seen | N, [...Acc, S[N]]>
        : false
      : never
    : Acc;

/**
 * Shape of `x.permute(...dims)`: dim i of the result is dim `dims[i]` of x.
 *
 * @example
 * type S = PermuteShape<[2, 3, 4], [2, 0, 1]>; // [4, 2, 3]
 */
export type PermuteShape<S extends Shape, Ds extends Shape> = number extends S["length"] | Ds["length"]
  ? number[]
  : Same<S["length"], Ds["length"]> extends true
    ? PermuteRec<S, Ds, never> extends infer R
      ? R extends false
        ? Err<PermuteMsg<`${S["length"]}`, ShapeStr<Ds>>>
        : R
      : never
    : Err<PermuteMsg<`${S["length"]}`, ShapeStr<Ds>>>;

/**
 * Runtime twin of {@link PermuteShape}: the normalised dims.
 *
 * @example
 * permuteDims([2, 3, 4], [2, 0, 1]); // [2, 0, 1]
 */
export function permuteDims(shape: readonly number[], dims: readonly number[]): number[] {
  const bad = () => new ShapeError(permuteMsg(`${shape.length}`, shapeStr(dims)));
  if (dims.length !== shape.length) throw bad();
  const out: number[] = [];
  for (const d of dims) {
    let n: number;
    try {
      n = normDim("permute", d, shape.length);
    } catch {
      throw bad();
    }
    if (out.includes(n)) throw bad();
    out.push(n);
  }
  return out;
}

/** Message of `t()` on a tensor of more than 2 dims. */
export type TMsg<S extends string> = `t: expects a tensor with <= 2 dims, got ${S}`;
/** Runtime twin of {@link TMsg}. */
export function tMsg<S extends string>(s: S): TMsg<S> {
  return `t: expects a tensor with <= 2 dims, got ${s}`;
}

/**
 * Shape of `x.t()`: a 2-D tensor transposed; 0-D and 1-D unchanged.
 *
 * @example
 * type S = TShape<[2, 3]>; // [3, 2]
 */
export type TShape<S extends Shape> = S extends readonly [infer A extends number, infer B extends number]
  ? [B, A]
  : S extends readonly [] | readonly [unknown]
    ? [...S]
    : number extends S["length"]
      ? number[]
      : Err<TMsg<ShapeStr<S>>>;

/**
 * Runtime twin of {@link TShape}.
 *
 * @example
 * tShape([2, 3]); // [3, 2]
 */
export function tShape(shape: readonly number[]): number[] {
  if (shape.length > 2) throw new ShapeError(tMsg(shapeStr(shape)));
  return [...shape].reverse();
}

/**
 * Runtime twin of {@link TransposeShape}.
 *
 * @example
 * transposeShape([2, 3, 4], 0, -1); // [4, 3, 2]
 */
export function transposeShape(shape: readonly number[], d0: number, d1: number): number[] {
  const a = normDim("transpose", d0, shape.length);
  const b = normDim("transpose", d1, shape.length);
  if (shape.length === 0) return [];
  const out = [...shape];
  [out[a], out[b]] = [shape[b]!, shape[a]!];
  return out;
}

// ---------------------------------------------------------------------------------------------
// squeeze / unsqueeze / expand
// ---------------------------------------------------------------------------------------------

// A `number` dim might be 1: the rank is unknown. A generic one is taken not to be 1.
type SqueezeAll<S extends Shape, Kn extends Konst, Acc extends number[] = []> = S extends readonly [infer H extends number, ...infer T extends Shape]
  ? Same<H, Kn["num"]> extends true
    ? number[]
    : Same<H, Kn["one"]> extends true
      ? SqueezeAll<T, Kn, Acc>
      : SqueezeAll<T, Kn, [...Acc, H]>
  : Acc;
type RemoveAt<S extends Shape, D extends number> = S extends readonly [] ? [] : RemoveRec<S, D>;
type RemoveRec<S extends Shape, D extends number, I extends 0[] = [], Acc extends number[] = []> =
  S extends readonly [infer H extends number, ...infer T extends Shape]
    ? I["length"] extends D ? [...Acc, ...T] : RemoveRec<T, D, [...I, 0], [...Acc, H]>
    : Acc;

/**
 * Shape of `x.squeeze()` (every size-1 dim removed) or `x.squeeze(dim)` (that dim removed if it is
 * 1, else unchanged).
 *
 * @example
 * type S = SqueezeShape<[1, 3, 1]>;    // [3]
 * type T = SqueezeShape<[1, 3, 1], 0>; // [3, 1]
 */
export type SqueezeShape<S extends Shape, D extends number | undefined = undefined, Kn extends Konst = Konst> = number extends S["length"]
  ? number[]
  : D extends number
    ? NormDim<D, S["length"], "squeeze"> extends infer N
      ? N extends Err<string>
        ? N
        : number extends N
          ? number[]
          : S extends readonly []
            ? []
            : Same<S[N & number], Kn["one"]> extends true
              ? RemoveAt<S, N & number>
              : Same<S[N & number], Kn["num"]> extends true
                ? number[]
                : [...S]
      : never
    : SqueezeAll<S, Kn>;

/**
 * Runtime twin of {@link SqueezeShape}.
 *
 * @example
 * squeezeShape([1, 3, 1], 0); // [3, 1]
 */
export function squeezeShape(shape: readonly number[], dim?: number): number[] {
  if (dim === undefined) return shape.filter((s) => s !== 1);
  const d = normDim("squeeze", dim, shape.length);
  return shape[d] === 1 ? shape.filter((_, i) => i !== d) : [...shape];
}

type Insert<S extends Shape, D extends number, I extends 0[] = [], Acc extends number[] = []> = I["length"] extends D
  ? [...Acc, 1, ...S]
  : S extends readonly [infer H extends number, ...infer T extends Shape]
    ? Insert<T, D, [...I, 0], [...Acc, H]>
    : [...Acc, 1];

/**
 * Shape of `x.unsqueeze(dim)`: a size-1 dim inserted at `dim` (in [-rank-1, rank]).
 *
 * @example
 * type S = UnsqueezeShape<[3, 4], -1>; // [3, 4, 1]
 */
export type UnsqueezeShape<S extends Shape, D extends number> = number extends S["length"]
  ? number[]
  : NormDim<D, [...S, 0]["length"], "unsqueeze"> extends infer N
    ? N extends Err<string>
      ? N
      : number extends N
        ? number[]
        : Insert<S, N & number>
    : never;

/**
 * Runtime twin of {@link UnsqueezeShape}.
 *
 * @example
 * unsqueezeShape([3, 4], -1); // [3, 4, 1]
 */
export function unsqueezeShape(shape: readonly number[], dim: number): { shape: number[]; dim: number } {
  const d = normDim("unsqueeze", dim, shape.length + 1);
  const out = [...shape];
  out.splice(d, 0, 1);
  return { shape: out, dim: d };
}

/** Message of a bad expand. */
export type ExpandMsg<S extends string, N extends string> = `expand: each dim must match or expand a 1, got ${S} to ${N}`;
/** Runtime twin of {@link ExpandMsg}. */
export function expandMsg<S extends string, N extends string>(s: S, n: N): ExpandMsg<S, N> {
  return `expand: each dim must match or expand a 1, got ${s} to ${n}`;
}

type ExpandRec<S extends Shape, N extends Shape, Kn extends Konst, Acc extends number[] = []> = N extends readonly [...infer NR extends Shape, infer NL extends number]
  ? Same<NL, Kn["neg1"]> extends true
    ? S extends readonly [...infer SR extends Shape, infer SL extends number]
      ? ExpandRec<SR, NR, Kn, [SL, ...Acc]>
      : false // -1 for a new leading dim
    : IsNegLit<NL, Kn> extends true
      ? false
      : S extends readonly [...infer SR extends Shape, infer SL extends number]
        ? ExpandDim<SL, NL, Kn> extends [infer R extends number]
          ? ExpandRec<SR, NR, Kn, [R, ...Acc]>
          : false
        : ExpandRec<S, NR, Kn, [NL, ...Acc]>
  : S extends readonly []
    ? Acc
    : false; // fewer sizes than dims
type IsNegLit<D, Kn extends Konst> = DimKind<D, Kn> extends "lit" ? (`${D & number}` extends `-${string}` ? true : false) : false;
// Equal, or a 1 expanded; a literal beats a `number` or generic (checked at run time).
type ExpandDim<SL, NL, Kn extends Konst> = Same<SL, NL> extends true
  ? [NL]
  : Same<SL, Kn["one"]> extends true
    ? [NL]
    : DimKind<SL, Kn> extends "lit"
      ? DimKind<NL, Kn> extends "lit"
        ? false
        : [SL]
      : [NL];

/**
 * Shape of `x.expand(...sizes)`: size-1 dims repeated (a view, no copy); -1 keeps a dim; new
 * leading dims may be added.
 *
 * @example
 * type S = ExpandShape<[3, 1], [2, 3, 4]>; // [2, 3, 4]
 */
export type ExpandShape<S extends Shape, N extends Shape, Kn extends Konst = Konst> = number extends S["length"] | N["length"]
  ? number[]
  : ExpandRec<S, N, Kn> extends infer R
    ? R extends false
      ? Err<ExpandMsg<ShapeStr<S>, ShapeStr<N>>>
      : R
    : never;

/**
 * Runtime twin of {@link ExpandShape}.
 *
 * @example
 * expandShape([3, 1], [2, 3, 4]); // [2, 3, 4]
 */
export function expandShape(shape: readonly number[], next: readonly number[]): number[] {
  if (next.length < shape.length) throw expandError(shape, next);
  const out = new Array<number>(next.length);
  for (let i = 1; i <= next.length; i++) {
    const n = next[next.length - i]!;
    const s = i <= shape.length ? shape[shape.length - i]! : undefined;
    if (n === -1) {
      if (s === undefined) throw expandError(shape, next);
      out[next.length - i] = s;
    } else if (!Number.isInteger(n) || n < 0) throw expandError(shape, next);
    else if (s === undefined || s === n || s === 1) out[next.length - i] = n;
    else throw expandError(shape, next);
  }
  return out;
}

// A function of its own, not a closure per call: expand runs in every reduction's backward.
function expandError(shape: readonly number[], next: readonly number[]): ShapeError {
  return new ShapeError(expandMsg(shapeStr(shape), shapeStr(next)));
}
