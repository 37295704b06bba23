/**
 * The main job, `npm start` (examples/mnist/train.ts), shortened for CI: a few hundred digits,
 * one or two epochs, into a temporary --out directory. Plus its option handling and helpers.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { torch } from "typetorch";
import { parseTrainArgs, UsageError } from "../../examples/mnist/args.js";
import { curvesSvg, niceTicks, sparkline } from "../../examples/mnist/plot.js";
import { formatDuration, ProgressBar } from "../../examples/mnist/progress.js";

const root = new URL("../../", import.meta.url).pathname;
const tsx = join(root, "node_modules/.bin/tsx");
const script = join(root, "examples/mnist/train.ts");
const exec = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), "typetorch-mnist-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs train.ts; never throws on a non-zero exit. */
async function train(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(tsx, [script, ...args], { cwd: root, encoding: "utf8", timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== "number") throw e;
    return { code: err.code, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

/** The per-epoch summary lines without their timings (which differ run to run). */
const results = (stdout: string) => [...stdout.matchAll(/^(epoch \d+\/\d+: .*?) \| lr/gm)].map((m) => m[1]);

describe("examples/mnist/train.ts (npm start)", () => {
  it("trains the MLP briefly, writes the checkpoint and the curves, and the reloaded model scores the same", async () => {
    const out = join(tmp, "mlp");
    const r = await train(["--epochs", "2", "--train-size", "1024", "--test-size", "500", "--out", out]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const s = r.stdout;
    expect(s).toContain("MNIST mlp: 1024 train / 500 test digits, 2 epochs of 16 batches of 64, device cpu, seed 0");
    // Not a TTY: plain progress lines with batch i/N, running loss, samples/s and ETA.
    expect(s).toMatch(/^epoch 1\/2 [█░]+ +16\/16 {2}loss \d+\.\d{4} {2}\d+ samples\/s {2}ETA /m);
    expect(s).not.toContain("\r");
    const epochs = results(s);
    expect(epochs).toHaveLength(2);
    const acc = Number(/test acc ([\d.]+)%/.exec(epochs[1]!)![1]);
    expect(acc).toBeGreaterThan(60); // 2 epochs of 1024 digits: 76.8% (chance: 10%)
    expect(s).toMatch(/^train loss [▁▂▃▄▅▆▇█]{2} /m);
    expect(s).toMatch(/^test acc {3}[▁▂▃▄▅▆▇█]{2} /m);
    expect(s).toMatch(/reloaded checkpoint: test acc [\d.]+% \(\d+\/500\), loss [\d.]+ — identical to the trained model/);

    // The checkpoint is safetensors that torch.load reads back, with PyTorch's key names.
    const sd = torch.load(join(out, "model.safetensors"));
    expect(Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, v.shape]))).toEqual({
      "0.weight": [256, 784], "0.bias": [256], "2.weight": [128, 256], "2.bias": [128], "4.weight": [10, 128], "4.bias": [10],
    });
    const svg = readFileSync(join(out, "curves.svg"), "utf8");
    expect(svg).toMatch(/^<\?xml[^>]*>\s*<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain("Loss per epoch");
    expect(svg).toContain("Accuracy per epoch");
    expect(svg).toContain(">epoch</text>");
    expect(svg.match(/<polyline /g)).toHaveLength(4); // train and test, in each panel
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  });

  it("is deterministic: the same seed gives the same losses and accuracies", async () => {
    const args = ["--epochs", "1", "--train-size", "512", "--test-size", "300", "--batch-size", "32", "--lr", "0.05"];
    const [a, b, c] = await Promise.all([
      train([...args, "--seed", "7", "--out", join(tmp, "a")]),
      train([...args, "--seed", "7", "--out", join(tmp, "b")]),
      train([...args, "--seed", "8", "--out", join(tmp, "c")]),
    ]);
    for (const r of [a, b, c]) expect(r.code).toBe(0);
    expect(results(a.stdout)).toHaveLength(1);
    expect(results(b.stdout)).toEqual(results(a.stdout));
    expect(results(c.stdout)).not.toEqual(results(a.stdout));
    expect(readFileSync(join(tmp, "b", "model.safetensors"))).toEqual(readFileSync(join(tmp, "a", "model.safetensors")));
  });

  it("trains the CNN (--model cnn) on images", async () => {
    const out = join(tmp, "cnn");
    const r = await train(["--model", "cnn", "--epochs", "1", "--train-size", "256", "--test-size", "200", "--batch-size", "32", "--out", out]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("MNIST cnn: 256 train / 200 test digits, 1 epoch of 8 batches of 32");
    expect(r.stdout).toContain("(0): Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))");
    expect(r.stdout).toContain("identical to the trained model");
    expect(Object.keys(torch.load(join(out, "model.safetensors")))).toEqual(["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias"]);
    expect(existsSync(join(out, "curves.svg"))).toBe(true);
  });

  it("--help documents every option and exits 0", async () => {
    const r = await train(["--help"]);
    expect(r.code).toBe(0);
    for (const opt of ["--model", "--epochs", "--batch-size", "--lr", "--seed", "--device", "--out", "--train-size", "--test-size", "--help"]) {
      expect(r.stdout).toContain(opt);
    }
  });

  it("rejects --device webgpu (and other bad values) with a clear message and exit 2", async () => {
    const cases: [string[], RegExp][] = [
      [["--device", "webgpu"], /--device webgpu is not available in this build: this example trains on the CPU only/],
      [["--device", "cuda"], /--device must be cpu .*got 'cuda'/],
      [["--model", "resnet"], /--model must be one of mlp, cnn, got 'resnet'/],
      [["--epochs", "0"], /--epochs must be an integer >= 1, got '0'/],
      [["--lr", "fast"], /--lr must be a positive number, got 'fast'/],
      [["--frobnicate"], /Unknown option '--frobnicate'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => train(args)));
    runs.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(" ")).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stderr).toContain("--help");
      expect(r.stdout).toBe("");
    });
  });
});

