/**
 * @internal DataLoader workers (`numWorkers > 0`): `worker_threads` that build their own copy of
 * the dataset and turn index lists into batches ahead of the training loop.
 *
 * - The main thread keeps the sampler: it draws the epoch's order exactly as with
 *   `numWorkers: 0`, sends batch `k` to worker `k % numWorkers` (round robin, like PyTorch), keeps
 *   `prefetchFactor * numWorkers` batches in flight, and yields them in order — so batches are
 *   the same, in the same order, as without workers.
 * - A worker's dataset: a TensorDataset's tensors are copied once into SharedArrayBuffers that
 *   every worker reads (no per-batch copy across threads); any other dataset is rebuilt in the
 *   worker from `workerModule` (a module URL; its `workerExport`, default `"default"`, is a
 *   dataset, a Dataset class or a factory, called with `workerArgs`).
 * - Batches come back with their storage transferred (no copy). Each worker seeds its default
 *   generator with the epoch's base seed + its id, as PyTorch seeds worker processes.
 *
 * Loaded with a dynamic import, so bundles that never use workers don't pull in `node:*`.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { DeviceError, DTypeError, IndexError, ShapeError, ValueError } from "../../types/errors.js";
import type { DType, TypedArray } from "../dtype.js";
import { allocStorage } from "../dtype.js";
import type { AnyTensor } from "../tensorTypes.js";
import type { MapDataset } from "./Dataset.js";
import { TensorDataset } from "./TensorDataset.js";
import { decode, type WireError } from "./wire.js";

/** @internal How a worker gets its dataset. */
export type DatasetSpec =
  | { kind: "tensors"; tensors: { dtype: DType; shape: number[]; data: TypedArray }[] }
  | { kind: "module"; href: string; exportName: string; args: unknown[] };

/** @internal A worker's `workerData`. */
export interface WorkerInit {
  spec: DatasetSpec;
  workerId: number;
  numWorkers: number;
  seed: bigint;
}

/** @internal Main → worker. */
export interface WorkerTask {
  seq: number;
  indices: number[];
  collate: boolean;
}

/** @internal Worker → main. */
export type WorkerReply =
  | { type: "ready"; length: number }
  | { type: "failed"; error: WireError }
  | { type: "batch"; seq: number; batch: unknown }
  | { type: "error"; seq: number; error: WireError };

/** @internal What the pool needs from the loader. */
export interface PoolOptions {
  dataset: MapDataset<unknown>;
  numWorkers: number;
  prefetchFactor: number;
  workerModule: URL | string | undefined;
  workerExport: string;
  workerArgs: readonly unknown[];
  collateFn: ((samples: unknown[]) => unknown) | undefined;
}

const ERRORS: Record<string, new (m: string) => Error> = { ShapeError, ValueError, DTypeError, DeviceError, IndexError, TypeError, RangeError };

function rebuildError(e: WireError, where: string): Error {
  const Ctor = ERRORS[e.name] ?? Error;
  const err = new Ctor(e.message);
  err.stack = `${e.name}: ${e.message}\n    (in ${where})\n${(e.stack ?? "").split("\n").slice(1).join("\n")}`;
  return err;
}

// A TensorDataset's tensors in shared memory, made once per dataset.
const shared = new WeakMap<object, DatasetSpec>();
function tensorSpec(ds: TensorDataset<readonly AnyTensor[]>): DatasetSpec {
  let spec = shared.get(ds);
  if (!spec) {
    spec = {
      kind: "tensors",
      tensors: (ds.tensors as readonly AnyTensor[]).map((t) => {
        const src = t.data() as TypedArray;
        const local = allocStorage(t.dtype, 0);
        const Ctor = local.constructor as new (b: SharedArrayBuffer) => TypedArray;
        const data = new Ctor(new SharedArrayBuffer(src.byteLength));
        data.set(src as never);
        return { dtype: t.dtype, shape: [...t.shape], data };
      }),
    };
    shared.set(ds, spec);
  }
  return spec;
}

function datasetSpec(o: PoolOptions): DatasetSpec {
  if (o.workerModule !== undefined) {
    const href = o.workerModule instanceof URL ? o.workerModule.href : /^[a-z][a-z0-9+.-]*:/i.test(o.workerModule) ? o.workerModule : pathToFileURL(o.workerModule).href;
    return { kind: "module", href, exportName: o.workerExport, args: [...o.workerArgs] };
  }
  if (o.dataset instanceof TensorDataset && o.dataset.get === TensorDataset.prototype.get) return tensorSpec(o.dataset);
  throw new ValueError("DataLoader: numWorkers > 0 needs a workerModule for a dataset that is not a TensorDataset (a worker thread can't receive its get function), got none");
}

const TS_FILE = /\.[cm]?ts$/;

