/**
 * `npm run bench`: float32 matmul (sgemm) and tiny-op overhead, typetorch side by side with
 * TensorFlow.js (cpu backend, wasm backend with SIMD, single thread) and — when
 * `/usr/bin/python3 -c "import torch"` works — PyTorch on one thread (plus all cores, full run).
 *
 *   npm run bench                      full run, writes bench/RESULTS.md and bench/results.json
 *   npm run bench -- --quick           tiny CI version (< 30 s), writes bench/results-quick.json only
 *   npm run bench -- --quick --no-write   writes nothing (used by test/bench/bench.test.ts)
 *   --no-torch                         skip the PyTorch child process
 *   --sizes=128,256                    other matmul sizes (exploration; with --no-write)
 *   --inject-fault                     self-test: corrupt typetorch's result; the run must fail
 *
 * Every engine's matmul result is checked against a plain-JS float64 reference (and typetorch's
 * against TF.js cpu) before it is timed; a wrong result is never timed and makes the exit code 1.
 * An engine that can't start (no TF.js wasm, no PyTorch) is reported as unavailable and the run
 * still exits 0 for the other columns.
 *
 * Timing (same for every engine, PyTorch included): warm up for >= warmupMs (at least one call),
 * choose a loop count so one sample lasts >= sampleMs, take `samples` samples, report the median
 * time per call. GFLOP/s = 2·n³ / time. Ratios are typetorch's speed ÷ the other engine's speed,
 * so > 1 means typetorch is faster.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { wasm } from "../runtime/backend/wasm.js";
import { torch } from "../runtime/index.js";
import { registerTfjsGradients } from "./tfjs_gradients.js";
import { bestTypetorch, engineLabel, trainingBench, trainingTable } from "./training.js";

// ---------------------------------------------------------------------------------------------
// options

const argv = process.argv.slice(2);
const QUICK = argv.includes("--quick");
const NO_WRITE = argv.includes("--no-write");
const NO_TORCH = argv.includes("--no-torch");
/** Self-test hook (test/bench/bench.test.ts): corrupt one element of typetorch's product. */
const INJECT_FAULT = argv.includes("--inject-fault");
const PYTHON = process.env["BENCH_PYTHON"] ?? "/usr/bin/python3";
const HERE = path.dirname(fileURLToPath(import.meta.url));

interface TimingConfig {
  warmupMs: number;
  sampleMs: number;
  samples: number;
  tinySampleMs: number;
}

const sizesArg = argv.find((x) => x.startsWith("--sizes="));
const SIZES = sizesArg ? sizesArg.slice(8).split(",").map(Number) : QUICK ? [64, 128] : [128, 256, 512, 1024];
const TIMING: TimingConfig = QUICK
  ? { warmupMs: 10, sampleMs: 5, samples: 3, tinySampleMs: 5 }
  : { warmupMs: 200, sampleMs: 100, samples: 7, tinySampleMs: 100 };
/** Extra shapes checked for correctness only (sizes not a multiple of the 4×4 register block). */
const ODD_SHAPES: readonly [number, number, number][] = [
  [37, 41, 43],
  [1, 7, 5],
];
/**
 * Largest accepted |C − ref| / Σₖ|aᵢₖ||bₖⱼ| (per element). Correct float32 kernels sit near 1e-7;
 * a dropped or misplaced term is of the order of one |aᵢₖbₖⱼ|, far above this.
 */
const TOL = 1e-5;

// ---------------------------------------------------------------------------------------------
// timing

interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  iters: number;
  samples: number;
}

let sink: unknown;

/** One engine's config under test: `enter` selects its backend, `fn` is one timed call. */
interface Runner {
  enter?: () => Promise<void>;
  fn: () => unknown;
}

/**
 * Times several engines side by side: each is warmed up and calibrated in turn, then the samples
 * are taken round-robin (sample 1 of every engine, then sample 2, ...), so a change in machine
 * load during the run hits all engines alike instead of skewing the ratios.
 */
async function measureInterleaved(runners: Runner[], warmupMs: number, sampleMs: number, samples: number): Promise<Timing[]> {
  const iters: number[] = [];
  for (const r of runners) {
    await r.enter?.();
    let calls = 0;
    const w0 = performance.now();
    do {
      sink = r.fn();
      calls++;
    } while (performance.now() - w0 < warmupMs);
    const per = (performance.now() - w0) / calls;
    iters.push(Math.max(1, Math.ceil(sampleMs / Math.max(per, 1e-6))));
  }
  const times: number[][] = runners.map(() => []);
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < runners.length; i++) {
      const r = runners[i]!;
      const n = iters[i]!;
      await r.enter?.();
      const t0 = performance.now();
      for (let k = 0; k < n; k++) sink = r.fn();
      times[i]!.push((performance.now() - t0) / n);
    }
  }
  return times.map((ts, i) => {
    ts.sort((x, y) => x - y);
    const mid = ts.length >> 1;
    const medianMs = ts.length % 2 ? ts[mid]! : (ts[mid - 1]! + ts[mid]!) / 2;
    return { medianMs, minMs: ts[0]!, maxMs: ts[ts.length - 1]!, iters: iters[i]!, samples: ts.length };
  });
}

const gflops = (n: number, ms: number) => (2 * n ** 3) / (ms * 1e-3) / 1e9;

// ---------------------------------------------------------------------------------------------
// correctness

