/**
 * nn layers, losses, autograd and the optimizers end to end on WebGPU: a small MLP (and a small
 * CNN) trained a few steps on the device matches the same run on the CPU.
 */
import { describe, expect, it } from "vitest";
import { nn, optim, type Tensor, torch } from "typetorch";
import { noGpu } from "./gpu.js";

type Model = nn.ModuleBase & ((x: Tensor<number[]>) => Tensor<number[]>);

async function params(m: nn.ModuleBase): Promise<number[]> {
  const out: number[] = [];
  for (const p of m.parameters()) out.push(...Array.from(await p.dataAsync()));
  return out;
}

async function train(make: () => Model, device: "cpu" | "webgpu", opt: "sgd" | "adam", x: Tensor<number[]>, y: Tensor<[number], "int64">, steps: number) {
  torch.manualSeed(1);
  const model = make().to(device) as Model;
  const o = opt === "sgd" ? optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }) : optim.Adam(model.parameters(), { lr: 0.01 });
  const xs = x.to(device) as Tensor<number[]>;
  const ys = y.to(device) as Tensor<[number], "int64">;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    o.zeroGrad();
    const loss = nn.functional.crossEntropy(model(xs) as never, ys as never);
    loss.backward();
    o.step();
    losses.push((await loss.itemAsync()) as number);
  }
  return { losses, params: await params(model), model };
}

function close(a: readonly number[], b: readonly number[], tol: number): void {
  expect(b.length).toBe(a.length);
  const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / (1 + Math.abs(v))));
  expect(worst).toBeLessThan(tol);
}

describe.skipIf(noGpu)("training on WebGPU matches the CPU", () => {
  torch.manualSeed(0);
  const x = torch.randn(24, 20) as Tensor<number[]>;
  const y = torch.randint(0, 10, [24]) as Tensor<[number], "int64">;
  const mlp = () => nn.Sequential(nn.Linear(20, 33), nn.ReLU(), nn.Linear(33, 17), nn.Tanh(), nn.Linear(17, 10)) as unknown as Model;

  for (const opt of ["sgd", "adam"] as const) {
    it(`MLP, ${opt}, 5 steps`, async () => {
      const cpu = await train(mlp, "cpu", opt, x, y, 5);
      const gpu = await train(mlp, "webgpu", opt, x, y, 5);
      close(cpu.losses, gpu.losses, 1e-4);
      close(cpu.params, gpu.params, 1e-4);
      expect(gpu.losses[4]!).toBeLessThan(gpu.losses[0]!);
      for (const p of gpu.model.parameters()) expect(p.device).toBe("webgpu");
    });
  }

  it("small CNN (conv, pools, batch norm, flatten), sgd, 3 steps", async () => {
    torch.manualSeed(2);
    const img = torch.randn(6, 1, 9, 9) as Tensor<number[]>;
    const lab = torch.randint(0, 10, [6]) as Tensor<[number], "int64">;
    const cnn = () =>
      nn.Sequential(
        nn.Conv2d(1, 4, 3, { padding: 1 }), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, { stride: 1 }), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(6, 10),
      ) as unknown as Model;
    const cpu = await train(cnn, "cpu", "sgd", img, lab, 3);
    const gpu = await train(cnn, "webgpu", "sgd", img, lab, 3);
    close(cpu.losses, gpu.losses, 1e-3);
    close(cpu.params, gpu.params, 1e-3);
  });

  it("Module.to moves parameters in place (an optimizer made before still updates them)", async () => {
    torch.manualSeed(3);
    const m = nn.Linear(4, 2);
    const o = optim.SGD(m.parameters(), { lr: 1 });
    m.to("webgpu");
    expect(m.weight.device).toBe("webgpu");
    const before = await m.weight.toArrayAsync();
    m(torch.ones(3, 4).to("webgpu")).sum().backward();
    o.step();
    const after = await m.weight.toArrayAsync();
    expect(after).not.toEqual(before);
    expect(m.weight.grad!.device).toBe("webgpu");
  });
});
