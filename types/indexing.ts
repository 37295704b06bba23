import type { Add, Div, Ge, Gt, Lt, Max, Min, Sub } from "./arith.js";
import type { Broadcast } from "./broadcast.js";
import type { NormDim } from "./dims.js";
import type { Err } from "./check.js";
import { normDim } from "./dims.js";
import { ShapeError } from "./errors.js";
import type { Shape } from "./shape.js";
import type { DimKind, Konst, Same } from "./util.js";

/**
 * One item of `x.index(...)` (PyTorch's `x[...]`): a number selects, a string slices (`":"`,
 * `"1:3"`, `"::2"`, `"-1:"`) or is `"..."`, `null` inserts a dim, and an integer array or an
 * int/bool tensor indexes by value (advanced indexing). Tensor items are matched structurally by
 * their `shape` and `dtype`.
 */
export type IndexItem = number | string | null | readonly number[] | { readonly shape: Shape; readonly dtype: string };

/** Message of more than one `"..."`. */
export type EllipsisMsg<N extends string> = `index: at most one "..." is allowed, got ${N}`;
/** Runtime twin of {@link EllipsisMsg}. */
export function ellipsisMsg<N extends string>(n: N): EllipsisMsg<N> {
  return `index: at most one "..." is allowed, got ${n}`;
}
/** Message of too many indices. */
export type IndexCountMsg<R extends string, N extends string> = `index: too many indices for a tensor of rank ${R}, got ${N}`;
/** Runtime twin of {@link IndexCountMsg}. */
export function indexCountMsg<R extends string, N extends string>(r: R, n: N): IndexCountMsg<R, N> {
  return `index: too many indices for a tensor of rank ${r}, got ${n}`;
}
/** Message of a literal index outside its literal dim. */
export type IndexRangeMsg<Lo extends string, Hi extends string, D extends string, N extends string, I extends string> =
  `index: index must be in [${Lo}, ${Hi}] for dim ${D} of size ${N}, got ${I}`;
/** Runtime twin of {@link IndexRangeMsg}. */
export function indexRangeMsg<Lo extends string, Hi extends string, D extends string, N extends string, I extends string>(
  lo: Lo, hi: Hi, d: D, n: N, i: I,
): IndexRangeMsg<Lo, Hi, D, N, I> {
  return `index: index must be in [${lo}, ${hi}] for dim ${d} of size ${n}, got ${i}`;
}
/** Message of a string item that is not a slice. */
export type SliceTextMsg<T extends string> = `index: a string index must be a slice like ":", "1:3", "::2" or "...", got "${T}"`;
/** Runtime twin of {@link SliceTextMsg}. */
export function sliceTextMsg<T extends string>(t: T): SliceTextMsg<T> {
  return `index: a string index must be a slice like ":", "1:3", "::2" or "...", got "${t}"`;
}

/** Message of a slice whose step is not positive (PyTorch has no negative steps). */
export type SliceStepMsg<S extends string> = `index: slice step must be a positive integer, got ${S}`;
/** Runtime twin of {@link SliceStepMsg}. */
export function sliceStepMsg<S extends string>(s: S): SliceStepMsg<S> {
  return `index: slice step must be a positive integer, got ${s}`;
}

/** A parsed slice: `null` for an omitted bound. */
export interface SliceSpec {
  start: number | null;
  stop: number | null;
  step: number | null;
}

/**
 * Parses `"start:stop:step"` (each part optional, integers) — runtime twin of the type-level parse.
 *
 * @example
 * parseSlice("1:-1"); // { start: 1, stop: -1, step: null }
 */
export function parseSlice(text: string): SliceSpec | undefined {
  const m = /^\s*(-?\d+)?\s*:\s*(-?\d+)?\s*(?::\s*(-?\d+)?\s*)?$/.exec(text);
  if (!m) return undefined;
  const num = (s: string | undefined) => (s === undefined ? null : Number(s));
  return { start: num(m[1]), stop: num(m[2]), step: num(m[3]) };
}

// ---------------------------------------------------------------------------------------------
// type level
// ---------------------------------------------------------------------------------------------

// An integer part of a slice (as the runtime's parser: no fractions, no exponents).
type Num<T extends string> = T extends ""
  ? undefined
  : T extends `${infer N extends number}`
    ? `${N}` extends `${string}.${string}` | `${string}e${string}` ? false : N
    : false;
type ParseSlice<T extends string> = T extends `${infer A}:${infer B}:${infer C}`
  ? [Num<A>, Num<B>, Num<C>]
  : T extends `${infer A}:${infer B}`
    ? [Num<A>, Num<B>, undefined]
    : false;