/** Plain-JS float64 product and the per-element error scale Σₖ|aᵢₖ||bₖⱼ|. */
function reference(A: Float32Array, B: Float32Array, m: number, k: number, n: number) {
  const ref = new Float64Array(m * n);
  const bound = new Float64Array(m * n);
  const absB = Float64Array.from(B, Math.abs);
  for (let i = 0; i < m; i++) {
    const ro = i * n;
    for (let p = 0; p < k; p++) {
      const a = A[i * k + p]!;
      const aa = Math.abs(a);
      const bo = p * n;
      for (let j = 0; j < n; j++) {
        ref[ro + j] = ref[ro + j]! + a * B[bo + j]!;
        bound[ro + j] = bound[ro + j]! + aa * absB[bo + j]!;
      }
    }
  }
  return { ref, bound };
}

interface Check {
  maxNormErr: number;
  maxAbsErr: number;
  ok: boolean;
  problem?: string;
}

/** Per-element error of `C` against `R`, normalised by `bound`; NaN/∞ or a wrong length fail. */
function compare(C: ArrayLike<number>, R: ArrayLike<number>, bound: Float64Array, scale = 1): Check {
  if (C.length !== bound.length) return { maxNormErr: Infinity, maxAbsErr: Infinity, ok: false, problem: `length ${C.length}, expected ${bound.length}` };
  let maxNormErr = 0;
  let maxAbsErr = 0;
  for (let i = 0; i < bound.length; i++) {
    const c = C[i]!;
    if (!Number.isFinite(c)) return { maxNormErr: Infinity, maxAbsErr: Infinity, ok: false, problem: `non-finite value ${c} at ${i}` };
    const e = Math.abs(c - R[i]!);
    const ne = e / Math.max(bound[i]!, 1e-30);
    if (e > maxAbsErr) maxAbsErr = e;
    if (ne > maxNormErr) maxNormErr = ne;
  }
  return { maxNormErr, maxAbsErr, ok: maxNormErr <= TOL * scale };
}

// ---------------------------------------------------------------------------------------------
// engines

type Engine = "typetorch" | "tfjsCpu" | "tfjsWasm";
const ENGINE_LABEL: Record<Engine, string> = { typetorch: "typetorch", tfjsCpu: "TF.js cpu", tfjsWasm: "TF.js wasm" };

interface WasmInfo {
  available: boolean;
  reason?: string;
  build?: string;
  sha256?: string;
  simd?: boolean;
  threads?: number;
}

/**
 * Registers the TF.js wasm backend with its .wasm files read from node_modules, and records which
 * binary was really instantiated (by hashing the bytes handed to WebAssembly.instantiate and
 * comparing them with the three files in dist/).
 */
async function initWasm(): Promise<WasmInfo> {
  let wasm: typeof import("@tensorflow/tfjs-backend-wasm");
  try {
    wasm = await import("@tensorflow/tfjs-backend-wasm");
  } catch (e) {
    return { available: false, reason: `import failed: ${(e as Error).message}` };
  }
  const require = createRequire(import.meta.url);
  // BENCH_WASM_DIR overrides the folder (the self-test points it at a missing one).
  const dist = process.env["BENCH_WASM_DIR"] ?? path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep;
  const files = ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"];
  const hashes = new Map<string, string>();
  for (const f of files) {
    if (existsSync(dist + f)) hashes.set(createHash("sha256").update(readFileSync(dist + f)).digest("hex"), f);
  }
  const loaded: string[] = [];
  const W = (globalThis as unknown as { WebAssembly: { instantiate: (src: unknown, imports?: unknown) => Promise<unknown> } }).WebAssembly;
  const original = W.instantiate;
  W.instantiate = function (src: unknown, imports?: unknown) {
    if (ArrayBuffer.isView(src) || src instanceof ArrayBuffer) {
      const bytes = ArrayBuffer.isView(src) ? new Uint8Array(src.buffer, src.byteOffset, src.byteLength) : new Uint8Array(src);
      loaded.push(createHash("sha256").update(bytes).digest("hex"));
    }
    return original.call(W, src, imports);
  };
  // Emscripten's Node glue adds process-wide uncaughtException/unhandledRejection handlers that
  // rethrow (and print the whole minified module); remove them again after init.
  const before = { uncaughtException: process.listeners("uncaughtException"), unhandledRejection: process.listeners("unhandledRejection") };
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => void warnings.push(a.map(String).join(" "));
  try {
    // Node has no multithread wasm in tfjs 4.22 (the flag is false under IS_NODE); set it anyway
    // so the single-threaded SIMD binary is what runs.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    wasm.setWasmPaths(dist);
    const ok = await tf.setBackend("wasm");
    if (!ok) return { available: false, reason: `tf.setBackend("wasm") failed${warnings.length ? ": " + warnings.join("; ").slice(0, 300) : ""}` };
  } catch (e) {
    return { available: false, reason: `init failed: ${(e as Error)?.message ?? String(e)}` };
  } finally {
    W.instantiate = original;
    console.warn = warn;
    for (const l of process.listeners("uncaughtException")) if (!before.uncaughtException.includes(l)) process.removeListener("uncaughtException", l);
    for (const l of process.listeners("unhandledRejection")) if (!before.unhandledRejection.includes(l)) process.removeListener("unhandledRejection", l);
  }
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) as boolean;
  const sha = loaded[loaded.length - 1];
  const build = sha ? (hashes.get(sha) ?? "unknown binary") : "not observed";
  const threads = wasm.getThreadsCount();
  const info: WasmInfo = { available: true, build, simd, threads };
  if (sha) info.sha256 = sha;
  if (build !== "tfjs-backend-wasm-simd.wasm") {
    return { ...info, available: false, reason: `expected the SIMD build tfjs-backend-wasm-simd.wasm, but ${build} was instantiated (WASM_HAS_SIMD_SUPPORT=${simd})` };
  }
  return info;
}

