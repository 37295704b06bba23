import type { Check, Ok } from "../../types/check.js";
import { ShapeError, ValueError } from "../../types/errors.js";
import { type ChainShape, chainMsg } from "../../types/layers.js";
import type { Shape } from "../../types/shape.js";
import type { DType } from "../dtype.js";
import type { Tensor } from "../Tensor.js";
import { ModuleBase } from "./Module.js";

/** A Sequential's call: the input's shape folded through every layer, checked at compile time. */
export interface SequentialCall<Ls extends readonly unknown[]> {
  <S extends Shape, D extends DType>(x: Tensor<S, D> & Check<ChainShape<Ls, S>>): Tensor<Ok<ChainShape<Ls, S>>, D>;
}

/**
 * Layers applied in order, as `nn.Sequential`: positional (`nn.Sequential(l1, l2)`, children
 * named "0", "1", ...) or named (`nn.Sequential({ fc1: l1, relu1: l2 })`, PyTorch's OrderedDict
 * form; children reachable as `seq.fc1` and `seq.get("fc1")`). In the positional form `tsc`
 * checks every layer boundary for the input you pass, and reports the first layer that doesn't
 * fit by its index (`Sequential[2] Linear(784→256): input last dim must be 784, got 783 in [64, 783]`);
 * the named form is checked at run time with the layer's name (TypeScript object types have no
 * key order to fold over).
 *
 * @example
 * const model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10));
 * model(torch.randn(64, 784)).shape; // [64, 10]
 */
export class Sequential<Ls extends readonly unknown[] = readonly unknown[]> extends ModuleBase {
  declare readonly __spec: { kind: "chain"; layers: Ls };

  constructor(...layers: readonly ModuleBase[] | [Record<string, ModuleBase>]) {
    super();
    const first = layers[0];
    if (layers.length === 1 && first !== undefined && !(first instanceof ModuleBase) && typeof first === "object") {
      for (const [k, m] of Object.entries(first)) this.#add(k, m);
    } else {
      (layers as readonly unknown[]).forEach((m, i) => this.#add(String(i), m));
    }
  }

  #add(name: string, m: unknown): void {
    if (!(m instanceof ModuleBase)) throw new ValueError(`Sequential: every layer must be an nn.Module, got ${m === null ? "null" : typeof m} at ${name}`);
    this.addModule(name, m);
  }

  forward<S extends Shape, D extends DType>(x: Tensor<S, D> & Check<ChainShape<Ls, S>>): Tensor<Ok<ChainShape<Ls, S>>, D> {
    let y: unknown = x;
    for (const [name, m] of this.namedChildren()) {
      try {
        y = (m as unknown as (a: unknown) => unknown)(y);
      } catch (e) {
        // Say which layer failed, in the same words the compile-time check uses.
        if (e instanceof ShapeError) {
          const Err = e.constructor as new (m: string) => ShapeError;
          throw new Err(chainMsg(name, e.message));
        }
        throw e;
      }
    }
    return y as never;
  }

  /** The layer at position `i` (negative from the end). */
  at<I extends number>(i: I): I extends keyof Ls ? Ls[I] : ModuleBase {
    const all = [...this.children()];
    const k = i < 0 ? all.length + i : i;
    const m = all[k];
    if (m === undefined) throw new ValueError(`Sequential.at: index must be in [${-all.length}, ${all.length - 1}], got ${i}`);
    return m as never;
  }

  /** The layer named `name` (`"0"`, `"fc1"`, ...). */
  get(name: string): ModuleBase {
    for (const [k, m] of this.namedChildren()) if (k === name) return m;
    throw new ValueError(`Sequential.get: no layer named "${name}", got names [${[...this.namedChildren()].map(([k]) => `"${k}"`).join(", ")}]`);
  }

  /** Appends a layer (named by its position). */
  append(m: ModuleBase): this {
    this.#add(String([...this.children()].length), m);
    return this;
  }

  /** Number of layers (`len(seq)` in PyTorch; `torch.len(seq)` works too). */
  get length(): number {
    return [...this.children()].length;
  }

  /** Iterates over the layers in order. */
  [Symbol.iterator](): Iterator<ModuleBase> {
    return this.children();
  }
}
export interface Sequential<Ls extends readonly unknown[]> {
  <S extends Shape, D extends DType>(x: Tensor<S, D> & Check<ChainShape<Ls, S>>): Tensor<Ok<ChainShape<Ls, S>>, D>;
}

/** `nn.Sequential(...)` without `new`: positional layers (typed chain) or one object of named layers. */
export interface SequentialFactory {
  <const Ls extends readonly ModuleBase[]>(...layers: Ls): Sequential<Ls>;
  <const O extends Record<string, ModuleBase>>(layers: O): Sequential<ModuleBase[]> & O & NamedCall;
  new <const Ls extends readonly ModuleBase[]>(...layers: Ls): Sequential<Ls>;
  readonly prototype: Sequential;
}
/** The named form's call: checked at run time. */
export interface NamedCall {
  <S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<number[], D>;
}