// A bound resolved against a dim of size N: negatives from the end, clamped to [0, N].
type Bound<V, N extends number, Default extends number> = V extends number
  ? Lt<V, 0> extends true
    ? Max<Add<V, N>, 0>
    : Min<V, N>
  : Default;
type SliceLen<N extends number, P extends [unknown, unknown, unknown], Kn extends Konst> = P extends [undefined, undefined, undefined | 1]
  ? N // ":" and "::" keep the dim, whatever it is
  : DimKind<N, Kn> extends "lit"
    ? SliceLenLit<N, P>
    : number;
type SliceLenLit<N extends number, P extends [unknown, unknown, unknown]> = P[2] extends number
    ? Gt<P[2], 0> extends true
      ? SliceLenStep<Bound<P[0], N, 0>, Bound<P[1], N, N>, P[2]>
      : number
    : SliceLenStep<Bound<P[0], N, 0>, Bound<P[1], N, N>, 1>;
type SliceLenStep<A extends number, B extends number, St extends number> = number extends A | B | St
  ? number
  : Gt<B, A> extends true
    ? Div<Add<Sub<B, A>, Sub<St, 1>>, St>
    : 0;

// Dims an item consumes: a bool mask its rank (at least 1), "..." and null none, others one. The
// dtype is compared with Same, which resolves even for a dtype computed from a generic
// (`torch.arange(x.shape[0])` inside a generic function).
type ItemDims<T, Kn extends Konst> = T extends "..." | null
  ? 0
  : T extends { readonly shape: infer SI extends Shape; readonly dtype: infer DT }
    ? Same<DT, Kn["bool"]> extends true
      ? SI["length"] extends 0 ? 1 : SI["length"]
      : 1
    : 1;
type Consumed<Ix extends readonly unknown[], Kn extends Konst, Acc extends 0[] = []> = Ix extends readonly [infer H, ...infer T]
  ? Consumed<T, Kn, [...Acc, ...Fill0<ItemDims<H, Kn>>]>
  : Acc["length"];
type Fill0<N, Acc extends 0[] = []> = N extends number ? (number extends N ? [] : Acc["length"] extends N ? Acc : Fill0<N, [...Acc, 0]>) : [];

type Take<S extends Shape, N extends number, Acc extends number[] = []> = Acc["length"] extends N
  ? [Acc, S]
  : S extends readonly [infer H extends number, ...infer T extends Shape]
    ? Take<T, N, [...Acc, H]>
    : [Acc, S];

// Walk the items. Out: dims produced by basic items; Adv: shapes of advanced items; Pos: where
// in Out the advanced result goes; Gap: whether the advanced items are separated.
// Walk the items. Out: dims produced by basic items; Adv: shapes of advanced items; Pos: where
// in Out the advanced result goes; Gap: whether the advanced items are separated; AE: the first
// out-of-range literal in an index array (reported after the basic items, as at run time).
type Walk<S extends Shape, Ix extends readonly unknown[], Free extends number, Kn extends Konst, D extends 0[] = [], Out extends number[] = [], Adv extends Shape[] = [], Pos extends number = -1, Gap extends boolean = false, AE = unknown> =
  Ix extends readonly [infer H, ...infer T extends readonly unknown[]]
    ? H extends "..."
      ? Take<S, Free> extends [infer P extends number[], infer Rest extends Shape]
        ? Walk<Rest, T, Free, Kn, [...D, ...Fill0<P["length"]>], [...Out, ...P], Adv, Pos, Gap, AE>
        : never
      : H extends null
        ? Walk<S, T, Free, Kn, D, [...Out, 1], Adv, Pos, Gap, AE>
        : S extends readonly [infer N extends number, ...infer Rest extends Shape]
          ? H extends number
            ? CheckIndex<H, N, D["length"], Kn> extends infer E extends Err<string>
              ? E
              : Walk<Rest, T, Free, Kn, [...D, 0], Out, Adv, Pos, Gap, AE>
            : H extends string
              ? ParseSlice<H> extends infer P
                ? P extends [unknown, unknown, unknown]
                  ? false extends P[number]
                    ? Err<SliceTextMsg<H>>
                    : P[2] extends number
                      ? Gt<P[2], 0> extends true
                        ? Walk<Rest, T, Free, Kn, [...D, 0], [...Out, SliceLen<N, P, Kn>], Adv, Pos, Gap, AE>
                        : Err<SliceStepMsg<`${P[2]}`>>
                      : Walk<Rest, T, Free, Kn, [...D, 0], [...Out, SliceLen<N, P, Kn>], Adv, Pos, Gap, AE>
                  : Err<SliceTextMsg<H>>
                : never
              : H extends readonly number[]
                ? AdvStep<Rest, T, Free, Kn, D, Out, Adv, Pos, Gap, [H["length"]], 1, AE extends Err<string> ? AE : CheckArray<H, N, D["length"], Kn>>
                : H extends { readonly shape: infer SI extends Shape; readonly dtype: infer DT }
                  ? Same<DT, Kn["bool"]> extends true
                    ? AdvStep<Take<S, ItemDims<H, Kn>>[1], T, Free, Kn, D, Out, Adv, Pos, Gap, [number], ItemDims<H, Kn>, AE>
                    : AdvStep<Rest, T, Free, Kn, D, Out, Adv, Pos, Gap, SI, 1, AE>
                  : never
          : AE extends Err<string> ? AE : [Out, Adv, Pos, Gap, S]
    : AE extends Err<string> ? AE : [Out, Adv, Pos, Gap, S];

