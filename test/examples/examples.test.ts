/**
 * The numbered examples run as a user runs them (`npx tsx examples/0N-....ts`): exit 0, and the
 * lines that show the API doing what the comments say.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const tsx = join(root, "node_modules/.bin/tsx");
const run = promisify(execFile);

async function example(file: string): Promise<string> {
  const { stdout, stderr } = await run(tsx, [join(root, "examples", file)], { cwd: root, encoding: "utf8", timeout: 60_000 });
  expect(stderr).toBe("");
  return stdout;
}

describe("examples", () => {
  it("01-tensors.ts: a tour of typed tensors", async () => {
    const out = await example("01-tensors.ts");
    expect(out).toContain("m.argmax(0) = tensor([1, 2, 1, 0])");
    expect(out).toContain("arange(5)           = tensor([0, 1, 2, 3, 4])");
    expect(out).toContain("relu(x @ W + b).shape = [ 64, 256 ]");
    expect(out).toContain("d/da sum(a²) at a = [2, 3] = tensor([4., 6.])");
    expect(out).toMatch(/ShapeError: matmul: inner dims must match, got \[64, 784\] @ \[783, 256\]/);
  });

  it("02-nn.ts: layers and models", async () => {
    const out = await example("02-nn.ts");
    expect(out).toContain("allclose(fc(x), x @ W.T + b): true");
    expect(out).toContain("CNN output shape: [ 4, 10 ]");
    expect(out).toContain("MyCNN output shape: [ 4, 10 ]");
    expect(out).toMatch(/LazyLinear infers its in-dim: \[ 4, 128 \] in_features = 1152/);
    expect(out).toContain("Sequential[0] Linear(784→256): input last dim must be 784, got 783 in [64, 783]");
  });

  it("03-training.ts: losses, optimizers, schedulers, DataLoader", async () => {
    const out = await example("03-training.ts");
    // PyTorch 1.13: nn.CrossEntropyLoss()(logits, labels) = tensor(0.2660)
    expect(out).toContain("CrossEntropyLoss()(logits, labels) = tensor(0.2660)");
    // The regression matches PyTorch's run after the same seed.
    expect(out).toContain("epoch 30: mse 2.878e-4");
    expect(out).toContain("learned weight tensor([[ 1.9891, -3.3949]]) bias tensor([4.1984])");
    // Every SGD variant learns the blobs.
    const accs = [...out.matchAll(/^SGD.*test acc ([\d.]+)%/gm)].map((m) => Number(m[1]));
    expect(accs).toHaveLength(4);
    for (const a of accs) expect(a).toBeGreaterThan(85);
    // StepLR: 0.1, 0.1, 0.01, 0.01, 0.001, 0.001
    const lrs = [...out.matchAll(/^epoch \d: lr ([\d.e-]+), loss/gm)].map((m) => Number(m[1]));
    expect(lrs).toEqual([0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
    expect(out).toContain("group 0: 2 tensors, lr 0.01, momentum 0.9");
    expect(out).toContain("group 1: 2 tensors, lr 0.001, momentum 0.9");
    expect(out).toContain("300 samples, 10 batches of ≤ 32 per epoch");
    expect(out).toContain('a batch: x [32,2], y [32] int64');
  });
});
