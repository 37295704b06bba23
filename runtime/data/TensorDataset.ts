/**
 * `data.TensorDataset`: samples are the rows of tensors that share their first dim.
 */
import type { Check, Err } from "../../types/check.js";
import { IndexError, ShapeError, ValueError } from "../../types/errors.js";
import { type Shape, type ShapeStr, shapeStr } from "../../types/shape.js";
import type { DimsMayMatch } from "../../types/util.js";
import type { DType } from "../dtype.js";
import { Tensor } from "../Tensor.js";
import type { AnyTensor } from "../tensorTypes.js";
import { Dataset } from "./Dataset.js";

/**
 * Message of a TensorDataset whose tensors disagree in their first dim.
 *
 * @example
 * type M = TensorDatasetMsg<"[100, 784]", "[99]">; // "TensorDataset: tensors must have the same first dim, got [100, 784] and [99]"
 */
export type TensorDatasetMsg<A extends string, B extends string> = `TensorDataset: tensors must have the same first dim, got ${A} and ${B}`;
/**
 * Runtime twin of {@link TensorDatasetMsg}.
 *
 * @example
 * throw new ShapeError(tensorDatasetMsg("[100, 784]", "[99]"));
 */
export function tensorDatasetMsg<A extends string, B extends string>(a: A, b: B): TensorDatasetMsg<A, B> {
  return `TensorDataset: tensors must have the same first dim, got ${a} and ${b}`;
}
/**
 * Message of a TensorDataset given a 0-d tensor.
 *
 * @example
 * new TensorDataset(torch.tensor(1)); // tsc and the runtime: "TensorDataset: every tensor needs a first dim, got shape []"
 */
export type TensorDataset0dMsg = "TensorDataset: every tensor needs a first dim, got shape []";
/**
 * Runtime twin of {@link TensorDataset0dMsg}.
 *
 * @example
 * throw new ShapeError(tensorDataset0dMsg());
 */
export function tensorDataset0dMsg(): TensorDataset0dMsg {
  return "TensorDataset: every tensor needs a first dim, got shape []";
}

type ShapesOf<Ts extends readonly AnyTensor[]> = { [K in keyof Ts]: Ts[K] extends Tensor<infer S, DType> ? S : never };

// The first shape against each later one: a 0-d shape, or first dims that can't be equal, fail.
type FirstDimRec<First extends Shape, Ss extends readonly Shape[]> = Ss extends readonly [infer H extends Shape, ...infer T extends readonly Shape[]]
  ? H extends readonly [] ? Err<TensorDataset0dMsg>
    : DimsMayMatch<First[0], H[0]> extends true ? FirstDimRec<First, T> : Err<TensorDatasetMsg<ShapeStr<First>, ShapeStr<H>>>
  : First;

/**
 * The rule of `new TensorDataset(...tensors)`: every tensor has a first dim, and they agree
 * (literal dims are checked by `tsc`; `number` dims at run time, with the same message).
 *
 * @example
 * type R = TensorDatasetShape<[[100, 784], [99]]>; // Err<"TensorDataset: tensors must have the same first dim, got [100, 784] and [99]">
 */
export type TensorDatasetShape<Ss extends readonly Shape[]> = number extends Ss["length"]
  ? Shape
  : Ss extends readonly [infer H extends Shape, ...infer T extends readonly Shape[]]
    ? H extends readonly [] ? Err<TensorDataset0dMsg> : FirstDimRec<H, T>
    : Shape;

/**
 * One sample of a TensorDataset over tensors `Ts`: each tensor's row, its first dim dropped.
 *
 * @example
 * type R = Rows<[Tensor<[60000, 784]>, Tensor<[60000], "int64">]>; // [Tensor<[784]>, Tensor<[], "int64">]
 */
export type Rows<Ts extends readonly AnyTensor[]> = {
  -readonly [K in keyof Ts]: Ts[K] extends Tensor<infer S, infer D> ? Tensor<S extends readonly [number, ...infer R extends Shape] ? R : number[], D> : never;
};

