/**
 * Training-throughput part of `npm run bench` (wired in from bench/run.ts): MNIST MLP
 * (784-256-128-10, batch 64) and CNN (conv16-pool-conv32-pool-fc128-fc10, batch 32), SGD with
 * momentum 0.9, cross-entropy, on the same real digits (`data.datasets.mnist()`), for typetorch
 * (eager), TF.js cpu, TF.js wasm and PyTorch (`bench/torch_train.py`, data passed in a temp file).
 * Batches are pre-sliced so data loading is not timed. Reported: samples/s (median of samples),
 * and for typetorch the RSS before/after the timed epochs, the peak RSS, and whether memory grows
 * in steady state: heap + array buffers after a full GC, before and after more steps of every
 * configuration (the GC exposed at run time, `v8.setFlagsFromString("--expose-gc")`).
 *
 * Correctness inside the bench: the first losses of typetorch's MLP and CNN are recomputed with
 * the WASM GEMM switched off (JS reference kernels) from the same initial weights; they must agree.
 */
import * as tf from "@tensorflow/tfjs-core";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { wasm } from "../runtime/backend/wasm.js";
import { compiled, compileStep, data, nn, optim, torch } from "../runtime/index.js";
import type { CompiledStep } from "../runtime/compiled.js";
import { compileFiles } from "../compiler/write.js";
import { BenchCNN, BenchMLP } from "./models.js";
import { missingTrainingKernels, registerTfjsGradients } from "./tfjs_gradients.js";

export type TrainEngine = "typetorch" | "typetorch2" | "typetorchJs" | "compiled" | "compiled2" | "compiledJs" | "tfjsCpu" | "tfjsWasm" | "torch";
export interface TrainCell {
  samplesPerS?: number;
  error?: string;
  firstLoss?: number;
  lastLoss?: number;
}
export interface TrainingResult {
  rows: Record<"mlp" | "cnn", Partial<Record<TrainEngine, TrainCell>>>;
  memory: {
    rssBeforeMiB: number;
    rssAfterMiB: number;
    /** Per model: heap + array buffers after a full GC, before and after `steadySteps` more steps of every configuration (MiB; null without a GC to call). */
    steadyGrowthMiB: Record<Model, number | null>;
    steadySteps: number;
    peakRssMiB: number;
  };
  checks: { model: string; wasmLoss: number; jsLoss: number; compiledLoss: number; ok: boolean }[];
  torchVersion?: string;
}

const BATCH = { mlp: 64, cnn: 32 } as const;
type Model = keyof typeof BATCH;

/**
 * Times several configurations (one batch per `step()` call), their samples taken round-robin
 * (each `enter()`s its settings first), so load changes on a shared machine and heap growth hit
 * them alike: a warm-up of ≥ warmupMs each, then `samples` windows of ≥ sampleMs (or `maxSteps`
 * calls, for engines that take seconds per step); median samples/s of each.
 */
function ratesInterleaved(runs: readonly { step: () => void; enter?: () => void }[], batch: number, warmupMs: number, sampleMs: number, samples: number, maxSteps = Infinity): number[] {
  const window = (r: (typeof runs)[number], ms: number) => {
    r.enter?.();
    const t0 = performance.now();
    let k = 0;
    do {
      r.step();
      k++;
    } while (performance.now() - t0 < ms && k < maxSteps);
    return (k * batch) / ((performance.now() - t0) / 1000);
  };
  for (const r of runs) window(r, warmupMs);
  const all = runs.map(() => [] as number[]);
  for (let s = 0; s < samples; s++) runs.forEach((r, i) => all[i]!.push(window(r, sampleMs)));
  return all.map((v) => v.sort((a, b) => a - b)[v.length >> 1]!);
}

/** {@link ratesInterleaved} for one `step`. */
function rate(step: () => void, batch: number, warmupMs: number, sampleMs: number, samples: number, maxSteps = Infinity): number {
  return ratesInterleaved([{ step }], batch, warmupMs, sampleMs, samples, maxSteps)[0]!;
}

