import type { Add } from "./arith.js";
import type { Err } from "./check.js";
import { type NormDim, normDim } from "./dims.js";
import { ShapeError } from "./errors.js";
import { type Shape, type ShapeStr, shapeStr } from "./shape.js";
import type { DimKind, DimsMayMatch, Konst, Same } from "./util.js";

/** Message of cat given tensors that differ outside the cat dim. */
export type CatMsg<D extends string, A extends string, B extends string> = `cat: tensors must match except in dim ${D}, got ${A} and ${B}`;
/** Runtime twin of {@link CatMsg}. */
export function catMsg<D extends string, A extends string, B extends string>(d: D, a: A, b: B): CatMsg<D, A, B> {
  return `cat: tensors must match except in dim ${d}, got ${a} and ${b}`;
}
/** Message of stack given tensors of different shapes. */
export type StackMsg<A extends string, B extends string> = `stack: tensors must have the same shape, got ${A} and ${B}`;
/** Runtime twin of {@link StackMsg}. */
export function stackMsg<A extends string, B extends string>(a: A, b: B): StackMsg<A, B> {
  return `stack: tensors must have the same shape, got ${a} and ${b}`;
}
/** Message of cat given 0-d tensors (PyTorch refuses them too; `stack` them instead). */
export type CatZeroDimMsg = "cat: tensors must have at least 1 dim (stack 0-d tensors instead), got []";
/** Runtime twin of {@link CatZeroDimMsg}. */
export function catZeroDimMsg(): CatZeroDimMsg {
  return "cat: tensors must have at least 1 dim (stack 0-d tensors instead), got []";
}
/** Message of cat/stack given no tensors. */
export type EmptyListMsg<Op extends string> = `${Op}: expected a non-empty list of tensors, got []`;
/** Runtime twin of {@link EmptyListMsg}. */
export function emptyListMsg<Op extends string>(op: Op): EmptyListMsg<Op> {
  return `${op}: expected a non-empty list of tensors, got []`;
}

// A and B agree at every index but D (equal, or either a run-time `number`); the result takes
// A's dims (B's where A's is `number`) with D summed. false when they don't fit.
type CatPair<A extends Shape, B extends Shape, D extends number, K extends Konst, I extends 0[] = [], Acc extends number[] = []> =
  A extends readonly [infer AH extends number, ...infer AT extends Shape]
    ? B extends readonly [infer BH extends number, ...infer BT extends Shape]
      ? I["length"] extends D
        ? CatPair<AT, BT, D, K, [...I, 0], [...Acc, Add<AH, BH>]>
        : CatDim<AH, BH, K> extends [infer R extends number]
          ? CatPair<AT, BT, D, K, [...I, 0], [...Acc, R]>
          : false
      : false
    : B extends readonly []
      ? Acc
      : false;
// Equal (or the same generic) → that dim; else a literal beats a `number` or generic; two literals fail.
type CatDim<A, B, K extends Konst> = Same<A, B> extends true
  ? [A]
  : DimKind<A, K> extends "lit"
    ? DimKind<B, K> extends "lit" ? false : [A]
    : [B];
type CatRec<Ss extends readonly Shape[], D extends number, Acc extends Shape, K extends Konst> = Ss extends readonly [infer H extends Shape, ...infer T extends readonly Shape[]]
  ? number extends H["length"]
    ? number[]
    : CatPair<Acc, H, D, K> extends infer R extends number[]
      ? CatRec<T, D, R, K>
      : Err<CatMsg<`${D}`, ShapeStr<Acc>, ShapeStr<H>>>
  : Acc;

/**
 * Shape of `torch.cat(tensors, dim)`: all shapes equal except in `dim`, which adds up.
 *
 * @example
 * type S = CatShape<[[2, 3], [4, 3]], 0>; // [6, 3]
 */
