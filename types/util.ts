/**
 * Comparing dims inside the rules so that a generic `B extends number` resolves instead of
 * deferring (a deferred rule makes its `Check` defer too, and tsc then rejects the argument with
 * an unreadable message).
 *
 * `Same<X, Y>` is identity on tuple-wrapped operands: `Same<B, B>` is `true`, and `Same<B, 1>` is
 * `false` for a type parameter `B` (its permissive instantiation `any` is compared by identity).
 *
 * The catch: a type alias's own type parameters are type parameters too, so `Same<P, 1>` written in
 * an alias over `P` resolves to `false` right where the alias is declared. Rules therefore never
 * compare a dim with a concrete type directly; they take the concrete types as a type parameter
 * `K extends Konst` and compare with `K["one"]`, `K["num"]`, ... While `K` is still a parameter
 * (inside the rule declarations) the comparison defers; once a user's type reference fills `K`
 * with its default `Konst`, it resolves. So: every rule helper that compares with `K[...]` takes
 * `K` as a required parameter and passes it on; only the public rules default it (`K extends Konst
 * = Konst`, always last, never to be given by callers), and their outermost conditional depends on
 * the shapes, so it defers wherever a shape is still generic.
 */
export interface Konst {
  one: 1;
  neg1: -1;
  num: number;
  bool: "bool";
  lit: "lit";
  gen: "gen";
}

/**
 * True when X and Y are the same type (identity, not mutual assignability); resolves for a generic
 * `B` (see above: compare with `K[...]`, not with a concrete type).
 */
export type Same<X, Y> = (<T>() => T extends [X] ? 1 : 2) extends <T>() => T extends [Y] ? 1 : 2 ? true : false;

// A generic's permissive instantiation (`any`) extends both 0 and 1; no literal does.
type Probe<D, K extends Konst> = [D] extends [0] ? ([D] extends [1] ? K["gen"] : K["lit"]) : K["lit"];

/**
 * What a dim is: `"lit"` (a numeric literal), `"num"` (`number`, known at run time) or `"gen"` (a
 * type parameter of a generic function, or a type computed from one, such as `Mul<B, 784>`).
 */
export type DimKind<D, K extends Konst> = Same<D, K["num"]> extends true
  ? "num"
  : Same<Probe<D, K>, K["lit"]> extends true
    ? "lit"
    : "gen";

/**
 * Two dims that may be equal: the same type (equal literals, the same generic), or either is not a
 * literal (`number`, or a generic: checked at run time). Two different literals never match.
 */
export type DimsMayMatch<A, B, K extends Konst = Konst> = Same<A, B> extends true
  ? true
  : DimKind<A, K> extends "lit"
    ? DimKind<B, K> extends "lit"
      ? false
      : true
    : true;

/** Numeric literal type of a tuple index string ("0" → 0). */
export type ToNum<K> = K extends `${infer N extends number}` ? N : never;
