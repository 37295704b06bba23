/**
 * `data.DataLoader`: batches of a dataset, shuffled as PyTorch shuffles them, optionally prepared
 * ahead by worker threads.
 */
import { ValueError } from "../../types/errors.js";
import { defaultGenerator, Generator } from "../random.js";
import type { AnyTensor } from "../tensorTypes.js";
import { type Collated, defaultCollate } from "./collate.js";
import type { MapDataset } from "./Dataset.js";
import { BatchSampler, RandomSampler, randomInt64Seed, SequentialSampler, type Sized } from "./sampler.js";
import { TensorDataset } from "./TensorDataset.js";
import type { WorkerPool } from "./workerPool.js";

/**
 * The options of a {@link DataLoader}, PyTorch's keywords in camelCase.
 *
 * @example
 * const opts: DataLoaderOptions = { batchSize: 64, shuffle: true, dropLast: true };
 */
export interface DataLoaderOptions<T = unknown> {
  /** Samples per batch (a positive integer). Default 1. */
  batchSize?: number;
  /** A fresh random order every epoch (PyTorch's RandomSampler). Default false. */
  shuffle?: boolean;
  /** The order of the indices instead (must have a `length`; excludes `shuffle`). */
  sampler?: Iterable<number> & Sized;
  /**
   * Worker threads that prepare batches ahead (`for await` only). Default 0: batches are made on
   * the calling thread when asked for.
   */
  numWorkers?: number;
  /** Accepted for PyTorch compatibility; a no-op (CPU tensors need no pinned memory). */
  pinMemory?: boolean;
  /** Drop the last batch when it is short. Default false. */
  dropLast?: boolean;
  /** The generator of the shuffle order (and the epoch's worker seed); default: the global one. */
  generator?: Generator;
  /** Makes a batch of a list of samples; default {@link defaultCollate}. */
  collateFn?: (samples: T[]) => unknown;
  /**
   * With `numWorkers > 0` and a dataset that is not a TensorDataset: the module (URL or path) the
   * workers import to build their own copy of the dataset — its `workerExport` is a dataset, a
   * Dataset class (constructed with `workerArgs`) or a function (called with `workerArgs`). Its
   * length must equal the loader's dataset's. A TypeScript module needs the `tsx` package.
   * (A TensorDataset needs none: its tensors are copied once into shared memory that the workers
   * read — a snapshot taken at the first epoch with workers.)
   *
   * @example
   * // digits.ts: export class Digits extends data.Dataset<[Tensor<[784]>, number]> { ... }
   * new data.DataLoader(new Digits(), { numWorkers: 2, workerModule: new URL("./digits.js", import.meta.url), workerExport: "Digits" });
   */
  workerModule?: URL | string;
  /** The export of `workerModule` to use: a dataset, a Dataset class or a factory. Default "default". */
  workerExport?: string;
  /** Arguments (structured-cloneable) for the class or factory of `workerExport`. Default []. */
  workerArgs?: readonly unknown[];
  /** Batches in flight per worker. Default 2. */
  prefetchFactor?: number;
  /**
   * Keep the workers between epochs (else they start and stop with each epoch). Default false.
   * As in PyTorch, the workers' base seed is then drawn once, at the first epoch, not every epoch:
   * from the second epoch on, the shuffle order differs from a loader without persistent workers.
   */
  persistentWorkers?: boolean;
}

/**
 * The batch dim a loader's batches have in the type: the literal `batchSize` when `dropLast: true`
 * (every batch is full), else `number` (the last one may be short).
 *
 * @example
 * type B = BatchDim<{ batchSize: 64; dropLast: true }>; // 64
 * type C = BatchDim<{ batchSize: 64 }>;                 // number
 */
export type BatchDim<O> = O extends { dropLast: true } ? (O extends { batchSize: infer B extends number } ? B : 1) : number;

/**
 * The batch type of a loader over samples `T` with options `O`: `collateFn`'s return type, else
 * the default collate's {@link Collated}.
 *
 * @example
 * type B = BatchOf<[Tensor<[784]>, Tensor<[], "int64">], { batchSize: 64; dropLast: true }>;
 * // [Tensor<[64, 784]>, Tensor<[64], "int64">]
 */