type AdvStep<Rest extends Shape, T extends readonly unknown[], Free extends number, Kn extends Konst, D extends 0[], Out extends number[], Adv extends Shape[], Pos extends number, Gap extends boolean, SI extends Shape, Used extends number, AE> =
  Walk<Rest, T, Free, Kn, [...D, ...Fill0<Used>], Out, [...Adv, SI], Adv extends [] ? Out["length"] : Pos,
    // A basic item between two advanced ones separates them.
    Adv extends [] ? Gap : Same2<Pos, Out["length"]> extends true ? Gap : true, AE>;

// An index array of literals against a literal dim: its largest value when that is too big, else
// its smallest when that is too small (what the run time reports).
type CheckArray<A extends readonly number[], N extends number, D extends number, Kn extends Konst> =
  DimKind<N, Kn> extends "lit"
    ? ArrayExtremes<A, Kn> extends [infer Lo extends number, infer Hi extends number]
      ? CheckIndexLit<Hi, N, D> extends infer E extends Err<string>
        ? E
        : CheckIndexLit<Lo, N, D>
      : unknown
    : unknown;
// [min, max] of a non-empty tuple of literals; unknown otherwise.
type ArrayExtremes<A extends readonly number[], Kn extends Konst, Lo = never, Hi = never> = A extends readonly [infer H extends number, ...infer T extends readonly number[]]
  ? DimKind<H, Kn> extends "lit"
    ? ArrayExtremes<T, Kn, [Lo] extends [never] ? H : Min<Lo & number, H>, [Hi] extends [never] ? H : Max<Hi & number, H>>
    : unknown
  : [Lo] extends [never] ? unknown : [Lo, Hi];
type Same2<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

type CheckIndex<I extends number, N extends number, D extends number, Kn extends Konst> = [DimKind<I, Kn>, DimKind<N, Kn>] extends ["lit", "lit"]
  ? CheckIndexLit<I, N, D>
  : unknown;
// `-${0}` would read "-0"; the runtime prints 0.
type NegStr<N extends number> = N extends 0 ? "0" : `-${N}`;
type CheckIndexLit<I extends number, N extends number, D extends number> = Ge<I, `-${N}` extends `${infer L extends number}` ? L : never> extends true
    ? Lt<I, N> extends true
      ? unknown
      : Err<IndexRangeMsg<NegStr<N>, `${Sub<N, 1>}`, `${D}`, `${N}`, `${I}`>>
    : Err<IndexRangeMsg<NegStr<N>, `${Sub<N, 1>}`, `${D}`, `${N}`, `${I}`>>;

type BroadcastAll<Ss extends Shape[], Kn extends Konst, Acc extends Shape = []> = Ss extends [infer H extends Shape, ...infer T extends Shape[]]
  ? Broadcast<Acc, H, "index", Kn> extends infer R
    ? R extends Err<string> ? R : R extends readonly [...infer X extends number[]] ? BroadcastAll<T, Kn, X> : never
    : never
  : Acc;
type InsertAll<Out extends number[], At extends number, Ins extends Shape, Acc extends number[] = []> = Acc["length"] extends At
  ? [...Acc, ...Ins, ...Out]
  : Out extends [infer H extends number, ...infer T extends number[]]
    ? InsertAll<T, At, Ins, [...Acc, H]>
    : [...Acc, ...Ins];

/**
 * Shape of `x.index(...items)`: numbers remove a dim, slices shorten one, `null` inserts a 1,
 * `"..."` keeps the dims no other item takes, and advanced items (arrays, int/bool tensors)
 * broadcast together into dims that stay in place when adjacent and go first when separated.
 *
 * @example
 * type A = IndexShape<[2, 3], [":", 1]>;            // [2]
 * type B = IndexShape<[5, 6, 7], ["...", "1:3"]>;   // [5, 6, 2]
 * type C = IndexShape<[2, 3], [[0, 1], [0, 2]]>;    // [2]
 */
