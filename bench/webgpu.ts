/**
 * WebGPU vs CPU: matmul, and one training step of the MNIST MLP and CNN (batch 64), timed on
 * each device. One prepared script, not run in tests (here WebGPU is SwiftShader on the CPU, so
 * its numbers say nothing about a GPU): run it where there is a real GPU.
 *
 * Run: `npx tsx bench/webgpu.ts [--quick]` — prints a table and writes bench/webgpu-results.json.
 */
import { writeFileSync } from "node:fs";
import { nn, optim, type Tensor, torch } from "typetorch";

const quick = process.argv.includes("--quick");
type Dev = "cpu" | "webgpu";
interface Row { what: string; device: Dev; msPerIter: number; iters: number }

async function finish(t: Tensor<number[], never> | Tensor): Promise<void> {
  await (t as Tensor).sum().itemAsync();
}

async function time(what: string, device: Dev, iters: number, step: () => Tensor): Promise<Row> {
  await finish(step()); // warm up: compile kernels, fill the buffer pool
  const t0 = performance.now();
  let last: Tensor | undefined;
  for (let i = 0; i < iters; i++) last = step();
  await finish(last!); // device work is queued: wait for it
  const ms = (performance.now() - t0) / iters;
  return { what, device, msPerIter: ms, iters };
}

async function main(): Promise<void> {
  const devices: Dev[] = ["cpu"];
  try {
    const info = await torch.webgpu.init();
    devices.push("webgpu");
    console.log(`webgpu adapter: ${info.adapter}`);
  } catch (e) {
    console.log(`no webgpu: ${(e as Error).message}`);
  }
  const rows: Row[] = [];
  const sizes = quick ? [128, 256] : [256, 512, 1024];
  for (const device of devices) {
    for (const n of sizes) {
      const a = torch.randn(n, n).to(device);
      const b = torch.randn(n, n).to(device);
      rows.push(await time(`matmul ${n}×${n}`, device, quick ? 3 : 10, () => a.matmul(b)));
    }
    for (const model of ["mlp", "cnn"] as const) {
      torch.manualSeed(0);
      const net = (model === "mlp"
        ? nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
        : nn.Sequential(nn.Conv2d(1, 16, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 10))
      ).to(device) as unknown as nn.ModuleBase & ((x: Tensor) => Tensor);
      const opt = optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
      const x = (model === "mlp" ? torch.rand(64, 784) : torch.rand(64, 1, 28, 28)).to(device) as Tensor;
      const y = torch.randint(0, 10, [64]).to(device);
      rows.push(
        await time(`${model} train step (batch 64)`, device, quick ? 2 : 10, () => {
          opt.zeroGrad();
          const loss = nn.functional.crossEntropy(net(x) as never, y as never);
          loss.backward();
          opt.step();
          return loss as Tensor;
        }),
      );
    }
  }
  console.log("| what | device | ms / iter |\n|---|---|---|");
  for (const r of rows) console.log(`| ${r.what} | ${r.device} | ${r.msPerIter.toFixed(2)} |`);
  writeFileSync(new URL("./webgpu-results.json", import.meta.url), JSON.stringify({ date: new Date().toISOString(), rows }, null, 2) + "\n");
  torch.webgpu.destroy();
}

await main();
