import { DeviceError, ShapeError, ValueError } from "../../types/errors.js";
import { shapeStr } from "../../types/shape.js";
import { noGrad } from "../autograd.js";
import type { Device } from "../backend/Backend.js";
import { Tensor } from "../Tensor.js";
import type { AnyTensor } from "../tensorTypes.js";
import { ParameterTensor } from "./Parameter.js";

/**
 * Compiled kernels a model can run on (`runtime/compiled.ts`): `call` returns the forward's
 * result, or undefined to run `forward` op by op.
 */
export interface KernelHook {
  call(module: ModuleBase, args: readonly unknown[]): unknown;
}

/** A module's state: parameter and buffer tensors by PyTorch key (`"fc1.weight"`, `"0.bias"`). */
export type StateDict = Record<string, AnyTensor>;

/** What `loadStateDict` reports (with `strict: false` nothing is thrown for these). */
export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

// Every module instance is a function (so `model(x)` works) whose prototype is the module's
// class prototype. Base-class state lives in non-enumerable properties: enumerable own
// properties are the user's fields, scanned in definition order for parameters, buffers and
// submodules — that is how assigning a Parameter or a Module to a field registers it.
const HIDDEN = ["training", "_bufferNames", "_nonPersistent"] as const;

/**
 * What every module is (layers and models alike): callable, with parameters, children and state.
 * Built-in layers extend it directly and declare shape-generic call signatures of their own;
 * user models extend {@link Module}, whose call signature is typed from `forward`. (One class
 * can't have both: a failed shape check would fall back to the general signature.)
 */
export abstract class ModuleBase {
  /** True in training mode (`train()`), false after `eval()`. */
  declare training: boolean;
  /** @internal */ declare _bufferNames: Set<string>;
  /** @internal */ declare _nonPersistent: Set<string>;

  constructor() {
    const self = function (this: unknown, ...args: unknown[]): unknown {
      // Compiled kernels (runtime/compiled.ts) run the model when registered and the input fits.
      const k = (self as unknown as { _kernels?: KernelHook })._kernels;
      if (k !== undefined) {
        const y = k.call(self as unknown as ModuleBase, args);
        if (y !== undefined) return y;
      }
      return (self as unknown as { forward(...a: unknown[]): unknown }).forward(...args);
    };
    // A function's own `name`/`length` would shadow fields of the same name.
    delete (self as { name?: string }).name;
    delete (self as { length?: number }).length;
    Object.setPrototypeOf(self, new.target.prototype);
    Object.defineProperty(self, "training", { value: true, writable: true, enumerable: false, configurable: true });
    Object.defineProperty(self, "_bufferNames", { value: new Set<string>(), enumerable: false });
    Object.defineProperty(self, "_nonPersistent", { value: new Set<string>(), enumerable: false });
    return self as unknown as ModuleBase;
  }

  /** The computation; `model(x)` calls it. */
  abstract forward(...args: never[]): unknown;

  /**
   * Runs this model on compiled kernels (what `typetorch compile` generates for it) where they
   * fit, op by op elsewhere; `null` goes back to op by op. Returns the model.
   *
   * @example
   * import { mlp as kernels } from "./model.kernels.generated.js";
   * model.useKernels(kernels);
   */
  useKernels(kernels: KernelHook | null): this {
    Object.defineProperty(this, "_kernels", { value: kernels ?? undefined, writable: true, configurable: true, enumerable: false });
    return this;
  }

  // -------------------------------------------------------------------------------------------
  // registration and traversal
  // -------------------------------------------------------------------------------------------

