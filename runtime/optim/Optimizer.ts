/**
 * The optimizer base class: param groups, per-parameter state, `zeroGrad`, `step`, `stateDict` /
 * `loadStateDict` and `addParamGroup`, as `torch.optim.Optimizer` (PyTorch 1.13).
 */
import { ValueError } from "../../types/errors.js";
import { noGrad, setGradEnabled } from "../autograd.js";
import { isFloating } from "../dtype.js";
import { Tensor } from "../Tensor.js";
import type { AnyTensor } from "../tensorTypes.js";

/** The option every param group has: its learning rate. */
export interface GroupOptions {
  lr: number;
}

/**
 * One param group of an optimizer: the tensors it updates and the options it updates them with.
 * The options are writable (`optimizer.paramGroups[0].lr = 0.01` takes effect at the next step),
 * as PyTorch's `param_groups[0]['lr']`.
 */
export type ParamGroup<O extends GroupOptions = GroupOptions> = O & {
  params: AnyTensor[];
  /** The lr schedules start from; set by the first scheduler built on the optimizer (PyTorch's `initial_lr`). */
  initialLr?: number;
};

/**
 * A param group as given to a constructor or to `addParamGroup`: the tensors, and options that
 * override the optimizer's (any option left out comes from the constructor's options).
 */
export type ParamGroupInput<O extends GroupOptions = GroupOptions> = Partial<O> & {
  params: Iterable<AnyTensor> | AnyTensor;
  initialLr?: number;
};

/**
 * What an optimizer takes: an iterable of tensors (an array, `model.parameters()`, any generator),
 * or a list of param groups `[{ params, lr: 0.01 }, { params }]`.
 */
export type Params<O extends GroupOptions = GroupOptions> = Iterable<AnyTensor> | Iterable<ParamGroupInput<O>>;

/**
 * `optimizer.stateDict()`: PyTorch's structure with camelCase keys. `state` maps a parameter's
 * index to its state; `paramGroups` holds each group's options and, instead of tensors, the
 * indices of its parameters, counted across groups in order:
 *
 * ```
 * { state: { 0: { momentumBuffer: Tensor }, 1: { momentumBuffer: Tensor } },
 *   paramGroups: [{ lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false,
 *                   maximize: false, params: [0, 1] }] }
 * ```
 *
 * As in PyTorch, the state's tensors are the optimizer's own (they change with the next step):
 * serialise them or clone them to keep a snapshot. `loadStateDict` copies what it loads.
 */
export interface OptimizerStateDict<O extends GroupOptions = GroupOptions, S extends object = object> {
  state: Record<number, S>;
  paramGroups: (O & { params: number[]; initialLr?: number })[];
}

/** How a value reads in an error message. */
export function describe(v: unknown): string {
  if (v instanceof Tensor) return `a Tensor of shape [${v.shape.join(", ")}]`;
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === "object") return "an object";
  if (typeof v === "function") return "a function";
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

/** `[2, 3]`. */
export function shapeStr(s: readonly number[]): string {
  return `[${s.join(", ")}]`;
}

/** Throws unless `v` is a finite number >= 0. */
export function checkNonNegative(op: string, key: string, v: unknown, where = ""): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new ValueError(`${op}: ${key} must be a finite number >= 0, got ${key}=${describe(v)}${where}`);
}

/** Throws unless `v` is a finite number. */
export function checkFinite(op: string, key: string, v: unknown, where = ""): void {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ValueError(`${op}: ${key} must be a finite number, got ${key}=${describe(v)}${where}`);
}

/** Throws unless `v` is a boolean. */
export function checkBool(op: string, key: string, v: unknown, where = ""): void {
  if (typeof v !== "boolean") throw new ValueError(`${op}: ${key} must be true or false, got ${key}=${describe(v)}${where}`);
}

