import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { nn, torch } from "../../runtime/index.js";
import type { AnyTensor } from "../../runtime/tensorTypes.js";

interface ModuleCase {
  name: string; seed: number; xshape: number[]; train: boolean; steps: number;
  out: number[]; outShape: number[]; xgrad: number[]; grads: Record<string, number[]>; state: Record<string, number[]>;
}
const fx = JSON.parse(readFileSync(new URL("../fixtures/nn.json", import.meta.url), "utf8")) as { modules: ModuleCase[]; reprs: Record<string, string> };

// The same constructors as gen_nn.py, in typetorch's spelling.
const makers: Record<string, () => nn.ModuleBase> = {
  "Linear(5,3)": () => nn.Linear(5, 3),
  "Linear(5,3,bias=False)": () => nn.Linear(5, 3, false),
  "Conv2d(3,4,3)": () => nn.Conv2d(3, 4, 3),
  "Conv2d(2,4,3,stride=2,padding=1)": () => nn.Conv2d(2, 4, 3, { stride: 2, padding: 1 }),
  "Conv2d(4,4,3,padding=same,groups=2)": () => nn.Conv2d(4, 4, 3, { padding: "same", groups: 2 }),
  "MaxPool2d(2,2)": () => nn.MaxPool2d(2, 2),
  "MaxPool2d(3,2,ceil_mode=True)": () => nn.MaxPool2d(3, 2, { ceilMode: true }),
  "AvgPool2d(2)": () => nn.AvgPool2d(2),
  "BatchNorm1d(4)": () => nn.BatchNorm1d(4),
  "BatchNorm2d(3)": () => nn.BatchNorm2d(3),
  "BatchNorm2d(3)eval": () => nn.BatchNorm2d(3),
  "BatchNorm1d(4,momentum=None)": () => nn.BatchNorm1d(4, { momentum: null }),
  "Dropout(0.3)": () => nn.Dropout(0.3),
  "Dropout(0.3)eval": () => nn.Dropout(0.3),
  "LeakyReLU(0.1)": () => nn.LeakyReLU(0.1),
  "Softmax(1)": () => nn.Softmax(1),
  "LogSoftmax(1)": () => nn.LogSoftmax(1),
  Sigmoid: () => nn.Sigmoid(),
  Tanh: () => nn.Tanh(),
  Flatten: () => nn.Flatten(),
  CNN: () => nn.Sequential(nn.Conv2d(1, 4, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 5)),
  MLP: () => nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Dropout(0.2), nn.Linear(5, 3), nn.Tanh()),
};

const close = (a: ArrayLike<number>, b: readonly number[], what: string, tol = 1e-5) => {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < b.length; i++) {
    if (!(Math.abs(a[i]! - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)))) throw new Error(`${what}[${i}]: ${a[i]} vs PyTorch ${b[i]}`);
  }
};

describe("layers: forward, backward and state equal PyTorch 1.13 (same seed, default init)", () => {
  for (const c of fx.modules) {
    it(c.name, () => {
      const make = makers[c.name];
      expect(make, `no maker for ${c.name}`).toBeDefined();
      torch.manualSeed(c.seed);
      const m = make!();
      m.train(c.train);
      const x = torch.randn(c.xshape, { requiresGrad: true });
      let out: AnyTensor = x;
      for (let s = 0; s < c.steps; s++) out = (m as unknown as (a: AnyTensor) => AnyTensor)(x);
      expect(out.shape).toEqual(c.outShape);
      close(out.data(), c.out, "out");
      const r = torch.linspace(-1, 1, out.numel()).reshape(out.shape);
      out.mul(r).sum().backward();
      close(x.grad!.data(), c.xgrad, "x.grad");
      const params = Object.fromEntries(m.namedParameters());
      expect(Object.keys(params).sort()).toEqual(Object.keys(c.grads).sort());
      for (const [k, g] of Object.entries(c.grads)) close(params[k]!.grad!.data(), g, `${k}.grad`);
      const sd = m.stateDict();
      expect(Object.keys(sd)).toEqual(Object.keys(c.state));
      for (const [k, v] of Object.entries(c.state)) close(sd[k]!.data(), v, `state ${k}`);
    });
  }
});

describe("layers print as PyTorch", () => {
  const { OrderedDict } = { OrderedDict: (o: Record<string, nn.ModuleBase>) => o };
  const cases: Record<string, () => nn.ModuleBase> = {
    Conv2d: () => nn.Conv2d(3, 16, 3, { padding: 1 }),
    Conv2dFull: () => nn.Conv2d(3, 16, [3, 5], { stride: 2, padding: [1, 2], dilation: 2, bias: false }),
    MaxPool2d: () => nn.MaxPool2d(2, 2),
    AvgPool2d: () => nn.AvgPool2d(2),
    BatchNorm2d: () => nn.BatchNorm2d(16),
    Dropout: () => nn.Dropout(0.25),
    Flatten: () => nn.Flatten(),
    LeakyReLU: () => nn.LeakyReLU(0.1),
    Softmax: () => nn.Softmax(1),
    Sequential: () => nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)),
    Named: () => nn.Sequential(OrderedDict({ fc1: nn.Linear(4, 3), relu1: nn.ReLU() })),
    MSELoss: () => nn.MSELoss(),
    CrossEntropyLoss: () => nn.CrossEntropyLoss(),
  };
  for (const [k, make] of Object.entries(cases)) it(k, () => expect(make().toString()).toBe(fx.reprs[k]));
});
