import type { Add, Ge, Lt, Sub } from "./arith.js";
import type { Err } from "./check.js";
import { ShapeError } from "./errors.js";

/** Message of a dim argument out of range. */
export type DimMsg<Op extends string, Lo extends string, Hi extends string, D extends string> =
  `${Op}: dim must be in [${Lo}, ${Hi}], got ${D}`;
/** Runtime twin of {@link DimMsg}. */
export function dimMsg<Op extends string, Lo extends string, Hi extends string, D extends string>(
  op: Op, lo: Lo, hi: Hi, d: D,
): DimMsg<Op, Lo, Hi, D> {
  return `${op}: dim must be in [${lo}, ${hi}], got ${d}`;
}

// As PyTorch, a 0-d tensor accepts dims as if it were 1-d.
type AtLeast1<R extends number> = R extends 0 ? 1 : R;

/**
 * A dim argument made non-negative for a tensor of rank `R` (`-1` → `R - 1`), or an `Err` when it
 * is out of `[-R, R - 1]`. `number` stays `number`.
 *
 * @example
 * type D = NormDim<-1, 3>; // 2
 */
export type NormDim<D extends number, R extends number, Op extends string = "dim"> = number extends D | R
  ? number
  : Ge<D, `-${AtLeast1<R>}` extends `${infer L extends number}` ? L : never> extends true
    ? Lt<D, AtLeast1<R>> extends true
      ? Lt<D, 0> extends true
        ? Add<D, AtLeast1<R>>
        : D
      : Err<DimMsg<Op, `-${AtLeast1<R>}`, `${Sub<AtLeast1<R>, 1>}`, `${D}`>>
    : Err<DimMsg<Op, `-${AtLeast1<R>}`, `${Sub<AtLeast1<R>, 1>}`, `${D}`>>;

/**
 * Runtime twin of {@link NormDim}.
 *
 * @example
 * normDim("sum", -1, 3); // 2
 */
export function normDim(op: string, d: number, rank: number): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(d) || d < -r || d >= r) throw new ShapeError(dimMsg(op, `-${r}`, `${r - 1}`, `${d}`));
  return d < 0 ? d + r : d;
}
