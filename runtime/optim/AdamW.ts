/**
 * AdamW (Adam with decoupled weight decay): PyTorch 1.13's `torch.optim.AdamW` single-tensor
 * implementation. The update shares Adam's code (`AdamBase`).
 */
import type { AnyTensor } from "../tensorTypes.js";
import { AdamBase, type AdamOptions } from "./Adam.js";
import { type CallableClass, callable } from "./callable.js";
import type { ParamGroupInput } from "./Optimizer.js";

/** The class behind {@link AdamW} (use `optim.AdamW(...)`; `instanceof optim.AdamW` works). */
export class AdamWOptimizer extends AdamBase {
  protected readonly decoupled: boolean = true;
  protected override get displayName(): string {
    return "AdamW";
  }
  constructor(params: Iterable<AnyTensor> | Iterable<ParamGroupInput<AdamOptions>>, options: Partial<AdamOptions> | number = {}) {
    super(params, options, "AdamW", 1e-2);
  }
}

/** `optim.AdamW`: callable with or without `new`, and an `instanceof` target. */
export type AdamWConstructor = CallableClass<[params: Iterable<AnyTensor> | Iterable<ParamGroupInput<AdamOptions>>, options?: Partial<AdamOptions> | number], AdamWOptimizer>;

/**
 * AdamW (Adam with decoupled weight decay), PyTorch 1.13's `torch.optim.AdamW`. As
 * {@link Adam}, except that the decay shrinks the weights instead of entering the gradient:
 *
 * ```
 * θ ← θ·(1 − γλ)                   first, at every step
 * g ← ∇θ f(θ)                      (−∇θ f(θ) with maximize; no λθ term)
 * m, v, v̂ᵐᵃˣ and θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)   as Adam
 * ```
 *
 * Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 1e-2.
 *
 * @example
 * const optimizer = optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
 * optimizer.zeroGrad();
 * lossFn(model(input), target).backward();
 * optimizer.step();
 */
export const AdamW = callable(AdamWOptimizer) as unknown as AdamWConstructor;
/** An AdamW optimizer (the type of `optim.AdamW(...)`). */
export type AdamW = AdamWOptimizer;