// The bench's models, compiled in memory from bench/models.ts by this checkout's compiler.
let programs: Record<Model, ReturnType<typeof compiled.defineKernels>> | undefined;
function kernelsFor(kind: Model) {
  if (!programs) {
    const [r] = compileFiles([path.join(path.dirname(new URL(import.meta.url).pathname), "models.ts")], { write: false });
    const find = (name: string) => {
      const p = r!.programs.find((q) => q.name === name);
      if (!p) throw new Error(`bench: the compiler gave no program for ${name}`);
      return compiled.defineKernels(p);
    };
    programs = { mlp: find("BenchMLP"), cnn: find("BenchCNN") };
  }
  return programs[kind];
}

function makeModel(kind: Model) {
  return kind === "mlp" ? new BenchMLP() : new BenchCNN();
}

type AnyT = { shape: readonly number[]; item(): unknown; backward(): void };

// Pre-sliced batches, shared by the typetorch trainers of one model (they only read them).
const sliced = new Map<string, (readonly [unknown, unknown])[]>();
function typetorchBatches(kind: Model, X: Float32Array, Y: Int32Array, nb: number): (readonly [unknown, unknown])[] {
  const key = `${kind}:${nb}:${X.length}`;
  let b = sliced.get(key);
  if (!b) {
    const bs = BATCH[kind];
    const shape = kind === "mlp" ? [bs, 784] : [bs, 1, 28, 28];
    b = Array.from({ length: nb }, (_, i) => [
      (torch.tensor(X.subarray(i * bs * 784, (i + 1) * bs * 784) as never) as unknown as { reshape(s: number[]): unknown }).reshape(shape),
      torch.tensor(Array.from(Y.subarray(i * bs, (i + 1) * bs)), { dtype: "int64" } as never),
    ] as const);
    sliced.set(key, b);
  }
  return b;
}

/** typetorch training step over pre-sliced batches: eager (op by op), or `compileStep` on the compiled kernels. */
function typetorchTrainer(kind: Model, X: Float32Array, Y: Int32Array, nb: number, seed = 0, compile = false) {
  torch.manualSeed(seed);
  const model = makeModel(kind);
  const opt = optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const lossFn = nn.CrossEntropyLoss() as unknown as (a: unknown, b: unknown) => AnyT;
  let cstep: CompiledStep | undefined;
  if (compile) {
    model.useKernels(kernelsFor(kind));
    cstep = compileStep(model, lossFn, opt as never);
    if (!cstep.compiled) throw new Error(`bench: the ${kind} step is not compiled: ${cstep.reason}`);
  }
  const run = model as unknown as (x: unknown) => unknown;
  const bs = BATCH[kind];
  const batches = typetorchBatches(kind, X, Y, nb);
  let i = 0;
  let last = NaN;
  return {
    step: () => {
      const [x, y] = batches[i++ % nb]!;
      if (cstep) {
        last = cstep(x as never, y as never);
        return;
      }
      opt.zeroGrad();
      const loss = lossFn(run(x), y);
      loss.backward();
      opt.step();
      last = loss.item() as number;
    },
    loss: () => last,
  };
}

/** TF.js training step (same architecture, NHWC images, tf.train.momentum). */
function tfjsTrainer(kind: Model, X: Float32Array, Y: Int32Array, nb: number) {
  const bs = BATCH[kind];
  const glorot = (shape: number[], fanIn: number) => tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), "float32", 0));
  const v: tf.Variable[] = [];
  let forward: (x: tf.Tensor) => tf.Tensor;
  if (kind === "mlp") {
    v.push(glorot([784, 256], 784), glorot([256], 784), glorot([256, 128], 256), glorot([128], 256), glorot([128, 10], 128), glorot([10], 128));
    forward = (x) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, v[0]!), v[1]!)), v[2]!), v[3]!)), v[4]!), v[5]!);
  } else {
    v.push(glorot([3, 3, 1, 16], 9), glorot([16], 9), glorot([3, 3, 16, 32], 144), glorot([32], 144), glorot([1568, 128], 1568), glorot([128], 1568), glorot([128, 10], 128), glorot([10], 128));
    forward = (x) => {
      let h: tf.Tensor4D = tf.maxPool(tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, v[0] as tf.Tensor4D, 1, "same"), v[1]!)) as tf.Tensor4D, 2, 2, "valid");
      h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, v[2] as tf.Tensor4D, 1, "same"), v[3]!)) as tf.Tensor4D, 2, 2, "valid");
      const f = tf.reshape(h, [bs, 1568]);
      return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(f, v[4]!), v[5]!)), v[6]!), v[7]!);
    };
  }
  const opt = tf.train.momentum(0.01, 0.9);
  const batches = Array.from({ length: nb }, (_, i) => [
    tf.tensor(X.subarray(i * bs * 784, (i + 1) * bs * 784), kind === "mlp" ? [bs, 784] : [bs, 28, 28, 1]),
    tf.oneHot(tf.tensor1d(Y.subarray(i * bs, (i + 1) * bs), "int32"), 10),
  ] as const);
  let i = 0;
  let last = NaN;
  return {
    step: () => {
      const [x, y] = batches[i++ % nb]!;
      const l = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x)) as tf.Scalar, true, v);
      last = l!.dataSync()[0]!;
      l!.dispose();
    },
    loss: () => last,
    dispose: () => {
      tf.dispose([...v, ...batches.flat()]);
      opt.dispose();
    },
  };
}

