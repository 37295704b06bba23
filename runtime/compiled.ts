/**
 * The runtime side of the build-step compiler (`typetorch compile`, DESIGN.md §4): a generated
 * `*.kernels.generated.ts` module holds, per model, a small program — planned buffers, a list of
 * kernel launches for the forward (and for the backward), and the JS kernel text (from
 * `runtime/codegen`). This module registers those programs on models (`register`,
 * `model.useKernels(...)`), runs them when the shapes match (and falls back to op-by-op execution,
 * with a one-time warning, when they don't), and builds compiled training steps (`compileStep`):
 * forward, loss, backward and optimizer update over a static buffer plan, allocating nothing
 * per step.
 *
 * @example
 * import { compileStep, nn, optim } from "typetorch";
 * import "./model.kernels.generated.js";            // registers the fused kernels on `model`
 * const step = compileStep(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), { lr: 0.1 }));
 * for (const [x, y] of loader) step(x, y);            // returns the loss as a number
 */
import { ValueError } from "../types/errors.js";
import { isGradEnabled } from "./autograd.js";
import { gpuForward } from "./compiledGpu.js";
import { adamSource, crossEntropySource, mseSource, sgdSource } from "./codegen/fused.js";
import { type KernelHook, ModuleBase } from "./nn/Module.js";
import type { ParameterTensor } from "./nn/Parameter.js";
import { CrossEntropyLoss, MSELoss, NLLLoss } from "./nn/lossModules.js";
import { crossEntropy, mseLoss, nllLoss } from "./nn/loss.js";
import type { Optimizer } from "./optim/Optimizer.js";
import { SGDOptimizer } from "./optim/SGD.js";
import { AdamBase, type AdamState } from "./optim/Adam.js";
import { AdamWOptimizer } from "./optim/AdamW.js";
import { gemmThreads } from "./ops/sgemm.js";
import { wasm } from "./backend/wasm.js";
import { sgdWasm, type SgdTerms } from "./codegen/wasm.js";
import { kernelHooks } from "./kernelHooks.js";
import { contiguousStrides } from "./ops/defineOp.js";
import { Tensor } from "./Tensor.js";
import type { AnyTensor } from "./tensorTypes.js";
import { IndexError } from "../types/errors.js";
import { classRangeMsg } from "../types/loss.js";

// ---------------------------------------------------------------------------------------------
// the program format (what generated modules contain: plain data and kernel text)
// ---------------------------------------------------------------------------------------------

/** A dim or a size: a literal, or a product of literals and run-time symbols (`"B"`, `"B*256"`). */
export type DimExpr = number | string;

/** One argument of a kernel launch. */
export type LaunchArg =
  | { readonly buf: string }
  | { readonly input: number }
  | { readonly param: string }
  | { readonly grad: string }
  | { readonly int: DimExpr }
  | { readonly list: readonly LaunchArg[] }
  /** Constant numbers (pooling windows), passed as a Float64Array. */
  | { readonly f64: readonly number[] }
  | { readonly none: true };

/** One kernel launch: which kernel, with what, and the layers it covers (for reports). */
export interface Launch {
  readonly kernel: string;
  readonly args: readonly LaunchArg[];
  readonly covers: string;
}

