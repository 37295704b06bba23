/**
 * Adam (and, sharing its code, AdamW): PyTorch 1.13's `torch.optim.Adam` single-tensor
 * implementation, bias correction included.
 */
import { ValueError } from "../../types/errors.js";
import { tensor, zerosLike } from "../creation.js";
import { Tensor } from "../Tensor.js";
import type { AnyTensor } from "../tensorTypes.js";
import { type CallableClass, callable } from "./callable.js";
import { checkBool, checkKeys, checkNonNegative, checkStateTensor, describe, Optimizer, type ParamGroup, type ParamGroupInput } from "./Optimizer.js";

/** The options of {@link Adam} and {@link AdamW} (each group has all of them). */
export interface AdamOptions {
  /** Learning rate γ (default 1e-3). */
  lr: number;
  /** Decay rates β₁, β₂ of the moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** ε added to the denominator (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient; AdamW: decoupled decay (defaults 0 and 1e-2). */
  weightDecay: number;
  /** Use the running maximum of the second moment (AMSGrad) (default false). */
  amsgrad: boolean;
  /** Ascend the objective instead of descending it (default false). */
  maximize: boolean;
}

/**
 * Per-parameter state of {@link Adam} / {@link AdamW}: the step count (a 0-d float32 tensor, as
 * PyTorch's), the first and second moment estimates, and their running maximum with amsgrad.
 */
export interface AdamState {
  step: Tensor<[], "float32">;
  expAvg: AnyTensor;
  expAvgSq: AnyTensor;
  maxExpAvgSq?: AnyTensor;
}

const KEYS = ["lr", "betas", "eps", "weightDecay", "amsgrad", "maximize"] as const;

/** @internal What Adam and AdamW share: options, validation, state; `decoupled` picks AdamW's decay. */
export abstract class AdamBase extends Optimizer<AdamOptions, AdamState> {
  protected abstract readonly decoupled: boolean;

  constructor(params: Iterable<AnyTensor> | Iterable<ParamGroupInput<AdamOptions>>, options: Partial<AdamOptions> | number, name: string, weightDecay: number) {
    const o = typeof options === "number" ? { lr: options } : options;
    checkKeys(name, o, KEYS);
    super(params, {
      lr: o.lr ?? 1e-3,
      betas: o.betas ?? [0.9, 0.999],
      eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? weightDecay,
      amsgrad: o.amsgrad ?? false,
      maximize: o.maximize ?? false,
    });
  }

  protected override checkGroup(g: Partial<AdamOptions>, op: string, where: string): void {
    super.checkGroup(g, op, where);
    checkNonNegative(op, "eps", g.eps, where);
    const b: unknown = g.betas;
    if (!Array.isArray(b) || b.length !== 2) throw new ValueError(`${op}: betas must be two numbers [beta1, beta2], got betas=${describe(b)}${where}`);
    b.forEach((v: unknown, i) => {
      if (typeof v !== "number" || !(v >= 0 && v < 1)) throw new ValueError(`${op}: betas[${i}] must be in [0, 1), got betas[${i}]=${describe(v)}${where}`);
    });
    checkNonNegative(op, "weightDecay", g.weightDecay, where);
    checkBool(op, "amsgrad", g.amsgrad, where);
    checkBool(op, "maximize", g.maximize, where);
  }