const MiB = 2 ** 20;
/** Steps of every configuration between the two full GCs of the steady-memory check. */
const STEADY_STEPS = 30;

// The engine's full GC, exposed at run time (null where that fails).
const fullGc: (() => void) | null = (() => {
  try {
    v8.setFlagsFromString("--expose-gc");
    return vm.runInNewContext("gc") as () => void;
  } catch {
    return null;
  }
})();

// Heap + array buffers after two full GCs (the second sweeps what the first's finalizers freed).
function settledBytes(): number | null {
  if (!fullGc) return null;
  fullGc();
  fullGc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export interface TrainingOptions {
  quick: boolean;
  python: string | null;
  tfjsWasm: boolean;
  useBackend: (b: "cpu" | "wasm") => Promise<void>;
  log: (s: string) => void;
}

export async function trainingBench(o: TrainingOptions): Promise<TrainingResult> {
  // tfjs-core's Node bundle registers no gradients: register the ones these models need.
  registerTfjsGradients();
  const { train } = data.datasets.mnist({ trainSize: 10000 });
  const [xt, yt] = train.tensors as unknown as [{ data(): unknown }, { data(): unknown }];
  const X = Float32Array.from(xt.data() as ArrayLike<number>);
  const Y = Int32Array.from(Array.from(yt.data() as ArrayLike<number | bigint>, Number));
  const N = Y.length;
  const T = o.quick ? { warm: 100, sample: 300, samples: 1 } : { warm: 500, sample: 1000, samples: 5 };
  const rows: TrainingResult["rows"] = { mlp: {}, cnn: {} };
  const checks: TrainingResult["checks"] = [];

  // correctness: the first 3 losses with the WASM GEMM vs with the JS reference kernels
  for (const kind of ["mlp", "cnn"] as const) {
    const losses = (useWasm: boolean, compile = false) => {
      const saved = wasm.available;
      wasm.available = useWasm && saved;
      try {
        const t = typetorchTrainer(kind, X, Y, 3, 7, compile);
        for (let s = 0; s < 3; s++) t.step();
        return t.loss();
      } finally {
        wasm.available = saved;
      }
    };
    const w = losses(true);
    const j = losses(false);
    const c = losses(true, true);
    const near = (a: number) => Number.isFinite(a) && Math.abs(a - j) <= 1e-4 * Math.max(1, Math.abs(j));
    checks.push({ model: kind, wasmLoss: w, jsLoss: j, compiledLoss: c, ok: near(w) && near(c) });
  }

  const mem0 = process.memoryUsage();
  const steady: Record<Model, number | null> = { mlp: null, cnn: null };
  for (const kind of ["mlp", "cnn"] as const) {
    const bs = BATCH[kind];
    const nb = Math.floor(N / bs);
    // Eager and compiled, each with one GEMM thread, then two where backend/threads.ts has them,
    // then with the plain-JS kernels only (the fallback where there is no WebAssembly SIMD);
    // samples taken round-robin.
    const wasmOn = wasm.available;
    const configs = [["typetorch", false, 1], ["typetorch2", false, 2], ["typetorchJs", false, 0], ["compiled", true, 1], ["compiled2", true, 2], ["compiledJs", true, 0]] as const;
    const runs = configs
      .filter(([, , threads]) => !((threads === 2 && !wasm.shared) || (threads === 0 && (!wasmOn || o.quick))))
      .map(([engine, compile, threads]) => {
        const enter = () => {
          wasm.twoThreads = threads === 2;
          wasm.available = threads > 0 && wasmOn;
        };
        enter();
        return { engine, enter, trainer: typetorchTrainer(kind, X, Y, nb, 0, compile) };
      });
    try {
      const rates = ratesInterleaved(runs.map((r) => ({ step: r.trainer.step, enter: r.enter })), bs, T.warm, T.sample, T.samples);
      runs.forEach((r, i) => {
        rows[kind][r.engine] = { samplesPerS: rates[i]!, lastLoss: r.trainer.loss() };
        o.log(`  train ${kind}: typetorch ${engineLabel[r.engine]}: ${rates[i]!.toFixed(0)} samples/s`);
      });
      // Steady state: more steps of every configuration between two full GCs.
      const before = settledBytes();
      for (let s = 0; s < STEADY_STEPS; s++) for (const r of runs) (r.enter(), r.trainer.step());
      const after = settledBytes();
      steady[kind] = before === null || after === null ? null : +((after - before) / MiB).toFixed(1);
    } finally {
      wasm.twoThreads = true;
      wasm.available = wasmOn;
    }
  }
  const mem1 = process.memoryUsage();

  for (const [engine, backend] of [["tfjsCpu", "cpu"], ["tfjsWasm", "wasm"]] as const) {
    if (backend === "wasm" && !o.tfjsWasm) {
      rows.mlp[engine] = rows.cnn[engine] = { error: "TF.js wasm backend unavailable" };
      continue;
    }
    await o.useBackend(backend);
    for (const kind of ["mlp", "cnn"] as const) {
      if (o.quick && kind === "cnn" && backend === "cpu") {
        rows[kind][engine] = { error: "skipped in --quick (one step takes seconds)" };
        continue;
      }
      const missing = missingTrainingKernels(kind, backend);
      if (missing.length) {
        const conv = missing.filter((k) => k.startsWith("Conv2DBackprop"));
        rows[kind][engine] = { error: conv.length ? `cannot train: no conv backprop kernel (${conv.join(", ")})` : `cannot train: no ${missing.join(", ")} kernel` };
        o.log(`  train ${kind}: TF.js ${backend}: ${rows[kind][engine]!.error}`);
        continue;
      }
      const bs = BATCH[kind];
      let t: ReturnType<typeof tfjsTrainer> | undefined;
      try {
        t = tfjsTrainer(kind, X, Y, Math.floor(N / bs));
        const slow = kind === "cnn" && backend === "cpu";
        rows[kind][engine] = { samplesPerS: rate(t.step, bs, slow ? 0 : T.warm, slow ? 1 : T.sample, slow ? 1 : T.samples, slow ? 2 : Infinity), lastLoss: t.loss() };
        o.log(`  train ${kind}: TF.js ${backend} ${rows[kind][engine]!.samplesPerS!.toFixed(0)} samples/s (loss ${t.loss().toFixed(3)})`);
      } catch (e) {
        rows[kind][engine] = { error: `can't train: ${((e as Error).message ?? String(e)).split("\n")[0]!.slice(0, 160)}` };
        o.log(`  train ${kind}: TF.js ${backend}: ${rows[kind][engine]!.error}`);
      } finally {
        t?.dispose();
      }
    }
  }
  await o.useBackend("cpu");

  let torchVersion: string | undefined;
  if (o.python && !o.quick) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "typetorch-bench-"));
    try {
      const file = path.join(dir, "mnist.bin");
      writeFileSync(file, Buffer.concat([Buffer.from(X.buffer, X.byteOffset, X.byteLength), Buffer.from(Y.buffer, Y.byteOffset, Y.byteLength)]));
      const cfg = { data: file, n: N, models: ["mlp", "cnn"], batch: BATCH, sampleS: T.sample / 1000, samples: T.samples, threads: 1 };
      const r = spawnSync(o.python, [path.join(path.dirname(new URL(import.meta.url).pathname), "torch_train.py"), JSON.stringify(cfg)], {
        encoding: "utf8",
        timeout: 300_000,
        env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1" },
      });
      const line = (r.stdout ?? "").trim().split("\n").pop() ?? "";
      try {
        const j = JSON.parse(line) as { ok: boolean; error?: string; version?: string } & Partial<Record<Model, TrainCell>>;
        torchVersion = j.version;
        for (const kind of ["mlp", "cnn"] as const) rows[kind].torch = j.ok && j[kind] ? j[kind] : { error: j.error ?? "no result" };
      } catch {
        for (const kind of ["mlp", "cnn"] as const) rows[kind].torch = { error: `no JSON (exit ${r.status}): ${(r.stderr ?? "").trim().split("\n").pop() ?? ""}` };
      }
      for (const kind of ["mlp", "cnn"] as const) if (rows[kind].torch?.samplesPerS) o.log(`  train ${kind}: PyTorch ${rows[kind].torch!.samplesPerS!.toFixed(0)} samples/s`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    for (const kind of ["mlp", "cnn"] as const) rows[kind].torch = { error: o.quick ? "not run in --quick" : "no python" };
  }

  return {
    rows,
    checks,
    torchVersion,
    memory: {
      rssBeforeMiB: +(mem0.rss / MiB).toFixed(1),
      rssAfterMiB: +(mem1.rss / MiB).toFixed(1),
      steadyGrowthMiB: steady,
      steadySteps: STEADY_STEPS,
      peakRssMiB: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
    },
  };
}

