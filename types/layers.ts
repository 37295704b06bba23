/**
 * Shape rules of the nn layers, and the chain rule of `nn.Sequential`: each layer type carries a
 * phantom `__spec` describing its shape function, and `ChainShape` folds an input shape through
 * the layers, reporting the first layer that doesn't fit, by its index or name.
 */
import type { Err } from "./check.js";
import type { ConvOutSize, PoolOutSize } from "./conv.js";
import { convOutSize, poolOutSize } from "./conv.js";
import type { NormDim } from "./dims.js";
import { ShapeError } from "./errors.js";
import type { FlattenShape } from "./movement.js";
import { type DimStr, type Shape, type ShapeStr, shapeStr } from "./shape.js";
import type { DimsMayMatch } from "./util.js";

// ---------------------------------------------------------------------------------------------
// Linear
// ---------------------------------------------------------------------------------------------

/** Message of a Linear layer fed the wrong last dim. */
export type LinearMsg<L extends string, In extends string, Got extends string, S extends string> = `${L}: input last dim must be ${In}, got ${Got} in ${S}`;
/** Runtime twin of {@link LinearMsg}. */
export function linearMsg<L extends string, In extends string, Got extends string, S extends string>(l: L, inF: In, got: Got, s: S): LinearMsg<L, In, Got, S> {
  return `${l}: input last dim must be ${inF}, got ${got} in ${s}`;
}
/** Message of a layer given too few dims. */
export type LayerRankMsg<L extends string, Want extends string, S extends string> = `${L}: input must be ${Want}, got ${S}`;
/** Runtime twin of {@link LayerRankMsg}. */
export function layerRankMsg<L extends string, Want extends string, S extends string>(l: L, want: Want, s: S): LayerRankMsg<L, Want, S> {
  return `${l}: input must be ${want}, got ${s}`;
}

/** `Linear(784→256)`: how a Linear layer names itself in messages. */
export type LinearName<I extends number, O extends number> = `Linear(${DimStr<I>}→${DimStr<O>})`;

/**
 * Shape of `Linear(In, Out)` on `[...B, In]`: `[...B, Out]`.
 *
 * @example
 * type S = LinearShape<[64, 784], 784, 256>; // [64, 256]
 * type E = LinearShape<[64, 783], 784, 256>; // Err<"Linear(784→256): input last dim must be 784, got 783 in [64, 783]">
 */
export type LinearShape<S extends Shape, In extends number, Out extends number> = number extends S["length"]
  ? number[]
  : S extends readonly [...infer B extends Shape, infer K]
    ? DimsMayMatch<K, In> extends true
      ? [...B, Out]
      : Err<LinearMsg<LinearName<In, Out>, DimStr<In>, DimStr<K>, ShapeStr<S>>>
    : Err<LayerRankMsg<LinearName<In, Out>, "at least 1-D", ShapeStr<S>>>;

/**
 * Runtime twin of {@link LinearShape}.
 *
 * @example
 * linearShape([64, 784], 784, 256); // [64, 256]
 */
export function linearShape(s: readonly number[], inF: number, outF: number): number[] {
  const name = `Linear(${inF}→${outF})`;
  if (s.length === 0) throw new ShapeError(layerRankMsg(name, "at least 1-D", shapeStr(s)));
  const k = s[s.length - 1]!;
  if (k !== inF) throw new ShapeError(linearMsg(name, `${inF}`, `${k}`, shapeStr(s)));
  return [...s.slice(0, -1), outF];
}

// ---------------------------------------------------------------------------------------------
// Conv2d / pooling / batch norm
// ---------------------------------------------------------------------------------------------

/** Message of a conv layer fed the wrong channel count. */
export type ChannelMsg<L extends string, C extends string, Got extends string, S extends string> = `${L}: input channels must be ${C}, got ${Got} in ${S}`;
/** Runtime twin of {@link ChannelMsg}. */
export function channelMsg<L extends string, C extends string, Got extends string, S extends string>(l: L, c: C, got: Got, s: S): ChannelMsg<L, C, Got, S> {
  return `${l}: input channels must be ${c}, got ${got} in ${s}`;
}