async function useBackend(name: "cpu" | "wasm"): Promise<void> {
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`tf.setBackend(${name}) failed`);
}

interface PyResult {
  ok: boolean;
  error?: string;
  version?: string;
  threads?: number;
  blasInfo?: string;
  blasLibraries?: string[];
  openblas?: boolean;
  openblasCore?: string;
  openblasConfig?: string;
  cpuCapability?: string;
  matmul?: Record<string, Timing & { gflops: number; maxNormErr: number }>;
  addUs?: number;
  mulSumBackwardUs?: number;
  cpuSeconds?: number;
}

function runTorch(threads: number, tiny: boolean): PyResult {
  if (!existsSync(PYTHON)) return { ok: false, error: `${PYTHON} not found` };
  const cfg = { sizes: SIZES, ...TIMING, threads, tiny };
  const t = String(threads);
  const r = spawnSync(PYTHON, [path.join(HERE, "torch_bench.py"), JSON.stringify(cfg)], {
    encoding: "utf8",
    timeout: QUICK ? 60_000 : 600_000,
    env: { ...process.env, OMP_NUM_THREADS: t, OPENBLAS_NUM_THREADS: t, MKL_NUM_THREADS: t },
  });
  if (r.error) return { ok: false, error: `spawn failed: ${r.error.message}` };
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as PyResult;
  } catch {
    return { ok: false, error: `exit ${r.status}, no JSON: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}` };
  }
}

// ---------------------------------------------------------------------------------------------
// run

/** Busy and total CPU time of the whole machine (Linux /proc/stat, in USER_HZ = 1/100 s ticks). */
function machineCpu(): { busy: number; total: number } | null {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    return { busy: user + nice + system + irq + softirq + steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
  } catch {
    return null;
  }
}
const cpu0 = machineCpu();
const wall0 = performance.now();

const notes: string[] = [];
const failures: string[] = [];
const log = (s = "") => console.log(s);

tf.enableProdMode(); // TF.js's fastest mode (no debug checks, no Node.js banner)
registerTfjsGradients();
await tf.setBackend("cpu");
await tf.ready();
const wasmInfo = await initWasm();
await useBackend("cpu");
const engines: Engine[] = ["typetorch", "tfjsCpu"];
if (wasmInfo.available) engines.push("tfjsWasm");
else notes.push(`TF.js wasm backend UNAVAILABLE: ${wasmInfo.reason} — its column is left empty.`);

log(`typetorch bench${QUICK ? " (--quick)" : ""}: ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}`);
log(
  `TF.js ${tf.version_core}: cpu backend; wasm backend ${wasmInfo.available ? `${wasmInfo.build}, SIMD=${wasmInfo.simd}, threads=${wasmInfo.threads}` : "unavailable (" + wasmInfo.reason + ")"}`,
);
log(`timing: warm-up >= ${TIMING.warmupMs} ms, median of ${TIMING.samples} samples of >= ${TIMING.sampleMs} ms each, engines interleaved sample by sample`);

torch.manualSeed(0);

interface CorrectnessRow {
  shape: string;
  checks: Partial<Record<Engine | "typetorchVsTfjsCpu", Check>>;
}
const correctness: CorrectnessRow[] = [];
const matmulTimes: Record<string, Partial<Record<Engine, Timing & { gflops: number }>>> = {};
// typetorch's sgemm with its second thread (backend/threads.ts); the "typetorch" column runs with
// `wasm.twoThreads` off (one thread), interleaved with this one.
const THREADS = wasm.shared;
const matmul2Times: Record<string, Timing & { gflops: number }> = {};
// typetorch's plain-JS GEMM (`codegen/js.ts`, the fallback where there is no WebAssembly SIMD),
// timed with the WASM kernels switched off, interleaved with the others.
const matmulJsTimes: Record<string, Timing & { gflops: number }> = {};
const WASM_ON = wasm.available;

function tfMatmul(A: Float32Array, B: Float32Array, m: number, k: number, n: number): Float32Array {
  const a = tf.tensor2d(A, [m, k]);
  const b = tf.tensor2d(B, [k, n]);
  const c = tf.matMul(a, b);
  const out = c.dataSync() as Float32Array;
  tf.dispose([a, b, c]);
  return out;
}