  /**
   * Registers a tensor that is state but not a parameter (e.g. BatchNorm's running mean): saved
   * in `stateDict` (unless `persistent: false`), not trained. Returns the tensor, so it can
   * initialise a field: `runningMean = this.registerBuffer("runningMean", torch.zeros(c))`.
   */
  registerBuffer<T extends AnyTensor | null>(name: string, tensor: T, opts: { persistent?: boolean } = {}): T {
    if (HIDDEN.includes(name as never) || name.includes(".") || name === "") throw new ValueError(`registerBuffer: name must be a plain field name, got "${name}"`);
    if (tensor !== null && !(tensor instanceof Tensor)) throw new ValueError(`registerBuffer: expected a Tensor or null, got ${typeof tensor}`);
    this._bufferNames.add(name);
    if (opts.persistent === false) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
    if (!Object.prototype.hasOwnProperty.call(this, name)) Object.defineProperty(this, name, { value: tensor, writable: true, enumerable: true, configurable: true });
    return tensor;
  }

  /** Registers a parameter under a computed name (fields register themselves). */
  registerParameter(name: string, param: ParameterTensor | null): void {
    if (param !== null && !(param instanceof ParameterTensor)) throw new ValueError(`registerParameter: expected an nn.Parameter or null, got ${(param as unknown) instanceof Tensor ? "a plain Tensor (wrap it in nn.Parameter)" : typeof param}`);
    Object.defineProperty(this, name, { value: param, writable: true, enumerable: true, configurable: true });
  }

  /** Adds a child module under `name` (like assigning a field). */
  addModule(name: string, module: ModuleBase | null): void {
    if (module !== null && !(module instanceof ModuleBase)) throw new ValueError(`addModule: expected an nn.Module, got ${typeof module}`);
    if (name.includes(".") || name === "") throw new ValueError(`addModule: name must not be empty or contain ".", got "${name}"`);
    Object.defineProperty(this, name, { value: module, writable: true, enumerable: true, configurable: true });
  }

  /** @internal Own fields in definition order. */
  *_fields(): Generator<[string, unknown]> {
    for (const k of Object.keys(this)) yield [k, (this as unknown as Record<string, unknown>)[k]];
  }

  /** `(name, parameter)` pairs, recursively, with dotted names (`"fc1.weight"`). */
  *namedParameters(prefix = "", recurse = true): Generator<[string, ParameterTensor]> {
    const seen = new Set<AnyTensor>();
    for (const [name, m] of recurse ? this.namedModules(prefix) : [[prefix, this] as [string, ModuleBase]]) {
      for (const [k, v] of m._fields()) {
        if (v instanceof ParameterTensor && !seen.has(v)) {
          seen.add(v);
          yield [name ? `${name}.${k}` : k, v];
        }
      }
    }
  }
  /** All parameters, recursively (what an optimizer takes). */
  *parameters(recurse = true): Generator<ParameterTensor> {
    for (const [, p] of this.namedParameters("", recurse)) yield p;
  }
  /** `(name, buffer)` pairs, recursively. */
  *namedBuffers(prefix = "", recurse = true): Generator<[string, AnyTensor]> {
    for (const [name, m] of recurse ? this.namedModules(prefix) : [[prefix, this] as [string, ModuleBase]]) {
      for (const [k, v] of m._fields()) if (m._bufferNames.has(k) && v instanceof Tensor) yield [name ? `${name}.${k}` : k, v];
    }
  }
  /** All buffers, recursively. */
  *buffers(recurse = true): Generator<AnyTensor> {
    for (const [, b] of this.namedBuffers("", recurse)) yield b;
  }
  /** Direct submodules with their field names. */
  *namedChildren(): Generator<[string, ModuleBase]> {
    for (const [k, v] of this._fields()) if (v instanceof ModuleBase) yield [k, v];
  }
  /** Direct submodules. */
  *children(): Generator<ModuleBase> {
    for (const [, m] of this.namedChildren()) yield m;
  }
  /** This module and every descendant (once each), with dotted names; this one is `""`. */
  *namedModules(prefix = "", memo: Set<ModuleBase> = new Set()): Generator<[string, ModuleBase]> {
    if (memo.has(this)) return;
    memo.add(this);
    yield [prefix, this];
    for (const [k, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${k}` : k, memo);
  }
  /** This module and every descendant. */
  *modules(): Generator<ModuleBase> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /**
   * Calls `fn` on every submodule (children first) and then on this module, as PyTorch's
   * `apply` — the usual way to run a custom weight init.
   *
   * @example
   * model.apply((m) => { if (m instanceof nn.Linear) nn.init.xavierUniform_(m.weight); });
   */
  apply(fn: (m: ModuleBase) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Sets training mode (Dropout, BatchNorm behave differently) on this module and all below. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  /** `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Clears every parameter's gradient: zeroes it in place (PyTorch 1.13's default), or sets it
   * to null with `setToNone`.
   */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) {
      if (!p.grad) continue;
      if (opts.setToNone) p.grad = null;
      else noGrad(() => p.grad!.zero_());
    }
  }

