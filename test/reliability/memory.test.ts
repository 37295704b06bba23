/**
 * Long runs stay flat: a child process (`node --expose-gc`, see longRun.ts) trains an MLP on
 * MNIST-sized data for 12 epochs (384 steps) and reports the memory after a full GC at each
 * epoch end. After two warm-up epochs, tensor storage (`arrayBuffers`) must not grow at all and
 * the JS heap only by what V8 itself keeps (compiled code, feedback), well under a leak's rate.
 * A deliberately leaking run (it keeps every loss, and so its graph) must fail the same check.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../types/runner.js";

interface Sample {
  epoch: number;
  steps: number;
  heapUsed: number;
  arrayBuffers: number;
  rss: number;
  loss: number;
}

const SCRIPT = path.join(REPO_ROOT, "test", "reliability", "longRun.ts");

function run(epochs: number, samples: number, leak = false): Promise<{ samples: Sample[]; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--expose-gc", "--import", "tsx", SCRIPT, String(epochs), String(samples), ...(leak ? ["leak"] : [])],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`longRun failed: ${err.message}\n${stderr}`));
        const lines = stdout.split("\n").filter((l) => l.startsWith("{"));
        resolve({ samples: lines.map((l) => JSON.parse(l) as Sample), ms: Math.round(performance.now() - t0) });
      },
    );
  });
}

const WARMUP = 2;
/** Growth allowed after warm-up: V8's own code and feedback grow ~30 KB per epoch here. */
const HEAP_LIMIT = 1.5 * 2 ** 20;
/** Tensor storage must be flat; one leaked hidden activation per step is 32 KB. */
const BUFFER_LIMIT = 128 * 2 ** 10;

/** Growth from the warm state (the smallest of the first epochs after warm-up) to the end. */
function growth(s: readonly Sample[], key: "heapUsed" | "arrayBuffers"): number {
  const settled = s.slice(WARMUP);
  const base = Math.min(...settled.slice(0, 3).map((x) => x[key]));
  const end = Math.max(...settled.slice(-3).map((x) => x[key]));
  return end - base;
}

const kb = (n: number): string => `${(n / 1024).toFixed(0)} KB`;

function table(s: readonly Sample[]): string {
  return s.map((x) => `  epoch ${String(x.epoch).padStart(2)} (${String(x.steps).padStart(3)} steps): heap ${kb(x.heapUsed)}, arrayBuffers ${kb(x.arrayBuffers)}, rss ${kb(x.rss)}, loss ${x.loss.toFixed(4)}`).join("\n");
}

describe("long runs stay flat", () => {
  it("training an MLP for 384 steps: no growth of tensor storage, heap growth within V8's own", async () => {
    const [flat, leaky] = await Promise.all([run(12, 2048), run(5, 512, true)]);
    const heap = growth(flat.samples, "heapUsed");
    const buffers = growth(flat.samples, "arrayBuffers");
    console.log(`memory: ${flat.samples.length} epochs in ${flat.ms} ms; growth after warm-up: heap ${kb(heap)}, arrayBuffers ${kb(buffers)}\n${table(flat.samples)}`);
    console.log(`memory (a leaking run, which must be caught): growth: heap ${kb(growth(leaky.samples, "heapUsed"))}, arrayBuffers ${kb(growth(leaky.samples, "arrayBuffers"))}`);
    expect(flat.samples).toHaveLength(12);
    expect(flat.samples.at(-1)!.loss).toBeLessThan(flat.samples[0]!.loss); // it did train
    expect(buffers, "tensor storage grew").toBeLessThan(BUFFER_LIMIT);
    expect(heap, "JS heap grew").toBeLessThan(HEAP_LIMIT);
    // The check is sensitive: keeping each step's graph is seen.
    expect(growth(leaky.samples, "arrayBuffers")).toBeGreaterThan(BUFFER_LIMIT);
  });
});
