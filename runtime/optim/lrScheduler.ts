/**
 * Learning-rate schedulers: PyTorch 1.13's `torch.optim.lr_scheduler` (StepLR, MultiStepLR,
 * ExponentialLR, CosineAnnealingLR, LambdaLR, ChainedScheduler), in their chainable (recursive)
 * form: each `step()` derives the new lr from the group's current lr, so several schedulers can
 * act on one optimizer and an lr set by hand between steps is carried on.
 */
import { ValueError } from "../../types/errors.js";
import { type CallableClass, callable } from "./callable.js";
import { checkFinite, checkKeys, describe, Optimizer } from "./Optimizer.js";

/**
 * `scheduler.stateDict()`: every field of the scheduler except the optimizer (PyTorch's
 * `__dict__` minus `optimizer`), camelCase: `lastEpoch`, `baseLrs`, `_stepCount`, `_lastLr` and
 * the scheduler's options (`stepSize`, `gamma`, ...). LambdaLR's `lrLambdas` are saved as `null`
 * (functions are not data) and kept as they are on load.
 */
export interface SchedulerStateDict {
  lastEpoch: number;
  baseLrs: number[];
  _stepCount: number;
  _lastLr: number[];
  [key: string]: unknown;
}

/**
 * The base class of the schedulers (PyTorch's `_LRScheduler`). Building one sets each param
 * group's `initialLr` to its `lr` if unset (PyTorch's `initial_lr`), takes those as `baseLrs`,
 * and takes the first step (epoch 0). `step()` advances `lastEpoch` and writes `getLr()`'s values
 * into the groups' `lr`.
 *
 * A subclass implements `getLr()` and calls `this.initialStep()` at the end of its constructor
 * (after its own fields are set).
 *
 * @example
 * const scheduler = optim.lrScheduler.StepLR(optimizer, { stepSize: 30, gamma: 0.1 });
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   train(); // optimizer.zeroGrad(); loss.backward(); optimizer.step(); per batch
 *   scheduler.step();
 * }
 */
export abstract class LRScheduler {
  /** The optimizer whose groups' `lr` this scheduler sets. */
  readonly optimizer: Optimizer;
  /** Each group's `initialLr` when the scheduler was built. */
  baseLrs: number[];
  /** The epoch of the last `step()` (0 after construction). */
  lastEpoch: number;
  /** @internal Number of `step()` calls, the initial one included (PyTorch's `_step_count`). */
  _stepCount = 0;
  /** @internal The lrs the last `step()` set (PyTorch's `_last_lr`). */
  _lastLr: number[] = [];

  /** The name in error messages ("StepLR"). */
  protected get displayName(): string {
    return "LRScheduler";
  }

