import type { ShapeErrorBrand } from "./errors.js";
import { ShapeError } from "./errors.js";

/**
 * What a type-level shape rule returns when the shapes don't fit: the message, as a type.
 * Rules return a `Shape` or an `Err<"op: expectation, got actual">`.
 */
export interface Err<M extends string> {
  readonly __shapeErr: M;
}

/** `unknown` when the rule passed; the branded message when it failed (intersect a parameter with it). */
export type Check<R> = [R] extends [never] ? unknown : R extends Err<infer M> ? ShapeErrorBrand<M> : unknown;

/**
 * The rule's shape as a mutable tuple, or `number[]` when it failed (the failure is already
 * reported on the argument). Matching `readonly [...infer X]` (rather than `R extends Shape`) keeps
 * it from deferring on a shape with a generic dim, so `Ok<[B, 256]>` is `[B, 256]`.
 */
export type Ok<R> = R extends readonly [...infer X extends number[]] ? X : number[];

/** Throws `ShapeError(message)` unless `cond` holds: the runtime side of `Check`. */
export function check(cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new ShapeError(message());
}