  /**
   * Moves the module's parameters and buffers to a device, in place (the same Parameter objects,
   * so an optimizer made before still updates them). WebGPU needs `await torch.webgpu.init()`
   * first; back to the CPU from a device is asynchronous (read tensors with `cpuAsync()`).
   *
   * @example
   * await torch.webgpu.init();
   * const model = nn.Sequential(nn.Linear(784, 10)).to("webgpu");
   */
  to(device: Device): this {
    if (device !== "cpu" && device !== "webgpu") throw new DeviceError(`to: device must be "cpu" or "webgpu", got "${String(device)}"`);
    for (const m of this.modules()) {
      for (const [k, v] of m._fields()) {
        if (v instanceof Tensor && (v instanceof ParameterTensor || m._bufferNames.has(k))) v._moveTo(device);
      }
    }
    return this;
  }

  // -------------------------------------------------------------------------------------------
  // state
  // -------------------------------------------------------------------------------------------

  /**
   * The module's parameters and persistent buffers by PyTorch's key names (`"fc1.weight"`,
   * `"0.bias"`, `"features.0.weight"`), as tensors sharing storage with the model.
   *
   * @example
   * torch.save(model.stateDict(), "model.safetensors");
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [name, m] of this.namedModules()) {
      const pre = name ? `${name}.` : "";
      for (const [k, v] of m._fields()) {
        if (v instanceof ParameterTensor) out[pre + k] = v.detach();
      }
      for (const [k, v] of m._fields()) {
        if (m._bufferNames.has(k) && !m._nonPersistent.has(k) && v instanceof Tensor) out[pre + k] = v.detach();
      }
    }
    return out;
  }

  /**
   * Copies a state dict into the module's parameters and buffers. Every key and shape is
   * checked before anything is copied, so a failed load changes nothing.
   *
   * @example
   * model.loadStateDict(torch.load("model.safetensors"));
   */
  loadStateDict(sd: StateDict, opts: { strict?: boolean } = {}): LoadResult {
    const strict = opts.strict ?? true;
    if (sd === null || typeof sd !== "object") throw new ValueError(`loadStateDict: expected an object of tensors, got ${sd === null ? "null" : typeof sd}`);
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !Object.prototype.hasOwnProperty.call(sd, k));
    const unexpectedKeys = Object.keys(sd).filter((k) => !Object.prototype.hasOwnProperty.call(own, k));
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      throw new ValueError(
        `loadStateDict: keys must match the model's, got missing [${missingKeys.map((k) => `"${k}"`).join(", ")}] and unexpected [${unexpectedKeys.map((k) => `"${k}"`).join(", ")}]`,
      );
    }
    const pairs: [AnyTensor, AnyTensor, string][] = [];
    for (const [k, dst] of Object.entries(own)) {
      if (!Object.prototype.hasOwnProperty.call(sd, k)) continue;
      const src = sd[k];
      if (!(src instanceof Tensor)) throw new ValueError(`loadStateDict: ${k} must be a Tensor, got ${typeof src}`);
      if (src.ndim !== dst.ndim || src.shape.some((s, i) => s !== dst.shape[i])) {
        throw new ShapeError(`loadStateDict: ${k} must have shape ${shapeStr(dst.shape)}, got ${shapeStr(src.shape)}`);
      }
      pairs.push([dst, src, k]);
    }
    // Convert every value first (a NaN into an int64 buffer throws here), so a failed load
    // changes nothing; only then copy.
    const converted = noGrad(() => pairs.map(([dst, src, k]) => {
      try {
        return src.to(dst.dtype);
      } catch (e) {
        throw new ValueError(`loadStateDict: ${k} can't be converted to ${dst.dtype}, got ${(e as Error).message}`);
      }
    }));
    noGrad(() => {
      pairs.forEach(([dst], i) => dst.copy_(converted[i]!));
    });
    return { missingKeys, unexpectedKeys };
  }

  // -------------------------------------------------------------------------------------------
  // printing
  // -------------------------------------------------------------------------------------------

  /** The text inside this module's parentheses when printed (e.g. `in_features=784, ...`). */
  extraRepr(): string {
    return "";
  }

  /** The class name shown when printed. */
  protected _name(): string {
    return this.constructor.name;
  }

  /**
   * Printed as PyTorch prints modules:
   * ```
   * Sequential(
   *   (0): Linear(in_features=784, out_features=256, bias=True)
   *   (1): ReLU()
   * )
   * ```
   */
  toString(): string {
    const extra = this.extraRepr();
    const lines = extra ? extra.split("\n") : [];
    for (const [k, m] of this.namedChildren()) {
      const child = m.toString().split("\n").join("\n  ");
      lines.push(`(${k}): ${child}`);
    }
    const name = this._name();
    if (lines.length === 0) return `${name}()`;
    if (lines.length === 1 && [...this.namedChildren()].length === 0) return `${name}(${lines[0]})`;
    return `${name}(\n  ${lines.join("\n  ")}\n)`;
  }

  /** Node's `console.log` shows the PyTorch form. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** Models are callable: `model(x)` runs `model.forward(x)`, typed from `forward`. */
