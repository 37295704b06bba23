import type { Check, Ok } from "../../types/check.js";
import { type Pool2dShape, pool2dShape, type Window2d } from "../../types/layers.js";
import type { Shape } from "../../types/shape.js";
import type { DType } from "../dtype.js";
import { type Pair, pairArg, type PairH, type PairW } from "../ops/conv.js";
import type { LayerOpt } from "./Conv2d.js";
import { avgPool2dOp, maxPool2dOp } from "../ops/pool.js";
import type { Tensor } from "../Tensor.js";
import type { AnyTensor } from "../tensorTypes.js";
import { ModuleBase } from "./Module.js";


/** Keyword options of MaxPool2d. */
export interface MaxPool2dLayerOptions {
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}
/** Keyword options of AvgPool2d. */
export interface AvgPool2dLayerOptions {
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

/** The window of a pooling layer (stride defaults to the kernel size). */
export type PoolWindow<K, St, O> = {
  kh: PairH<K>; kw: PairW<K>;
  sh: PairH<[St] extends [Pair] ? St : K>; sw: PairW<[St] extends [Pair] ? St : K>;
  ph: PairH<LayerOpt<O, "padding", 0>>; pw: PairW<LayerOpt<O, "padding", 0>>;
  dh: PairH<LayerOpt<O, "dilation", 1>>; dw: PairW<LayerOpt<O, "dilation", 1>>;
};

const pair = (op: string, p: Pair, what: string): [number, number] => pairArg(op, what, p, -Infinity);

const fmtK = (p: Pair) => (typeof p === "number" ? `${p}` : `(${p[0]}, ${p[1]})`);

abstract class Pool2d<P extends Window2d, Ceil extends boolean> extends ModuleBase {
  declare readonly __spec: { kind: "pool2d"; window: P; ceil: Ceil; name: string };
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly ceilMode: boolean;
  constructor(op: string, kernelSize: Pair, stride: Pair | null | undefined, padding: Pair | undefined, ceilMode: boolean | undefined) {
    super();
    pair(op, kernelSize, "kernelSize");
    this.kernelSize = kernelSize;
    this.stride = stride ?? kernelSize;
    this.padding = padding ?? 0;
    this.ceilMode = ceilMode ?? false;
  }
  protected _window(dilation: Pair): Window2d {
    const op = this.constructor.name;
    const [kh, kw] = pair(op, this.kernelSize, "kernelSize");
    const [sh, sw] = pair(op, this.stride, "stride");
    const [ph, pw] = pair(op, this.padding, "padding");
    const [dh, dw] = pair(op, dilation, "dilation");
    return { kh, kw, sh, sw, ph, pw, dh, dw };
  }
  protected _label(): string {
    return `${this.constructor.name}(${fmtK(this.kernelSize)})`;
  }
}

/** A pooling layer's call: `[N, C, H, W] → [N, C, Ho, Wo]`, checked at compile time. */
export interface MaxPool2d<P extends Window2d, Ceil extends boolean> {
  <S extends Shape, D extends DType>(x: Tensor<S, D> & Check<Pool2dShape<S, P, Ceil, "MaxPool2d">>): Tensor<Ok<Pool2dShape<S, P, Ceil, "MaxPool2d">>, D>;
}

/**
 * Max pooling over `kernelSize` windows (`stride` defaults to the kernel size), as `nn.MaxPool2d`:
 * `[N, C, H, W] → [N, C, Ho, Wo]`, computed in the type.
 *
 * @example
 * nn.MaxPool2d(2, 2)(torch.randn(4, 16, 32, 32)).shape; // [4, 16, 16, 16]
 */
export class MaxPool2d<P extends Window2d = Window2d, Ceil extends boolean = boolean> extends Pool2d<P, Ceil> {
  declare readonly __spec: { kind: "pool2d"; window: P; ceil: Ceil; name: "MaxPool2d" };
  readonly dilation: Pair;
  constructor(kernelSize: Pair, stride?: Pair | null | MaxPool2dLayerOptions, opts: MaxPool2dLayerOptions = {}) {
    const o = typeof stride === "object" && stride !== null && !Array.isArray(stride) ? (stride as MaxPool2dLayerOptions) : opts;
    const st = typeof stride === "object" && stride !== null && !Array.isArray(stride) ? undefined : (stride as Pair | null | undefined);
    super("MaxPool2d", kernelSize, st, o.padding, o.ceilMode);
    this.dilation = o.dilation ?? 1;
  }
  forward<S extends Shape, D extends DType>(x: Tensor<S, D> & Check<Pool2dShape<S, P, Ceil, "MaxPool2d">>): Tensor<Ok<Pool2dShape<S, P, Ceil, "MaxPool2d">>, D> {
    pool2dShape(x.shape, this._window(this.dilation), this.ceilMode, "MaxPool2d");
    return maxPool2dOp(x as AnyTensor, this.kernelSize, this.stride, { padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode })[0] as never;
  }
  override extraRepr(): string {
    return `kernel_size=${fmtK(this.kernelSize)}, stride=${fmtK(this.stride)}, padding=${fmtK(this.padding)}, dilation=${fmtK(this.dilation)}, ceil_mode=${this.ceilMode ? "True" : "False"}`;
  }
}

/** See {@link MaxPool2d}. */
export interface AvgPool2d<P extends Window2d, Ceil extends boolean> {
  <S extends Shape, D extends DType>(x: Tensor<S, D> & Check<Pool2dShape<S, P, Ceil, "AvgPool2d">>): Tensor<Ok<Pool2dShape<S, P, Ceil, "AvgPool2d">>, D>;
}

/**
 * Average pooling, as `nn.AvgPool2d` (`countIncludePad`, `divisorOverride` as PyTorch).
 *
 * @example
 * nn.AvgPool2d(2)(torch.randn(4, 16, 32, 32)).shape; // [4, 16, 16, 16]
 */
export class AvgPool2d<P extends Window2d = Window2d, Ceil extends boolean = boolean> extends Pool2d<P, Ceil> {
  declare readonly __spec: { kind: "pool2d"; window: P; ceil: Ceil; name: "AvgPool2d" };
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;
  constructor(kernelSize: Pair, stride?: Pair | null | AvgPool2dLayerOptions, opts: AvgPool2dLayerOptions = {}) {
    const o = typeof stride === "object" && stride !== null && !Array.isArray(stride) ? (stride as AvgPool2dLayerOptions) : opts;
    const st = typeof stride === "object" && stride !== null && !Array.isArray(stride) ? undefined : (stride as Pair | null | undefined);
    super("AvgPool2d", kernelSize, st, o.padding, o.ceilMode);
    this.countIncludePad = o.countIncludePad ?? true;
    this.divisorOverride = o.divisorOverride ?? null;
  }
  forward<S extends Shape, D extends DType>(x: Tensor<S, D> & Check<Pool2dShape<S, P, Ceil, "AvgPool2d">>): Tensor<Ok<Pool2dShape<S, P, Ceil, "AvgPool2d">>, D> {
    pool2dShape(x.shape, this._window(1), this.ceilMode, "AvgPool2d");
    return avgPool2dOp(x as AnyTensor, this.kernelSize, this.stride, {
      padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad, ...(this.divisorOverride !== null ? { divisorOverride: this.divisorOverride } : {}),
    }) as never;
  }
  override extraRepr(): string {
    return `kernel_size=${fmtK(this.kernelSize)}, stride=${fmtK(this.stride)}, padding=${fmtK(this.padding)}`;
  }
}

/** `nn.MaxPool2d(kernelSize, stride?, { padding, dilation, ceilMode })` without `new`. */
export interface MaxPool2dFactory {
  <const K extends Pair, const St extends Pair | null | undefined = undefined, const O extends MaxPool2dLayerOptions = {}>(kernelSize: K, stride?: St, opts?: O): MaxPool2d<PoolWindow<K, St, O>, LayerOpt<O, "ceilMode", false>>;
  <const K extends Pair, const O extends MaxPool2dLayerOptions = {}>(kernelSize: K, opts: O): MaxPool2d<PoolWindow<K, undefined, O>, LayerOpt<O, "ceilMode", false>>;
  readonly prototype: MaxPool2d;
}
/** `nn.AvgPool2d(kernelSize, stride?, { padding, ceilMode, countIncludePad, divisorOverride })` without `new`. */
export interface AvgPool2dFactory {
  <const K extends Pair, const St extends Pair | null | undefined = undefined, const O extends AvgPool2dLayerOptions = {}>(kernelSize: K, stride?: St, opts?: O): AvgPool2d<PoolWindow<K, St, O>, LayerOpt<O, "ceilMode", false>>;
  <const K extends Pair, const O extends AvgPool2dLayerOptions = {}>(kernelSize: K, opts: O): AvgPool2d<PoolWindow<K, undefined, O>, LayerOpt<O, "ceilMode", false>>;
  readonly prototype: AvgPool2d;
}
