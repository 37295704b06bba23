/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum, weight decay and
 * maximize: PyTorch 1.13's `torch.optim.SGD` (its single-tensor implementation).
 */
import { ValueError } from "../../types/errors.js";
import { cpu } from "../backend/cpu.js";
import { sgdMomentumSource } from "../codegen/js.js";
import { addScaledInPlace, fitScalar, scaledSumInPlace } from "../ops/binary.js";
import type { AnyTensor } from "../tensorTypes.js";
import { callable } from "./callable.js";
import { checkBool, checkFinite, checkKeys, checkNonNegative, checkStateTensor, describe, Optimizer, type ParamGroup, type ParamGroupInput } from "./Optimizer.js";

/** The options of {@link SGD} (each group has all of them). */
export interface SGDOptions {
  /** Learning rate γ (required: in the options or in every param group). */
  lr: number;
  /** Momentum factor μ (default 0: no momentum buffer). */
  momentum: number;
  /** Dampening τ of the gradient added to the momentum buffer (default 0). */
  dampening: number;
  /** L2 penalty λ added to the gradient: g + λθ (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening = 0). */
  nesterov: boolean;
  /** Ascend the objective instead of descending it (default false). */
  maximize: boolean;
}

/** Per-parameter state of {@link SGD}: the momentum buffer (null without momentum). */
export interface SGDState {
  momentumBuffer: AnyTensor | null;
}

const KEYS = ["lr", "momentum", "dampening", "weightDecay", "nesterov", "maximize"] as const;

/**
 * The class behind {@link SGD} (use `optim.SGD(...)`; `instanceof optim.SGD` works).
 */
export class SGDOptimizer extends Optimizer<SGDOptions, SGDState> {
  protected override get displayName(): string {
    return "SGD";
  }

  constructor(params: Iterable<AnyTensor> | Iterable<ParamGroupInput<SGDOptions>>, options: Partial<SGDOptions> | number = {}) {
    const o = typeof options === "number" ? { lr: options } : options;
    checkKeys("SGD", o, KEYS);
    super(params, {
      ...(o.lr !== undefined ? { lr: o.lr } : {}),
      momentum: o.momentum ?? 0,
      dampening: o.dampening ?? 0,
      weightDecay: o.weightDecay ?? 0,
      nesterov: o.nesterov ?? false,
      maximize: o.maximize ?? false,
    });
  }

  protected override checkGroup(g: Partial<SGDOptions>, op: string, where: string): void {
    super.checkGroup(g, op, where);
    checkNonNegative(op, "momentum", g.momentum, where);
    checkFinite(op, "dampening", g.dampening, where);
    checkNonNegative(op, "weightDecay", g.weightDecay, where);
    checkBool(op, "nesterov", g.nesterov, where);
    checkBool(op, "maximize", g.maximize, where);
    if (g.nesterov && (g.momentum! <= 0 || g.dampening !== 0)) {
      throw new ValueError(`${op}: nesterov requires momentum > 0 and dampening = 0, got momentum=${g.momentum}, dampening=${g.dampening}${where}`);
    }
  }

  protected override updateGroup(group: ParamGroup<SGDOptions>, params: AnyTensor[]): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    for (const p of params) {
      const grad = p.grad!;
      let dp: AnyTensor = maximize ? grad.neg() : grad;
      if (weightDecay !== 0) dp = dp.add(p, { alpha: weightDecay });
      const state = this.stateOf(p, () => ({ momentumBuffer: null }));
      if (momentum !== 0 && !nesterov && state.momentumBuffer !== null && fusedMomentumStep(p, state.momentumBuffer, dp, momentum, 1 - dampening, -lr)) continue;
      if (momentum !== 0) {
        let buf = state.momentumBuffer;
        if (buf === null) {
          // The first step starts the buffer at the gradient itself (no dampening), as PyTorch.
          buf = dp.clone();
          state.momentumBuffer = buf;
        } else {
          // buf.mul_(momentum).add_(dp, { alpha: 1 - dampening }), as one kernel where it can be.
          scaledSumInPlace(buf, momentum, dp, 1 - dampening);
        }
        dp = nesterov ? dp.add(buf, { alpha: momentum }) : buf;
      }
      // p.add_(dp, { alpha: -lr }), as one kernel (no temporary dp·(−lr)) where it can be.
      addScaledInPlace(p, dp, -lr);
    }
  }

  protected override checkState(state: Record<string, unknown>, p: AnyTensor, op: string, where: string): SGDState {
    const buf = state.momentumBuffer ?? null;
    if (buf !== null) checkStateTensor(op, "momentumBuffer", buf, p, where);
    for (const k of Object.keys(state)) if (k !== "momentumBuffer") throw new ValueError(`${op}: SGD's state has only momentumBuffer, got ${k}=${describe(state[k])}${where}`);
    return { momentumBuffer: buf as AnyTensor | null };
  }
}