/** Spatial hyper-parameters of a 2-D window (conv or pool), per dim. */
export interface Window2d {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
}

type Out2<H extends number, W extends number, P extends Window2d, Pool extends boolean, Ceil extends boolean, L extends string> =
  (Pool extends true ? PoolOutSize<H, P["kh"], P["sh"], P["ph"], P["dh"], Ceil, L> : ConvOutSize<H, P["kh"], P["sh"], P["ph"], P["dh"], L>) extends infer Ho
    ? Ho extends Err<string>
      ? Ho
      : (Pool extends true ? PoolOutSize<W, P["kw"], P["sw"], P["pw"], P["dw"], Ceil, L> : ConvOutSize<W, P["kw"], P["sw"], P["pw"], P["dw"], L>) extends infer Wo
        ? Wo extends Err<string>
          ? Wo
          : [Ho & number, Wo & number]
        : never
    : never;

/**
 * Shape of `Conv2d(InC, OutC, k, ...)` on `[N, InC, H, W]` (or unbatched `[InC, H, W]`).
 *
 * @example
 * type S = Conv2dShape<[4, 3, 32, 32], 3, 16, { kh: 3; kw: 3; sh: 1; sw: 1; ph: 1; pw: 1; dh: 1; dw: 1 }, "Conv2d(3→16, 3×3)">; // [4, 16, 32, 32]
 */
export type Conv2dShape<S extends Shape, InC extends number, OutC extends number, P extends Window2d, L extends string> = number extends S["length"]
  ? number[]
  : S extends readonly [infer N extends number, infer C, infer H extends number, infer W extends number]
    ? DimsMayMatch<C, InC> extends true
      ? Out2<H, W, P, false, false, L> extends infer O ? (O extends [infer A extends number, infer B extends number] ? [N, OutC, A, B] : O) : never
      : Err<ChannelMsg<L, DimStr<InC>, DimStr<C>, ShapeStr<S>>>
    : S extends readonly [infer C, infer H extends number, infer W extends number]
      ? DimsMayMatch<C, InC> extends true
        ? Out2<H, W, P, false, false, L> extends infer O ? (O extends [infer A extends number, infer B extends number] ? [OutC, A, B] : O) : never
        : Err<ChannelMsg<L, DimStr<InC>, DimStr<C>, ShapeStr<S>>>
      : Err<LayerRankMsg<L, "[N, C, H, W] or [C, H, W]", ShapeStr<S>>>;

/**
 * Runtime twin of {@link Conv2dShape}.
 *
 * @example
 * conv2dShape([4, 3, 32, 32], 3, 16, { kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1 }, "Conv2d(3→16, 3×3)"); // [4, 16, 32, 32]
 */
export function conv2dShape(s: readonly number[], inC: number, outC: number, p: Window2d, name: string): number[] {
  if (s.length !== 4 && s.length !== 3) throw new ShapeError(layerRankMsg(name, "[N, C, H, W] or [C, H, W]", shapeStr(s)));
  const [c, h, w] = s.slice(-3) as [number, number, number];
  if (c !== inC) throw new ShapeError(channelMsg(name, `${inC}`, `${c}`, shapeStr(s)));
  const ho = convOutSize(h, p.kh, p.sh, p.ph, p.dh, name);
  const wo = convOutSize(w, p.kw, p.sw, p.pw, p.dw, name);
  return s.length === 4 ? [s[0]!, outC, ho, wo] : [outC, ho, wo];
}

/**
 * Shape of a 2-D pooling layer on `[N, C, H, W]` or `[C, H, W]`.
 *
 * @example
 * type S = Pool2dShape<[4, 16, 32, 32], { kh: 2; kw: 2; sh: 2; sw: 2; ph: 0; pw: 0; dh: 1; dw: 1 }, false, "MaxPool2d(2)">; // [4, 16, 16, 16]
 */
