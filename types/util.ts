/**
 * True when X and Y are the same type. Unlike `X extends Y`, this does not defer on a generic
 * `B extends number`, so rules can pass `[B, 784]` through unchanged inside generic functions.
 */
export type Same<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;

/** Two dims that may be equal: equal literals, the same generic, or either is `number`. */
export type DimsMayMatch<A, B> = Same<A, B> extends true
  ? true
  : number extends A
    ? true
    : number extends B
      ? true
      : A extends B
        ? true
        : false;

/** Numeric literal type of a tuple index string ("0" → 0). */
export type ToNum<K> = K extends `${infer N extends number}` ? N : never;