export type BatchOf<T, O> = O extends { collateFn: (samples: never) => infer R } ? R : Collated<T, BatchDim<O>>;

function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new ValueError(`DataLoader: ${name} must be ${min === 0 ? "a non-negative" : "a positive"} integer, got ${typeof v === "number" ? v : String(v)}`);
  }
  return v;
}

/**
 * `torch.utils.data.DataLoader`: iterates a dataset in batches.
 *
 * - `for (const [x, y] of loader)` (sync) or `for await (...)` (required with `numWorkers > 0`);
 *   `loader.length` / `torch.len(loader)` is the number of batches.
 * - Batches are typed: a TensorDataset of `[N, 784]` features and `[N]` int64 labels with
 *   `batchSize: 64, dropLast: true` gives `[Tensor<[64, 784]>, Tensor<[64], "int64">]`; without
 *   `dropLast` the batch dim is `number`.
 * - `shuffle: true` draws a new order every epoch exactly as PyTorch 1.13 does: after
 *   `torch.manualSeed(s)` (or with the same `generator`), the batches hold the same samples as
 *   PyTorch's. Each epoch visits every sample once.
 * - The default collate stacks tensors, makes tensors of numbers, and batches arrays, tuples and
 *   objects part by part ({@link defaultCollate}); a TensorDataset's batch is gathered with one
 *   `indexSelect` per tensor.
 * - `numWorkers > 0`: worker threads prepare batches ahead; same batches, same order. A
 *   TensorDataset is shared with them as-is; other datasets need `workerModule`, a module the
 *   workers import to build their own copy (see {@link DataLoaderOptions.workerModule}).
 * - `pinMemory` is accepted and does nothing (CPU tensors).
 *
 * @example
 * const ds = new data.TensorDataset(torch.randn(1000, 784), torch.randint(0, 10, [1000]));
 * const loader = new data.DataLoader(ds, { batchSize: 64, shuffle: true, dropLast: true });
 * for (const [x, y] of loader) {
 *   x.shape; // [64, 784]: Tensor<[64, 784]>
 *   y.shape; // [64]:      Tensor<[64], "int64">
 * }
 * torch.len(loader); // 15
 */
export class DataLoaderImpl<Batch = unknown, Sample = unknown> implements Iterable<Batch>, AsyncIterable<Batch> {
  /** The dataset. */
  readonly dataset: MapDataset<Sample>;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Whether the last short batch is dropped. */
  readonly dropLast: boolean;
  /** Worker threads (0: none). */
  readonly numWorkers: number;
  /** As given; a no-op on the CPU. */
  readonly pinMemory: boolean;
  /** The shuffle generator, if one was given. */
  readonly generator: Generator | undefined;
  /** The collate function, if one was given (else the default collate). */
  readonly collateFn: ((samples: Sample[]) => unknown) | undefined;
  /** The order of the indices: SequentialSampler, RandomSampler or the given sampler. */
  readonly sampler: Iterable<number> & Sized;
  /** The sampler grouped into batches. */
  readonly batchSampler: BatchSampler;
  /** Batches in flight per worker. */
  readonly prefetchFactor: number;
  /** Whether the workers outlive an epoch. */
  readonly persistentWorkers: boolean;
  private readonly workerModule: URL | string | undefined;
  private readonly workerExport: string;
  private readonly workerArgs: readonly unknown[];
  private pool: WorkerPool | null = null;