/** A compiled model: what `typetorch compile` writes for one exported model. */
export interface ModelProgram {
  readonly name: string;
  readonly kind: "sequential" | "module";
  /** The source file (relative to the generated module) and line of the model. */
  readonly source: string;
  readonly line: number;
  readonly dtype: "float32";
  /** The input shape (literal dims are checked; symbols bind to the run-time value). */
  readonly input: readonly DimExpr[];
  /** The output buffer and shape. */
  readonly output: { readonly buf: string; readonly shape: readonly DimExpr[] };
  /** The parameters the kernels read, by state-dict key, with their shapes. */
  readonly params: readonly { readonly key: string; readonly shape: readonly number[] }[];
  /** The model has layers that differ in training mode (Dropout): kernels run in eval mode only. */
  readonly evalOnly: boolean;
  /** The planned buffers (float32 elements). */
  readonly buffers: readonly { readonly id: string; readonly size: DimExpr }[];
  readonly forward: readonly Launch[];
  /**
   * The backward from `grad` (∂loss/∂output) to every parameter's gradient; null where not compiled.
   * With `head`, the model ends in a logSoftmax over the last dim of buffer `head.logSoftmax`, and
   * `grad` is ∂loss/∂(that buffer): `compileStep` fills it with the fused softmax + cross-entropy
   * kernel when the loss is `nn.NLLLoss` (the pair PyTorch users write for log-probabilities).
   */
  readonly backward: { readonly grad: string; readonly launches: readonly Launch[]; readonly head?: { readonly logSoftmax: string } } | null;
  /** JS kernel text by name (`"use strict"; return function ...`). */
  readonly kernels: Readonly<Record<string, string>>;
  /** WGSL kernel text by name (emitted with `--target wgsl`; run on WebGPU by `compiledGpu.ts`). */
  readonly wgsl?: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------------------------
// launch counting
// ---------------------------------------------------------------------------------------------

/** Kernel launches made by compiled programs (forward, loss, backward, update), for reports and tests. */
export const stats = { launches: 0 };

// ---------------------------------------------------------------------------------------------
// binding a program to concrete dims and arrays
// ---------------------------------------------------------------------------------------------

type Fn = (...a: unknown[]) => void;
const fnCache = new Map<string, Fn>();


/** Instantiates kernel text (`"use strict"; ... return function ...`), with the hooks of {@link kernelHooks} in scope. */
function kernelFn(text: string): Fn {
  let f = fnCache.get(text);
  if (!f) {
    f = new Function(...Object.keys(kernelHooks), text)(...Object.values(kernelHooks)) as Fn;
    fnCache.set(text, f);
  }
  return f;
}

/**
 * A float32 array for a planned buffer: in the wasm memory where it can live there (`wasm.alloc`),
 * so the GEMM and the update kernels use it in place, without copies; else a plain array.
 */
function planned(n: number): Float32Array {
  return wasm.alloc(n) ?? new Float32Array(n);
}

/** Whether `t`'s storage is a contiguous float32 array in the wasm memory, starting at element 0. */
function isResident(t: AnyTensor): boolean {
  return t._offset === 0 && t.device === "cpu" && t.dtype === "float32" && wasm.addressOf(t._data as Float32Array) >= 0 && t.isContiguous();
}

/**
 * Moves a float32 CPU tensor's storage into the wasm memory in place (as `Module.to` moves it to
 * a device: views made before keep the old storage); a no-op where it is there already or can't be.
 */
function makeResident(t: AnyTensor): void {
  if (t.device !== "cpu" || t.dtype !== "float32" || isResident(t)) return;
  const r = wasm.alloc(t.numel());
  if (!r) return;
  const c = t.contiguous();
  r.set((c._data as Float32Array).subarray(c._offset, c._offset + r.length));
  t._data = r as never;
  t._offset = 0;
  t._strides = contiguousStrides(t.shape);
}

/** A zero-filled contiguous float32 tensor, resident in the wasm memory where possible. */
function plannedTensor(shape: readonly number[]): AnyTensor {
  return new Tensor(planned(shape.reduce((a, b) => a * b, 1)) as never, shape, contiguousStrides(shape), 0, "float32") as unknown as AnyTensor;
}

/** Evaluates a dim expression under a binding of symbols. */
export function evalDim(e: DimExpr, env: ReadonlyMap<string, number>): number {
  if (typeof e === "number") return e;
  let v = 1;
  for (const f of e.split("*")) {
    const t = f.trim();
    const n = Number(t);
    if (Number.isFinite(n) && t !== "") v *= n;
    else {
      const b = env.get(t);
      if (b === undefined) throw new ValueError(`compiled: unbound dim symbol "${t}"`);
      v *= b;
    }
  }
  return v;
}

/** Binds `shape` to a program's dims: the symbol values, or the reason it doesn't fit. */
export function bindDims(want: readonly DimExpr[], shape: readonly number[]): Map<string, number> | string {
  const fmt = `[${want.join(", ")}]`;
  if (want.length !== shape.length) return `expected ${want.length} dims ${fmt}, got [${shape.join(", ")}]`;
  const env = new Map<string, number>();
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = shape[i]!;
    if (typeof w === "number") {
      if (w !== g) return `expected ${fmt}, got [${shape.join(", ")}]`;
    } else {
      const prev = env.get(w);
      if (prev !== undefined && prev !== g) return `expected ${fmt}, got [${shape.join(", ")}]`;
      env.set(w, g);
    }
  }
  return env;
}

interface Slot {
  args: unknown[];
  i: number;
  get: () => unknown;
}