/**
 * `torch.utils.data.TensorDataset`: sample `i` is the tuple of row `i` of each tensor (views, no
 * copy). The tensors must agree in their first dim — checked by `tsc` for literal dims, at run
 * time for all: `TensorDataset: tensors must have the same first dim, got [100, 784] and [99]`.
 * A DataLoader over it gathers a whole batch with one `indexSelect` per tensor.
 *
 * @example
 * const x = torch.randn(100, 784), y = torch.randint(0, 10, [100]);
 * const ds = new data.TensorDataset(x, y); // TensorDataset<[Tensor<[100, 784]>, Tensor<[100], "int64">]>
 * const [xi, yi] = ds.get(0);              // Tensor<[784]>, Tensor<[], "int64">
 * ds.length;                               // 100
 */
export class TensorDatasetImpl<Ts extends readonly AnyTensor[]> extends Dataset<Rows<Ts>> {
  /** The tensors, as given. */
  readonly tensors: Ts;
  /** The shared first dim: the number of samples. */
  readonly length: number;

  /**
   * @example
   * new data.TensorDataset(torch.zeros(10, 3), torch.arange(10));
   */
  constructor(...tensors: Ts & Check<TensorDatasetShape<ShapesOf<Ts>>>) {
    super();
    const ts = tensors as readonly AnyTensor[];
    if (ts.length === 0) throw new ValueError("TensorDataset: expected at least one tensor, got none");
    for (const t of ts) {
      if (!(t instanceof Tensor)) throw new ValueError(`TensorDataset: every argument must be a tensor, got ${t === null ? "null" : typeof t}`);
      if (t.ndim === 0) throw new ShapeError(tensorDataset0dMsg());
    }
    const first = ts[0]!;
    for (const t of ts) {
      if (t.shape[0] !== first.shape[0]) throw new ShapeError(tensorDatasetMsg(shapeStr(first.shape), shapeStr(t.shape)));
    }
    this.tensors = tensors;
    this.length = first.shape[0]!;
  }

  /**
   * Row `index` of every tensor (negative counts from the end, as in Python).
   *
   * @example
   * const [x0, y0] = ds.get(0);
   */
  get(index: number): Rows<Ts> {
    const n = this.length;
    if (!Number.isInteger(index) || index < -n || index >= n) {
      throw new IndexError(`TensorDataset.get: index must be an integer in [${-n}, ${n - 1}], got ${index}`);
    }
    const i = index < 0 ? index + n : index;
    return (this.tensors as readonly AnyTensor[]).map((t) => t.select(0, i)) as never;
  }

  /**
   * @internal The batch at `indices` without going through samples: one `indexSelect` per tensor
   * (what the DataLoader's default collate would build by stacking the rows).
   */
  _batch(indices: ArrayLike<number>): AnyTensor[] {
    const idx = Tensor._empty([indices.length], "int64");
    const d = idx._data;
    for (let k = 0; k < indices.length; k++) d[k] = indices[k]!;
    return (this.tensors as readonly AnyTensor[]).map((t) => t.indexSelect(0, idx as Tensor<Shape, "int64">));
  }
}

/** The type of a TensorDataset over tensors `Ts` (see {@link TensorDatasetImpl}). */
export type TensorDataset<Ts extends readonly AnyTensor[]> = TensorDatasetImpl<Ts>;

/** `data.TensorDataset(...tensors)`, with or without `new`. */
export interface TensorDatasetConstructor {
  <Ts extends readonly AnyTensor[]>(...tensors: Ts & Check<TensorDatasetShape<ShapesOf<Ts>>>): TensorDatasetImpl<Ts>;
  new <Ts extends readonly AnyTensor[]>(...tensors: Ts & Check<TensorDatasetShape<ShapesOf<Ts>>>): TensorDatasetImpl<Ts>;
  readonly prototype: TensorDatasetImpl<readonly AnyTensor[]>;
}

/**
 * `torch.utils.data.TensorDataset`, made with or without `new` (see {@link TensorDatasetImpl}).
 *
 * @example
 * const ds = data.TensorDataset(torch.randn(100, 784), torch.randint(0, 10, [100]));
 */
export const TensorDataset = new Proxy(TensorDatasetImpl, {
  apply: (target, _this, args: AnyTensor[]) => Reflect.construct(target, args),
}) as unknown as TensorDatasetConstructor;