export type IndexShape<S extends Shape, Ix extends readonly unknown[], Kn extends Konst = Konst> = number extends S["length"]
  ? number[]
  : Ellipses<Ix> extends infer E extends number
    ? E extends 0 | 1
      ? IndexWalk<S, Ix, Kn>
      : Err<EllipsisMsg<`${E}`>>
    : never;
type Ellipses<Ix extends readonly unknown[], Acc extends 0[] = []> = Ix extends readonly [infer H, ...infer T]
  ? Ellipses<T, H extends "..." ? [...Acc, 0] : Acc>
  : Acc["length"];
type IndexWalk<S extends Shape, Ix extends readonly unknown[], Kn extends Konst> = Consumed<Ix, Kn> extends infer C extends number
    ? number extends C
      ? number[]
      : Gt<C, S["length"]> extends true
        ? Err<IndexCountMsg<`${S["length"]}`, `${C}`>>
        : Walk<S, Ix, Sub<S["length"], C>, Kn> extends infer W
          ? W extends Err<string>
            ? W
            : W extends [infer Out extends number[], infer Adv extends Shape[], infer Pos extends number, infer Gap extends boolean, infer Rest extends Shape]
              ? Adv extends []
                ? [...Out, ...Rest]
                : BroadcastAll<Adv, Kn> extends infer Bc
                  ? Bc extends Shape
                    ? Gap extends true
                      ? [...Bc, ...Out, ...Rest]
                      : InsertAll<[...Out, ...Rest], Pos, Bc>
                    : Bc
                  : never
              : never
          : never
    : never;

// ---------------------------------------------------------------------------------------------
// select
// ---------------------------------------------------------------------------------------------

/** Message of `x.select(dim, i)` with a literal index outside its literal dim. */
export type SelectRangeMsg<Lo extends string, Hi extends string, D extends string, N extends string, I extends string> =
  `select: index must be in [${Lo}, ${Hi}] for dim ${D} of size ${N}, got ${I}`;
/** Runtime twin of {@link SelectRangeMsg}. */
export function selectRangeMsg<Lo extends string, Hi extends string, D extends string, N extends string, I extends string>(
  lo: Lo, hi: Hi, d: D, n: N, i: I,
): SelectRangeMsg<Lo, Hi, D, N, I> {
  return `select: index must be in [${lo}, ${hi}] for dim ${d} of size ${n}, got ${i}`;
}

/**
 * Shape of `x.select(dim, index)`: `dim` removed. An `Err` for a dim out of range, or a literal
 * index outside a literal dim.
 *
 * @example
 * type S = SelectShape<[2, 3, 4], 1, 2>;  // [2, 4]
 * type E = SelectShape<[2, 3, 4], -1, 4>; // Err<"select: index must be in [-4, 3] for dim 2 of size 4, got 4">
 */
export type SelectShape<S extends Shape, Dm extends number, I extends number, Kn extends Konst = Konst> = number extends S["length"]
  ? number[]
  : NormDim<Dm, S["length"], "select"> extends infer N
    ? N extends Err<string>
      ? N
      : number extends N
        ? number[]
        : S extends readonly []
          ? [] // a 0-d tensor: PyTorch refuses, the runtime reports it
          : SelectCheck<I, S[N & number] & number, N & number, Kn> extends infer E extends Err<string>
            ? E
            : DropAt<S, N & number>
    : never;
type SelectCheck<I extends number, N extends number, D extends number, Kn extends Konst> = [DimKind<I, Kn>, DimKind<N, Kn>] extends ["lit", "lit"]
  ? Ge<I, `-${N}` extends `${infer L extends number}` ? L : never> extends true
    ? Lt<I, N> extends true
      ? unknown
      : Err<SelectRangeMsg<NegStr<N>, `${Sub<N, 1>}`, `${D}`, `${N}`, `${I}`>>
    : Err<SelectRangeMsg<NegStr<N>, `${Sub<N, 1>}`, `${D}`, `${N}`, `${I}`>>
  : unknown;
type DropAt<S extends Shape, D extends number, I extends 0[] = [], Acc extends number[] = []> =
  S extends readonly [infer H extends number, ...infer T extends Shape]
    ? I["length"] extends D ? [...Acc, ...T] : DropAt<T, D, [...I, 0], [...Acc, H]>
    : Acc;

/**
 * Runtime twin of {@link SelectShape}.
 *
 * @example
 * selectShape([2, 3, 4], 1, 2); // [2, 4]
 */
export function selectShape(shape: readonly number[], dim: number, index: number): number[] {
  const d = normDim("select", dim, shape.length);
  const n = shape[d]!;
  if (!Number.isInteger(index) || index < -n || index >= n) throw new ShapeError(selectRangeMsg(`${-n}`, `${n - 1}`, `${d}`, `${n}`, `${index}`));
  return shape.filter((_, i) => i !== d);
}