/** A program bound to concrete dims: its buffers and ready-made argument lists. */
class Bound {
  readonly bufs = new Map<string, Float32Array>();
  readonly fwd: [Fn, unknown[]][] = [];
  readonly bwd: [Fn, unknown[]][] = [];
  readonly slots: Slot[] = [];
  input: Float32Array = new Float32Array(0);
  constructor(
    readonly program: ModelProgram,
    readonly env: Map<string, number>,
    readonly params: ReadonlyMap<string, ParameterTensor>,
    readonly grads: ReadonlyMap<string, AnyTensor> | null,
  ) {
    for (const b of program.buffers) this.bufs.set(b.id, planned(evalDim(b.size, env)));
    for (const l of program.forward) this.fwd.push(this.#bind(l));
    if (grads && program.backward) for (const l of program.backward.launches) this.bwd.push(this.#bind(l));
  }

  #bind(l: Launch): [Fn, unknown[]] {
    const text = this.program.kernels[l.kernel];
    if (text === undefined) throw new ValueError(`compiled: program ${this.program.name} has no kernel "${l.kernel}"`);
    return [kernelFn(text), this.#args(l.args)];
  }

  #args(list: readonly LaunchArg[]): unknown[] {
    const args: unknown[] = [];
    list.forEach((a, i) => {
      if ("buf" in a) {
        const b = this.bufs.get(a.buf);
        if (!b) throw new ValueError(`compiled: program ${this.program.name} has no buffer "${a.buf}"`);
        args.push(b);
      } else if ("list" in a) args.push(this.#args(a.list));
      else if ("int" in a) args.push(evalDim(a.int, this.env));
      else if ("f64" in a) args.push(Float64Array.from(a.f64));
      else if ("none" in a) args.push(undefined);
      else {
        args.push(undefined);
        const get =
          "input" in a ? () => this.input
          : "param" in a ? ((p) => () => p._data)(this.params.get(a.param)!)
          : ((g) => () => g._data)(this.grads!.get(a.grad)!);
        this.slots.push({ args, i, get });
      }
    });
    return args;
  }

  /** Points the dynamic arguments (input, parameter and gradient storage) at the current arrays. */
  refresh(input: Float32Array): void {
    this.input = input;
    for (const s of this.slots) s.args[s.i] = s.get();
  }

  static run(list: readonly [Fn, unknown[]][]): void {
    // The launches' products come back to back, and steps too in a training loop: the GEMM worker
    // thread spins up to 1 ms after each product instead of sleeping, which would cost a wake-up.
    const spinUs = gemmThreads.spinUs;
    gemmThreads.spinUs = 1000;
    try {
      for (let k = 0; k < list.length; k++) {
        const [f, a] = list[k]!;
        f(...a);
      }
    } finally {
      gemmThreads.spinUs = spinUs;
    }
    stats.launches += list.length;
  }
}

function planKey(env: ReadonlyMap<string, number>): string {
  let s = "";
  for (const [k, v] of env) s += `${k}=${v};`;
  return s;
}

// ---------------------------------------------------------------------------------------------
// registration: a model runs its program when the shapes fit
// ---------------------------------------------------------------------------------------------

const warned = new Set<string>();
function warnOnce(key: string, msg: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`typetorch: ${msg}`);
}

interface Attached {
  params: Map<string, ParameterTensor>;
  plans: Map<string, Bound>;
}

/**
 * A model's compiled kernels: what a generated module exports for each model. Pass it to
 * `model.useKernels(...)` (or `register(model, ...)`); a model runs its program when it is
 * called with a float32 CPU tensor whose shape fits, without autograd (under `torch.noGrad`, or
 * when nothing needs a gradient), and in eval mode where the model has Dropout. Otherwise it runs
 * op by op as before (a shape that doesn't fit warns once). Training uses {@link compileStep}.
 */
export class CompiledKernels implements KernelHook {
  readonly #attached = new WeakMap<ModuleBase, Attached | null>();
  constructor(readonly program: ModelProgram) {}

  /** @internal The program's parameters on `m`, or null (with a warning) when they don't match. */
  _attach(m: ModuleBase): Attached | null {
    let a = this.#attached.get(m);
    if (a !== undefined) return a;
    const named = new Map<string, ParameterTensor>(m.namedParameters());
    a = { params: new Map(), plans: new Map() };
    for (const p of this.program.params) {
      const t = named.get(p.key);
      if (!t || t.ndim !== p.shape.length || t.shape.some((s, i) => s !== p.shape[i])) {
        warnOnce(`params:${this.program.name}`, `compiled kernels of ${this.program.name} don't match the model's parameter ${p.key} (expected shape [${p.shape.join(", ")}]${t ? `, got [${t.shape.join(", ")}]` : ", got none"}); running op by op`);
        a = null;
        break;
      }
      a.params.set(p.key, t);
    }
    this.#attached.set(m, a);
    return a;
  }

