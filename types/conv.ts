import type { Add, Div, Gt, Lt, Mul, Sub } from "./arith.js";
import type { Err } from "./check.js";
import { ShapeError, ValueError } from "./errors.js";

/** Message of a conv/pool window that does not fit its (padded) input. */
export type WindowMsg<Op extends string, K extends string, H extends string> =
  `${Op}: kernel (with dilation) must fit the padded input, got kernel ${K} and padded input ${H}`;
/** Runtime twin of {@link WindowMsg}. */
export function windowMsg<Op extends string, K extends string, H extends string>(op: Op, k: K, h: H): WindowMsg<Op, K, H> {
  return `${op}: kernel (with dilation) must fit the padded input, got kernel ${k} and padded input ${h}`;
}

/** Message of a conv/pool hyper-parameter out of range (a kernel or stride below 1, ...). */
export type WindowArgMsg<Op extends string, Name extends string, Min extends string, V extends string> = `${Op}: ${Name} must be >= ${Min}, got ${V}`;
/** Runtime twin of {@link WindowArgMsg}. */
export function windowArgMsg<Op extends string, Name extends string, Min extends string, V extends string>(op: Op, name: Name, min: Min, v: V): WindowArgMsg<Op, Name, Min, V> {
  return `${op}: ${name} must be >= ${min}, got ${v}`;
}

// The first hyper-parameter below its minimum (kernel, stride, dilation >= 1; padding >= 0), else unknown.
type BadArg<Op extends string, K extends number, S extends number, P extends number, D extends number> =
  Lt<K, 1> extends true ? Err<WindowArgMsg<Op, "kernel size", "1", `${K}`>>
  : Lt<S, 1> extends true ? Err<WindowArgMsg<Op, "stride", "1", `${S}`>>
  : Lt<P, 0> extends true ? Err<WindowArgMsg<Op, "padding", "0", `${P}`>>
  : Lt<D, 1> extends true ? Err<WindowArgMsg<Op, "dilation", "1", `${D}`>>
  : unknown;
function checkArgs(op: string, k: number, s: number, p: number, d: number): void {
  const bad: [string, number, number] | undefined = k < 1 ? ["kernel size", 1, k] : s < 1 ? ["stride", 1, s] : p < 0 ? ["padding", 0, p] : d < 1 ? ["dilation", 1, d] : undefined;
  if (bad) throw new ValueError(windowArgMsg(op, bad[0], `${bad[1]}`, `${bad[2]}`));
}

/** Message of a pool padded by more than half its window. */
export type PoolPadMsg<Op extends string, P extends string, K extends string> = `${Op}: padding must be at most half the kernel size, got padding ${P} and kernel ${K}`;
/** Runtime twin of {@link PoolPadMsg}. */
export function poolPadMsg<Op extends string, P extends string, K extends string>(op: Op, p: P, k: K): PoolPadMsg<Op, P, K> {
  return `${op}: padding must be at most half the kernel size, got padding ${p} and kernel ${k}`;
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
    : BadArg<Op, K, S, P, D> extends infer E extends Err<string>
      ? E
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
  checkArgs(op, k, s, p, d);
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
  // PyTorch's pools pad at most half a window (a window of padding alone would have no input).
  [number] extends [H | K | S | P | D]
    ? PoolBody<H, K, S, P, D, Ceil, Op>
    : BadArg<Op, K, S, P, D> extends infer E extends Err<string>
      ? E
      : Gt<Mul<P, 2>, K> extends true
        ? Err<PoolPadMsg<Op, `${P}`, `${K}`>>
        : PoolBody<H, K, S, P, D, Ceil, Op>;
type PoolBody<H extends number, K extends number, S extends number, P extends number, D extends number, Ceil extends boolean, Op extends string> =
  Ceil extends true
    ? number extends H | K | S | P | D
      ? number
      : BadArg<Op, K, S, P, D> extends infer E extends Err<string>
        ? E
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
  checkArgs(op, k, s, p, d);
  if (2 * p > k) throw new ShapeError(poolPadMsg(op, `${p}`, `${k}`));
  const ek = d * (k - 1) + 1;
  if (ek > h + 2 * p) throw new ShapeError(windowMsg(op, `${ek}`, `${h + 2 * p}`));
  if (!ceil) return Math.floor((h + 2 * p - ek) / s) + 1;
  let o = Math.floor((h + 2 * p - ek + s - 1) / s) + 1;
  if ((o - 1) * s >= h + p) o--;
  return o;
}
