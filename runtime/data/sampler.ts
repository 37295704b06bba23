/**
 * Samplers: the order in which a DataLoader visits a dataset, as PyTorch 1.13's
 * `SequentialSampler`, `RandomSampler` and `BatchSampler`, draw for draw.
 */
import { ValueError } from "../../types/errors.js";
import { Generator, defaultGenerator, randpermArray } from "../random.js";

const INT64_MODULUS = 2n ** 63n;

/**
 * What `torch.empty((), dtype=torch.int64).random_(generator=g)` draws: one `random64()`, made a
 * non-negative int64. PyTorch's DataLoader draws one per epoch (`_base_seed`, the workers' seed),
 * and RandomSampler one more (its private generator's seed) when it has no generator.
 *
 * @example
 * randomInt64Seed(new Generator().manualSeed(0)); // 900450186894289455n
 */
export function randomInt64Seed(gen: Generator = defaultGenerator): bigint {
  return gen.random64() % INT64_MODULUS;
}

/**
 * Anything with a length (a dataset, for the samplers).
 *
 * @example
 * const s: Sized = { length: 10 };
 */
export interface Sized {
  readonly length: number;
}

/**
 * The indices `0, 1, ..., length - 1` in order (`torch.utils.data.SequentialSampler`): what a
 * DataLoader without `shuffle` uses.
 *
 * @example
 * [...new data.SequentialSampler({ length: 3 })]; // [0, 1, 2]
 */
export class SequentialSampler implements Iterable<number> {
  constructor(readonly dataSource: Sized) {}
  /** The number of indices: the dataset's length. */
  get length(): number {
    return this.dataSource.length;
  }
  *[Symbol.iterator](): Iterator<number> {
    const n = this.dataSource.length;
    for (let i = 0; i < n; i++) yield i;
  }
}

/**
 * A fresh random permutation of the indices on every pass (`torch.utils.data.RandomSampler`
 * without replacement), exactly as PyTorch 1.13 draws it:
 * - with a `generator`, each pass is `torch.randperm(n, generator)`;
 * - without one, each pass first seeds a private generator from the default one
 *   (`torch.empty((), dtype=torch.int64).random_()`), so `torch.manualSeed(s)` fixes the order;
 * - like PyTorch's, a pass that runs to its end draws (and drops) one more permutation — it
 *   matters with an explicit generator, whose next pass depends on it.
 *
 * @example
 * torch.manualSeed(0);
 * [...new data.RandomSampler({ length: 5 })]; // the order torch.utils.data.RandomSampler gives
 */
export class RandomSampler implements Iterable<number> {
  /** The generator of the permutations; `undefined`: seeded from the default one per pass. */
  readonly generator: Generator | undefined;
  constructor(readonly dataSource: Sized, opts: { generator?: Generator | undefined } = {}) {
    if (opts.generator !== undefined && !(opts.generator instanceof Generator)) {
      throw new ValueError(`RandomSampler: generator must be a torch.Generator, got ${typeof opts.generator}`);
    }
    this.generator = opts.generator;
  }
  /** The number of indices: the dataset's length. */
  get length(): number {
    return this.dataSource.length;
  }
  *[Symbol.iterator](): Iterator<number> {
    const n = this.dataSource.length;
    let gen = this.generator;
    if (gen === undefined) gen = new Generator().manualSeed(randomInt64Seed(defaultGenerator));
    yield* randpermArray(n, gen);
    // PyTorch's `yield from torch.randperm(n, generator=generator).tolist()[:num_samples % n]`.
    randpermArray(n, gen);
  }
}

/**
 * Groups a sampler's indices into lists of `batchSize` (`torch.utils.data.BatchSampler`); the last
 * short list is dropped with `dropLast`.
 *
 * @example
 * [...new data.BatchSampler(new data.SequentialSampler({ length: 5 }), 2, false)]; // [[0, 1], [2, 3], [4]]
 */
export class BatchSampler implements Iterable<number[]> {
  constructor(
    readonly sampler: Iterable<number> & Sized,
    readonly batchSize: number,
    readonly dropLast: boolean,
  ) {
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new ValueError(`BatchSampler: batchSize must be a positive integer, got ${String(batchSize)}`);
    }
  }
  /** The number of batches. */
  get length(): number {
    const n = this.sampler.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }
  *[Symbol.iterator](): Iterator<number[]> {
    const bs = this.batchSize;
    if (this.dropLast) {
      const it = this.sampler[Symbol.iterator]();
      try {
        for (;;) {
          const batch: number[] = [];
          for (let k = 0; k < bs; k++) {
            const r = it.next();
            if (r.done) return;
            batch.push(r.value);
          }
          yield batch;
        }
      } finally {
        it.return?.();
      }
    } else {
      let batch: number[] = [];
      for (const idx of this.sampler) {
        batch.push(idx);
        if (batch.length === bs) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    }
  }
}