  constructor(optimizer: Optimizer, lastEpoch = -1) {
    const name = this.displayName;
    if (!(optimizer instanceof Optimizer)) throw new ValueError(`${name}: optimizer must be an optimizer (optim.SGD(...), optim.Adam(...), ...), got ${describe(optimizer)}`);
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) throw new ValueError(`${name}: lastEpoch must be an integer >= -1, got lastEpoch=${describe(lastEpoch)}`);
    this.optimizer = optimizer;
    if (lastEpoch === -1) {
      for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined) throw new ValueError(`${name}: resuming with lastEpoch=${lastEpoch} needs initialLr in every param group, got none in param group ${i}`);
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
  }

  /** Resets the step count and takes the first step (called at the end of each constructor). */
  protected initialStep(): void {
    this._stepCount = 0;
    this.step();
  }

  /** The lr of each group for `lastEpoch` (chainable form: from each group's current lr). */
  protected abstract getLr(): number[];

  /**
   * Advances one epoch and sets each group's `lr`. Call it after `optimizer.step()`.
   *
   * @example
   * optimizer.step();
   * scheduler.step();
   */
  step(): void {
    this._stepCount += 1;
    this.lastEpoch += 1;
    const values = this.getLr();
    const groups = this.optimizer.paramGroups;
    for (let i = 0; i < Math.min(groups.length, values.length); i++) groups[i]!.lr = values[i]!;
    this._lastLr = groups.map((g) => g.lr);
  }

  /**
   * The lrs the last `step()` set, one per param group.
   *
   * @example
   * scheduler.getLastLr(); // [0.1]
   */
  getLastLr(): number[] {
    return [...this._lastLr];
  }

  /**
   * The scheduler's state (see {@link SchedulerStateDict}), to save beside the optimizer's.
   *
   * @example
   * const saved = scheduler.stateDict();
   * other.loadStateDict(saved); // other continues from the same epoch
   */
  stateDict(): SchedulerStateDict {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this)) {
      if (k === "optimizer") continue;
      out[k] = Array.isArray(v) ? [...v] : v;
    }
    return out as SchedulerStateDict;
  }

  /**
   * Loads a `stateDict()` into this scheduler (its keys must be this scheduler's fields).
   *
   * @example
   * scheduler.loadStateDict(saved);
   */
  loadStateDict(stateDict: SchedulerStateDict): void {
    const op = `${this.displayName}.loadStateDict`;
    if (stateDict === null || typeof stateDict !== "object") throw new ValueError(`${op}: expected a scheduler state dict, got ${describe(stateDict)}`);
    const own = new Set(Object.keys(this));
    for (const k of Object.keys(stateDict)) {
      if (k === "optimizer" || !own.has(k)) throw new ValueError(`${op}: unknown key "${k}" for a ${this.displayName} (its keys are ${[...own].filter((x) => x !== "optimizer").join(", ")}), got "${k}"`);
    }
    for (const [k, v] of Object.entries(stateDict)) {
      if (k === "lrLambdas") continue;
      (this as Record<string, unknown>)[k] = Array.isArray(v) ? [...v] : v;
    }
  }
}

function checkPositiveInt(op: string, key: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw new ValueError(`${op}: ${key} must be a positive integer, got ${key}=${describe(v)}`);
}

/** Options of {@link StepLR}. */
export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Factor γ of each decay (default 0.1). */
  gamma?: number;
  /** The epoch to resume after (default -1: a fresh start). */
  lastEpoch?: number;
}

