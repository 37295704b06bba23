import type { Add, Div, Gt, Mul, Sub } from "./arith.js";
import type { Err } from "./check.js";
import { ShapeError } from "./errors.js";

/** Message of a conv/pool window that does not fit its (padded) input. */
export type WindowMsg<Op extends string, K extends string, H extends string> =
  `${Op}: kernel (with dilation) must fit the padded input, got kernel ${K} and padded input ${H}`;
/** Runtime twin of {@link WindowMsg}. */
export function windowMsg<Op extends string, K extends string, H extends string>(op: Op, k: K, h: H): WindowMsg<Op, K, H> {
  return `${op}: kernel (with dilation) must fit the padded input, got kernel ${k} and padded input ${h}`;
}

type EffKernel<K extends number, D extends number> = Add<Mul<D, Sub<K, 1>>, 1>;
type Padded<H extends number, P extends number> = Add<H, Mul<P, 2>>;

/**
 * Output length of a convolution along one spatial dim:
 * `floor((H + 2·P − D·(K − 1) − 1) / S) + 1`. An `Err` when the kernel doesn't fit.
 *
 * @example
 * type H = ConvOutSize<32, 3, 1, 1>; // 32
 * type P = ConvOutSize<30, 2, 2>;    // 15
 */
export type ConvOutSize<H extends number, K extends number, S extends number = 1, P extends number = 0, D extends number = 1, Op extends string = "conv2d"> =
  number extends H | K | S | P | D
    ? number
    : Gt<EffKernel<K, D>, Padded<H, P>> extends true
      ? Err<WindowMsg<Op, `${EffKernel<K, D>}`, `${Padded<H, P>}`>>
      : Add<Div<Sub<Padded<H, P>, EffKernel<K, D>>, S>, 1>;

/**
 * Runtime twin of {@link ConvOutSize}.
 *
 * @example
 * convOutSize(30, 2, 2, 0, 1); // 15
 */
export function convOutSize(h: number, k: number, s = 1, p = 0, d = 1, op = "conv2d"): number {
  const ek = d * (k - 1) + 1;
  if (ek > h + 2 * p) throw new ShapeError(windowMsg(op, `${ek}`, `${h + 2 * p}`));
  return Math.floor((h + 2 * p - ek) / s) + 1;
}

/**
 * Output length of max/avg pooling along one dim (PyTorch's rule, incl. `ceilMode`, where the
 * last window must start inside the input or its left padding).
 *
 * @example
 * type H = PoolOutSize<32, 2, 2>; // 16
 * type C = PoolOutSize<5, 2, 2, 0, 1, true>; // 3
 */
export type PoolOutSize<H extends number, K extends number, S extends number = K, P extends number = 0, D extends number = 1, Ceil extends boolean = false, Op extends string = "max_pool2d"> =
  Ceil extends true
    ? number extends H | K | S | P | D
      ? number
      : Gt<EffKernel<K, D>, Padded<H, P>> extends true
        ? Err<WindowMsg<Op, `${EffKernel<K, D>}`, `${Padded<H, P>}`>>
        : Add<Div<Add<Sub<Padded<H, P>, EffKernel<K, D>>, Sub<S, 1>>, S>, 1> extends infer O extends number
          ? number extends O
            ? number
            : Gt<Add<Mul<Sub<O, 1>, S>, 1>, Add<H, P>> extends true ? Sub<O, 1> : O
          : never
    : ConvOutSize<H, K, S, P, D, Op>;

/**
 * Runtime twin of {@link PoolOutSize}.
 *
 * @example
 * poolOutSize(5, 2, 2, 0, 1, true); // 3
 */
export function poolOutSize(h: number, k: number, s = k, p = 0, d = 1, ceil = false, op = "max_pool2d"): number {
  const ek = d * (k - 1) + 1;
  if (ek > h + 2 * p) throw new ShapeError(windowMsg(op, `${ek}`, `${h + 2 * p}`));
  if (!ceil) return Math.floor((h + 2 * p - ek) / s) + 1;
  let o = Math.floor((h + 2 * p - ek + s - 1) / s) + 1;
  if ((o - 1) * s >= h + p) o--;
  return o;
}
