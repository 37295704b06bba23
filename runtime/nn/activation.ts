import type { Check, Ok } from "../../types/check.js";
import { type DimCheck } from "../tensorTypes.js";
import { ValueError } from "../../types/errors.js";
import type { FlattenShape } from "../../types/movement.js";
import type { Shape } from "../../types/shape.js";
import type { DType } from "../dtype.js";
import type { FloatOf } from "../promote.js";
import type { Tensor } from "../Tensor.js";
import type { AnyTensor } from "../tensorTypes.js";
import { ModuleBase, pyFloat } from "./Module.js";


/**
 * `max(x, 0)` elementwise.
 *
 * @example
 * nn.ReLU()(torch.tensor([-1, 2])); // tensor([0, 2])
 */
export class ReLU extends ModuleBase {
  declare readonly __spec: { kind: "same" };
  forward<S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, D> {
    return x.relu();
  }
}
export interface ReLU {
  <S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, D>;
}

/**
 * `x` where positive, `negativeSlope·x` elsewhere.
 *
 * @example
 * nn.LeakyReLU(0.1)(torch.tensor([-1.5, 2]));  // tensor([-0.1500,  2.0000])
 */
export class LeakyReLU extends ModuleBase {
  declare readonly __spec: { kind: "same" };
  readonly negativeSlope: number;
  constructor(negativeSlope: number | { negativeSlope?: number } = 0.01) {
    super();
    this.negativeSlope = typeof negativeSlope === "object" ? (negativeSlope.negativeSlope ?? 0.01) : negativeSlope;
    if (!Number.isFinite(this.negativeSlope)) throw new ValueError(`LeakyReLU: negativeSlope must be finite, got ${this.negativeSlope}`);
  }
  forward<S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, D> {
    const a = x as AnyTensor;
    // relu(x) − slope·relu(−x): a composite, so autograd comes for free.
    return a.relu().sub(a.neg().relu().mul(this.negativeSlope)) as never;
  }
  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}
export interface LeakyReLU {
  <S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, D>;
}

/** `1 / (1 + e⁻ˣ)` elementwise. */
export class Sigmoid extends ModuleBase {
  declare readonly __spec: { kind: "same" };
  forward<S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, FloatOf<D>> {
    return x.sigmoid();
  }
}
export interface Sigmoid {
  <S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, FloatOf<D>>;
}

/** `tanh(x)` elementwise. */
export class Tanh extends ModuleBase {
  declare readonly __spec: { kind: "same" };
  forward<S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, FloatOf<D>> {
    return x.tanh();
  }
}
export interface Tanh {
  <S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, FloatOf<D>>;
}

/** The input, unchanged (a placeholder layer). */
export class Identity extends ModuleBase {
  declare readonly __spec: { kind: "same" };
  forward<S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, D> {
    return x;
  }
}
export interface Identity {
  <S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, D>;
}

/** A layer normalising along one dim (`dim` given positionally or as `{ dim }`). */
abstract class AlongDim<Dm extends number> extends ModuleBase {
  readonly dim: Dm;
  constructor(dim: Dm | { dim: Dm }) {
    super();
    this.dim = typeof dim === "object" ? dim.dim : dim;
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * `eˣ / Σ eˣ` along `dim`.
 *
 * @example
 * nn.Softmax(1)(torch.randn(4, 10)).sum(1); // ones
 */
export class Softmax<Dm extends number = number> extends AlongDim<Dm> {
  declare readonly __spec: { kind: "dim"; dim: Dm; name: "Softmax" };
  forward<S extends Shape, D extends DType>(x: Tensor<S, D> & DimCheck<S, Dm, "Softmax">): Tensor<S, FloatOf<D>> {
    return (x as AnyTensor).softmax(this.dim as never) as never;
  }
}
export interface Softmax<Dm extends number> {
  <S extends Shape, D extends DType>(x: Tensor<S, D> & DimCheck<S, Dm, "Softmax">): Tensor<S, FloatOf<D>>;
}

/** `log(softmax(x))` along `dim`. */
export class LogSoftmax<Dm extends number = number> extends AlongDim<Dm> {
  declare readonly __spec: { kind: "dim"; dim: Dm; name: "LogSoftmax" };
  forward<S extends Shape, D extends DType>(x: Tensor<S, D> & DimCheck<S, Dm, "LogSoftmax">): Tensor<S, FloatOf<D>> {
    return (x as AnyTensor).logSoftmax(this.dim as never) as never;
  }
}
export interface LogSoftmax<Dm extends number> {
  <S extends Shape, D extends DType>(x: Tensor<S, D> & DimCheck<S, Dm, "LogSoftmax">): Tensor<S, FloatOf<D>>;
}

/**
 * Flattens dims `startDim..endDim` (default 1..-1: everything but the batch), as `nn.Flatten`.
 *
 * @example
 * nn.Flatten()(torch.zeros(4, 3, 10)).shape;       // [4, 30]
 * nn.Flatten(0, -1)(torch.zeros(4, 3, 10)).shape;  // [120]
 * nn.Flatten({ startDim: 2 })(torch.zeros(5, 2, 3, 4)).shape; // [5, 2, 12]
 */
export class Flatten<A extends number = 1, E extends number = -1> extends ModuleBase {
  declare readonly __spec: { kind: "flatten"; start: A; end: E };
  readonly startDim: A;
  readonly endDim: E;
  constructor(startDim?: A | { startDim?: A; endDim?: E }, endDim?: E) {
    super();
    if (typeof startDim === "object") {
      this.startDim = (startDim.startDim ?? 1) as A;
      this.endDim = (startDim.endDim ?? -1) as E;
    } else {
      this.startDim = (startDim ?? 1) as A;
      this.endDim = (endDim ?? -1) as E;
    }
  }
  forward<S extends Shape, D extends DType>(x: Tensor<S, D> & Check<FlattenShape<S, A, E>>): Tensor<Ok<FlattenShape<S, A, E>>, D> {
    return (x as AnyTensor).flatten(this.startDim, this.endDim) as never;
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
export interface Flatten<A extends number, E extends number> {
  <S extends Shape, D extends DType>(x: Tensor<S, D> & Check<FlattenShape<S, A, E>>): Tensor<Ok<FlattenShape<S, A, E>>, D>;
}