  /** @internal Whether the program can run on `m` with input `x`; the binding or the reason not. */
  _bind(m: ModuleBase, x: AnyTensor, warn: boolean): Map<string, number> | null {
    if (x.device !== "cpu" || x.dtype !== "float32") return null;
    for (const p of this._attach(m)?.params.values() ?? [null]) if (p === null || p.device !== "cpu" || p.dtype !== "float32") return null;
    const env = bindDims(this.program.input, x.shape);
    if (typeof env === "string") {
      if (warn) warnOnce(`shape:${this.program.name}`, `compiled kernels of ${this.program.name} (${this.program.source}:${this.program.line}) don't fit this input: ${env}; running op by op`);
      return null;
    }
    return env;
  }

  /** @internal The forward through the kernels, or undefined to run op by op. */
  call(m: ModuleBase, args: readonly unknown[]): unknown {
    const x = args[0];
    if (args.length !== 1 || !(x instanceof Tensor)) return undefined;
    const a = this._attach(m);
    if (!a) return undefined;
    if (m.training && this.program.evalOnly) return undefined;
    if (isGradEnabled() && (x.requiresGrad || [...a.params.values()].some((p) => p.requiresGrad))) return undefined;
    // A webgpu input runs the program's WGSL (compiledGpu.ts), or op by op.
    if ((x as AnyTensor).device === "webgpu") return gpuForward(this, m, a.params, x as AnyTensor);
    const env = this._bind(m, x as AnyTensor, true);
    if (!env) return undefined;
    const plan = this._plan(a, env, null);
    const xc = (x as AnyTensor).contiguous();
    plan.refresh(xc._offset === 0 ? (xc._data as Float32Array) : (xc._data as Float32Array).subarray(xc._offset));
    Bound.run(plan.fwd);
    const shape = this.program.output.shape.map((d) => evalDim(d, env));
    const out = Tensor._empty(shape, "float32");
    (out._data as Float32Array).set(plan.bufs.get(this.program.output.buf)!.subarray(0, out.numel()));
    return out;
  }

