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

type NormAll<Ds extends readonly number[], R extends number, Op extends string, Acc extends number[] = []> =
  Ds extends readonly [infer H extends number, ...infer T extends readonly number[]]
    ? NormDim<H, R, Op> extends infer N
      ? N extends Err<string>
        ? N
        : N extends Acc[number]
          ? Err<DistinctDimsMsg<Op, DimsStr<Ds>>>
          : NormAll<T, R, Op, [...Acc, N & number]>
      : never
    : Acc;
type DimsStr<Ds extends readonly number[]> = Ds extends readonly [] ? "[]" : `[${Join<Ds>}]`;
type Join<Ds extends readonly number[]> = Ds extends readonly [infer H extends number]
  ? `${H}`
  : Ds extends readonly [infer H extends number, ...infer T extends readonly number[]]
    ? `${H}, ${Join<T>}`
    : string;

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
      : NormAll<Dims extends number ? [Dims] : Dims & readonly number[], S["length"], Op> extends infer N
        ? N extends Err<string>
          ? N
          : N extends number[]
            ? number extends N[number]
              ? Keep extends true ? { [K in keyof S]: number } : number[]
              : S extends readonly [] ? [] : Drop<S, N[number], boolean extends Keep ? false : Keep>
            : never
        : never;

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