describe("examples/mnist helpers", () => {
  it("parseTrainArgs: defaults per model, and errors", () => {
    expect(parseTrainArgs([])).toMatchObject({ model: "mlp", epochs: 10, batchSize: 64, lr: 0.1, seed: 0, device: "cpu", out: "./runs/mlp", trainSize: 8000, testSize: 2000 });
    expect(parseTrainArgs(["--model", "cnn"])).toMatchObject({ model: "cnn", out: "./runs/cnn" });
    expect(parseTrainArgs(["--model=cnn", "--epochs=3", "--lr=1e-2", "--seed", "42", "--out", "x"])).toMatchObject({ epochs: 3, lr: 0.01, seed: 42, out: "x" });
    expect(parseTrainArgs(["-h"])).toBe("help");
    expect(() => parseTrainArgs(["--batch-size", "2.5"])).toThrow(UsageError);
    expect(() => parseTrainArgs(["--train-size", "9000"])).toThrow("--train-size must be an integer in [1, 8000], got '9000'");
    expect(() => parseTrainArgs(["--out", ""])).toThrow("--out must be a directory path, got ''");
    expect(() => parseTrainArgs(["extra"])).toThrow(UsageError);
  });

  it("sparkline scales between min and max", () => {
    expect(sparkline([2.3, 0.9, 0.5, 0.3])).toBe("█▃▂▁");
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe("▁▂▃▄▅▆▇█");
    expect(sparkline([5, 5])).toBe("▄▄");
    expect(sparkline([])).toBe("");
  });

  it("niceTicks covers the range with round steps", () => {
    expect(niceTicks(0, 0.73)).toEqual({ lo: 0, hi: 0.8, ticks: [0, 0.2, 0.4, 0.6, 0.8] });
    expect(niceTicks(76.9, 99.9).ticks).toEqual([75, 80, 85, 90, 95, 100]);
    expect(niceTicks(3, 3).ticks.length).toBeGreaterThan(1);
  });

  it("curvesSvg draws a single epoch without a line and escapes the title", () => {
    const svg = curvesSvg({ trainLoss: [0.9], testLoss: [0.4], trainAcc: [72], testAcc: [88] }, "a <b> & c");
    expect(svg).toContain("a &lt;b&gt; &amp; c");
    expect(svg).not.toContain("<polyline");
    expect(svg.match(/<circle /g)!.length).toBeGreaterThanOrEqual(4);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  it("the progress bar redraws one line on a TTY and prints every 20% otherwise", () => {
    const plain: string[] = [];
    const bar = new ProgressBar({ write: (s) => plain.push(s) }, "epoch 1/1", 10);
    for (let i = 1; i <= 10; i++) bar.update(i, 1 / i, 64 * i);
    bar.done();
    expect(plain).toHaveLength(5);
    expect(plain[4]).toMatch(/^epoch 1\/1 █{24} 10\/10 {2}loss 0\.1000 {2}\d+ samples\/s {2}ETA 0\.0s\n$/);
    const tty: string[] = [];
    const tbar = new ProgressBar({ write: (s) => tty.push(s), isTTY: true, columns: 60 }, "epoch 1/1", 3);
    for (let i = 1; i <= 3; i++) tbar.update(i, 0.5, 10 * i);
    tbar.done();
    expect(tty[0]!.startsWith("\r")).toBe(true);
    expect(tty.at(-1)).toBe("\n");
    for (const s of tty.slice(0, -1)) expect(s.replace(/\r|\x1b\[K/g, "").length).toBeLessThanOrEqual(59);
    expect(formatDuration(3.14)).toBe("3.1s");
    expect(formatDuration(42.4)).toBe("42s");
    expect(formatDuration(185)).toBe("3m05s");
  });
});