export type Pool2dShape<S extends Shape, P extends Window2d, Ceil extends boolean, L extends string> = number extends S["length"]
  ? number[]
  : S extends readonly [...infer Pre extends Shape, infer H extends number, infer W extends number]
    ? Pre["length"] extends 1 | 2
      ? Out2<H, W, P, true, Ceil, L> extends infer O ? (O extends [infer A extends number, infer B extends number] ? [...Pre, A, B] : O) : never
      : Err<LayerRankMsg<L, "[N, C, H, W] or [C, H, W]", ShapeStr<S>>>
    : Err<LayerRankMsg<L, "[N, C, H, W] or [C, H, W]", ShapeStr<S>>>;

/**
 * Runtime twin of {@link Pool2dShape}.
 *
 * @example
 * pool2dShape([4, 16, 32, 32], { kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1 }, false, "MaxPool2d(2)"); // [4, 16, 16, 16]
 */
export function pool2dShape(s: readonly number[], p: Window2d, ceil: boolean, name: string): number[] {
  if (s.length !== 4 && s.length !== 3) throw new ShapeError(layerRankMsg(name, "[N, C, H, W] or [C, H, W]", shapeStr(s)));
  const [h, w] = s.slice(-2) as [number, number];
  return [...s.slice(0, -2), poolOutSize(h, p.kh, p.sh, p.ph, p.dh, ceil, name), poolOutSize(w, p.kw, p.sw, p.pw, p.dw, ceil, name)];
}

/** What a BatchNorm layer accepts, by its number of spatial dims. */
export type BatchNormWant<R extends 1 | 2> = R extends 1 ? "[N, C] or [N, C, L]" : "[N, C, H, W]";

/**
 * Shape of `BatchNorm1d(C)` (`[N, C]` or `[N, C, L]`) or `BatchNorm2d(C)` (`[N, C, H, W]`): unchanged.
 *
 * @example
 * type S = BatchNormShape<[8, 16, 5, 5], 16, 2, "BatchNorm2d(16)">; // [8, 16, 5, 5]
 */
export type BatchNormShape<S extends Shape, C extends number, R extends 1 | 2, L extends string> = number extends S["length"]
  ? number[]
  : (R extends 1 ? S["length"] extends 2 | 3 ? true : false : S["length"] extends 4 ? true : false) extends true
    ? S extends readonly [number, infer C2, ...Shape]
      ? DimsMayMatch<C2, C> extends true ? [...S] : Err<ChannelMsg<L, DimStr<C>, DimStr<C2>, ShapeStr<S>>>
      : never
    : Err<LayerRankMsg<L, BatchNormWant<R>, ShapeStr<S>>>;

/**
 * Runtime twin of {@link BatchNormShape}.
 *
 * @example
 * batchNormShape([8, 16, 5, 5], 16, 2, "BatchNorm2d(16)"); // [8, 16, 5, 5]
 */
export function batchNormShape(s: readonly number[], c: number, r: 1 | 2, name: string): number[] {
  const ok = r === 1 ? s.length === 2 || s.length === 3 : s.length === 4;
  if (!ok) throw new ShapeError(layerRankMsg(name, r === 1 ? "[N, C] or [N, C, L]" : "[N, C, H, W]", shapeStr(s)));
  if (s[1] !== c) throw new ShapeError(channelMsg(name, `${c}`, `${s[1]}`, shapeStr(s)));
  return [...s];
}

// ---------------------------------------------------------------------------------------------
// Layer specs and the Sequential chain
// ---------------------------------------------------------------------------------------------

/** Phantom description of a layer's shape function, carried as `__spec` by each layer type. */
export type LayerSpec =
  | { kind: "same" }
  | { kind: "linear"; in: number; out: number }
  | { kind: "lazyLinear"; out: number }
  | { kind: "flatten"; start: number; end: number }
  | { kind: "dim"; dim: number; name: string }
  | { kind: "conv2d"; in: number; out: number; window: Window2d; name: string }
  | { kind: "lazyConv2d"; out: number; window: Window2d; name: string }
  | { kind: "pool2d"; window: Window2d; ceil: boolean; name: string }
  | { kind: "batchNorm"; c: number; rank: 1 | 2; name: string }
  | { kind: "chain"; layers: readonly unknown[] }
  | { kind: "forward" };