const dense = (t: AnyTensor, shape: readonly number[]) =>
  t.device === "cpu" && t.isContiguous() && t.shape.length === shape.length && t.shape.every((n, i) => n === shape[i]);

/**
 * The momentum step `buf.mul_(μ).add_(g, { alpha })`, `p.add_(buf, { alpha: step })` as one
 * kernel over dense CPU tensors of one floating dtype in separate storage (`sgdMomentumSource`,
 * bit for bit the two ops' result): false, doing nothing, for anything else.
 */
function fusedMomentumStep(p: AnyTensor, buf: AnyTensor, g: AnyTensor, momentum: number, alpha: number, step: number): boolean {
  const d = p.dtype;
  if ((d !== "float32" && d !== "float64") || buf.dtype !== d || g.dtype !== d) return false;
  if (!dense(p, p.shape) || !dense(buf, p.shape) || !dense(g, p.shape)) return false;
  if (p._data === buf._data || p._data === g._data || buf._data === g._data) return false;
  const f32 = d === "float32";
  cpu.run(f32 ? "sgd:momentum:f32" : "sgd:momentum:f64", () => sgdMomentumSource(f32), [
    p._data, p._offset, buf._data, buf._offset, g._data, g._offset, p.numel(), fitScalar(momentum, d), fitScalar(alpha, d), fitScalar(step, d),
  ]);
  return true;
}

/** `optim.SGD`: callable with or without `new`, and an `instanceof` target. */
export interface SGDConstructor {
  (params: Iterable<AnyTensor>, options: (Partial<SGDOptions> & { lr: number }) | number): SGDOptimizer;
  (params: Iterable<ParamGroupInput<SGDOptions>>, options?: Partial<SGDOptions> | number): SGDOptimizer;
  new (params: Iterable<AnyTensor>, options: (Partial<SGDOptions> & { lr: number }) | number): SGDOptimizer;
  new (params: Iterable<ParamGroupInput<SGDOptions>>, options?: Partial<SGDOptions> | number): SGDOptimizer;
  readonly prototype: SGDOptimizer;
  [Symbol.hasInstance](x: unknown): x is SGDOptimizer;
}

/**
 * Stochastic gradient descent (optionally with momentum), PyTorch 1.13's `torch.optim.SGD`.
 * With γ = lr, μ = momentum, τ = dampening, λ = weightDecay, at step t for each parameter θ
 * that has a gradient:
 *
 * ```
 * g ← ∇θ f(θ)                      (−∇θ f(θ) with maximize)
 * g ← g + λ·θ                       if λ ≠ 0
 * if μ ≠ 0:
 *   b ← g                           at the first step (no dampening)
 *   b ← μ·b + (1 − τ)·g             later
 *   g ← g + μ·b if nesterov, else g ← b
 * θ ← θ − γ·g
 * ```
 *
 * Errors as PyTorch: lr, momentum, weightDecay must be finite and >= 0; nesterov needs
 * momentum > 0 and dampening = 0. `options` may be the lr alone: `optim.SGD(params, 0.1)`.
 *
 * @example
 * const optimizer = optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * optimizer.zeroGrad();
 * lossFn(model(input), target).backward();
 * optimizer.step();
 *
 * // Per-group options; the rest come from the second argument:
 * optim.SGD([{ params: base.parameters() }, { params: head.parameters(), lr: 1e-3 }], { lr: 1e-2, momentum: 0.9 });
 */
export const SGD = callable(SGDOptimizer) as unknown as SGDConstructor;
/** An SGD optimizer (the type of `optim.SGD(...)`). */
export type SGD = SGDOptimizer;
