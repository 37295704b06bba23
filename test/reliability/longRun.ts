/**
 * A long training run, measured: trains an MLP on MNIST-sized synthetic data (784 → 128 → 10,
 * DataLoader with shuffle, Adam, crossEntropy) and, at the end of every epoch, forces two full
 * garbage collections and prints the memory as one JSON line:
 * `{"epoch":3,"steps":96,"heapUsed":...,"arrayBuffers":...,"external":...,"rss":...,"loss":...}`.
 *
 * Run by memory.test.ts in a child process with `node --expose-gc --import tsx`; by hand:
 * `node --expose-gc --import tsx test/reliability/longRun.ts [epochs] [samples] [leak]`.
 * With `leak` it keeps every step's loss (and so its autograd graph): the leak the test must see.
 */
import v8 from "node:v8";
import { DataLoader, TensorDataset } from "../../runtime/data/index.js";
import { nn, optim, torch } from "../../runtime/index.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("longRun: run with node --expose-gc");

const epochs = Number(process.argv[2] ?? 12);
const samples = Number(process.argv[3] ?? 2048);
const leak = process.argv[4] === "leak";
const kept: unknown[] = [];

torch.manualSeed(0);
const x = torch.rand(samples, 784);
const y = torch.randint(0, 10, [samples]);
const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 64, shuffle: true });
const model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10));
const opt = optim.Adam(model.parameters(), { lr: 1e-3 });

let steps = 0;
for (let epoch = 1; epoch <= epochs; epoch++) {
  let last = 0;
  for (const [xb, yb] of loader) {
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(model(xb), yb);
    loss.backward();
    opt.step();
    last = loss.item();
    if (leak) kept.push(loss);
    steps++;
  }
  gc();
  gc();
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
  console.log(JSON.stringify({ epoch, steps, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external, rss: m.rss, loss: last, spaces }));
}
