import { describe, expect, it } from "vitest";
import { data, torch } from "../../runtime/index.js";

describe("data constructors work with and without new, as the rest of the API", () => {
  it("TensorDataset and DataLoader", () => {
    const ds = data.TensorDataset(torch.randn(10, 3), torch.arange(10));
    const ds2 = new data.TensorDataset(torch.randn(10, 3), torch.arange(10));
    expect(ds instanceof data.TensorDataset).toBe(true);
    expect(ds2 instanceof data.TensorDataset).toBe(true);
    expect(ds.length).toBe(10);
    const loader = data.DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(loader instanceof data.DataLoader).toBe(true);
    expect(torch.len(loader)).toBe(2);
    const shapes = [...loader].map(([x, y]) => [x.shape, y.shape]);
    expect(shapes).toEqual([[[4, 3], [4]], [[4, 3], [4]]]);
  });
});