/** Shape after one layer whose spec is `Sp` (or whose `forward` returns a fixed shape). */
export type ApplyLayer<L, S extends Shape> = L extends { readonly __spec: infer Sp }
  ? Sp extends { kind: "same" }
    ? [...S]
    : Sp extends { kind: "linear"; in: infer I extends number; out: infer O extends number }
      ? LinearShape<S, I, O>
      : Sp extends { kind: "lazyLinear"; out: infer O extends number }
        ? S extends readonly [...infer B extends Shape, number] ? [...B, O] : number[]
        : Sp extends { kind: "flatten"; start: infer A extends number; end: infer E extends number }
          ? FlattenShape<S, A, E>
          : Sp extends { kind: "dim"; dim: infer Dm extends number; name: infer Nm extends string }
            ? NormDim<Dm, S["length"], Nm> extends infer N ? (N extends Err<string> ? N : [...S]) : never
            : Sp extends { kind: "conv2d"; in: infer I extends number; out: infer O extends number; window: infer P extends Window2d; name: infer Nm extends string }
              ? Conv2dShape<S, I, O, P, Nm>
              : Sp extends { kind: "lazyConv2d"; out: infer O extends number; window: infer P extends Window2d; name: infer Nm extends string }
                ? S extends readonly [infer N0, infer C0, number, number] ? Conv2dShape<S, C0 & number, O, P, Nm> : Conv2dShape<S, S[0] & number, O, P, Nm>
                : Sp extends { kind: "pool2d"; window: infer P extends Window2d; ceil: infer Cl extends boolean; name: infer Nm extends string }
                  ? Pool2dShape<S, P, Cl, Nm>
                  : Sp extends { kind: "batchNorm"; c: infer C extends number; rank: infer R extends 1 | 2; name: infer Nm extends string }
                    ? BatchNormShape<S, C, R, Nm>
                    : Sp extends { kind: "chain"; layers: infer Ls extends readonly unknown[] }
                      ? ChainShape<Ls, S>
                      : ForwardShape<L>
  : ForwardShape<L>;

// A module whose forward is not shape-generic: its declared output shape.
type ForwardShape<L> = L extends { forward(...args: never[]): infer R } ? (R extends { readonly shape: infer S2 extends Shape } ? [...S2] : number[]) : number[];

type Prefix<M extends string, I extends string> = M extends `Sequential[${string}] ${string}` ? `Sequential[${I}]${M extends `Sequential${infer Rest}` ? Rest : M}` : `Sequential[${I}] ${M}`;

/**
 * Folds shape `S` through layers `Ls` (a Sequential's children, in order). The first layer that
 * doesn't fit makes it an `Err` whose message starts with its place: `Sequential[2] Linear(...): ...`
 * (nested Sequentials give `Sequential[1][0] ...`).
 *
 * @example
 * type S = ChainShape<[Linear<784, 256>, ReLU, Linear<256, 10>], [64, 784]>; // [64, 10]
 */
export type ChainShape<Ls extends readonly unknown[], S extends Shape, I extends 0[] = [], Names extends readonly string[] = []> = Ls extends readonly [infer H, ...infer T]
  ? // Matching `readonly [...infer X]` (not `R extends Shape`) keeps `[B, 256]` from deferring.
    ApplyLayer<H, S> extends infer R
    ? R extends Err<infer M>
      ? Err<Prefix<M, Names extends readonly [] ? `${I["length"]}` : Names[I["length"]] & string>>
      : R extends readonly [...infer X extends number[]]
        ? ChainShape<T, X, [...I, 0], Names>
        : number[]
    : never
  : S;

/**
 * Runtime twin of the chain's message prefix: `Sequential[2] ` before a layer's message
 * (merging nested prefixes into `Sequential[1][0] `).
 *
 * @example
 * chainMsg("2", "Linear(784→256): input last dim must be 784, got 783 in [64, 783]");
 */
export function chainMsg(place: string, msg: string): string {
  return msg.startsWith("Sequential[") ? `Sequential[${place}]${msg.slice("Sequential".length)}` : `Sequential[${place}] ${msg}`;
}
