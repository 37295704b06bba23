/**
 * DataLoader, TensorDataset, Dataset and the samplers (numWorkers 0). The shuffle order is checked
 * against PyTorch 1.13: test/fixtures/data.json, written by test/fixtures/gen_data.py.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler, TensorDataset } from "../../runtime/data/index.js";
import { Generator, defaultGenerator } from "../../runtime/random.js";
import type { Tensor } from "../../runtime/Tensor.js";
import * as torch from "../../runtime/torch.js";
import { IndexError, ShapeError, ValueError } from "../../types/errors.js";

interface Step {
  op: "epoch" | "rand" | "randperm";
  take?: number;
  n?: number;
  gen?: "default" | "loader";
}
interface Case {
  id: string;
  n: number;
  batchSize: number;
  seed: number | string;
  genSeed?: number;
  shuffle?: boolean;
  dropLast?: boolean;
  steps: Step[];
  out: unknown[];
}
const fixture = JSON.parse(readFileSync(new URL("../fixtures/data.json", import.meta.url), "utf8")) as { cases: Case[] };

const indicesOf = (loader: Iterable<[Tensor<[number], "int64">]>, take = Infinity): number[][] => {
  const out: number[][] = [];
  for (const [b] of loader) {
    out.push(b.toArray() as number[]);
    if (out.length === take) break;
  }
  return out;
};

describe("shuffle order equals PyTorch 1.13's DataLoader", () => {
  for (const c of fixture.cases) {
    it(c.id, () => {
      torch.manualSeed(typeof c.seed === "string" ? BigInt(c.seed) : c.seed);
      const g = c.genSeed === undefined ? undefined : new Generator().manualSeed(c.genSeed);
      const ds = new TensorDataset(torch.arange(c.n, { dtype: "int64" }));
      const loader = new DataLoader(ds, { batchSize: c.batchSize, shuffle: c.shuffle ?? true, dropLast: c.dropLast ?? false, ...(g ? { generator: g } : {}) });
      const got = c.steps.map((s) => {
        if (s.op === "epoch") return indicesOf(loader, s.take);
        if (s.op === "rand") return Array.from(torch.rand(s.n!).data());
        return torch.randperm(s.n!, s.gen === "loader" ? { generator: g! } : {}).toArray();
      });
      expect(got).toEqual(c.out);
    });
  }
});

describe("DataLoader over a TensorDataset", () => {
  const x = torch.randn(100, 784);
  const y = torch.randint(0, 10, [100]);
  const ds = new TensorDataset(x, y);

  it("makes batches of the right shapes and dtypes, rows taken from the tensors", () => {
    const loader = new DataLoader(ds, { batchSize: 32 });
    expect(loader.length).toBe(4);
    expect(torch.len(loader)).toBe(4);
    const batches = [...loader];
    expect(batches.map(([bx]) => bx.shape)).toEqual([[32, 784], [32, 784], [32, 784], [4, 784]]);
    expect(batches.map(([, by]) => by.shape)).toEqual([[32], [32], [32], [4]]);
    for (const [bx, by] of batches) {
      expect(bx.dtype).toBe("float32");
      expect(by.dtype).toBe("int64");
    }
    expect(torch.equal(torch.cat(batches.map(([bx]) => bx)), x)).toBe(true);
    expect(torch.equal(torch.cat(batches.map(([, by]) => by)), y)).toBe(true);
  });

  it("dropLast drops the short batch (length too)", () => {
    const loader = new DataLoader(ds, { batchSize: 32, dropLast: true, shuffle: true });
    expect(loader.length).toBe(3);
    const shapes = [...loader].map(([bx]) => bx.shape);
    expect(shapes).toEqual([[32, 784], [32, 784], [32, 784]]);
    expect(new DataLoader(ds, { batchSize: 100, dropLast: true }).length).toBe(1);
    expect(new DataLoader(ds, { batchSize: 101, dropLast: true }).length).toBe(0);
    expect([...new DataLoader(ds, { batchSize: 101, dropLast: true })]).toEqual([]);
    expect(new DataLoader(ds).length).toBe(100);
  });

  it("visits every sample exactly once per epoch, in a new order each epoch", () => {
    const idx = new TensorDataset(torch.arange(97));
    const loader = new DataLoader(idx, { batchSize: 10, shuffle: true });
    const epochs: number[][] = [];
    for (let e = 0; e < 5; e++) {
      const seen = indicesOf(loader).flat();
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 97 }, (_, i) => i));
      epochs.push(seen);
    }
    expect(new Set(epochs.map((e) => e.join())).size).toBe(5);
    // dropLast: each sample at most once, and all but the 7 of the dropped tail
    const dl = new DataLoader(idx, { batchSize: 10, shuffle: true, dropLast: true });
    const seen = indicesOf(dl).flat();
    expect(seen.length).toBe(90);
    expect(new Set(seen).size).toBe(90);
  });

  it("rows and batch content agree: batch row k is ds.get(index k)", () => {
    torch.manualSeed(3);
    const idx = torch.arange(100);
    const withIdx = new TensorDataset(x, y, idx);
    for (const [bx, by, bi] of new DataLoader(withIdx, { batchSize: 16, shuffle: true })) {
      const is = bi.toArray() as number[];
      is.forEach((i, k) => {
        const [xi, yi] = ds.get(i);
        expect(torch.equal(bx.index(k), xi)).toBe(true);
        expect(by.index(k).item()).toBe(yi.item());
      });
    }
  });

  it("is reproducible with the same seed or generator, and not with another", () => {
    const run = (opts: { generator?: Generator }): number[][] => {
      const loader = new DataLoader(new TensorDataset(torch.arange(50)), { batchSize: 8, shuffle: true, ...opts });
      return [...indicesOf(loader), ...indicesOf(loader)];
    };
    torch.manualSeed(7);
    const a = run({});
    torch.manualSeed(7);
    expect(run({})).toEqual(a);
    torch.manualSeed(8);
    expect(run({})).not.toEqual(a);
    torch.manualSeed(1);
    const b = run({ generator: new Generator().manualSeed(7) });
    torch.manualSeed(2); // the global seed doesn't matter with a generator
    expect(run({ generator: new Generator().manualSeed(7) })).toEqual(b);
  });

  it("iterates with for await too (numWorkers 0), with the same batches", async () => {
    const loader = new DataLoader(new TensorDataset(torch.arange(20)), { batchSize: 6, shuffle: true });
    torch.manualSeed(11);
    const sync = indicesOf(loader);
    torch.manualSeed(11);
    const got: number[][] = [];
    for await (const [b] of loader) got.push(b.toArray() as number[]);
    expect(got).toEqual(sync);
  });

  it("accepts pinMemory as a no-op and exposes its settings", () => {
    const g = new Generator();
    const loader = new DataLoader(ds, { batchSize: 10, pinMemory: true, dropLast: true, generator: g, shuffle: true });
    expect(loader.pinMemory).toBe(true);
    expect(loader.batchSize).toBe(10);
    expect(loader.dropLast).toBe(true);
    expect(loader.numWorkers).toBe(0);
    expect(loader.generator).toBe(g);
    expect(loader.dataset).toBe(ds);
    expect(loader.sampler).toBeInstanceOf(RandomSampler);
    expect([...loader].length).toBe(10);
  });
});

describe("TensorDataset", () => {
  it("returns the rows of each tensor", () => {
    const x = torch.tensor([[1, 2], [3, 4], [5, 6]], { dtype: "float32" });
    const y = torch.tensor([7, 8, 9]);
    const ds = new TensorDataset(x, y);
    expect(ds.length).toBe(3);
    expect(ds.len()).toBe(3);
    expect(torch.len(ds)).toBe(3);
    const [xi, yi] = ds.get(1);
    expect(xi.toArray()).toEqual([3, 4]);
    expect(yi.shape).toEqual([]);
    expect(yi.item()).toBe(8);
    expect(ds.get(-1)[1].item()).toBe(9);
    expect(ds.tensors[0]).toBe(x);
  });

  it("rejects tensors whose first dims differ, 0-d tensors, no tensors and bad indices", () => {
    const x = torch.zeros(100, 784);
    const y99 = torch.zeros(99) as unknown as Tensor<[100]>;
    expect(() => new TensorDataset(x, y99)).toThrow(ShapeError);
    expect(() => new TensorDataset(x, y99)).toThrow("TensorDataset: tensors must have the same first dim, got [100, 784] and [99]");
    expect(() => new TensorDataset(torch.tensor(1) as unknown as Tensor<[1]>)).toThrow("TensorDataset: every tensor needs a first dim, got shape []");
    expect(() => new TensorDataset()).toThrow(ValueError);
    const ds = new TensorDataset(torch.zeros(3));
    expect(() => ds.get(3)).toThrow(IndexError);
    expect(() => ds.get(3)).toThrow("TensorDataset.get: index must be an integer in [-3, 2], got 3");
    expect(() => ds.get(0.5)).toThrow(IndexError);
  });
});

describe("a custom Dataset and collateFn", () => {
  class Squares extends Dataset<{ x: Tensor<[2]>; sq: number; half: number; even: boolean; name: string; pair: [number, Tensor<[1], "int64">] }> {
    constructor(readonly length: number) {
      super();
    }
    get(i: number) {
      return {
        x: torch.tensor([i, -i], { dtype: "float32" }),
        sq: i * i,
        half: i / 2 + 0.25,
        even: i % 2 === 0,
        name: `s${i}`,
        pair: [i, torch.tensor([i + 1])] as [number, Tensor<[1], "int64">],
      };
    }
  }

  it("batches nested objects, tuples, numbers, booleans and strings with the default collate", () => {
    const ds = new Squares(5);
    expect(torch.len(ds)).toBe(5);
    const batches = [...new DataLoader(ds, { batchSize: 3 })];
    expect(batches.length).toBe(2);
    const b = batches[0]!;
    expect(b.x.shape).toEqual([3, 2]);
    expect(b.x.toArray()).toEqual([[0, -0], [1, -1], [2, -2]]);
    expect(b.sq.dtype).toBe("int64");
    expect(b.sq.toArray()).toEqual([0, 1, 4]);
    expect(b.half.dtype).toBe("float64");
    expect(b.half.toArray()).toEqual([0.25, 0.75, 1.25]);
    expect(b.even.dtype).toBe("bool");
    expect(b.even.toArray()).toEqual([true, false, true]);
    expect(b.name).toEqual(["s0", "s1", "s2"]);
    expect(b.pair[0].toArray()).toEqual([0, 1, 2]);
    expect(b.pair[1].shape).toEqual([3, 1]);
    expect(b.pair[1].toArray()).toEqual([[1], [2], [3]]);
    expect(batches[1]!.x.shape).toEqual([2, 2]);
  });

  it("uses collateFn on the list of samples", () => {
    const ds = new Squares(7);
    const loader = new DataLoader(ds, { batchSize: 3, collateFn: (samples) => samples.map((s) => s.name).join("+") });
    expect([...loader]).toEqual(["s0+s1+s2", "s3+s4+s5", "s6"]);
    const tds = new TensorDataset(torch.arange(4));
    const sums = new DataLoader(tds, { batchSize: 2, collateFn: (rows) => rows.reduce((a, [r]) => a + (r.item() as number), 0) });
    expect([...sums]).toEqual([1, 5]);
  });

  it("works with a plain object that has length and get", () => {
    const loader = new DataLoader({ length: 4, get: (i: number) => i * 10 }, { batchSize: 3 });
    expect([...loader].map((b) => b.toArray())).toEqual([[0, 10, 20], [30]]);
  });

  it("takes a sampler instead of shuffle", () => {
    const order = { length: 4, *[Symbol.iterator]() { yield* [3, 1, 2, 0]; } };
    const loader = new DataLoader(new TensorDataset(torch.arange(4)), { batchSize: 2, sampler: order });
    expect(indicesOf(loader)).toEqual([[3, 1], [2, 0]]);
    expect(() => new DataLoader(new TensorDataset(torch.arange(4)), { sampler: order, shuffle: true })).toThrow("DataLoader: sampler and shuffle can't be used together, got both");
  });
});

describe("samplers", () => {
  it("SequentialSampler, BatchSampler and RandomSampler as PyTorch's", () => {
    expect([...new SequentialSampler({ length: 3 })]).toEqual([0, 1, 2]);
    expect([...new BatchSampler(new SequentialSampler({ length: 5 }), 2, false)]).toEqual([[0, 1], [2, 3], [4]]);
    expect([...new BatchSampler(new SequentialSampler({ length: 5 }), 2, true)]).toEqual([[0, 1], [2, 3]]);
    expect(new BatchSampler(new SequentialSampler({ length: 5 }), 2, true).length).toBe(2);
    torch.manualSeed(0);
    defaultGenerator.random64(); // what the DataLoader draws first (its workers' base seed)
    const r = new RandomSampler({ length: 10 });
    expect(r.length).toBe(10);
    expect([...r]).toEqual([6, 7, 1, 4, 2, 0, 9, 8, 3, 5]); // the order of the fixture's first case
    const g = new Generator().manualSeed(42);
    g.random64();
    expect([...new RandomSampler({ length: 10 }, { generator: g })]).toEqual([6, 5, 4, 0, 8, 9, 2, 1, 3, 7]);
  });
});

describe("DataLoader errors", () => {
  const ds = new TensorDataset(torch.zeros(4, 2));

  it("validates its options", () => {
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow("DataLoader: batchSize must be a positive integer, got 0");
    expect(() => new DataLoader(ds, { batchSize: 2.5 })).toThrow(ValueError);
    expect(() => new DataLoader(ds, { batchSize: -1 })).toThrow(ValueError);
    expect(() => new DataLoader(ds, { numWorkers: -1 })).toThrow("DataLoader: numWorkers must be a non-negative integer, got -1");
    expect(() => new DataLoader(ds, { prefetchFactor: 0 })).toThrow("DataLoader: prefetchFactor must be a positive integer, got 0");
    expect(() => new DataLoader(ds, { generator: {} as Generator })).toThrow("DataLoader: generator must be a torch.Generator, got object");
    expect(() => new DataLoader(null as unknown as TensorDataset<[Tensor]>)).toThrow("DataLoader: the dataset must have a length and a get(index) method, got null");
  });

  it("rejects an empty dataset when iterated", () => {
    const empty = new DataLoader(new TensorDataset(torch.zeros(0, 3)), { batchSize: 2, shuffle: true });
    expect(empty.length).toBe(0);
    expect(() => [...empty]).toThrow("DataLoader: the dataset is empty, got length 0");
    expect(() => [...empty]).toThrow(ValueError);
  });

  it("needs for await with workers, and a workerModule for a custom dataset", () => {
    const loader = new DataLoader(ds, { numWorkers: 2 });
    expect(() => [...loader]).toThrow("DataLoader: numWorkers > 0 needs for await (workers answer asynchronously), got numWorkers 2 in a for...of");
    expect(() => new DataLoader({ length: 3, get: (i: number) => i }, { numWorkers: 1 })).toThrow(
      "DataLoader: numWorkers > 0 needs a workerModule for a dataset that is not a TensorDataset (a worker thread can't receive its get function), got none",
    );
  });

  it("reports samples that can't be collated", () => {
    const mixed = new DataLoader({ length: 2, get: (i: number) => (i === 0 ? torch.zeros(2) : torch.zeros(3)) }, { batchSize: 2 });
    expect(() => [...mixed]).toThrow("defaultCollate: tensors in a batch must have the same shape, got [2] and [3]");
    const nulls = new DataLoader({ length: 2, get: () => null }, { batchSize: 2 });
    expect(() => [...nulls]).toThrow("defaultCollate: samples must be tensors, numbers, booleans, strings, typed arrays, arrays or plain objects, got null");
  });
});
