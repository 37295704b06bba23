/**
 * A second thread for the WebAssembly GEMM: one `worker_threads` worker that instantiates the same
 * GEMM module against the backend's *shared* linear memory and computes part of a product while the
 * main thread computes the rest. Hand-off is synchronous: the main thread writes the worker's
 * arguments into a SharedArrayBuffer, bumps a sequence number and `Atomics.notify`s; the worker
 * (blocked in `Atomics.wait`) runs the kernel and signals back; the main thread, done with its own
 * part, `Atomics.wait`s for it (Node allows that on the main thread).
 *
 * Off (single-threaded, the same numbers bit for bit) where there is no SharedArrayBuffer, no
 * shared WebAssembly memory or no `worker_threads` (browsers, also those without COOP/COEP), with
 * fewer than 2 CPUs, and when `TYPETORCH_THREADS=1`. The worker is `unref()`ed, so it never keeps
 * the process alive.
 *
 * @example
 * const w = gemmWorker(module, memory); // null: run everything on this thread
 * if (w) { w.start(args); runOwnPart(); w.finish(); }
 */

interface NodeProcess {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}
interface WorkerLike {
  unref(): void;
  on(ev: string, fn: (e: unknown) => void): void;
}
interface WorkerThreads {
  Worker: new (code: string, opts: { eval: boolean; workerData: unknown }) => WorkerLike;
}
interface OsModule {
  availableParallelism?: () => number;
  cpus(): unknown[];
}

const proc = (globalThis as { process?: NodeProcess }).process;

/** Slots of the control block (Int32). */
const GO = 0; // sequence number of the last job posted
const DONE = 1; // sequence number of the last job finished
const READY = 2; // 1 once the worker has instantiated the module, -1 if it failed
const ERR = 3; // 1 if the last job threw
const SPIN = 4; // loads the worker spins after the last job before it sleeps (set per job)
const ARGS = 5; // the kernel's i32 arguments
const MAX_ARGS = 16;

// The worker: plain CommonJS, evaluated (no file to resolve, works under tsx and from dist/).
const WORKER_SOURCE = `
const { workerData } = require("worker_threads");
const { mem, mod, ctrl, fn, nargs } = workerData;
const c = new Int32Array(ctrl);
let kernel;
try {
  kernel = new WebAssembly.Instance(mod, { env: { mem } }).exports[fn];
  Atomics.store(c, ${READY}, 1);
} catch (e) {
  Atomics.store(c, ${READY}, -1);
}
Atomics.notify(c, ${READY});
let seq = 0;
const a = new Array(nargs);
while (kernel) {
  // Back-to-back products (a compiled training step) come within microseconds: spin a little
  // before sleeping, as waking from Atomics.wait takes tens of microseconds. Only when the caller
  // asks: where JS work runs between products (eager), a spinning worker slows the main thread
  // (measured: eager MLP training 20% slower with a 20k-load spin, even with the other core idle).
  const spin = c[${SPIN}];
  for (let i = 0; i < spin && Atomics.load(c, ${GO}) === seq; i++);
  if (Atomics.load(c, ${GO}) === seq) Atomics.wait(c, ${GO}, seq);
  seq = Atomics.load(c, ${GO});
  for (let i = 0; i < nargs; i++) a[i] = c[${ARGS} + i];
  try {
    kernel(...a);
    c[${ERR}] = 0;
  } catch (e) {
    c[${ERR}] = 1;
  }
  Atomics.store(c, ${DONE}, seq);
  Atomics.notify(c, ${DONE});
}
`;

let cached: boolean | undefined;

/**
 * Whether a second GEMM thread can be used here: SharedArrayBuffer, Atomics, shared WebAssembly
 * memory and `worker_threads` exist, at least 2 CPUs, and `TYPETORCH_THREADS` is not `1`. Decided
 * once, before the WebAssembly memory is made (it must be made shared for the worker to see it).
 */
export function threadsAvailable(): boolean {
  if (cached !== undefined) return cached;
  cached = false;
  try {
    const env = proc?.env?.["TYPETORCH_THREADS"];
    if (env !== undefined && env !== "" && Number(env) < 2) return false;
    if (typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") return false;
    if (!proc?.getBuiltinModule?.("worker_threads")) return false;
    const os = proc.getBuiltinModule("os") as OsModule | undefined;
    const cpus = os?.availableParallelism ? os.availableParallelism() : (os?.cpus().length ?? 1);
    if (cpus < 2) return false;
    cached = true;
  } catch {
    cached = false;
  }
  return cached;
}

/** A started worker running one exported kernel of a module against a shared memory. */
export class KernelWorker {
  private readonly ctrl: Int32Array;
  private seq = 0;
  private dead = false;
  private pending = false;

  constructor(mod: object, mem: object, fn: string, readonly nargs: number) {
    const wt = proc!.getBuiltinModule!("worker_threads") as WorkerThreads;
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * (ARGS + MAX_ARGS)));
    const w = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: { mem, mod, ctrl: this.ctrl.buffer, fn, nargs } });
    w.on("error", () => (this.dead = true));
    w.on("exit", () => (this.dead = true));
    w.unref();
  }

  /**
   * Whether the worker is up. The first call waits for it (up to `waitMs`); later calls don't
   * block. False while it starts or if it failed: run the whole job on this thread then.
   */
  ready(waitMs = 0): boolean {
    if (this.dead) return false;
    let r = Atomics.load(this.ctrl, READY);
    if (r === 0 && waitMs > 0) {
      Atomics.wait(this.ctrl, READY, 0, waitMs);
      r = Atomics.load(this.ctrl, READY);
    }
    if (r < 0) this.dead = true;
    return r === 1;
  }

  /**
   * Posts one call of the kernel with `args` (i32s); `finish()` must follow. Afterwards the worker
   * spins `spin` loads (~1–2 ns each) waiting for the next call before it sleeps.
   */
  start(args: readonly number[], spin = 0): void {
    for (let i = 0; i < this.nargs; i++) this.ctrl[ARGS + i] = args[i]! | 0;
    this.ctrl[SPIN] = spin;
    this.seq = (this.seq + 1) | 0;
    this.pending = true;
    Atomics.store(this.ctrl, GO, this.seq);
    Atomics.notify(this.ctrl, GO);
  }

  /** Waits for the posted call; throws if the kernel threw there (or the worker is gone). */
  finish(): void {
    if (!this.pending) return;
    this.pending = false;
    // Spin briefly (the worker usually finishes about when we do), then sleep in Atomics.wait.
    for (let spin = 0; spin < 2000 && Atomics.load(this.ctrl, DONE) !== this.seq; spin++);
    while (Atomics.load(this.ctrl, DONE) !== this.seq) {
      if (Atomics.wait(this.ctrl, DONE, Atomics.load(this.ctrl, DONE), 1000) === "timed-out" && this.dead) {
        throw new Error("typetorch: the GEMM worker thread exited");
      }
    }
    if (this.ctrl[ERR] !== 0) throw new Error("typetorch: the GEMM kernel failed in the worker thread");
  }
}