export type CatShape<Ss extends readonly Shape[], D extends number = 0, K extends Konst = Konst> = Ss extends readonly []
  ? Err<EmptyListMsg<"cat">>
  : number extends Ss["length"]
    ? number[]
    : Ss extends readonly [infer H extends Shape, ...infer T extends readonly Shape[]]
      ? number extends H["length"]
        ? number[]
        : H extends readonly []
          ? Err<CatZeroDimMsg>
          : NormDim<D, H["length"], "cat"> extends infer N
          ? N extends Err<string> ? N : number extends N ? number[] : CatRec<T, N & number, H, K>
          : never
      : never;

/**
 * Runtime twin of {@link CatShape}.
 *
 * @example
 * catShape([[2, 3], [4, 3]], 0); // { shape: [6, 3], dim: 0 }
 */
export function catShape(shapes: readonly (readonly number[])[], dim: number): { shape: number[]; dim: number } {
  const first = shapes[0];
  if (first === undefined) throw new ShapeError(emptyListMsg("cat"));
  if (first.length === 0) throw new ShapeError(catZeroDimMsg());
  const d = normDim("cat", dim, first.length);
  const out = [...first];
  for (let i = 1; i < shapes.length; i++) {
    const s = shapes[i]!;
    const prev = shapeStr(out);
    if (s.length !== out.length || s.some((v, j) => j !== d && v !== out[j])) throw new ShapeError(catMsg(`${d}`, prev, shapeStr(s)));
    out[d] = out[d]! + s[d]!;
  }
  return { shape: out, dim: d };
}

type StackRec<Ss extends readonly Shape[], S extends Shape, K extends Konst> = Ss extends readonly [infer H extends Shape, ...infer T extends readonly Shape[]]
  ? number extends H["length"]
    ? StackRec<T, S, K>
    : AllMayMatch<S, H, K> extends true
      ? StackRec<T, S, K>
      : Err<StackMsg<ShapeStr<S>, ShapeStr<H>>>
  : S;
type AllMayMatch<A extends Shape, B extends Shape, K extends Konst> = A extends readonly [infer AH, ...infer AT extends Shape]
  ? B extends readonly [infer BH, ...infer BT extends Shape]
    ? DimsMayMatch<AH, BH, K> extends true ? AllMayMatch<AT, BT, K> : false
    : false
  : B extends readonly [] ? true : false;
type InsertAt<S extends Shape, D extends number, V extends number, I extends 0[] = [], Acc extends number[] = []> = I["length"] extends D
  ? [...Acc, V, ...S]
  : S extends readonly [infer H extends number, ...infer T extends Shape]
    ? InsertAt<T, D, V, [...I, 0], [...Acc, H]>
    : [...Acc, V];

/**
 * Shape of `torch.stack(tensors, dim)`: equal shapes, a new dim of size `tensors.length` at `dim`.
 *
 * @example
 * type S = StackShape<[[2, 3], [2, 3]], 0>; // [2, 2, 3]
 */
export type StackShape<Ss extends readonly Shape[], D extends number = 0, K extends Konst = Konst> = Ss extends readonly []
  ? Err<EmptyListMsg<"stack">>
  : number extends Ss["length"]
    ? number[]
    : Ss extends readonly [infer H extends Shape, ...infer T extends readonly Shape[]]
      ? number extends H["length"]
        ? number[]
        : StackRec<T, H, K> extends infer R
          ? R extends Err<string>
            ? R
            : NormDim<D, [...H, 0]["length"], "stack"> extends infer N
              ? N extends Err<string> ? N : number extends N ? number[] : InsertAt<H, N & number, Ss["length"]>
              : never
          : never
      : never;

/**
 * Runtime twin of {@link StackShape}.
 *
 * @example
 * stackShape([[2, 3], [2, 3]], 0); // { shape: [2, 2, 3], dim: 0 }
 */
export function stackShape(shapes: readonly (readonly number[])[], dim: number): { shape: number[]; dim: number } {
  const first = shapes[0];
  if (first === undefined) throw new ShapeError(emptyListMsg("stack"));
  for (const s of shapes) {
    if (s.length !== first.length || s.some((v, j) => v !== first[j])) throw new ShapeError(stackMsg(shapeStr(first), shapeStr(s)));
  }
  const d = normDim("stack", dim, first.length + 1);
  const out = [...first];
  out.splice(d, 0, shapes.length);
  return { shape: out, dim: d };
}
