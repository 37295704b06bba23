import type { Check, Ok } from "../../types/check.js";
import { ValueError } from "../../types/errors.js";
import { type Conv2dShape, conv2dShape, type Window2d } from "../../types/layers.js";
import type { Shape } from "../../types/shape.js";
import { empty } from "../creation.js";
import type { DType } from "../dtype.js";
import { type Conv2dOptions, conv2dOp, type Pair, pairArg, type PairH, type PairW } from "../ops/conv.js";
import type { Tensor } from "../Tensor.js";
import type { AnyTensor } from "../tensorTypes.js";
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from "./init.js";
import { ModuleBase } from "./Module.js";
import { Parameter, type ParameterTensor } from "./Parameter.js";


/** Keyword options of Conv2d (PyTorch's, camelCase). */
export interface Conv2dLayerOptions {
  stride?: Pair;
  padding?: Pair | "same" | "valid";
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

/** A layer option's type: the default when absent or undefined, else the value given. */
export type LayerOpt<O, K extends string, Def> = K extends keyof O ? ([O[K]] extends [undefined] ? Def : Exclude<O[K], undefined>) : Def;

/**
 * The window a Conv2d's options describe, for the shape rule. `padding: "same"` keeps H and W,
 * which the rule sees as a 1×1 window.
 */
export type ConvWindow<K, O> = LayerOpt<O, "padding", 0> extends "same"
  ? { kh: 1; kw: 1; sh: 1; sw: 1; ph: 0; pw: 0; dh: 1; dw: 1 }
  : {
      kh: PairH<K>; kw: PairW<K>;
      sh: PairH<LayerOpt<O, "stride", 1>>; sw: PairW<LayerOpt<O, "stride", 1>>;
      ph: LayerOpt<O, "padding", 0> extends "valid" ? 0 : PairH<LayerOpt<O, "padding", 0>>; pw: LayerOpt<O, "padding", 0> extends "valid" ? 0 : PairW<LayerOpt<O, "padding", 0>>;
      dh: PairH<LayerOpt<O, "dilation", 1>>; dw: PairW<LayerOpt<O, "dilation", 1>>;
    };

/** `Conv2d(3→16, 3×3)`: how a conv layer names itself in messages. */
export type ConvName<I extends number, O extends number, P extends Window2d> = `Conv2d(${I}→${O}, ${P["kh"]}×${P["kw"]})`;

const pair = (p: Pair, what: string): [number, number] => pairArg("Conv2d", what, p, -Infinity);

function windowOf(k: Pair, o: Conv2dLayerOptions): Window2d {
  if (o.padding === "same") return { kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1 };
  const [kh, kw] = pair(k, "kernelSize");
  const [sh, sw] = pair(o.stride ?? 1, "stride");
  const [ph, pw] = o.padding === "valid" ? [0, 0] : pair(o.padding ?? 0, "padding");
  const [dh, dw] = pair(o.dilation ?? 1, "dilation");
  return { kh, kw, sh, sw, ph, pw, dh, dw };
}

function resetConv(weight: ParameterTensor, bias: ParameterTensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const [fanIn] = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}

/** A Conv2d layer's call: `[N, InC, H, W] → [N, OutC, Ho, Wo]`, checked at compile time. */
export interface Conv2d<I extends number, O extends number, P extends Window2d> {
  <S extends Shape, D extends DType>(x: Tensor<S, D> & Check<Conv2dShape<S, I, O, P, ConvName<I, O, P>>>): Tensor<Ok<Conv2dShape<S, I, O, P, ConvName<I, O, P>>>, D>;
}

/**
 * 2-D convolution layer: weight `[out, in/groups, kH, kW]`, bias `[out]`, over inputs
 * `[N, in, H, W]` (or unbatched `[in, H, W]`) → `[N, out, Ho, Wo]` with
 * `Ho = ⌊(H + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1`, computed in the type, so a
 * wrong channel count or a kernel that doesn't fit is a compile error. Initialised as PyTorch
 * (kaiming-uniform with a = √5, bias from U(±1/√fanIn)).
 *
 * @example
 * const conv = nn.Conv2d(3, 16, 3, { padding: 1 });
 * conv(torch.randn(4, 3, 32, 32)).shape; // [4, 16, 32, 32]
 */
export class Conv2d<I extends number = number, O extends number = number, P extends Window2d = Window2d> extends ModuleBase {
  declare readonly __spec: { kind: "conv2d"; in: I; out: O; window: P; name: ConvName<I, O, P> };
  readonly inChannels: I;
  readonly outChannels: O;
  readonly kernelSize: [number, number];
  readonly options: Required<Omit<Conv2dLayerOptions, "bias">>;
  weight: ParameterTensor<[O, number, number, number]>;
  bias: ParameterTensor<[O]> | null;