/** The fastest typetorch configuration of a row (eager/compiled, 1/2 threads). */
export function bestTypetorch(row: TrainingResult["rows"]["mlp"]): { engine: TrainEngine; cell: TrainCell } | undefined {
  let best: { engine: TrainEngine; cell: TrainCell } | undefined;
  for (const e of ["typetorch", "typetorch2", "typetorchJs", "compiled", "compiled2", "compiledJs"] as const) {
    const c = row[e];
    if (c?.samplesPerS && (!best || c.samplesPerS > best.cell.samplesPerS!)) best = { engine: e, cell: c };
  }
  return best;
}

export const engineLabel: Record<TrainEngine, string> = {
  typetorch: "eager, 1 thr", typetorch2: "eager, 2 thr", typetorchJs: "eager, JS kernels", compiled: "compiled, 1 thr", compiled2: "compiled, 2 thr", compiledJs: "compiled, JS kernels",
  tfjsCpu: "TF.js cpu", tfjsWasm: "TF.js wasm", torch: "PyTorch",
};

/** Markdown table of the training rows (ratios: typetorch ÷ other, > 1 = typetorch faster). */
export function trainingTable(r: TrainingResult, mdTable: (head: string[], rows: string[][]) => string): string {
  const cell = (c?: TrainCell) => (c?.samplesPerS !== undefined ? c.samplesPerS.toFixed(0) : c?.error ? `— (${c.error})` : "—");
  const ratio = (a?: TrainCell, b?: TrainCell) => (a?.samplesPerS && b?.samplesPerS ? `${(a.samplesPerS / b.samplesPerS).toPrecision(3)}×` : "—");
  const has = (e: TrainEngine) => r.rows.mlp[e] !== undefined || r.rows.cnn[e] !== undefined;
  const tt = (["typetorch", "typetorch2", "typetorchJs", "compiled", "compiled2", "compiledJs"] as const).filter(has);
  const head = ["model (samples/s)", ...tt.map((e) => `typetorch (${engineLabel[e]})`), "TF.js cpu", "TF.js wasm", `PyTorch${r.torchVersion ? " " + r.torchVersion : ""} (1 thr)`, "compiled / eager (1 thr)", "best typetorch", "best / TF.js cpu", "best / TF.js wasm", "best / PyTorch"];
  const names = { mlp: "MLP 784-256-128-10, batch 64", cnn: "CNN c16-p-c32-p-fc128-fc10, batch 32" };
  return mdTable(head, (["mlp", "cnn"] as const).map((k) => {
    const row = r.rows[k];
    const best = bestTypetorch(row);
    return [names[k], ...tt.map((e) => cell(row[e])), cell(row.tfjsCpu), cell(row.tfjsWasm), cell(row.torch), ratio(row.compiled, row.typetorch), best ? engineLabel[best.engine] : "—", ratio(best?.cell, row.tfjsCpu), ratio(best?.cell, row.tfjsWasm), ratio(best?.cell, row.torch)];
  }));
}