// How to start a worker: worker.js next to this file, as is. From TypeScript sources (tests, tsx)
// or with a TypeScript workerModule, a small bootstrap registers tsx's loader in the worker first
// (a worker does not inherit the `--import tsx` of its parent).
function workerBoot(spec: DatasetSpec): { script: URL | string; eval: boolean } {
  const js = new URL("./worker.js", import.meta.url);
  const fromJs = existsSync(fileURLToPath(js));
  const tsModule = spec.kind === "module" && TS_FILE.test(new URL(spec.href).pathname);
  if (fromJs && !tsModule) return { script: js, eval: false };
  const entry = fromJs ? js : new URL("./worker.ts", import.meta.url);
  let api: string;
  try {
    // tsx's ESM API (its CommonJS build can't register hooks from here)
    const pkg = createRequire(import.meta.url).resolve("tsx/package.json");
    const exp = (JSON.parse(readFileSync(pkg, "utf8")) as { exports: Record<string, { import: { default: string } }> }).exports["./esm/api"]!;
    api = new URL(exp.import.default, pathToFileURL(pkg)).href;
  } catch {
    throw new ValueError(`DataLoader: workers need the tsx package to load TypeScript (${fromJs ? spec.kind === "module" ? spec.href : "" : entry.href}), got it not installed`);
  }
  const code = `import(${JSON.stringify(api)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(entry.href)}); });`;
  return { script: code, eval: true };
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  worker: number;
}

/** @internal A set of worker threads serving one DataLoader. */
export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly busy: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private failure: Error | null = null;
  private closed = false;
  /** True once stopped (by `close`, or by a failure). */
  get isClosed(): boolean {
    return this.closed;
  }
  private seq = 0;
  private next = 0;

  constructor(private readonly o: PoolOptions, seed: bigint) {
    const spec = datasetSpec(o);
    const boot = workerBoot(spec);
    for (let id = 0; id < o.numWorkers; id++) {
      const init: WorkerInit = { spec, workerId: id, numWorkers: o.numWorkers, seed: seed + BigInt(id) };
      const w = new Worker(boot.script, { workerData: init, eval: boot.eval });
      w.unref();
      w.on("message", (m: WorkerReply) => this.onMessage(id, m));
      w.on("error", (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
      w.on("exit", (code) => {
        if (!this.closed) this.fail(new ValueError(`DataLoader: worker ${id} exited unexpectedly, got exit code ${code}`));
      });
      this.workers.push(w);
      this.busy.push(0);
    }
  }

  private onMessage(id: number, m: WorkerReply): void {
    if (m.type === "ready") {
      const n = this.o.dataset.length;
      if (m.length !== n) this.fail(new ValueError(`DataLoader: the worker's dataset must have the same length as the loader's, got ${m.length} in worker ${id} and ${n} in the loader`));
      return;
    }
    if (m.type === "failed") {
      this.fail(rebuildError(m.error, `DataLoader worker ${id}, loading the dataset`));
      return;
    }
    const p = this.pending.get(m.seq);
    if (!p) return; // a task of an abandoned epoch
    this.pending.delete(m.seq);
    this.release(p.worker);
    if (m.type === "error") p.reject(rebuildError(m.error, `DataLoader worker ${id}`));
    else p.resolve(m.batch);
  }

  private release(w: number): void {
    if (--this.busy[w]! === 0) this.workers[w]!.unref();
  }

  private fail(e: Error): void {
    if (this.failure || this.closed) return;
    this.failure = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.close();
  }

  /** A new epoch deals from worker 0 again (PyTorch resets its worker cycle). */
  restartCycle(): void {
    this.next = 0;
  }

  /** Sends one batch's indices to the next worker (round robin); resolves with the decoded batch. */
  submit(indices: number[]): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const w = this.next;
    this.next = (this.next + 1) % this.workers.length;
    const seq = this.seq++;
    const collate = this.o.collateFn === undefined;
    const promise = new Promise<unknown>((resolve, reject) => this.pending.set(seq, { resolve, reject, worker: w }));
    if (this.busy[w]!++ === 0) this.workers[w]!.ref();
    const task: WorkerTask = { seq, indices, collate };
    this.workers[w]!.postMessage(task);
    return promise.then((wire) => {
      const v = decode(wire);
      return collate ? v : this.o.collateFn!(v as unknown[]);
    });
  }

  /** Forgets the batches still in flight (an epoch left early); the workers stay. */
  abandon(): void {
    for (const [seq, p] of this.pending) {
      this.pending.delete(seq);
      this.release(p.worker);
      p.reject(new ValueError("DataLoader: the epoch was left early"));
    }
  }

  /** Stops the workers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) void w.terminate();
  }
}

/**
 * @internal One epoch over `batches` with the pool: keeps `prefetchFactor * numWorkers` batches
 * in flight and yields them in order. Closes the pool at the end unless it is `persistent`.
 */
export function workerEpoch(pool: WorkerPool, batches: Iterator<number[]>, ahead: number, persistent: boolean): AsyncIterableIterator<unknown> {
  const queue: Promise<unknown>[] = [];
  let exhausted = false;
  let finished = false;
  const fill = (): void => {
    while (!exhausted && queue.length < ahead) {
      const r = batches.next();
      if (r.done) exhausted = true;
      else {
        const p = pool.submit(r.value);
        p.catch(() => {}); // rejections are seen when the batch's turn comes
        queue.push(p);
      }
    }
  };
  const finish = (early: boolean): void => {
    if (finished) return;
    finished = true;
    if (early) batches.return?.();
    if (persistent) pool.abandon();
    else pool.close();
  };
  pool.restartCycle();
  fill();
  const it: AsyncIterableIterator<unknown> = {
    async next() {
      if (finished) return { done: true, value: undefined };
      const p = queue.shift();
      if (p === undefined) {
        finish(false);
        return { done: true, value: undefined };
      }
      let value: unknown;
      try {
        value = await p;
      } catch (e) {
        finish(true);
        throw e;
      }
      fill();
      return { done: false, value };
    },
    async return(value?: unknown) {
      finish(true);
      return { done: true, value };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
