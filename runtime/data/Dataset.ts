/**
 * `data.Dataset`: PyTorch's map-style dataset — a length and a `get(index)` that returns one sample.
 */

/**
 * What a {@link DataLoader} reads: anything with a `length` and a `get(index)` (PyTorch's
 * `__len__` and `__getitem__`). {@link Dataset} subclasses are the usual kind; a plain object of
 * this shape works too.
 *
 * @example
 * const squares: MapDataset<number> = { length: 10, get: (i) => i * i };
 */
export interface MapDataset<T> {
  /** The number of samples. */
  readonly length: number;
  /** Sample `index`, for `index` in `[0, length)`. */
  get(index: number): T;
}

/**
 * A map-style dataset (`torch.utils.data.Dataset`): subclass it, implement `length` (a field or a
 * getter: PyTorch's `__len__`) and `get(index)` (PyTorch's `__getitem__`). `len()` and
 * `torch.len(ds)` read `length`. A sample can be a tensor, a number, a boolean, a string, or
 * arrays / tuples / plain objects of them: the DataLoader's default collate batches each part.
 *
 * @example
 * class Squares extends data.Dataset<[Tensor<[1]>, number]> {
 *   readonly length = 100;
 *   get(i: number): [Tensor<[1]>, number] {
 *     return [torch.tensor([i], { dtype: "float32" }), i * i];
 *   }
 * }
 * const loader = new data.DataLoader(new Squares(), { batchSize: 10 });
 */
export abstract class Dataset<T> implements MapDataset<T> {
  /** The number of samples (PyTorch's `__len__`). */
  abstract readonly length: number;

  /** Sample `index`, for `index` in `[0, length)` (PyTorch's `__getitem__`). */
  abstract get(index: number): T;

  /**
   * The number of samples, as Python's `len(ds)`.
   *
   * @example
   * new Squares().len(); // 100
   */
  len(): number {
    return this.length;
  }
}