  constructor(dataset: MapDataset<Sample>, options: DataLoaderOptions<Sample> = {}) {
    if (dataset === null || typeof dataset !== "object" || typeof dataset.get !== "function" || typeof dataset.length !== "number") {
      throw new ValueError(`DataLoader: the dataset must have a length and a get(index) method, got ${dataset === null ? "null" : typeof dataset}`);
    }
    checkInt("the dataset's length", dataset.length, 0);
    const o = options;
    this.dataset = dataset;
    this.batchSize = checkInt("batchSize", o.batchSize ?? 1, 1);
    this.numWorkers = checkInt("numWorkers", o.numWorkers ?? 0, 0);
    this.prefetchFactor = checkInt("prefetchFactor", o.prefetchFactor ?? 2, 1);
    this.dropLast = o.dropLast ?? false;
    this.pinMemory = o.pinMemory ?? false;
    this.persistentWorkers = o.persistentWorkers ?? false;
    if (o.generator !== undefined && !(o.generator instanceof Generator)) {
      throw new ValueError(`DataLoader: generator must be a torch.Generator, got ${typeof o.generator}`);
    }
    this.generator = o.generator;
    if (o.collateFn !== undefined && typeof o.collateFn !== "function") {
      throw new ValueError(`DataLoader: collateFn must be a function, got ${typeof o.collateFn}`);
    }
    this.collateFn = o.collateFn;
    if (o.sampler !== undefined) {
      if (o.shuffle) throw new ValueError("DataLoader: sampler and shuffle can't be used together, got both");
      this.sampler = o.sampler;
    } else {
      this.sampler = o.shuffle ? new RandomSampler(dataset, { generator: o.generator }) : new SequentialSampler(dataset);
    }
    this.batchSampler = new BatchSampler(this.sampler, this.batchSize, this.dropLast);
    this.workerModule = o.workerModule;
    this.workerExport = o.workerExport ?? "default";
    this.workerArgs = o.workerArgs ?? [];
    if (this.numWorkers > 0 && this.workerModule === undefined && !(dataset instanceof TensorDataset && dataset.get === TensorDataset.prototype.get)) {
      throw new ValueError("DataLoader: numWorkers > 0 needs a workerModule for a dataset that is not a TensorDataset (a worker thread can't receive its get function), got none");
    }
  }

  /**
   * The number of batches per epoch (`len(loader)`): `ceil(n / batchSize)`, or `floor` with
   * `dropLast`.
   *
   * @example
   * new data.DataLoader(ds100, { batchSize: 32 }).length; // 4
   */
  get length(): number {
    return this.batchSampler.length;
  }

  /** Checks, then draws the epoch's base seed like PyTorch's iterator does; the batches' indices follow. */
  private startEpoch(drawSeed: boolean): { batches: Iterator<number[]>; seed: bigint } {
    if (this.dataset.length === 0) throw new ValueError("DataLoader: the dataset is empty, got length 0");
    const seed = drawSeed ? randomInt64Seed(this.generator ?? defaultGenerator) : 0n;
    return { batches: this.batchSampler[Symbol.iterator](), seed };
  }

  /** The batch of `indices`, made on this thread. */
  private fetch(indices: number[]): Batch {
    const ds = this.dataset;
    if (this.collateFn === undefined && ds instanceof TensorDataset && ds.get === TensorDataset.prototype.get) {
      return (ds as unknown as TensorDataset<AnyTensor[]>)._batch(indices) as Batch;
    }
    const samples = indices.map((i) => ds.get(i));
    return (this.collateFn ?? defaultCollate)(samples) as Batch;
  }

  /**
   * One epoch, batch by batch, on this thread (`numWorkers: 0`; with workers use `for await`).
   *
   * @example
   * for (const [x, y] of loader) { ... }
   */
  [Symbol.iterator](): IterableIterator<Batch> {
    if (this.numWorkers > 0) {
      throw new ValueError(`DataLoader: numWorkers > 0 needs for await (workers answer asynchronously), got numWorkers ${this.numWorkers} in a for...of`);
    }
    const { batches } = this.startEpoch(true);
    const self = this;
    function* epoch(): IterableIterator<Batch> {
      try {
        for (let r = batches.next(); !r.done; r = batches.next()) yield self.fetch(r.value);
      } finally {
        batches.return?.();
      }
    }
    return epoch();
  }