/** The class behind {@link StepLR}. */
export class StepLRScheduler extends LRScheduler {
  stepSize: number;
  gamma: number;
  protected override get displayName(): string {
    return "StepLR";
  }
  constructor(optimizer: Optimizer, options: StepLROptions) {
    checkKeys("StepLR", options, ["stepSize", "gamma", "lastEpoch"]);
    checkPositiveInt("StepLR", "stepSize", options.stepSize);
    checkFinite("StepLR", "gamma", options.gamma ?? 0.1);
    super(optimizer, options.lastEpoch);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
}

/** Options of {@link MultiStepLR}. */
export interface MultiStepLROptions {
  /** Epochs at which to decay (a milestone listed k times decays by γᵏ). */
  milestones: readonly number[];
  /** Factor γ of each decay (default 0.1). */
  gamma?: number;
  /** The epoch to resume after (default -1: a fresh start). */
  lastEpoch?: number;
}

/** The class behind {@link MultiStepLR}. */
export class MultiStepLRScheduler extends LRScheduler {
  /** The milestones, sorted (PyTorch keeps a Counter; repeats count). */
  milestones: number[];
  gamma: number;
  protected override get displayName(): string {
    return "MultiStepLR";
  }
  constructor(optimizer: Optimizer, options: MultiStepLROptions) {
    checkKeys("MultiStepLR", options, ["milestones", "gamma", "lastEpoch"]);
    const m: unknown = options.milestones;
    if (!Array.isArray(m) || m.some((v) => !Number.isInteger(v))) throw new ValueError(`MultiStepLR: milestones must be an array of integers, got milestones=${Array.isArray(m) ? JSON.stringify(m) : describe(m)}`);
    checkFinite("MultiStepLR", "gamma", options.gamma ?? 0.1);
    super(optimizer, options.lastEpoch);
    this.milestones = [...(m as number[])].sort((a, b) => a - b);
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const count = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (count === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma ** count);
  }
}

/** Options of {@link ExponentialLR}. */
export interface ExponentialLROptions {
  /** Factor γ of the decay at every epoch. */
  gamma: number;
  /** The epoch to resume after (default -1: a fresh start). */
  lastEpoch?: number;
}

/** The class behind {@link ExponentialLR}. */
export class ExponentialLRScheduler extends LRScheduler {
  gamma: number;
  protected override get displayName(): string {
    return "ExponentialLR";
  }
  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    checkKeys("ExponentialLR", options, ["gamma", "lastEpoch"]);
    checkFinite("ExponentialLR", "gamma", options.gamma);
    super(optimizer, options.lastEpoch);
    this.gamma = options.gamma;
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
}

/** Options of {@link CosineAnnealingLR}. */
export interface CosineAnnealingLROptions {
  /** Half period T_max of the cosine, in epochs. */
  tMax: number;
  /** The lowest lr η_min (default 0). */
  etaMin?: number;
  /** The epoch to resume after (default -1: a fresh start). */
  lastEpoch?: number;
}

/** The class behind {@link CosineAnnealingLR}. */
export class CosineAnnealingLRScheduler extends LRScheduler {
  tMax: number;
  etaMin: number;
  protected override get displayName(): string {
    return "CosineAnnealingLR";
  }
  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    checkKeys("CosineAnnealingLR", options, ["tMax", "etaMin", "lastEpoch"]);
    const t: unknown = options.tMax;
    if (typeof t !== "number" || !Number.isFinite(t) || t <= 0) throw new ValueError(`CosineAnnealingLR: tMax must be a finite number > 0, got tMax=${describe(t)}`);
    checkFinite("CosineAnnealingLR", "etaMin", options.etaMin ?? 0);
    super(optimizer, options.lastEpoch);
    this.tMax = t;
    this.etaMin = options.etaMin ?? 0;
    this.initialStep();
  }
  // The same expressions as PyTorch 1.13, in the same order, so the numbers agree to the last bits.
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const { lastEpoch: e, tMax: T, etaMin } = this;
    if (e === 0) return groups.map((g) => g.lr);
    if (this._stepCount === 1 && e > 0) {
      return groups.map((_g, i) => etaMin + ((this.baseLrs[i]! - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if ((e - 1 - T) % (2 * T) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return groups.map((g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin);
  }
}

/** An lr factor as a function of the epoch. */
export type LrLambda = (epoch: number) => number;

/** Options of {@link LambdaLR}. */
export interface LambdaLROptions {
  /** One function for every group, or one per group. */
  lrLambda: LrLambda | readonly LrLambda[];
  /** The epoch to resume after (default -1: a fresh start). */
  lastEpoch?: number;
}

/** The class behind {@link LambdaLR}. */
export class LambdaLRScheduler extends LRScheduler {
  lrLambdas: LrLambda[];
  protected override get displayName(): string {
    return "LambdaLR";
  }
  constructor(optimizer: Optimizer, options: LambdaLROptions) {
    checkKeys("LambdaLR", options, ["lrLambda", "lastEpoch"]);
    const f: unknown = options.lrLambda;
    const n = optimizer instanceof Optimizer ? optimizer.paramGroups.length : 0;
    let fns: unknown[];
    if (Array.isArray(f)) {
      if (f.length !== n) throw new ValueError(`LambdaLR: lrLambda must be one function or one per param group (${n}), got ${f.length} functions`);
      fns = [...f];
    } else fns = Array.from({ length: n }, () => f);
    fns.forEach((fn, i) => {
      if (typeof fn !== "function") throw new ValueError(`LambdaLR: lrLambda must be a function (epoch) => factor, got ${describe(fn)}${Array.isArray(f) ? ` at index ${i}` : ""}`);
    });
    super(optimizer, options.lastEpoch);
    this.lrLambdas = fns as LrLambda[];
    this.initialStep();
  }
  protected getLr(): number[] {
    return this.lrLambdas.map((fn, i) => this.baseLrs[i]! * fn(this.lastEpoch));
  }
  /** As the base's, with `lrLambdas` saved as nulls (functions are not data). */
  override stateDict(): SchedulerStateDict {
    const out = super.stateDict();
    out.lrLambdas = this.lrLambdas.map(() => null);
    return out;
  }
}

/** The class behind {@link ChainedScheduler}. */
export class ChainedSchedulerImpl {
  readonly optimizer: Optimizer;
  /** @internal The chained schedulers, stepped in order. */
  _schedulers: LRScheduler[];
  /** @internal */
  _lastLr: number[];
  constructor(schedulers: readonly LRScheduler[]) {
    if (!Array.isArray(schedulers) || schedulers.length === 0) throw new ValueError(`ChainedScheduler: schedulers must be a non-empty array of schedulers, got ${describe(schedulers)}`);
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) throw new ValueError(`ChainedScheduler: schedulers must be schedulers, got ${describe(s)} at index ${i}`);
      if (s.optimizer !== schedulers[0]!.optimizer) throw new ValueError(`ChainedScheduler: all schedulers must belong to one optimizer, got a different one at index ${i}`);
    });
    this._schedulers = [...schedulers];
    this.optimizer = schedulers[0]!.optimizer;
    this._lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }
  /** Steps every chained scheduler, in order. */
  step(): void {
    for (const s of this._schedulers) s.step();
    this._lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }
  /** The lrs after the last `step()`, one per param group. */
  getLastLr(): number[] {
    return [...this._lastLr];
  }
  /** `{ _lastLr, _schedulers: [each scheduler's stateDict()] }`. */
  stateDict(): { _lastLr: number[]; _schedulers: SchedulerStateDict[] } {
    return { _lastLr: [...this._lastLr], _schedulers: this._schedulers.map((s) => s.stateDict()) };
  }
  /** Loads a `stateDict()` (one entry per chained scheduler). */
  loadStateDict(stateDict: { _lastLr: number[]; _schedulers: SchedulerStateDict[] }): void {
    const saved: unknown = stateDict?._schedulers;
    if (!Array.isArray(saved) || saved.length !== this._schedulers.length) {
      throw new ValueError(`ChainedScheduler.loadStateDict: _schedulers must hold ${this._schedulers.length} state dicts, got ${describe(saved)}`);
    }
    this._lastLr = [...stateDict._lastLr];
    this._schedulers.forEach((s, i) => s.loadStateDict(saved[i] as SchedulerStateDict));
  }
}

/** Construct or call: `StepLR(optimizer, options)` and `new StepLR(...)` both work, as does `instanceof`. */
export type SchedulerConstructor<A extends unknown[], T> = CallableClass<A, T>;

/**
 * Multiplies each group's lr by γ every `stepSize` epochs (PyTorch's `StepLR`):
 *
 * ```
 * ηₜ = ηₜ₋₁ · γ    if t > 0 and t mod stepSize = 0,   else ηₜ₋₁
 * (alone: ηₜ = η₀ · γ^⌊t / stepSize⌋)
 * ```
 *
 * @example
 * const scheduler = optim.lrScheduler.StepLR(optimizer, { stepSize: 30, gamma: 0.1 });
 * // lr = 0.05 for epochs 0–29, 0.005 for 30–59, 0.0005 for 60–89, ...
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   optimizer.zeroGrad(); loss().backward(); optimizer.step();
 *   scheduler.step();
 * }
 */
export const StepLR = callable(StepLRScheduler) as unknown as SchedulerConstructor<[optimizer: Optimizer, options: StepLROptions], StepLRScheduler>;
/** A StepLR scheduler. */
export type StepLR = StepLRScheduler;

/**
 * Multiplies each group's lr by γ at each milestone (γᵏ for a milestone listed k times), PyTorch's
 * `MultiStepLR`:
 *
 * ```
 * ηₜ = ηₜ₋₁ · γ^count(t in milestones)
 * (alone: ηₜ = η₀ · γ^|{m ∈ milestones : m <= t}|)
 * ```
 *
 * @example
 * const scheduler = optim.lrScheduler.MultiStepLR(optimizer, { milestones: [30, 80], gamma: 0.1 });
 * optimizer.zeroGrad(); loss.backward(); optimizer.step();
 * scheduler.step(); // once per epoch
 */
export const MultiStepLR = callable(MultiStepLRScheduler) as unknown as SchedulerConstructor<[optimizer: Optimizer, options: MultiStepLROptions], MultiStepLRScheduler>;
/** A MultiStepLR scheduler. */
export type MultiStepLR = MultiStepLRScheduler;

/**
 * Multiplies each group's lr by γ every epoch (PyTorch's `ExponentialLR`):
 *
 * ```
 * ηₜ = ηₜ₋₁ · γ  (t > 0)     (alone: ηₜ = η₀ · γᵗ)
 * ```
 *
 * @example
 * const scheduler = optim.lrScheduler.ExponentialLR(optimizer, { gamma: 0.95 });
 * optimizer.zeroGrad(); loss.backward(); optimizer.step();
 * scheduler.step(); // once per epoch
 */
export const ExponentialLR = callable(ExponentialLRScheduler) as unknown as SchedulerConstructor<[optimizer: Optimizer, options: ExponentialLROptions], ExponentialLRScheduler>;
/** An ExponentialLR scheduler. */
export type ExponentialLR = ExponentialLRScheduler;

/**
 * Cosine annealing from each group's initial lr η_max down to η_min over T_max epochs, PyTorch
 * 1.13's `CosineAnnealingLR` in its recursive (chainable) form, so its numbers match PyTorch's:
 *
 * ```
 * ηₜ = η_min + (η_max − η_min)·(1 + cos(tπ/T_max))/2                     first step when resuming
 * ηₜ = ηₜ₋₁ + (η_max − η_min)·(1 − cos(π/T_max))/2                       if (t − 1 − T_max) mod 2T_max = 0
 * ηₜ = (1 + cos(πt/T_max)) / (1 + cos(π(t−1)/T_max)) · (ηₜ₋₁ − η_min) + η_min   otherwise
 * (alone: ηₜ = η_min + (η_max − η_min)·(1 + cos(πt/T_max))/2, rising again after T_max)
 * ```
 *
 * @example
 * const scheduler = optim.lrScheduler.CosineAnnealingLR(optimizer, { tMax: 100, etaMin: 1e-5 });
 * optimizer.zeroGrad(); loss.backward(); optimizer.step();
 * scheduler.step(); // once per epoch
 */
export const CosineAnnealingLR = callable(CosineAnnealingLRScheduler) as unknown as SchedulerConstructor<[optimizer: Optimizer, options: CosineAnnealingLROptions], CosineAnnealingLRScheduler>;
/** A CosineAnnealingLR scheduler. */
export type CosineAnnealingLR = CosineAnnealingLRScheduler;

/**
 * Sets each group's lr to its initial lr times a function of the epoch (PyTorch's `LambdaLR`):
 *
 * ```
 * ηₜ = η₀ · λ(t)      (λ per group when lrLambda is an array)
 * ```
 *
 * @example
 * // Two groups: a step function for the first, exponential decay for the second.
 * const scheduler = optim.lrScheduler.LambdaLR(optimizer, { lrLambda: [(e) => Math.floor(e / 30), (e) => 0.95 ** e] });
 * optimizer.zeroGrad(); loss.backward(); optimizer.step();
 * scheduler.step(); // once per epoch
 */
export const LambdaLR = callable(LambdaLRScheduler) as unknown as SchedulerConstructor<[optimizer: Optimizer, options: LambdaLROptions], LambdaLRScheduler>;
/** A LambdaLR scheduler. */
export type LambdaLR = LambdaLRScheduler;

/**
 * Steps several schedulers of one optimizer together, in order (PyTorch's `ChainedScheduler`);
 * the chainable forms compose: with ExponentialLR(γ₁) and StepLR(s, γ₂),
 * ηₜ = η₀ · γ₁ᵗ · γ₂^⌊t/s⌋.
 *
 * @example
 * const s1 = optim.lrScheduler.ExponentialLR(optimizer, { gamma: 0.9 });
 * const s2 = optim.lrScheduler.StepLR(optimizer, { stepSize: 20, gamma: 0.5 });
 * const scheduler = optim.lrScheduler.ChainedScheduler([s1, s2]);
 * optimizer.zeroGrad(); loss.backward(); optimizer.step();
 * scheduler.step(); // once per epoch: s1.step(); s2.step()
 */
export const ChainedScheduler = callable(ChainedSchedulerImpl) as unknown as SchedulerConstructor<[schedulers: readonly LRScheduler[]], ChainedSchedulerImpl>;
/** A ChainedScheduler. */
export type ChainedScheduler = ChainedSchedulerImpl;