export interface Module {
  (...args: Parameters<this["forward"]>): ReturnType<this["forward"]>;
}

/**
 * Base class of models, as PyTorch's `nn.Module`: extend it, put layers and `nn.Parameter`s in
 * fields, and write `forward`. Instances are callable (`model(x)`), and every layer is an
 * `nn.Module` too (`nn.Linear(2, 3) instanceof nn.Module`).
 *
 * @example
 * class MLP extends nn.Module {
 *   fc1 = nn.Linear(784, 256);
 *   fc2 = nn.Linear(256, 10);
 *   forward(x: Tensor<[64, 784]>) {
 *     return this.fc2(this.fc1(x).relu());
 *   }
 * }
 * const model = new MLP();
 * model(torch.randn(64, 784)).shape; // [64, 10]
 */
export abstract class Module extends ModuleBase {
  /** Every module — built-in layers included — is an `nn.Module`; subclasses test as usual. */
  static override [Symbol.hasInstance](x: unknown): boolean {
    return this === Module ? x instanceof ModuleBase : Function.prototype[Symbol.hasInstance].call(this, x);
  }
}

/**
 * A callable factory for a layer class, so layers are made without `new`
 * (`nn.Linear(784, 256)`) while `m instanceof nn.Linear` still works and narrows.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function factory(cls: abstract new (...args: any[]) => unknown): unknown {
  return new Proxy(cls, {
    apply: (target, _this, args) => Reflect.construct(target, args),
  });
}

/**
 * A float as Python's `repr` writes it (`1e-05`, `0.1`, `1.0`), for PyTorch-style printing.
 *
 * @example
 * pyFloat(1e-5); // "1e-05"
 */
export function pyFloat(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    const [m, e] = x.toExponential().split("e") as [string, string];
    const sign = e.startsWith("-") ? "-" : "+";
    const digits = e.replace(/^[+-]/, "").padStart(2, "0");
    return `${m}e${sign}${digits}`;
  }
  return Number.isInteger(x) ? `${x}.0` : String(x);
}