/** Checks every engine on one m×k @ k×n product; returns the engines whose result was right. */
async function checkShape(m: number, k: number, n: number): Promise<{ ok: Set<Engine>; a: ReturnType<typeof torch.randn>; b: ReturnType<typeof torch.randn> }> {
  const a = torch.randn(m, k);
  const b = torch.randn(k, n);
  const A = a.data() as Float32Array;
  const B = b.data() as Float32Array;
  const { ref, bound } = reference(A, B, m, k, n);
  const row: CorrectnessRow = { shape: `${m}×${k} @ ${k}×${n}`, checks: {} };
  const ok = new Set<Engine>();
  const results: Partial<Record<Engine, ArrayLike<number>>> = {};
  for (const e of engines) {
    let C: ArrayLike<number>;
    try {
      if (e === "typetorch") {
        const c = a.matmul(b);
        if (c.shape.length !== 2 || c.shape[0] !== m || c.shape[1] !== n) throw new Error(`shape [${c.shape.join(", ")}], expected [${m}, ${n}]`);
        C = c.data() as Float32Array;
        if (INJECT_FAULT) {
          const bad = Float32Array.from(C);
          bad[bad.length - 1] = bad[bad.length - 1]! + 0.5;
          C = bad;
        }
      } else {
        await useBackend(e === "tfjsCpu" ? "cpu" : "wasm");
        C = tfMatmul(A, B, m, k, n);
      }
    } catch (err) {
      row.checks[e] = { maxNormErr: Infinity, maxAbsErr: Infinity, ok: false, problem: `threw: ${(err as Error).message}` };
      continue;
    }
    results[e] = C;
    const chk = compare(C, ref, bound);
    row.checks[e] = chk;
    if (chk.ok) ok.add(e);
  }
  const tt = results.typetorch;
  const tc = results.tfjsCpu;
  if (tt && tc) row.checks.typetorchVsTfjsCpu = compare(tt, tc, bound, 2);
  for (const [name, chk] of Object.entries(row.checks)) {
    if (!chk.ok) failures.push(`${row.shape}: ${name === "typetorchVsTfjsCpu" ? "typetorch vs TF.js cpu" : ENGINE_LABEL[name as Engine]} result is WRONG (max normalised error ${chk.maxNormErr.toExponential(2)} > ${TOL.toExponential(0)}${chk.problem ? "; " + chk.problem : ""})`);
  }
  correctness.push(row);
  return { ok, a, b };
}

for (const [m, k, n] of ODD_SHAPES) await checkShape(m, k, n);

for (const n of SIZES) {
  const { ok, a, b } = await checkShape(n, n, n);
  const A = a.data() as Float32Array;
  const B = b.data() as Float32Array;
  const timed = engines.filter((e) => ok.has(e)); // a wrong kernel is never timed
  const owned: [backend: "cpu" | "wasm", t: tf.Tensor][] = [];
  const runners: Runner[] = [];
  for (const e of timed) {
    if (e === "typetorch") {
      runners.push({ enter: async () => void ((wasm.twoThreads = false), (wasm.available = WASM_ON)), fn: () => a.matmul(b) });
      continue;
    }
    const backend = e === "tfjsCpu" ? "cpu" : "wasm";
    await useBackend(backend);
    const ta = tf.tensor2d(A, [n, n]);
    const tb = tf.tensor2d(B, [n, n]);
    owned.push([backend, ta], [backend, tb]);
    runners.push({ enter: () => useBackend(backend), fn: () => tf.matMul(ta, tb).dispose() });
  }
  const extra: ((t: Timing) => void)[] = [];
  if (THREADS && timed.includes("typetorch")) {
    runners.push({ enter: async () => void ((wasm.twoThreads = true), (wasm.available = WASM_ON)), fn: () => a.matmul(b) });
    extra.push((t) => {
      matmul2Times[n] = { ...t, gflops: gflops(n, t.medianMs) };
      process.stderr.write(`  matmul ${n}: typetorch (2 thr) ${matmul2Times[n]!.gflops.toFixed(2)} GFLOP/s\n`);
    });
  }
  if (WASM_ON && timed.includes("typetorch")) {
    runners.push({ enter: async () => void (wasm.available = false), fn: () => a.matmul(b) });
    extra.push((t) => {
      matmulJsTimes[n] = { ...t, gflops: gflops(n, t.medianMs) };
      process.stderr.write(`  matmul ${n}: typetorch (JS kernel) ${matmulJsTimes[n]!.gflops.toFixed(2)} GFLOP/s\n`);
    });
  }
  const ts = await measureInterleaved(runners, TIMING.warmupMs, TIMING.sampleMs, TIMING.samples);
  wasm.twoThreads = true;
  wasm.available = WASM_ON;
  extra.forEach((f, i) => f(ts[timed.length + i]!));
  const times: Partial<Record<Engine, Timing & { gflops: number }>> = {};
  timed.forEach((e, i) => {
    const t = ts[i]!;
    times[e] = { ...t, gflops: gflops(n, t.medianMs) };
    process.stderr.write(`  matmul ${n}: ${ENGINE_LABEL[e]} ${times[e]!.gflops.toFixed(2)} GFLOP/s\n`);
  });
  for (const [backend, t] of owned) {
    await useBackend(backend);
    t.dispose();
  }
  matmulTimes[n] = times;
}

