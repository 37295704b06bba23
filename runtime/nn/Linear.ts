import type { Check, Ok } from "../../types/check.js";
import { ShapeError, ValueError } from "../../types/errors.js";
import { layerRankMsg, type LinearShape, linearShape } from "../../types/layers.js";
import type { Shape } from "../../types/shape.js";
import { empty } from "../creation.js";
import type { DType } from "../dtype.js";
import type { Tensor } from "../Tensor.js";
import { kaimingUniform_, uniform_ } from "./init.js";
import { ModuleBase } from "./Module.js";
import { Parameter, type ParameterTensor } from "./Parameter.js";

function checkFeatures(op: string, name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`${op}: ${name} must be a non-negative integer, got ${n}`);
}

// PyTorch's Linear.reset_parameters: kaiming_uniform_(a=√5) on the weight, then the bias from
// U(−1/√fanIn, 1/√fanIn) — in that order, so the same seed gives the same weights.
function resetLinear(weight: ParameterTensor, bias: ParameterTensor | null, inF: number): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const bound = inF > 0 ? 1 / Math.sqrt(inF) : 0;
    uniform_(bias, -bound, bound);
  }
}

// `x·Wᵀ + b`, after the run-time twin of the shape rule: Linear's and LazyLinear's forward.
function linear(x: Tensor<Shape, DType>, weight: ParameterTensor, bias: ParameterTensor | null, inF: number, outF: number): Tensor<Shape, DType> {
  linearShape(x.shape, inF, outF);
  const y = x.matmul(weight.t() as never);
  return bias ? y.add(bias as never) : y;
}

/** `bias` given positionally (PyTorch's third argument) or as `{ bias }`. */
export type BiasArg = boolean | { bias?: boolean };
const biasOf = (b: BiasArg | undefined) => (typeof b === "object" ? (b.bias ?? true) : (b ?? true));

/** A Linear layer's call: `[...B, In] → [...B, Out]`, checked at compile time. */
export interface Linear<I extends number, O extends number> {
  <S extends Shape, D extends DType>(x: Tensor<S, D> & Check<LinearShape<S, I, O>>): Tensor<Ok<LinearShape<S, I, O>>, D>;
}

/**
 * `y = x·Wᵀ + b` over the last dim: `[...B, inFeatures] → [...B, outFeatures]`. Weight
 * `[out, in]` and bias `[out]` start as PyTorch's (kaiming-uniform with a = √5; bias from
 * U(±1/√in)), so after the same `torch.manualSeed` they equal PyTorch 1.13's.
 *
 * @example
 * const fc = nn.Linear(784, 256);
 * fc(torch.randn(64, 784)).shape; // [64, 256]
 */
export class Linear<I extends number = number, O extends number = number> extends ModuleBase {
  declare readonly __spec: { kind: "linear"; in: I; out: O };
  readonly inFeatures: I;
  readonly outFeatures: O;
  weight: ParameterTensor<[O, I]>;
  bias: ParameterTensor<[O]> | null;

  constructor(inFeatures: I, outFeatures: O, bias?: BiasArg) {
    super();
    checkFeatures("Linear", "inFeatures", inFeatures);
    checkFeatures("Linear", "outFeatures", outFeatures);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = Parameter(empty(outFeatures, inFeatures)) as never;
    this.bias = biasOf(bias) ? (Parameter(empty(outFeatures)) as never) : null;
    this.resetParameters();
  }

  /** Re-draws the weights as at construction. */
  resetParameters(): void {
    resetLinear(this.weight, this.bias, this.inFeatures);
  }

  forward<S extends Shape, D extends DType>(x: Tensor<S, D> & Check<LinearShape<S, I, O>>): Tensor<Ok<LinearShape<S, I, O>>, D> {
    return linear(x, this.weight, this.bias, this.inFeatures, this.outFeatures) as never;
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? "True" : "False"}`;
  }
}

/** `nn.Linear(in, out, bias?)` without `new`; `m instanceof nn.Linear` narrows. */
export interface LinearFactory {
  <const I extends number, const O extends number>(inFeatures: I, outFeatures: O, bias?: BiasArg): Linear<I, O>;
  new <const I extends number, const O extends number>(inFeatures: I, outFeatures: O, bias?: BiasArg): Linear<I, O>;
  readonly prototype: Linear;
}

/** A LazyLinear layer's call: the in-dim comes from the first input. */
export interface LazyLinear<O extends number> {
  <S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S extends readonly [...infer B extends Shape, number] ? [...B, O] : number[], D>;
}

/**
 * A Linear layer whose `inFeatures` is taken from the first input it sees — and, in the type,
 * from the incoming shape. This is the compile-time answer to "run it once and print x.shape":
 * `nn.Linear(32 * 6 * 6, 128)` has an in-dim of plain `number` to tsc (arithmetic widens literal
 * types), so that check would only happen at run time; `nn.LazyLinear(128)` needs no number at all.
 * Parameters exist after the first call (create the optimizer after a dry run, as in PyTorch).
 *
 * @example
 * const fc = nn.LazyLinear(128);
 * fc(torch.randn(4, 1152)).shape; // [4, 128]; fc.inFeatures === 1152
 */
export class LazyLinear<O extends number = number> extends ModuleBase {
  declare readonly __spec: { kind: "lazyLinear"; out: O };
  inFeatures: number | undefined = undefined;
  readonly outFeatures: O;
  weight: ParameterTensor<[O, number]> | undefined = undefined;
  bias: ParameterTensor<[O]> | null | undefined = undefined;
  readonly #withBias: boolean;

  constructor(outFeatures: O, bias?: BiasArg) {
    super();
    checkFeatures("LazyLinear", "outFeatures", outFeatures);
    this.outFeatures = outFeatures;
    this.#withBias = biasOf(bias);
  }

  forward<S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S extends readonly [...infer B extends Shape, number] ? [...B, O] : number[], D> {
    if (this.weight === undefined) {
      if (x.ndim === 0) throw new ShapeError(layerRankMsg(`LazyLinear(?→${this.outFeatures})`, "at least 1-D", "[]"));
      const inF = x.shape[x.ndim - 1]!;
      this.inFeatures = inF;
      this.weight = Parameter(empty(this.outFeatures, inF)) as never;
      this.bias = this.#withBias ? (Parameter(empty(this.outFeatures)) as never) : null;
      resetLinear(this.weight!, this.bias ?? null, inF);
    }
    return linear(x, this.weight!, this.bias ?? null, this.inFeatures!, this.outFeatures) as never;
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures ?? "?"}, out_features=${this.outFeatures}, bias=${this.#withBias ? "True" : "False"}`;
  }
}

/** `nn.LazyLinear(out, bias?)` without `new`. */
export interface LazyLinearFactory {
  <const O extends number>(outFeatures: O, bias?: BiasArg): LazyLinear<O>;
  new <const O extends number>(outFeatures: O, bias?: BiasArg): LazyLinear<O>;
  readonly prototype: LazyLinear;
}
