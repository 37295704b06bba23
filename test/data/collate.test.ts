/**
 * defaultCollate: PyTorch's default_collate for tensors, numbers, booleans, strings, typed arrays,
 * arrays, tuples and plain objects.
 */
import { describe, expect, it } from "vitest";
import { defaultCollate } from "../../runtime/data/index.js";
import * as torch from "../../runtime/torch.js";
import { ShapeError, ValueError } from "../../types/errors.js";

describe("defaultCollate", () => {
  it("stacks tensors along a new first dim, keeping the dtype", () => {
    const b = defaultCollate([torch.tensor([[1, 2]]), torch.tensor([[3, 4]]), torch.tensor([[5, 6]])]);
    expect(b.shape).toEqual([3, 1, 2]);
    expect(b.dtype).toBe("int64");
    expect(b.toArray()).toEqual([[[1, 2]], [[3, 4]], [[5, 6]]]);
    // views (non-contiguous, offset) are read correctly
    const m = torch.arange(12, { dtype: "float32" }).reshape(3, 4);
    const cols = defaultCollate([m.index(":", 1), m.index(":", 3)]);
    expect(cols.toArray()).toEqual([[1, 5, 9], [3, 7, 11]]);
    expect(defaultCollate([torch.tensor(1.5), torch.tensor(2.5)]).shape).toEqual([2]);
  });

  it("keeps autograd through the stack when a tensor requires grad", () => {
    const w = torch.tensor([1, 2], { dtype: "float32", requiresGrad: true });
    const b = defaultCollate([w, w.mul(2)]);
    b.sum().backward();
    expect(w.grad?.toArray()).toEqual([3, 3]);
  });

  it("makes int64 of integers, float64 of other numbers, bool of booleans; strings stay", () => {
    const i = defaultCollate([1, 2, 3]);
    expect([i.dtype, i.toArray()]).toEqual(["int64", [1, 2, 3]]);
    const f = defaultCollate([1, 2.5]);
    expect([f.dtype, f.toArray()]).toEqual(["float64", [1, 2.5]]);
    const b = defaultCollate([true, false]);
    expect([b.dtype, b.toArray()]).toEqual(["bool", [true, false]]);
    expect(defaultCollate(["a", "b"])).toEqual(["a", "b"]);
  });

  it("makes [N, length] tensors of typed arrays", () => {
    const t = defaultCollate([new Float32Array([1, 2]), new Float32Array([3, 4])]);
    expect([t.shape, t.dtype, t.toArray()]).toEqual([[2, 2], "float32", [[1, 2], [3, 4]]]);
    expect(defaultCollate([new Int32Array([1]), new Int32Array([2])]).dtype).toBe("int32");
    expect(defaultCollate([new Float64Array([1]), new Float64Array([2])]).dtype).toBe("float64");
  });

  it("batches tuples, arrays and objects part by part, recursively", () => {
    const b = defaultCollate([
      { img: torch.zeros(2), meta: { id: 1, tags: ["x", "y"] }, pair: [0, true] as [number, boolean] },
      { img: torch.ones(2), meta: { id: 2, tags: ["z", "w"] }, pair: [1, false] as [number, boolean] },
    ]);
    expect(b.img.toArray()).toEqual([[0, 0], [1, 1]]);
    expect(b.meta.id.toArray()).toEqual([1, 2]);
    expect(b.meta.tags).toEqual([["x", "z"], ["y", "w"]]);
    expect(b.pair[0].toArray()).toEqual([0, 1]);
    expect(b.pair[1].toArray()).toEqual([true, false]);
  });

  it("rejects what it can't batch, with clear messages", () => {
    expect(() => defaultCollate([])).toThrow("defaultCollate: expected a non-empty list of samples, got []");
    expect(() => defaultCollate([torch.zeros(2), torch.zeros(3)])).toThrow(ShapeError);
    expect(() => defaultCollate([torch.zeros(2), 1] as never[])).toThrow("defaultCollate: every sample must have the same structure, got a tensor of shape [2] and number 1");
    expect(() => defaultCollate([[1, 2], [3]])).toThrow("defaultCollate: every sample must be an array of the same length, got 2 and 1");
    expect(() => defaultCollate([{ a: 1 }, { b: 2 }] as { a?: number; b?: number }[])).toThrow('defaultCollate: every sample must have the key "a", got a sample with keys [b]');
    expect(() => defaultCollate([undefined, undefined])).toThrow(ValueError);
    expect(() => defaultCollate([new Map(), new Map()])).toThrow("defaultCollate: samples must be tensors, numbers, booleans, strings, typed arrays, arrays or plain objects, got an object (Map)");
    expect(() => defaultCollate([new Float32Array(2), new Float32Array(3)])).toThrow("defaultCollate: typed arrays in a batch must have the same length, got 2 and 3");
  });
});