// tiny-op overhead (typetorch and TF.js cpu, interleaved)
await useBackend("cpu");
const tiny: Record<string, Partial<Record<Engine | "torch", number>>> = { add: {}, mulSumBackward: {} };
{
  const a = torch.tensor([1.5, -0.5]);
  const b = torch.tensor([0.25, 2.0]);
  const ag = torch.tensor([1.5, -0.5], { requiresGrad: true });
  const ttStep = () => {
    ag.grad = null;
    ag.mul(b).sum().backward();
  };
  ttStep();
  const grad = ag.grad as unknown as { toArray(): number[] } | null;
  const g = grad?.toArray() ?? [];
  if (g[0] !== 0.25 || g[1] !== 2) failures.push(`tiny op: typetorch gradient of sum(a*b) is [${g.join(", ")}], expected [0.25, 2]`);

  const ta = tf.tensor1d([1.5, -0.5]);
  const tb = tf.tensor1d([0.25, 2.0]);
  const gradFn = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, tb)));
  const tg = gradFn(ta);
  const tgv = Array.from(tg.dataSync());
  tg.dispose();
  if (tgv[0] !== 0.25 || tgv[1] !== 2) failures.push(`tiny op: TF.js gradient is [${tgv.join(", ")}], expected [0.25, 2]`);

  const [ttAdd, tfAdd, ttBwd, tfBwd] = await measureInterleaved(
    [{ fn: () => a.add(b) }, { fn: () => tf.add(ta, tb).dispose() }, { fn: ttStep }, { fn: () => gradFn(ta).dispose() }],
    TIMING.warmupMs,
    TIMING.tinySampleMs,
    TIMING.samples,
  );
  tiny.add!.typetorch = ttAdd!.medianMs * 1e3;
  tiny.add!.tfjsCpu = tfAdd!.medianMs * 1e3;
  tiny.mulSumBackward!.typetorch = ttBwd!.medianMs * 1e3;
  tiny.mulSumBackward!.tfjsCpu = tfBwd!.medianMs * 1e3;
  tf.dispose([ta, tb]);
}

// MNIST MLP / CNN training throughput (bench/training.ts)
process.stderr.write(`  training ...\n`);
const training = await trainingBench({ quick: QUICK, python: NO_TORCH || !existsSync(PYTHON) ? null : PYTHON, tfjsWasm: wasmInfo.available, useBackend, log: (s) => process.stderr.write(s + "\n") });
for (const c of training.checks) if (!c.ok) failures.push(`training ${c.model}: loss after 3 steps with the WASM GEMM ${c.wasmLoss} or compiled ${c.compiledLoss} differs from the JS reference kernels' ${c.jsLoss}`);

// PyTorch (child processes)
let torch1: PyResult = { ok: false, error: "skipped (--no-torch)" };
let torchN: PyResult | null = null;
const cores = os.cpus().length;
if (!NO_TORCH) {
  process.stderr.write(`  PyTorch (1 thread) ...\n`);
  torch1 = runTorch(1, true);
  if (torch1.ok && !QUICK && cores > 1) {
    process.stderr.write(`  PyTorch (${cores} threads) ...\n`);
    torchN = runTorch(cores, false);
  }
}
for (const [label, r] of [["PyTorch (1 thread)", torch1], [`PyTorch (${cores} threads)`, torchN]] as const) {
  if (!r) continue;
  if (!r.ok) {
    notes.push(`${label} UNAVAILABLE: ${r.error}`);
    continue;
  }
  for (const [n, t] of Object.entries(r.matmul ?? {})) {
    if (!(t.maxNormErr <= TOL)) {
      failures.push(`${n}×${n}: ${label} result is WRONG (max normalised error ${t.maxNormErr})`);
      delete r.matmul![n];
    }
  }
}
if (torch1.ok) {
  tiny.add!.torch = torch1.addUs;
  tiny.mulSumBackward!.torch = torch1.mulSumBackwardUs;
  notes.push(
    `PyTorch ${torch1.version} via ${PYTHON}, ${torch1.cpuCapability?.replace(/^- /, "")}; ${torch1.blasInfo?.replace(/^- Build settings: /, "")}; ` +
      `sgemm library loaded: ${torch1.openblas ? `OpenBLAS${torch1.openblasCore ? ` (${torch1.openblasConfig ?? ""}; kernel core ${torch1.openblasCore})` : ""}` : "NOT OpenBLAS"} (${(torch1.blasLibraries ?? []).map((p) => path.basename(p)).join(", ") || "none seen"}); ` +
      `OMP/OPENBLAS/MKL_NUM_THREADS=1 and torch.set_num_threads(1) for the 1-thread column.`,
  );
}

// Other processes' CPU use during the run: machine busy time minus this process and its children.
const cpu1 = machineCpu();
const wallS = (performance.now() - wall0) / 1e3;
let backgroundCores: number | null = null;
if (cpu0 && cpu1 && wallS > 0) {
  const own = (process.cpuUsage().user + process.cpuUsage().system) / 1e6 + (torch1.cpuSeconds ?? 0) + (torchN?.cpuSeconds ?? 0);
  backgroundCores = Math.max(0, ((cpu1.busy - cpu0.busy) / 100 - own) / wallS);
  const msg = `other processes used ${backgroundCores.toFixed(2)} of ${cores} cores on average during this ${wallS.toFixed(0)} s run (from /proc/stat)`;
  notes.push(backgroundCores > 0.25 ? `${msg} — the machine was not idle, so absolute numbers are noisy; the JS engines were sampled interleaved, so their ratios are less affected.` : `${msg}.`);
}

// ---------------------------------------------------------------------------------------------
// report

const f2 = (x: number | undefined) => (x === undefined ? "—" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined ? "—" : (x / y >= 10 ? (x / y).toFixed(0) : x / y >= 1 ? (x / y).toFixed(2) : (x / y).toPrecision(2)) + "×");

function mdTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ") + " |";
  const sep = "|" + widths.map((w, i) => (i === 0 ? ":" + "-".repeat(w + 1) : "-".repeat(w + 1) + ":")).join("|") + "|";
  return [line(head), sep, ...rows.map(line)].join("\n");
}