  /** @internal The bound plan for a binding (made once per binding). */
  _plan(a: Attached, env: Map<string, number>, grads: ReadonlyMap<string, AnyTensor> | null): Bound {
    const key = planKey(env) + (grads ? "grad" : "");
    let p = a.plans.get(key);
    if (!p) {
      p = new Bound(this.program, env, a.params, grads);
      a.plans.set(key, p);
    }
    return p;
  }
}

/** Wraps a program (what generated modules do for each model). */
export function defineKernels(program: ModelProgram): CompiledKernels {
  return new CompiledKernels(program);
}

/**
 * Makes `target` run on `kernels`: a model instance (an exported `nn.Sequential(...)`), or a
 * Module class (every instance, made before or after). Generated modules call this on import.
 */
export function register(target: unknown, kernels: CompiledKernels): void {
  if (target instanceof ModuleBase) target.useKernels(kernels);
  else if (typeof target === "function" && (target as { prototype?: unknown }).prototype instanceof ModuleBase) {
    Object.defineProperty((target as { prototype: object }).prototype, "_kernels", { value: kernels, writable: true, configurable: true, enumerable: false });
  } else throw new ValueError(`compiled.register: expected an nn.Module or a Module class, got ${typeof target}`);
}

/** The kernels registered on a model (its own, or its class's), if any. */
export function kernelsOf(model: ModuleBase): CompiledKernels | undefined {
  const k = (model as unknown as { _kernels?: unknown })._kernels;
  return k instanceof CompiledKernels ? k : undefined;
}

// ---------------------------------------------------------------------------------------------
// compiled training step
// ---------------------------------------------------------------------------------------------

/** What {@link compileStep} returns: call it with a batch; it returns the loss as a number. */
export interface CompiledStep {
  (x: AnyTensor, target: AnyTensor): number;
  /** Whether steps run on compiled kernels (false: every step runs op by op; see `reason`). */
  readonly compiled: boolean;
  /** Why the step runs op by op (when it does). */
  readonly reason: string | undefined;
  /** Kernel launches per compiled step (forward, loss, backward, update). */
  readonly launchesPerStep: number;
  /** The planned buffers of the current binding (the same arrays every step). */
  buffers(): ReadonlyMap<string, Float32Array>;
}

type LossKind = "crossEntropy" | "nll" | "mse";

/** One parameter of a compiled SGD update: its gradient, its momentum buffer, whether that starts now. */
interface SgdEntry {
  readonly p: ParameterTensor;
  readonly g: AnyTensor;
  readonly b: AnyTensor | null;
  first: boolean;
}
/** A param group's entries and the reusable arrays its launches pass (JS kernel lists, WASM table and scalars). */
interface SgdGroup {
  readonly entries: SgdEntry[];
  readonly ps: unknown[];
  readonly gs: unknown[];
  readonly bs: unknown[];
  readonly h: Float64Array;
  readonly hw: Float32Array;
  /** The WASM kernel's parameter table (rows of four i32), in the wasm memory; null where there is none. */
  readonly tab: Int32Array | null;
  /** The `wasm.alloc` block `tab` views: held so the block is not reused while the group lives. */
  readonly tabBlock: Float32Array | null;
}

/** The terms an SGD group's update has this step, as bits: the key of {@link sgdKernels}. */
function sgdBits(o: SGDOptimizer["paramGroups"][number], first: boolean): number {
  return (o.momentum !== 0 ? 1 : 0) | (first ? 2 : 0) | (o.nesterov ? 4 : 0) | (o.weightDecay !== 0 ? 8 : 0) | (o.maximize ? 16 : 0) | (Math.fround(1 - o.dampening) === 1 ? 32 : 0);
}

/** The SGD kernels (JS, and the WASM module's key and bytes) for a bit pattern of {@link sgdBits}, made once. */
const sgdCache = new Map<number, { js: Fn; key: string; wasm: () => Uint8Array }>();
function sgdKernels(bits: number) {
  let k = sgdCache.get(bits);
  if (!k) {
    const t: SgdTerms = { momentum: (bits & 1) !== 0, first: (bits & 2) !== 0, nesterov: (bits & 4) !== 0, weightDecay: (bits & 8) !== 0, maximize: (bits & 16) !== 0, undamped: (bits & 32) !== 0 };
    const shared = wasm.shared;
    k = { js: kernelFn(sgdSource(t)), key: `sgd:${bits}${shared ? ":shared" : ""}`, wasm: () => sgdWasm(shared, t) };
    sgdCache.set(bits, k);
  }
  return k;
}

function lossKind(fn: unknown): LossKind | string {
  if (fn === crossEntropy) return "crossEntropy";
  if (fn === nllLoss) return "nll";
  if (fn === mseLoss) return "mse";
  if (fn instanceof CrossEntropyLoss || fn instanceof NLLLoss || fn instanceof MSELoss) {
    const o = (fn as unknown as { _opts: Record<string, unknown> })._opts;
    for (const [k, v] of Object.entries(o)) {
      const fine = (k === "reduction" && v === "mean") || v === undefined || v === null || (k === "ignoreIndex" && v === -100) || (k === "labelSmoothing" && v === 0);
      if (!fine) return `loss option ${k}=${String(v)} is not compiled`;
    }
    return fn instanceof CrossEntropyLoss ? "crossEntropy" : fn instanceof NLLLoss ? "nll" : "mse";
  }
  return "the loss is not nn.CrossEntropyLoss/nn.NLLLoss/nn.MSELoss (or their functional forms) with the default options";
}

/**
 * @internal The training step op by op — what compiled steps (`compileStep`, `compileStepGpu`) run
 * when they can't run compiled; returns the loss tensor.
 */
export function eagerStep(model: ModuleBase, lossFn: unknown, optimizer: Optimizer<{ lr: number }, object>, x: AnyTensor, y: AnyTensor): AnyTensor {
  optimizer.zeroGrad();
  const out = (model as unknown as (a: AnyTensor) => AnyTensor)(x);
  const loss = (lossFn as (a: AnyTensor, b: AnyTensor) => AnyTensor)(out, y);
  loss.backward();
  optimizer.step();
  return loss;
}

/**
 * A training step — `optimizer.zeroGrad(); lossFn(model(x), y).backward(); optimizer.step()` —
 * compiled: the model's fused forward and backward kernels (from its generated module), the loss
 * fused with its gradient, and the optimizer update as one kernel per param group, over buffers
 * planned once per input shape. After a step, every parameter's `.grad` holds its gradient and
 * the optimizer's state (momentum buffers) is its own, so eager and compiled steps can be mixed.
 *
 * Compiled: models with registered kernels that include a backward; `nn.CrossEntropyLoss()` /
 * `nn.MSELoss()` (mean reduction, default options) or `nn.functional.crossEntropy` / `mseLoss`;
 * for a model that ends in `logSoftmax(-1)`, `nn.NLLLoss()` / `nllLoss`, fused with that
 * logSoftmax into the one softmax + cross-entropy kernel; `optim.SGD`, `optim.Adam` and
 * `optim.AdamW` with any options (Adam's moments and step counts live in the optimizer's `state`,
 * as eager's). Anything else runs the same step op by op (with a one-time warning saying why), so
 * the result is the same either way.
 *
 * Where WebAssembly memory can be shared (Node), the step keeps the parameters, their gradients,
 * the momentum buffers and the planned activations in it, so the GEMM and the update kernels work
 * on them in place: the first step moves each parameter's storage there (as `model.to(device)`
 * moves it: views of a parameter made before keep the old storage).
 *
 * @example
 * const step = compileStep(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }));
 * const loss = step(x, labels);
 */
export function compileStep(model: ModuleBase, lossFn: unknown, optimizer: Optimizer<{ lr: number }, object>): CompiledStep {
  const eager = (x: AnyTensor, y: AnyTensor): number => eagerStep(model, lossFn, optimizer, x, y).item() as number;
  const kernels = kernelsOf(model);
  const kind = lossKind(lossFn);
  let reason: string | undefined =
    !kernels ? "the model has no compiled kernels (import its .kernels.generated module or call model.useKernels)"
    : !kernels.program.backward ? `the compiled program of ${kernels.program.name} has no backward`
    : !(optimizer instanceof SGDOptimizer || optimizer instanceof AdamBase) ? "only optim.SGD, optim.Adam and optim.AdamW updates are compiled"
    : kind !== "crossEntropy" && kind !== "nll" && kind !== "mse" ? kind
    : kernels.program.backward.head && kind !== "nll" ? `${kernels.program.name} ends in logSoftmax: its compiled step takes nn.NLLLoss (fused with the logSoftmax into one cross-entropy kernel)`
    : !kernels.program.backward.head && kind === "nll" ? `nn.NLLLoss is compiled for models that end in logSoftmax; ${kernels.program.name} doesn't`
    : undefined;
  const attached = reason === undefined ? kernels!._attach(model) : null;
  if (reason === undefined && !attached) reason = "the compiled kernels don't match the model's parameters";
  let groups: SgdGroup[] = [];
  if (reason === undefined) {
    const mine = new Set<AnyTensor>(attached!.params.values());
    for (const g of optimizer.paramGroups) for (const p of g.params) if (!mine.has(p)) reason = "the optimizer updates tensors the compiled kernels don't compute gradients for";
  }
  if (reason !== undefined) warnOnce(`step:${reason}`, `compileStep runs op by op: ${reason}`);

  const grads = new Map<string, AnyTensor>();
  const lossBuf = new Float32Array(1);
  const lossFnK = kind === "mse" ? kernelFn(mseSource()) : kernelFn(crossEntropySource());
  const isAdam = optimizer instanceof AdamBase;
  const adamK = kernelFn(adamSource());
  const decoupled = optimizer instanceof AdamWOptimizer;
  const lossArgs: unknown[] = [];
  const bad = (v: number) => {
    throw new IndexError(classRangeMsg(kind === "nll" ? "nllLoss" : "crossEntropy", Number(kernels?.program.output.shape.at(-1)) - 1, v));
  };
  let current: Bound | null = null;
  let launches = 0;

  const prepareGrads = () => {
    for (const [key, p] of attached!.params) {
      makeResident(p);
      let g = grads.get(key);
      if (!g) {
        g = p.grad && isResident(p.grad) ? p.grad : plannedTensor(p.shape);
        grads.set(key, g);
      }
      if (p.grad !== g) p.grad = g as never;
    }
  };

  // Adam: per group, the arrays the kernel reads (refreshed from the optimizer's state every step,
  // so eager steps, loadStateDict and amsgrad switched on in between are seen; nothing is allocated
  // once the state exists).
  let adamGroups: { params: ParameterTensor[]; ps: unknown[]; gs: unknown[]; ms: unknown[]; vs: unknown[]; xs: unknown[]; ss: unknown[]; h: Float64Array }[] = [];
  const own = (t: AnyTensor | undefined, shape: readonly number[]): AnyTensor => {
    if (t && t.dtype === "float32" && t.device === "cpu" && t._offset === 0 && t.isContiguous()) return t;
    const o = Tensor._empty(shape, "float32") as AnyTensor;
    const d = o._data as Float32Array;
    d.fill(0);
    if (t) {
      const c = t.to("float32").contiguous();
      d.set((c._data as Float32Array).subarray(c._offset, c._offset + d.length));
    }
    return o;
  };
  const prepareAdam = () => {
    adamGroups = (optimizer as AdamBase).paramGroups.map((g) => {
      const params = g.params as ParameterTensor[];
      const n = params.length;
      return { params, ps: new Array(n), gs: params.map((p) => grads.get([...attached!.params].find(([, q]) => q === p)![0])!._data), ms: new Array(n), vs: new Array(n), xs: new Array(n).fill(null), ss: new Array(n), h: new Float64Array(8) };
    });
  };
  const refreshAdam = () => {
    const og = (optimizer as AdamBase).paramGroups;
    const state = (optimizer as AdamBase).state;
    for (let gi = 0; gi < adamGroups.length; gi++) {
      const g = adamGroups[gi]!;
      const o = og[gi]!;
      for (let i = 0; i < g.params.length; i++) {
        const p = g.params[i]!;
        let st = state.get(p) as AdamState | undefined;
        const ok = (t: AnyTensor | undefined) => t !== undefined && t.dtype === "float32" && t.device === "cpu" && t._offset === 0 && t.isContiguous();
        if (!st || !ok(st.step) || !ok(st.expAvg) || !ok(st.expAvgSq) || (o.amsgrad && !ok(st.maxExpAvgSq)) || (st.maxExpAvgSq && !ok(st.maxExpAvgSq))) {
          const fresh: AdamState = {
            step: own(st?.step, []) as AdamState["step"],
            expAvg: own(st?.expAvg, p.shape),
            expAvgSq: own(st?.expAvgSq, p.shape),
          };
          if (o.amsgrad || st?.maxExpAvgSq) fresh.maxExpAvgSq = own(st?.maxExpAvgSq, p.shape);
          st = fresh;
          state.set(p, st);
        }
        g.ps[i] = p._data;
        g.ms[i] = st.expAvg._data;
        g.vs[i] = st.expAvgSq._data;
        g.xs[i] = st.maxExpAvgSq ? st.maxExpAvgSq._data : null;
        g.ss[i] = st.step._data;
      }
      g.h[0] = o.lr;
      g.h[1] = o.betas[0];
      g.h[2] = o.betas[1];
      g.h[3] = o.eps;
      g.h[4] = o.weightDecay;
      g.h[5] = o.amsgrad ? 1 : 0;
      g.h[6] = o.maximize ? 1 : 0;
      g.h[7] = decoupled ? 1 : 0;
    }
  };

  const prepareGroups = () => {
    if (isAdam) {
      prepareAdam();
      return;
    }
    groups = (optimizer as SGDOptimizer).paramGroups.map((g) => {
      const entries = (g.params as ParameterTensor[]).map((p): SgdEntry => {
        const grad = grads.get([...attached!.params].find(([, q]) => q === p)![0])!;
        if (g.momentum === 0) return { p, g: grad, b: null, first: false };
        const st = optimizer.state.get(p) as { momentumBuffer: AnyTensor | null } | undefined;
        let b = st?.momentumBuffer;
        if (b && b.isContiguous() && b._offset === 0 && b.dtype === "float32" && b.device === "cpu") {
          makeResident(b);
          return { p, g: grad, b, first: false };
        }
        b = plannedTensor(p.shape);
        optimizer.state.set(p, { momentumBuffer: b });
        return { p, g: grad, b, first: true };
      });
      const n = entries.length;
      const tab = wasm.alloc(4 * n);
      return { entries, ps: new Array(n), gs: new Array(n), bs: new Array(n), h: new Float64Array(4), hw: planned(4), tab: tab && new Int32Array(tab.buffer, tab.byteOffset, 4 * n), tabBlock: tab };
    });
  };

  // One SGD launch over the entries of a group with the given `first`: the WASM SIMD kernel when
  // every array it touches is resident in the wasm memory, else the JS kernel (the same numbers).
  // Nothing is allocated here: it runs every step.
  const sgdLaunch = (grp: SgdGroup, o: SGDOptimizer["paramGroups"][number], first: boolean): void => {
    let count = 0;
    let resident = grp.tab !== null;
    for (const e of grp.entries) {
      if (e.first !== first) continue;
      count++;
      if (resident && !(isResident(e.p) && isResident(e.g) && (e.b === null || isResident(e.b)))) resident = false;
    }
    if (count === 0) return;
    const k = sgdKernels(sgdBits(o, first));
    let r = 0;
    if (resident) {
      const tab = grp.tab!;
      for (const e of grp.entries) {
        if (e.first !== first) continue;
        tab[4 * r] = wasm.addressOf(e.p._data as Float32Array);
        tab[4 * r + 1] = wasm.addressOf(e.g._data as Float32Array);
        tab[4 * r + 2] = e.b ? wasm.addressOf(e.b._data as Float32Array) : 0;
        tab[4 * r + 3] = 16 * Math.ceil(e.p.numel() / 4);
        r++;
      }
      grp.hw[0] = -o.lr;
      grp.hw[1] = o.momentum;
      grp.hw[2] = 1 - o.dampening;
      grp.hw[3] = o.weightDecay;
      wasm.run(k.key, k.wasm, "sgd", [tab.byteOffset, count, wasm.addressOf(grp.hw)]);
      return;
    }
    grp.ps.length = grp.gs.length = grp.bs.length = count;
    for (const e of grp.entries) {
      if (e.first !== first) continue;
      grp.ps[r] = e.p._data;
      grp.gs[r] = e.g._data;
      grp.bs[r] = e.b?._data ?? null;
      r++;
    }
    grp.h[0] = o.lr;
    grp.h[1] = o.momentum;
    grp.h[2] = o.dampening;
    grp.h[3] = o.weightDecay;
    k.js(grp.ps, grp.gs, grp.bs, grp.h);
  };

  const step = ((x: AnyTensor, y: AnyTensor): number => {
    if (reason !== undefined || !(x instanceof Tensor) || !(y instanceof Tensor)) return eager(x, y);
    if (model.training && kernels!.program.evalOnly) {
      warnOnce(`step-train:${kernels!.program.name}`, `compileStep runs op by op: ${kernels!.program.name} has Dropout, whose training mode is not compiled`);
      return eager(x, y);
    }
    const env = kernels!._bind(model, x, true);
    if (!env) return eager(x, y);
    const outShape = kernels!.program.output.shape.map((d) => evalDim(d, env));
    const targetOk = kind !== "mse"
      ? outShape.length === 2 && y.ndim === 1 && y.shape[0] === outShape[0] && (y.dtype === "int64" || y.dtype === "int32")
      : y.dtype === "float32" && y.ndim === outShape.length && y.shape.every((s, i) => s === outShape[i]);
    if (!targetOk || y.device !== "cpu") return eager(x, y);
    const xc = x.contiguous();
    const yc = y.contiguous();
    if ((isAdam ? adamGroups.length === 0 : groups.length === 0) || current === null) {
      prepareGrads();
      prepareGroups();
    }
    const plan = kernels!._plan(attached!, env, grads);
    if (plan !== current) {
      current = plan;
      prepareGrads();
      const dOut = plan.bufs.get(kernels!.program.backward!.grad)!;
      // With a logSoftmax head, the fused kernel reads its input (the logits), not the log-probabilities.
      const head = kernels!.program.backward!.head;
      const out = plan.bufs.get(head ? head.logSoftmax : kernels!.program.output.buf)!;
      lossArgs.length = 0;
      if (kind !== "mse") lossArgs.push(lossBuf, dOut, out, null, outShape[0], outShape[1], bad);
      else lossArgs.push(lossBuf, dOut, out, null, outShape.reduce((a, b) => a * b, 1));
      launches = plan.fwd.length + 1 + plan.bwd.length + (isAdam ? adamGroups.length : groups.length);
    }
    prepareGrads();
    plan.refresh(xc._offset === 0 ? (xc._data as Float32Array) : (xc._data as Float32Array).subarray(xc._offset));
    Bound.run(plan.fwd);
    lossArgs[3] = yc._offset === 0 ? yc._data : (yc._data as Float64Array).subarray(yc._offset);
    lossFnK(...lossArgs);
    Bound.run(plan.bwd);
    if (isAdam) {
      stats.launches += 1 + adamGroups.length;
      refreshAdam();
      for (let gi = 0; gi < adamGroups.length; gi++) {
        const g = adamGroups[gi]!;
        adamK(g.ps, g.gs, g.ms, g.vs, g.xs, g.ss, g.h);
      }
      return lossBuf[0]!;
    }
    stats.launches += 1 + groups.length;
    const og = (optimizer as SGDOptimizer).paramGroups;
    for (let gi = 0; gi < groups.length; gi++) {
      const g = groups[gi]!;
      sgdLaunch(g, og[gi]!, true);
      sgdLaunch(g, og[gi]!, false);
      for (const e of g.entries) e.first = false;
    }
    return lossBuf[0]!;
  }) as CompiledStep;
  Object.defineProperties(step, {
    compiled: { get: () => reason === undefined },
    reason: { get: () => reason },
    launchesPerStep: { get: () => launches },
    buffers: { value: () => current?.bufs ?? new Map() },
  });
  return step;
}