  constructor(inChannels: I, outChannels: O, kernelSize: Pair, stride?: Pair | Conv2dLayerOptions, padding?: Pair | "same" | "valid", opts: Conv2dLayerOptions = {}) {
    super();
    const o: Conv2dLayerOptions = typeof stride === "object" && !Array.isArray(stride) ? { ...(stride as Conv2dLayerOptions) } : { ...opts, ...(stride !== undefined ? { stride: stride as Pair } : {}), ...(padding !== undefined ? { padding } : {}) };
    for (const [n, v] of [["inChannels", inChannels], ["outChannels", outChannels]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new ValueError(`Conv2d: ${n} must be a positive integer, got ${v}`);
    }
    const groups = o.groups ?? 1;
    if (!Number.isInteger(groups) || groups <= 0 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new ValueError(`Conv2d: groups must be a positive integer dividing inChannels and outChannels, got groups=${groups} for ${inChannels}→${outChannels}`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(kernelSize, "kernelSize");
    for (const k of this.kernelSize) if (k <= 0) throw new ValueError(`Conv2d: kernelSize must be positive, got ${JSON.stringify(kernelSize)}`);
    this.options = { stride: o.stride ?? 1, padding: o.padding ?? 0, dilation: o.dilation ?? 1, groups };
    windowOf(kernelSize, o); // validates stride/padding/dilation
    this.weight = Parameter(empty(outChannels, inChannels / groups, this.kernelSize[0], this.kernelSize[1])) as never;
    this.bias = (o.bias ?? true) ? (Parameter(empty(outChannels)) as never) : null;
    resetConv(this.weight, this.bias);
  }

  /** Re-draws the weights as at construction. */
  resetParameters(): void {
    resetConv(this.weight, this.bias);
  }

  #name(): string {
    return `Conv2d(${this.inChannels}→${this.outChannels}, ${this.kernelSize[0]}×${this.kernelSize[1]})`;
  }

  forward<S extends Shape, D extends DType>(x: Tensor<S, D> & Check<Conv2dShape<S, I, O, P, ConvName<I, O, P>>>): Tensor<Ok<Conv2dShape<S, I, O, P, ConvName<I, O, P>>>, D> {
    const win = windowOf(this.kernelSize, this.options);
    conv2dShape(x.shape, this.inChannels, this.outChannels, win, this.#name());
    return conv2dOp(x as AnyTensor, this.weight, this.bias, this.options as Conv2dOptions) as never;
  }

  override extraRepr(): string {
    const o = this.options;
    const fmt = (p: Pair | string) => (typeof p === "string" ? p : typeof p === "number" ? `(${p}, ${p})` : `(${p[0]}, ${p[1]})`);
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${fmt(this.kernelSize)}, stride=${fmt(o.stride)}`;
    if (o.padding !== 0) s += `, padding=${fmt(o.padding)}`;
    if (o.dilation !== 1) s += `, dilation=${fmt(o.dilation)}`;
    if (o.groups !== 1) s += `, groups=${o.groups}`;
    if (!this.bias) s += ", bias=False";
    return s;
  }
}

/** `nn.Conv2d(in, out, kernelSize, { stride, padding, dilation, groups, bias })` without `new`. */
export interface Conv2dFactory {
  <const I extends number, const O extends number, const K extends Pair, const Opts extends Conv2dLayerOptions = {}>(inChannels: I, outChannels: O, kernelSize: K, opts?: Opts): Conv2d<I, O, ConvWindow<K, Opts>>;
  <const I extends number, const O extends number, const K extends Pair, const St extends Pair, const Pd extends Pair | "same" | "valid" = 0>(inChannels: I, outChannels: O, kernelSize: K, stride: St, padding?: Pd): Conv2d<I, O, ConvWindow<K, { stride: St; padding: Pd }>>;
  new <const I extends number, const O extends number, const K extends Pair, const Opts extends Conv2dLayerOptions = {}>(inChannels: I, outChannels: O, kernelSize: K, opts?: Opts): Conv2d<I, O, ConvWindow<K, Opts>>;
  readonly prototype: Conv2d;
}

/** A LazyConv2d's call: input channels taken from the input. */
export interface LazyConv2d<O extends number, P extends Window2d> {
  <S extends Shape, D extends DType>(x: Tensor<S, D> & Check<Conv2dShape<S, ChannelsOf<S>, O, P, `LazyConv2d(?→${O})`>>): Tensor<Ok<Conv2dShape<S, ChannelsOf<S>, O, P, `LazyConv2d(?→${O})`>>, D>;
}
type ChannelsOf<S extends Shape> = S extends readonly [number, infer C extends number, number, number] ? C : S extends readonly [infer C extends number, number, number] ? C : number;

/**
 * A Conv2d whose `inChannels` comes from the first input (and, in the type, from the incoming
 * shape), as `nn.LazyConv2d`. Parameters exist after the first call.
 *
 * @example
 * const conv = nn.LazyConv2d(16, 3);
 * conv(torch.randn(4, 3, 32, 32)).shape; // [4, 16, 30, 30]; conv.inChannels === 3
 */
export class LazyConv2d<O extends number = number, P extends Window2d = Window2d> extends ModuleBase {
  declare readonly __spec: { kind: "lazyConv2d"; out: O; window: P; name: `LazyConv2d(?→${O})` };
  inChannels: number | undefined = undefined;
  readonly outChannels: O;
  readonly kernelSize: Pair;
  readonly #opts: Conv2dLayerOptions;
  #conv: Conv2d | undefined = undefined;
  weight: ParameterTensor | undefined = undefined;
  bias: ParameterTensor | null | undefined = undefined;

  constructor(outChannels: O, kernelSize: Pair, opts: Conv2dLayerOptions = {}) {
    super();
    if (!Number.isInteger(outChannels) || outChannels <= 0) throw new ValueError(`LazyConv2d: outChannels must be a positive integer, got ${outChannels}`);
    this.outChannels = outChannels;
    this.kernelSize = kernelSize;
    this.#opts = opts;
  }

  forward<S extends Shape, D extends DType>(x: Tensor<S, D> & Check<Conv2dShape<S, ChannelsOf<S>, O, P, `LazyConv2d(?→${O})`>>): Tensor<Ok<Conv2dShape<S, ChannelsOf<S>, O, P, `LazyConv2d(?→${O})`>>, D> {
    if (!this.#conv) {
      if (x.ndim !== 4 && x.ndim !== 3) throw new ValueError(`LazyConv2d(?→${this.outChannels}): input must be [N, C, H, W] or [C, H, W], got [${x.shape.join(", ")}]`);
      this.inChannels = x.shape[x.ndim - 3]!;
      this.#conv = new Conv2d(this.inChannels, this.outChannels, this.kernelSize, this.#opts);
      this.weight = this.#conv.weight;
      this.bias = this.#conv.bias;
    }
    return (this.#conv as unknown as (a: unknown) => never)(x);
  }

  override extraRepr(): string {
    return this.#conv ? this.#conv.extraRepr() : `?, ${this.outChannels}, kernel_size=${JSON.stringify(this.kernelSize)}`;
  }
}

/** `nn.LazyConv2d(out, kernelSize, { stride, padding, dilation, groups, bias })` without `new`. */
export interface LazyConv2dFactory {
  <const O extends number, const K extends Pair, const Opts extends Conv2dLayerOptions = {}>(outChannels: O, kernelSize: K, opts?: Opts): LazyConv2d<O, ConvWindow<K, Opts>>;
  readonly prototype: LazyConv2d;
}