const wasmLabel = wasmInfo.available ? `TF.js wasm (SIMD, ${wasmInfo.threads} thr)` : "TF.js wasm (n/a)";
const torchLabel = torch1.ok ? `PyTorch ${torch1.version?.split("a")[0]} (1 thr)` : "PyTorch (n/a)";
const torchNLabel = `PyTorch (${torchN?.threads ?? cores} thr)`;
const showTorchN = torchN !== null && torchN.ok;
const JS_COL = Object.keys(matmulJsTimes).length > 0;
const matmulHead = ["n (GFLOP/s)", "typetorch (1 thr)", ...(THREADS ? ["typetorch (2 thr)"] : []), ...(JS_COL ? ["typetorch (JS kernel)"] : []), "TF.js cpu", wasmLabel, torchLabel, ...(showTorchN ? [torchNLabel] : []), "tt / TF.js cpu", "tt / TF.js wasm", "tt / PyTorch 1 thr", ...(THREADS ? ["tt 2 thr / 1 thr"] : []), ...(THREADS && showTorchN ? ["tt 2 thr / PyTorch 2 thr"] : [])];
const matmulRows = SIZES.map((n) => {
  const t = matmulTimes[n] ?? {};
  const tt = t.typetorch?.gflops;
  const tc = t.tfjsCpu?.gflops;
  const tw = t.tfjsWasm?.gflops;
  const p1 = torch1.ok ? torch1.matmul?.[n]?.gflops : undefined;
  const pn = showTorchN ? torchN?.matmul?.[n]?.gflops : undefined;
  const t2 = matmul2Times[n]?.gflops;
  return [
    String(n), f2(tt), ...(THREADS ? [f2(t2)] : []), ...(JS_COL ? [f2(matmulJsTimes[n]?.gflops)] : []), f2(tc), f2(tw), f2(p1), ...(showTorchN ? [f2(pn)] : []), ratio(tt, tc), ratio(tt, tw), ratio(tt, p1),
    ...(THREADS ? [ratio(t2, tt)] : []), ...(THREADS && showTorchN ? [ratio(t2, pn)] : []),
  ];
});
const matmulTable = mdTable(matmulHead, matmulRows);

const tinyHead = ["tiny op (µs per call, 2 elements)", "typetorch", "TF.js cpu", torchLabel, "tt / TF.js cpu", "tt / PyTorch"];
const tinyRows = [
  ["`a.add(b)`", tiny.add!],
  ["`a.mul(b).sum()` + backward (`tf.grad`)", tiny.mulSumBackward!],
].map(([label, r]) => {
  const v = r as Partial<Record<string, number>>;
  // speed ratio: typetorch is faster when its µs are smaller
  return [label as string, f2(v["typetorch"]), f2(v["tfjsCpu"]), f2(v["torch"]), ratio(v["tfjsCpu"], v["typetorch"]), ratio(v["torch"], v["typetorch"])];
});
const tinyTable = mdTable(tinyHead, tinyRows);

const trainTable = trainingTable(training, mdTable);
const growth = (v: number | null) => (v === null ? "not measured (no GC to call)" : `${v >= 0 ? "+" : ""}${v} MiB`);
const memLine = `typetorch memory: RSS ${training.memory.rssBeforeMiB} MiB before the timed training, ${training.memory.rssAfterMiB} MiB after; in steady state (heap + array buffers after a full GC, before and after ${training.memory.steadySteps} more steps of every configuration) MLP ${growth(training.memory.steadyGrowthMiB.mlp)}, CNN ${growth(training.memory.steadyGrowthMiB.cnn)}; peak RSS of the bench process ${training.memory.peakRssMiB} MiB`;
const trainChecks = training.checks.map((c) => `${c.model}: loss after 3 steps ${c.wasmLoss.toFixed(6)} (WASM GEMM), ${c.compiledLoss.toFixed(6)} (compiled step) vs ${c.jsLoss.toFixed(6)} (JS kernels) ${c.ok ? "ok" : "MISMATCH"}`).join("; ");

const fmtChk = (c: Check | undefined) => (c === undefined ? "—" : `${c.ok ? "" : "FAIL "}${Number.isFinite(c.maxNormErr) ? c.maxNormErr.toExponential(1) : (c.problem ?? "∞")}`);
const corrHead = ["shape", "typetorch", "TF.js cpu", "TF.js wasm", "typetorch vs TF.js cpu"];
const corrTable = mdTable(
  corrHead,
  correctness.map((r) => [r.shape, fmtChk(r.checks.typetorch), fmtChk(r.checks.tfjsCpu), fmtChk(r.checks.tfjsWasm), fmtChk(r.checks.typetorchVsTfjsCpu)]),
);

const passed = failures.length === 0;
log();
log("## sgemm (float32 matmul, n×n @ n×n), GFLOP/s — ratios are typetorch speed ÷ other speed (> 1: typetorch faster)");
log();
log(matmulTable);
log();
log("## tiny-op overhead");
log();
log(tinyTable);
log();
log("## training throughput (MNIST, SGD momentum), samples/s");
log();
log(trainTable);
log();
log(memLine);
log(`training correctness: ${trainChecks}`);
log();
log(`## correctness before timing: max over elements of |C − ref| / Σₖ|aᵢₖ·bₖⱼ| (tolerance ${TOL.toExponential(0)})`);
log();
log(corrTable);
log();
for (const n of notes) log(`note: ${n}`);
for (const f of failures) log(`FAILED: ${f}`);
log(
  passed
    ? `correctness: PASS (typetorch, TF.js cpu${wasmInfo.available ? ", TF.js wasm" : ""} vs plain-JS float64 reference on ${correctness.length} shapes; typetorch vs TF.js cpu)`
    : `correctness: FAIL (${failures.length} problem${failures.length > 1 ? "s" : ""}; see FAILED lines)`,
);

