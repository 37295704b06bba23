import type { Err } from "./check.js";
import { type NormDim, normDim } from "./dims.js";
import { ShapeError } from "./errors.js";
import { type Shape, shapeStr } from "./shape.js";

/** Message of a reduction given the same dim twice. */
export type DistinctDimsMsg<Op extends string, Ds extends string> = `${Op}: dims must be distinct, got ${Ds}`;
/** Runtime twin of {@link DistinctDimsMsg}. */
export function distinctDimsMsg<Op extends string, Ds extends string>(op: Op, ds: Ds): DistinctDimsMsg<Op, Ds> {
  return `${op}: dims must be distinct, got ${ds}`;
}

/** The dims a reduction may be given: one dim, a list, or none (all). */
export type DimArg = number | readonly number[] | undefined;

// The dims made non-negative, in order; an Err for a dim out of range or given twice (a run-time
// `number` dim is never called a duplicate: only literals are compared).
type NormAll<Ds extends readonly number[], R extends number, Op extends string, All extends readonly number[] = Ds, Acc extends number[] = [], Seen extends number = never> =
  Ds extends readonly [infer H extends number, ...infer T extends readonly number[]]
    ? NormDim<H, R, Op> extends infer N
      ? N extends Err<string>
        ? N
        : number extends N
          ? NormAll<T, R, Op, All, [...Acc, number], Seen>
          : N extends Seen
            ? Err<DistinctDimsMsg<Op, DimsStr<All>>>
            : NormAll<T, R, Op, All, [...Acc, N & number], Seen | (N & number)>
      : never
    : Acc;
type DimsStr<Ds extends readonly number[]> = `[${Join<Ds>}]`;
type Join<Ds extends readonly number[], Acc extends string = "", First extends boolean = true> = Ds extends readonly [infer H extends number, ...infer T extends readonly number[]]
  ? Join<T, First extends true ? `${H}` : `${Acc}, ${H}`, false>
  : Acc;

type Drop<S extends Shape, Ds extends number, Keep extends boolean, I extends unknown[] = [], Acc extends number[] = []> =
  S extends readonly [infer H extends number, ...infer T extends Shape]
    ? I["length"] extends Ds
      ? Drop<T, Ds, Keep, [...I, 0], Keep extends true ? [...Acc, 1] : Acc>
      : Drop<T, Ds, Keep, [...I, 0], [...Acc, H]>
    : Acc;

/**
 * Shape of a reduction (sum, mean, max, argmax, ...) over `Dims` with `keepdim`.
 * No dims reduces everything to `[]`; reduced dims are dropped, or kept as 1 with keepdim.
 *
 * @example
 * type A = ReduceShape<[3, 4], 0>;          // [4]
 * type B = ReduceShape<[2, 3, 4], -1, true>; // [2, 3, 1]
 * type C = ReduceShape<[2, 3, 4], [0, 2]>;   // [3]
 */
export type ReduceShape<S extends Shape, Dims extends DimArg, Keep extends boolean = false, Op extends string = "sum"> =
  Dims extends undefined
    ? []
    : number extends S["length"]
      ? number[]
      : NormAll<DimList<Dims>, S["length"], Op> extends infer N
        ? N extends Err<string>
          ? N
          : N extends number[]
            ? number extends N[number]
              ? Keep extends true ? { -readonly [K in keyof S]: number } : number[]
              : S extends readonly [] ? [] : Drop<S, N[number], boolean extends Keep ? false : Keep>
            : never
        : never;
// One dim or a list, as a list. (Not `Dims & readonly number[]`: inferring from that intersection
// loses the literals, `[0, 2] & readonly number[]` matches `[infer H, ...infer T]` with H = number.)
type DimList<Dims> = Dims extends number ? [Dims] : Dims extends readonly number[] ? Dims : [];

/** Normalised reduction dims and output shape, computed at run time. */
export interface ReducePlan {
  dims: number[];
  out: number[];
  /** The output shape with reduced dims kept as 1 (what keepdim returns). */
  kept: number[];
}

/**
 * Runtime twin of {@link ReduceShape}.
 *
 * @example
 * reduceShape("sum", [2, 3, 4], [0, -1], false).out; // [3]
 */
export function reduceShape(op: string, shape: readonly number[], dims: number | readonly number[] | undefined, keepdim: boolean): ReducePlan {
  const list = dims === undefined ? shape.map((_, i) => i) : typeof dims === "number" ? [dims] : [...dims];
  const norm: number[] = [];
  for (const d of list) {
    const n = normDim(op, d, shape.length);
    if (norm.includes(n)) throw new ShapeError(distinctDimsMsg(op, shapeStr(list)));
    norm.push(n);
  }
  const kept = shape.map((s, i) => (norm.includes(i) ? 1 : s));
  const out = dims === undefined ? [] : keepdim ? kept : shape.filter((_, i) => !norm.includes(i));
  return { dims: norm.sort((a, b) => a - b), out, kept };
}