/** Throws when `options` has a key outside `known` (catches `weight_decay` for `weightDecay`). */
export function checkKeys(op: string, options: object, known: readonly string[]): void {
  if (options === null || typeof options !== "object" || Array.isArray(options) || options instanceof Tensor) {
    throw new ValueError(`${op}: options must be an object, got ${describe(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new ValueError(`${op}: unknown option "${k}" (the options are ${known.join(", ")}), got "${k}"`);
  }
}

/** A deep copy of plain data (arrays, plain objects); tensors are copied and cut from autograd. */
function copyData(v: unknown): unknown {
  if (v instanceof Tensor) return noGrad(() => v.detach().clone());
  if (Array.isArray(v)) return v.map(copyData);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copyData(x)]));
  return v;
}

/**
 * The base class of every optimizer, as `torch.optim.Optimizer`: it owns the param groups and the
 * per-parameter state, and does the bookkeeping (`zeroGrad`, `stateDict`, `loadStateDict`,
 * `addParamGroup`). A subclass names itself (`displayName`), validates its options
 * (`checkGroup`) and applies its update rule to one group's parameters that have a gradient
 * (`updateGroup`, run under `torch.noGrad` after every group and gradient was validated, so a
 * step that throws changes no weight).
 *
 * @example
 * // The PyTorch idiom, with any optimizer:
 * const optimizer = optim.SGD(model.parameters(), { lr: 0.1 });
 * for (const [x, y] of batches) {
 *   optimizer.zeroGrad();
 *   const loss = nn.functional.mseLoss(model(x), y);
 *   loss.backward();
 *   optimizer.step();
 * }
 */
export abstract class Optimizer<O extends GroupOptions = GroupOptions, S extends object = object> {
  /** The options groups take when they don't set them (PyTorch's `defaults`). */
  readonly defaults: Partial<O>;
  /** The param groups; their options are writable (`paramGroups[0].lr = 0.01`). */
  paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state (momentum buffers, moment estimates, ...), keyed by the parameter. */
  state: Map<AnyTensor, S> = new Map();

  /** The name in error messages and in `toString()` ("SGD"). */
  protected get displayName(): string {
    return "Optimizer";
  }

  /**
   * Validates `defaults` (the constructor's options) and adds `params` as one group, or as the
   * param groups they are.
   */
  constructor(params: Params<O>, defaults: Partial<O>) {
    const name = this.displayName;
    this.checkGroup(defaults, name, "");
    this.defaults = defaults;
    if (params instanceof Tensor) throw new ValueError(`${name}: params must be an iterable of tensors or of param groups, got a single Tensor (wrap it in an array)`);
    if (params === null || typeof params !== "object" || typeof (params as Iterable<unknown>)[Symbol.iterator] !== "function") {
      throw new ValueError(`${name}: params must be an iterable of tensors or of param groups, got ${describe(params)}`);
    }
    const list = Array.from(params as Iterable<unknown>);
    if (list.length === 0) throw new ValueError(`${name}: the optimizer got an empty parameter list, got []`);
    const groups = list[0] instanceof Tensor ? [{ params: list as AnyTensor[] }] : list;
    groups.forEach((g, i) => {
      if (g instanceof Tensor) throw new ValueError(`${name}: params must be all tensors or all param groups, got a Tensor at index ${i} after param groups`);
      this.addParamGroup(g as ParamGroupInput<O>);
    });
  }

  /**
   * Validates a group's options (or, with `where` empty, the constructor's defaults, where `lr`
   * may be missing). Subclasses extend it; messages read `op: expectation, got actual{where}`.
   */
  protected checkGroup(group: Partial<O>, op: string, where: string): void {
    if (group.lr !== undefined || where !== "") checkNonNegative(op, "lr", group.lr, where);
  }

  /**
   * Adds a param group (e.g. layers unfrozen while fine-tuning); options it leaves out come from
   * the constructor's options. A tensor may belong to one group only, once.
   *
   * @example
   * optimizer.addParamGroup({ params: head.parameters(), lr: 0.01 });
   */
  addParamGroup(group: ParamGroupInput<O>): void {
    const name = this.displayName;
    const index = this.paramGroups.length;
    const where = ` (param group ${index})`;
    if (group === null || typeof group !== "object" || Array.isArray(group) || group instanceof Tensor) {
      throw new ValueError(`${name}: a param group must be an object { params, ...options }, got ${describe(group)}`);
    }
    const raw: unknown = group.params;
    if (raw === null || typeof raw !== "object" || (!(raw instanceof Tensor) && typeof (raw as Iterable<unknown>)[Symbol.iterator] !== "function")) {
      throw new ValueError(`${name}: a param group's params must be a tensor or an iterable of tensors, got ${describe(raw)}${where}`);
    }
    const params = raw instanceof Tensor ? [raw as AnyTensor] : Array.from(raw as Iterable<unknown>);
    const seen = new Set<unknown>();
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new ValueError(`${name}: the optimizer can only optimize tensors, got ${describe(p)} at index ${i}${where}`);
      if (p.gradFn && !p._retainsGrad) throw new ValueError(`${name}: can't optimize a non-leaf tensor, got a tensor made by ${p.gradFn.name} at index ${i}${where}`);
      if (seen.has(p)) throw new ValueError(`${name}: a parameter may appear only once, got the tensor at index ${i} twice${where}`);
      seen.add(p);
    });
    this.paramGroups.forEach((g, j) => {
      for (const p of g.params) {
        if (seen.has(p)) throw new ValueError(`${name}: a parameter may belong to one param group only, got a parameter of param group ${j} again${where}`);
      }
    });
    const merged: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.defaults)) if (v !== undefined) merged[k] = copyData(v);
    for (const [k, v] of Object.entries(group)) if (k !== "params" && v !== undefined) merged[k] = copyData(v);
    if (merged.lr === undefined) throw new ValueError(`${name}: lr is required (in the options or in every param group), got none${where}`);
    merged.params = params;
    this.checkGroup(merged as Partial<O>, name, where);
    this.paramGroups.push(merged as unknown as ParamGroup<O>);
  }

  /**
   * Resets the gradients of every parameter: to zero in place (the default, as PyTorch 1.13), or
   * to `null` with `setToNone` (a parameter whose grad is `null` is skipped by `step`, while a
   * zero gradient still moves it through momentum or weight decay).
   *
   * @example
   * optimizer.zeroGrad();                      // grads filled with 0
   * optimizer.zeroGrad({ setToNone: true });   // grads set to null
   */
  zeroGrad(options: boolean | { setToNone?: boolean } = {}): void {
    const setToNone = typeof options === "boolean" ? options : (options.setToNone ?? false);
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          const g = p.grad;
          if (!g) continue;
          if (setToNone) {
            p.grad = null;
            continue;
          }
          if (g.gradFn) p.grad = g.detach();
          else g.requiresGrad = false;
          p.grad!.zero_();
        }
      }
    });
  }

  /**
   * One update of every parameter that has a gradient. `closure`, when given, re-evaluates the
   * model and returns the loss (run with gradients on), which `step` returns.
   *
   * Every group's options and every gradient (shape and dtype equal to the parameter's) are
   * checked before any weight changes, so a step that throws changes nothing.
   *
   * @example
   * optimizer.zeroGrad();
   * loss.backward();
   * optimizer.step();
   */
  step<L = undefined>(closure?: () => L): L | undefined {
    const loss = closure ? setGradEnabled(true, closure) : undefined;
    const op = `${this.displayName}.step`;
    const work = this.paramGroups.map((group, gi) => {
      this.checkGroup(group, op, ` (param group ${gi})`);
      return group.params.filter((p, pi) => {
        const g: unknown = p.grad;
        if (g === null || g === undefined) return false;
        const where = `for the parameter at index ${pi} of param group ${gi}`;
        if (!(g instanceof Tensor)) throw new ValueError(`${op}: a gradient must be a Tensor or null, got ${describe(g)} ${where}`);
        if (g.shape.length !== p.shape.length || g.shape.some((s: number, i: number) => s !== p.shape[i])) {
          throw new ValueError(`${op}: a gradient must have its parameter's shape ${shapeStr(p.shape)}, got ${shapeStr(g.shape)} ${where}`);
        }
        if (g.dtype !== p.dtype || !isFloating(p.dtype)) {
          throw new ValueError(`${op}: a gradient must have its parameter's floating point dtype ${p.dtype}, got ${g.dtype} ${where}`);
        }
        return true;
      });
    });
    noGrad(() => this.paramGroups.forEach((group, gi) => this.updateGroup(group, work[gi]!)));
    return loss;
  }

  /**
   * Applies the update rule to `params` (those of `group` that have a gradient), under
   * `torch.noGrad`, after validation. Subclasses implement it (or override `step`).
   */
  protected updateGroup(_group: ParamGroup<O>, _params: AnyTensor[]): void {
    throw new ValueError(`${this.displayName}.step: a subclass of Optimizer must implement updateGroup (or step), got none`);
  }

  /** The state of `p`, made by `init` on first use. */
  protected stateOf(p: AnyTensor, init: () => S): S {
    let s = this.state.get(p);
    if (!s) {
      s = init();
      this.state.set(p, s);
    }
    return s;
  }

  /**
   * The optimizer's state and options (see {@link OptimizerStateDict}), to save or to load into
   * an optimizer over the same parameters with `loadStateDict`.
   *
   * @example
   * const saved = optimizer.stateDict();
   * const resumed = optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
   * resumed.loadStateDict(saved); // continues with the same momentum buffers
   */
  stateDict(): OptimizerStateDict<O, S> {
    const index = new Map<AnyTensor, number>();
    let next = 0;
    const paramGroups = this.paramGroups.map((group) => {
      const packed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(group)) if (k !== "params") packed[k] = Array.isArray(v) ? [...v] : v;
      packed.params = group.params.map((p) => {
        let i = index.get(p);
        if (i === undefined) index.set(p, (i = next++));
        return i;
      });
      return packed;
    });
    const state: Record<number, S> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, paramGroups } as unknown as OptimizerStateDict<O, S>;
  }

  /**
   * Loads a `stateDict()` (copying it): the groups must match this optimizer's in number and
   * size. Floating point state tensors are cast to their parameter's dtype (not `step`), and
   * every loaded option is validated; nothing changes when anything is wrong.
   *
   * @example
   * optimizer.loadStateDict(saved);
   */
  loadStateDict(stateDict: OptimizerStateDict<O, S>): void {
    const op = `${this.displayName}.loadStateDict`;
    if (stateDict === null || typeof stateDict !== "object") throw new ValueError(`${op}: expected { state, paramGroups }, got ${describe(stateDict)}`);
    const saved: unknown = stateDict.paramGroups;
    const rawState: unknown = stateDict.state;
    if (!Array.isArray(saved)) throw new ValueError(`${op}: paramGroups must be an array, got ${describe(saved)}`);
    if (rawState === null || typeof rawState !== "object") throw new ValueError(`${op}: state must be an object, got ${describe(rawState)}`);
    if (saved.length !== this.paramGroups.length) {
      throw new ValueError(`${op}: the state dict must have as many param groups as the optimizer (${this.paramGroups.length}), got ${saved.length}`);
    }
    const idMap = new Map<number, AnyTensor>();
    const groups = saved.map((sg: unknown, i) => {
      const mine = this.paramGroups[i]!;
      if (sg === null || typeof sg !== "object" || !Array.isArray((sg as { params?: unknown }).params)) {
        throw new ValueError(`${op}: a saved param group must be an object with params (indices), got ${describe(sg)} (param group ${i})`);
      }
      const ids = (sg as { params: unknown[] }).params;
      if (ids.length !== mine.params.length) {
        throw new ValueError(`${op}: param group ${i} must have ${mine.params.length} params as in the optimizer, got ${ids.length}`);
      }
      ids.forEach((id, j) => idMap.set(Number(id), mine.params[j]!));
      const group = copyData(sg) as Record<string, unknown>;
      for (const [k, v] of Object.entries(this.defaults)) if (group[k] === undefined && v !== undefined) group[k] = copyData(v);
      group.params = mine.params;
      this.checkGroup(group as Partial<O>, op, ` (param group ${i})`);
      return group as unknown as ParamGroup<O>;
    });
    const state = new Map<AnyTensor, S>();
    for (const [k, v] of Object.entries(rawState)) {
      const p = idMap.get(Number(k));
      if (!p) throw new ValueError(`${op}: state key ${k} names no parameter of the param groups (they hold ${idMap.size}), got key ${k}`);
      if (v === null || typeof v !== "object") throw new ValueError(`${op}: the state of parameter ${k} must be an object, got ${describe(v)}`);
      const copied: Record<string, unknown> = {};
      for (const [key, x] of Object.entries(v as object)) {
        let c = copyData(x);
        if (c instanceof Tensor && key !== "step" && isFloating(p.dtype) && c.dtype !== p.dtype) c = c.to(p.dtype);
        copied[key] = c;
      }
      state.set(p, this.checkState(copied, p, op, ` (state of parameter ${k})`));
    }
    this.paramGroups = groups;
    this.state = state;
  }

  /**
   * Validates (and normalises) one parameter's loaded state. Subclasses check their keys and the
   * shapes of their tensors.
   */
  protected checkState(state: Record<string, unknown>, _param: AnyTensor, _op: string, _where: string): S {
    return state as S;
  }

  /**
   * PyTorch's printed form:
   *
   * ```
   * SGD (
   * Parameter Group 0
   *     dampening: 0
   *     lr: 0.1
   *     ...
   * )
   * ```
   */
  toString(): string {
    let s = `${this.displayName} (`;
    this.paramGroups.forEach((g, i) => {
      s += `\nParameter Group ${i}\n`;
      for (const k of Object.keys(g).filter((k) => k !== "params").sort()) {
        const v = (g as unknown as Record<string, unknown>)[k];
        s += `    ${k}: ${Array.isArray(v) ? `(${v.join(", ")})` : String(v)}\n`;
      }
    });
    return s + ")";
  }

  /** Node's `console.log` shows the PyTorch form. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** Throws unless `t` is a tensor of `p`'s shape (a loaded state buffer). */
export function checkStateTensor(op: string, key: string, t: unknown, p: AnyTensor, where: string): AnyTensor {
  if (!(t instanceof Tensor)) throw new ValueError(`${op}: ${key} must be a Tensor, got ${describe(t)}${where}`);
  if (t.shape.length !== p.shape.length || t.shape.some((s: number, i: number) => s !== p.shape[i])) {
    throw new ValueError(`${op}: ${key} must have its parameter's shape ${shapeStr(p.shape)}, got ${shapeStr(t.shape)}${where}`);
  }
  return t;
}