  /**
   * One epoch, asynchronously: prepared ahead by the workers when `numWorkers > 0`, else the same
   * batches as the sync iterator.
   *
   * @example
   * for await (const [x, y] of loader) { ... }
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Batch> {
    if (this.numWorkers === 0) {
      const sync = this[Symbol.iterator]();
      const it: AsyncIterableIterator<Batch> = {
        next: async () => sync.next(),
        return: async (value?: unknown) => {
          sync.return?.();
          return { done: true, value: value as Batch };
        },
        [Symbol.asyncIterator]: () => it,
      };
      return it;
    }
    // PyTorch draws the base seed once per iterator; persistent workers keep the first one.
    const reuse = this.persistentWorkers && this.pool !== null && !this.pool.isClosed;
    const { batches, seed } = this.startEpoch(!reuse);
    let starting: Promise<AsyncIterableIterator<unknown>> | null = null;
    let returned = false;
    const start = async (): Promise<AsyncIterableIterator<unknown>> => {
      const { WorkerPool, workerEpoch } = await import("./workerPool.js");
      if (!reuse || this.pool === null || this.pool.isClosed) {
        this.pool?.close();
        this.pool = new WorkerPool(
          {
            dataset: this.dataset as MapDataset<unknown>,
            numWorkers: this.numWorkers,
            prefetchFactor: this.prefetchFactor,
            workerModule: this.workerModule,
            workerExport: this.workerExport,
            workerArgs: this.workerArgs,
            collateFn: this.collateFn as ((s: unknown[]) => unknown) | undefined,
          },
          reuse ? randomInt64Seed(this.generator ?? defaultGenerator) : seed, // (reuse: the kept pool failed meanwhile)
        );
      }
      return workerEpoch(this.pool, batches, this.numWorkers * this.prefetchFactor, this.persistentWorkers);
    };
    const it: AsyncIterableIterator<Batch> = {
      next: async () => {
        if (returned) return { done: true, value: undefined };
        starting ??= start();
        return (await (await starting).next()) as IteratorResult<Batch>;
      },
      return: async (value?: unknown) => {
        returned = true;
        if (starting) await (await starting.catch(() => null))?.return?.();
        else batches.return?.();
        return { done: true, value: value as Batch };
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /**
   * Stops persistent workers (they also stop when the process has nothing else to do).
   *
   * @example
   * loader.close();
   */
  close(): void {
    this.pool?.close();
    this.pool = null;
  }
}

/**
 * `new DataLoader(dataset, options)`: the batch type follows from the dataset's sample type and
 * the options (see {@link BatchOf}).
 *
 * @example
 * const make: DataLoaderConstructor = data.DataLoader;
 * make === data.DataLoader; // true
 */
export interface DataLoaderConstructor {
  <T, const O extends DataLoaderOptions<T>>(dataset: MapDataset<T>, options?: O): DataLoader<BatchOf<T, O>, T>;
  new <T, const O extends DataLoaderOptions<T>>(dataset: MapDataset<T>, options?: O): DataLoader<BatchOf<T, O>, T>;
  readonly prototype: DataLoader<unknown, unknown>;
}

/**
 * `torch.utils.data.DataLoader`: iterates a dataset in typed batches (see {@link DataLoaderImpl}).
 * `DataLoader<Batch, Sample>` is its type: e.g. `DataLoader<[Tensor<[64, 784]>, Tensor<[64], "int64">]>`.
 *
 * @example
 * const loader = new data.DataLoader(ds, { batchSize: 64, shuffle: true, dropLast: true });
 * for (const [x, y] of loader) model(x); // x: Tensor<[64, 784]>, y: Tensor<[64], "int64">
 */
export type DataLoader<Batch = unknown, Sample = unknown> = DataLoaderImpl<Batch, Sample>;
/**
 * `torch.utils.data.DataLoader` (see {@link DataLoaderImpl}).
 *
 * @example
 * for (const [x, y] of new data.DataLoader(ds, { batchSize: 64, shuffle: true })) { ... }
 */
export const DataLoader: DataLoaderConstructor = new Proxy(DataLoaderImpl, {
  // Callable without `new`, as the other constructors of the API.
  apply: (target, _this, args: ConstructorParameters<typeof DataLoaderImpl>) => Reflect.construct(target, args),
}) as unknown as DataLoaderConstructor;