  protected override updateGroup(group: ParamGroup<AdamOptions>, params: AnyTensor[]): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    for (const p of params) {
      let grad: AnyTensor = maximize ? p.grad!.neg() : p.grad!;
      const state = this.stateOf(p, () => ({ step: tensor(0, { dtype: "float32" }), expAvg: zerosLike(p), expAvgSq: zerosLike(p) }));
      if (amsgrad && !state.maxExpAvgSq) state.maxExpAvgSq = zerosLike(p);
      const { expAvg, expAvgSq } = state;
      state.step.add_(1);
      if (this.decoupled) p.mul_(1 - lr * weightDecay);
      else if (weightDecay !== 0) grad = grad.add(p, { alpha: weightDecay });
      expAvg.mul_(beta1).add_(grad, { alpha: 1 - beta1 });
      // addcmul_(grad, grad, value=1 − β₂): self + (value·grad)·grad, in that order.
      expAvgSq.mul_(beta2).add_(grad.mul(1 - beta2).mul(grad));
      const step = state.step.item();
      const biasCorrection1 = 1 - beta1 ** step;
      const biasCorrection2 = 1 - beta2 ** step;
      const stepSize = lr / biasCorrection1;
      const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
      let denom: AnyTensor;
      if (amsgrad) {
        const maxSq = state.maxExpAvgSq!;
        maxSq.copy_(maxSq.maximum(expAvgSq));
        denom = maxSq.sqrt().div(biasCorrection2Sqrt).add_(eps);
      } else {
        denom = expAvgSq.sqrt().div(biasCorrection2Sqrt).add_(eps);
      }
      // addcdiv_(expAvg, denom, value=−stepSize): self + (value·expAvg)/denom, in that order.
      p.add_(expAvg.mul(-stepSize).div(denom));
    }
  }

  protected override checkState(state: Record<string, unknown>, p: AnyTensor, op: string, where: string): AdamState {
    for (const k of Object.keys(state)) {
      if (!["step", "expAvg", "expAvgSq", "maxExpAvgSq"].includes(k)) throw new ValueError(`${op}: ${this.displayName}'s state has step, expAvg, expAvgSq, maxExpAvgSq, got ${k}=${describe(state[k])}${where}`);
    }
    let step = state.step;
    // Older PyTorch state dicts hold the step as a number; it becomes a float32 tensor (as 1.13 does).
    if (typeof step === "number" && Number.isInteger(step) && step >= 0) step = tensor(step, { dtype: "float32" });
    if (!(step instanceof Tensor) || step.numel() !== 1) throw new ValueError(`${op}: step must be a one-element tensor or a number, got step=${describe(step)}${where}`);
    const s: AdamState = {
      step: (step.ndim === 0 && step.dtype === "float32" ? step : step.reshape([]).to("float32")) as Tensor<[], "float32">,
      expAvg: checkStateTensor(op, "expAvg", state.expAvg, p, where),
      expAvgSq: checkStateTensor(op, "expAvgSq", state.expAvgSq, p, where),
    };
    if (state.maxExpAvgSq !== undefined) s.maxExpAvgSq = checkStateTensor(op, "maxExpAvgSq", state.maxExpAvgSq, p, where);
    return s;
  }
}

/** The class behind {@link Adam} (use `optim.Adam(...)`; `instanceof optim.Adam` works). */
export class AdamOptimizer extends AdamBase {
  protected readonly decoupled: boolean = false;
  protected override get displayName(): string {
    return "Adam";
  }
  constructor(params: Iterable<AnyTensor> | Iterable<ParamGroupInput<AdamOptions>>, options: Partial<AdamOptions> | number = {}) {
    super(params, options, "Adam", 0);
  }
}

/** `optim.Adam`: callable with or without `new`, and an `instanceof` target. */
export type AdamConstructor = CallableClass<[params: Iterable<AnyTensor> | Iterable<ParamGroupInput<AdamOptions>>, options?: Partial<AdamOptions> | number], AdamOptimizer>;

/**
 * Adam, PyTorch 1.13's `torch.optim.Adam`. With γ = lr, (β₁, β₂) = betas, λ = weightDecay,
 * m₀ = v₀ = v̂₀ᵐᵃˣ = 0, at step t for each parameter θ that has a gradient:
 *
 * ```
 * g ← ∇θ f(θ)                      (−∇θ f(θ) with maximize)
 * g ← g + λ·θ                       if λ ≠ 0
 * m ← β₁·m + (1 − β₁)·g
 * v ← β₂·v + (1 − β₂)·g²
 * v̂ᵐᵃˣ ← max(v̂ᵐᵃˣ, v)               with amsgrad (then used for v below)
 * θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 * ```
 *
 * Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0. Errors as PyTorch: lr, eps,
 * weightDecay must be >= 0 (and finite), each beta in [0, 1).
 *
 * @example
 * const optimizer = optim.Adam(model.parameters(), { lr: 1e-3 });
 * optimizer.zeroGrad();
 * lossFn(model(input), target).backward();
 * optimizer.step();
 */
export const Adam = callable(AdamOptimizer) as unknown as AdamConstructor;
/** An Adam optimizer (the type of `optim.Adam(...)`). */
export type Adam = AdamOptimizer;