function trainingSummary(): string {
  const parts: string[] = [];
  for (const [m, name] of [["mlp", "MLP"], ["cnn", "CNN"]] as const) {
    const row = training.rows[m];
    const best = bestTypetorch(row);
    if (!best) continue;
    const rt = (e: "tfjsCpu" | "tfjsWasm" | "torch") => {
      const b = row[e]?.samplesPerS;
      return b ? `${(best.cell.samplesPerS! / b).toPrecision(3)}×` : null;
    };
    const cmp = ([["tfjsCpu", "TF.js cpu"], ["tfjsWasm", "TF.js wasm"], ["torch", "PyTorch (1 thread)"]] as const)
      .map(([e, label]) => (rt(e) ? `${rt(e)} ${label}` : null))
      .filter(Boolean);
    const ce = row.compiled?.samplesPerS && row.typetorch?.samplesPerS ? ` (the compiled step is ${(row.compiled.samplesPerS / row.typetorch.samplesPerS).toPrecision(3)}× eager on one thread)` : "";
    if (cmp.length) parts.push(`${name} training: typetorch (${engineLabel[best.engine]}) runs at ${cmp.join(", ")}${ce}`);
  }
  const wasmCnn = training.rows.cnn.tfjsWasm?.error;
  return parts.length
    ? `In training (forward, backward and SGD-momentum update; eager op by op, or \`compileStep\` on the kernels \`typetorch compile\` makes from \`bench/models.ts\`; same data, architecture, initialisation bounds and optimizer), ${parts.join("; ")}.` +
        (wasmCnn ? ` TF.js wasm cannot train the CNN (${wasmCnn.replace(/^cannot train: /, "")}: tfjs-backend-wasm 4.22.0 registers Conv2DBackpropInput but no Conv2DBackpropFilter).` : "") +
        ` TF.js gradients are registered by \`bench/tfjs_gradients.ts\` (tfjs-core's Node bundle ships none).`
    : "";
}

function summary(): string {
  const range = (xs: (number | undefined)[]) => {
    const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
    if (!v.length) return "n/a";
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    const fmt = (x: number) => (x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toPrecision(2));
    return lo === hi ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
  };
  const tt = SIZES.map((n) => matmulTimes[n]?.typetorch?.gflops);
  const r = (other: (n: number) => number | undefined) => range(SIZES.map((n) => {
    const a = matmulTimes[n]?.typetorch?.gflops;
    const b = other(n);
    return a !== undefined && b !== undefined ? a / b : undefined;
  }));
  const ttVals = tt.filter((x): x is number => x !== undefined);
  const tt1024 = matmulTimes[1024]?.typetorch?.gflops;
  const others = SIZES.filter((n) => n < 1024).map((n) => matmulTimes[n]?.typetorch?.gflops).filter((x): x is number => x !== undefined);
  const dropAt1024 = tt1024 !== undefined && others.length > 0 && tt1024 < 0.85 * Math.max(...others);
  const vsCpu = SIZES.map((n) => {
    const a = matmulTimes[n]?.typetorch?.gflops;
    const b = matmulTimes[n]?.tfjsCpu?.gflops;
    return a !== undefined && b !== undefined ? a / b : undefined;
  }).filter((x): x is number => x !== undefined);
  const parts = [
    `typetorch's float32 matmul is a GEMM generated at run time as WebAssembly SIMD (\`runtime/codegen/wasm.ts\`: GotoBLAS/BLIS-style packing of A and B into cache blocks, then an MR×NR register-blocked f32x4 micro-kernel, fused multiply-add via relaxed SIMD where the CPU has FMA) and reaches ${range(tt)} GFLOP/s${ttVals.length ? "" : " (not measured)"} on one thread` +
      (THREADS ? `; with its second thread (\`runtime/backend/threads.ts\`: a worker sharing the WebAssembly memory claims ranges of C's rows, or columns, with the main thread) ${range(SIZES.map((n) => matmul2Times[n]?.gflops))} GFLOP/s (the ratios below are the one-thread figures).` : ".") +
      (JS_COL ? ` Its plain-JavaScript GEMM (\`runtime/codegen/js.ts\`, the fallback where WebAssembly SIMD is missing and the reference the fast kernels are checked against) does ${range(SIZES.map((n) => matmulJsTimes[n]?.gflops))} GFLOP/s.` : ""),
    `That is ${r((n) => matmulTimes[n]?.tfjsCpu?.gflops)}× TF.js's cpu backend, which is plain scalar JavaScript` +
      (vsCpu.length && Math.min(...vsCpu) > 1 ? " and is outrun everywhere;" : ";"),
    wasmInfo.available
      ? `and ${r((n) => matmulTimes[n]?.tfjsWasm?.gflops)}× TF.js's wasm backend, whose XNNPACK kernels also use 128-bit WebAssembly SIMD on one thread — the like-for-like comparison for a JS-hosted library,`
      : `(TF.js wasm could not be measured in this environment),`,
    torch1.ok
      ? `and ${r((n) => torch1.matmul?.[n]?.gflops)}× PyTorch on one thread, which calls native OpenBLAS sgemm (AVX2/AVX-512 FMA on 256/512-bit vectors, which WebAssembly's 128-bit SIMD cannot reach), the ceiling for one core of this CPU.`
      : `(PyTorch was not available for the native-BLAS comparison).`,
    dropAt1024 ? `typetorch's throughput drops at n = 1024 (below 85% of its best smaller size).` : "",
    trainingSummary(),
    `For tiny tensors the cost is per-op overhead, not arithmetic: typetorch's ${f2(tiny.add!.typetorch)} µs per add is ${ratio(tiny.add!.tfjsCpu, tiny.add!.typetorch)} the speed of TF.js cpu (${f2(tiny.add!.tfjsCpu)} µs)` +
      (torch1.ok ? ` and ${ratio(tiny.add!.torch, tiny.add!.typetorch)} that of PyTorch's eager dispatcher (${f2(tiny.add!.torch)} µs)` : "") +
      `; forward+backward of \`sum(a*b)\` takes ${f2(tiny.mulSumBackward!.typetorch)} µs vs ${f2(tiny.mulSumBackward!.tfjsCpu)} µs for \`tf.grad\`` +
      (torch1.ok ? ` and ${f2(tiny.mulSumBackward!.torch)} µs in PyTorch.` : "."),
    backgroundCores !== null && backgroundCores > 0.25
      ? `Other processes were using ${backgroundCores.toFixed(1)} of the ${cores} cores during this run, so treat absolute numbers as lower bounds; the ratios between the JS engines, sampled interleaved, are the more reliable figures.`
      : "",
  ].filter(Boolean);
  return parts.join(" ");
}

