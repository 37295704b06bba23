/**
 * Same seed, same numbers: training a tiny CNN (conv, pooling, dropout, Adam) and an MLP (SGD
 * with momentum) twice from the same seed, with DataLoader shuffling, gives bit-identical
 * parameters on the CPU; another seed gives others. Random work between the runs does not leak
 * into them (manualSeed resets everything), and a DataLoader's own Generator is independent of
 * the global one.
 */
import { describe, expect, it } from "vitest";
import { nn, optim, type Tensor, torch } from "typetorch";
import { DataLoader, TensorDataset } from "../../runtime/data/index.js";
import { Generator } from "../../runtime/random.js";

type AnyTensor = Tensor<number[], "float32">;

/** Every parameter's bytes, by name (bit-exact: NaN payloads and -0 included). */
function bits(model: { namedParameters(): Iterable<[string, AnyTensor]> }): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [name, p] of model.namedParameters()) {
    const d = p.contiguous().data() as Float32Array;
    out.set(name, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  }
  return out;
}

function expectBitIdentical(a: Map<string, Buffer>, b: Map<string, Buffer>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, v] of a) expect(v.equals(b.get(k)!), `${k} differs`).toBe(true);
}

function differs(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
  return [...a].some(([k, v]) => !v.equals(b.get(k)!));
}

/** A tiny CNN on 8×8 "images", 2 epochs of shuffled batches, dropout, Adam. */
function trainCnn(seed: number, generator?: Generator): Map<string, Buffer> {
  torch.manualSeed(seed);
  const x = torch.randn(48, 1, 8, 8);
  const y = torch.randint(0, 3, [48]);
  const model = nn.Sequential(
    nn.Conv2d(1, 4, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(4, 6, 3), nn.ReLU(), nn.Flatten(), nn.Dropout(0.25), nn.Linear(24, 3),
  );
  const opt = optim.Adam(model.parameters(), { lr: 0.01 });
  const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 16, shuffle: true, ...(generator ? { generator } : {}) });
  for (let epoch = 0; epoch < 2; epoch++) {
    for (const [xb, yb] of loader) {
      opt.zeroGrad();
      nn.functional.crossEntropy(model(xb), yb).backward();
      opt.step();
    }
  }
  return bits(model as never);
}

/** An MLP with SGD + momentum + weight decay, 3 shuffled epochs. */
function trainMlp(seed: number): Map<string, Buffer> {
  torch.manualSeed(seed);
  const x = torch.rand(64, 20);
  const y = torch.randint(0, 4, [64]);
  const model = nn.Sequential(nn.Linear(20, 16), nn.Tanh(), nn.Linear(16, 4));
  const opt = optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 10, shuffle: true });
  for (let epoch = 0; epoch < 3; epoch++) {
    for (const [xb, yb] of loader) {
      opt.zeroGrad();
      nn.functional.crossEntropy(model(xb), yb).backward();
      opt.step();
    }
  }
  return bits(model as never);
}

describe("same seed, bit-identical training runs (CPU)", () => {
  it("a CNN with dropout, Adam and a shuffling DataLoader", () => {
    const a = trainCnn(7);
    torch.randn(1000); // unrelated random work in between
    const b = trainCnn(7);
    expectBitIdentical(a, b);
    expect(differs(a, trainCnn(8))).toBe(true);
  });

  it("an MLP with SGD, momentum and weight decay", () => {
    const a = trainMlp(123);
    expectBitIdentical(a, trainMlp(123));
    expect(differs(a, trainMlp(124))).toBe(true);
  });

  it("a DataLoader with its own Generator: same generator seed, same run", () => {
    const a = trainCnn(7, new Generator().manualSeed(99));
    const b = trainCnn(7, new Generator().manualSeed(99));
    expectBitIdentical(a, b);
    // Only the shuffle order changes with the generator's seed (the model's init does not).
    expect(differs(a, trainCnn(7, new Generator().manualSeed(100)))).toBe(true);
  });
});