const results = {
  date: new Date().toISOString(),
  quick: QUICK,
  machine: { cpu: os.cpus()[0]?.model ?? "unknown", cores, platform: `${os.platform()} ${os.release()}`, arch: os.arch(), totalMemGiB: +(os.totalmem() / 2 ** 30).toFixed(1) },
  node: process.version,
  durationS: +wallS.toFixed(1),
  backgroundCores,
  timing: TIMING,
  tolerance: TOL,
  tfjs: { version: tf.version_core, wasm: wasmInfo },
  matmul: Object.fromEntries(
    SIZES.map((n) => [n, { ...matmulTimes[n], typetorch2: matmul2Times[n], typetorchJs: matmulJsTimes[n], torch1: torch1.ok ? torch1.matmul?.[n] : undefined, torchN: showTorchN ? torchN?.matmul?.[n] : undefined }]),
  ),
  tinyUs: tiny,
  training,
  torch: { single: torch1, multi: torchN },
  correctness,
  notes,
  failures,
  passed,
};

if (!NO_WRITE) {
  if (QUICK) {
    writeFileSync(path.join(HERE, "results-quick.json"), JSON.stringify(results, null, 2) + "\n");
  } else {
    writeFileSync(path.join(HERE, "results.json"), JSON.stringify(results, null, 2) + "\n");
    const md = [
      "# typetorch benchmark results",
      "",
      "Written by `npm run bench` (`bench/run.ts`); raw numbers in `results.json`.",
      "",
      `- date: ${results.date}`,
      `- machine: ${results.machine.cpu}, ${cores} cores (${results.machine.platform}, ${results.machine.arch}, ${results.machine.totalMemGiB} GiB)`,
      `- node: ${process.version}; TF.js ${tf.version_core} (prod mode); wasm backend: ${wasmInfo.available ? `${wasmInfo.build}, SIMD=${wasmInfo.simd}, threads=${wasmInfo.threads}` : `unavailable (${wasmInfo.reason})`}`,
      `- PyTorch: ${torch1.ok ? `${torch1.version}, ${torch1.openblas ? `OpenBLAS${torch1.openblasCore ? ` core ${torch1.openblasCore}` : ""}` : "not OpenBLAS"} (${(torch1.blasLibraries ?? []).map((p) => path.basename(p)).join(", ")}), ${torch1.cpuCapability?.replace(/^- /, "")}` : torch1.error}`,
      `- timing: warm-up ≥ ${TIMING.warmupMs} ms (≥ 1 call), then the median of ${TIMING.samples} samples of ≥ ${TIMING.sampleMs} ms each (loop count chosen from the warm-up); the JS engines' samples are taken round-robin so load changes hit them alike; the same method (not interleaved) in the PyTorch child process`,
      `- ratios: typetorch speed ÷ other engine's speed (> 1 means typetorch is faster)`,
      "",
      "## sgemm: float32 n×n @ n×n, GFLOP/s (2n³ / time)",
      "",
      matmulTable,
      "",
      "## Tiny-op overhead (2-element float32 tensors), µs per call",
      "",
      tinyTable,
      "",
      "## Training throughput: MNIST (10,000 real digits), SGD momentum 0.9, cross-entropy; samples/s",
      "",
      trainTable,
      "",
      `- ${memLine}`,
      `- correctness: ${trainChecks}`,
      "",
      `## Correctness, checked before timing: max over elements of |C − ref| / Σₖ|aᵢₖ·bₖⱼ| (tolerance ${TOL.toExponential(0)})`,
      "",
      corrTable,
      "",
      passed ? "All checks passed." : failures.map((f) => `- FAILED: ${f}`).join("\n"),
      ...(notes.length ? ["", ...notes.map((n) => `- ${n}`)] : []),
      "",
      "## What the numbers mean",
      "",
      summary(),
      "",
    ].join("\n");
    writeFileSync(path.join(HERE, "RESULTS.md"), md);
  }
}

process.exitCode = passed ? 0 : 1;
