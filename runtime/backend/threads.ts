/**
 * A second thread for the WebAssembly kernels: one `worker_threads` worker that instantiates the
 * kernel modules against the backend's *shared* linear memory and shares the work of a kernel
 * with the main thread (a GEMM's rows or products, a convolution's samples). Modules are loaded
 * into it as they are first needed (`load`: posted on a MessagePort, taken synchronously with
 * `receiveMessageOnPort` before the next job), so one worker serves every module and two never
 * compete for the second core. Hand-off is synchronous, through a small SharedArrayBuffer control
 * block: the main thread writes a job (which exports to call, their arguments), bumps a sequence number and
 * `Atomics.notify`s; the worker (blocked in `Atomics.wait`) takes part; the main thread, done with
 * its own part, waits for it (Node allows `Atomics.wait` on the main thread).
 *
 * A job has two phases, each a list of calls that both threads claim one at a time (`Atomics.add`
 * on a counter) until none is left, so a thread slowed by other work — the main thread copying
 * operands in and results out, a page fault, a late wake-up — simply does fewer:
 * - the *pre* phase (the GEMM: packing B, column range by column range), after which both
 *   threads wait until every pre call has run and the caller has `arrive()`d as often as it said
 *   (the GEMM's main thread arrives once A is copied in);
 * - the *chunk* phase (the GEMM: ranges of C's rows or columns, or products of a batch), each
 *   chunk's completion flagged, so the caller can copy a chunk's results out as soon as they are done.
 *
 * Off (single-threaded, the same numbers bit for bit) where there is no SharedArrayBuffer, no
 * shared WebAssembly memory or no `worker_threads` (browsers, also those without COOP/COEP), with
 * fewer than 2 CPUs, and when `TYPETORCH_THREADS=1`. The worker is `unref()`ed, so it never keeps
 * the process alive.
 *
 * @example
 * const w = new KernelWorker(memory);
 * const packB = w.load(module, ["packB", "gemmPacked"]); // index of packB in the worker's list
 * const count = w.post(job); // then claim and run pre calls and chunks here too (see ops/sgemm.ts)
 * w.finish();
 */

interface NodeProcess {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}
interface WorkerLike {
  unref(): void;
  on(ev: string, fn: (e: unknown) => void): void;
}
interface PortLike {
  postMessage(v: unknown): void;
  unref?(): void;
}
interface WorkerThreads {
  Worker: new (code: string, opts: { eval: boolean; workerData: unknown; transferList: unknown[] }) => WorkerLike;
  MessageChannel: new () => { port1: PortLike; port2: PortLike };
}
interface OsModule {
  availableParallelism?: () => number;
  cpus(): unknown[];
}

const proc = (globalThis as { process?: NodeProcess }).process;

/** Slots of the control block (Int32). */
const GO = 0; // the last job posted: (sequence number << 1) | 1 for a wake-up call
const DONE = 1; // the GO value of the last job finished
const READY = 2; // 1 once the worker runs
const ERR = 3; // 1 if the last job threw
const SPIN = 4; // microseconds the worker spins after the last job (or wake-up call) before it sleeps
const FN = 5; // index (in the worker's list) of the chunk phase's export
const NEXT = 6; // the next unclaimed chunk
const COUNT = 7; // chunks in all
const ROW_ARG = 8; // the argument that receives a chunk's row count
const PRE_FN = 9; // index of the pre phase's export
const PRE_NEXT = 10; // the next unclaimed pre call
const PRE_COUNT = 11; // pre calls in all
const PRE_DONE = 12; // pre calls finished plus the caller's arrivals
const PRE_TARGET = 13; // PRE_COUNT plus the arrivals the caller will make
const MODULES = 14; // modules posted to the worker so far (it loads them before its next job)
const MAX_ARGS = 16;
const ARGS = 15; // the chunk phase's base arguments
const DELTAS = ARGS + MAX_ARGS; // what one row adds to each argument
const PRE_ARGS = DELTAS + MAX_ARGS; // the pre phase's base arguments
const PRE_DELTAS = PRE_ARGS + MAX_ARGS; // what one pre call adds to each argument
/** The most chunks (and pre calls) a job may have. */
export const MAX_CHUNKS = 64;
const STARTS = PRE_DELTAS + MAX_ARGS; // first row of each chunk, then the total
const FLAGS = STARTS + MAX_CHUNKS + 1; // the GO value of the job once chunk c is done
const SLOTS = FLAGS + MAX_CHUNKS;
/** How long `finish()` spins for the worker's end before it sleeps. */
const FINISH_SPIN_MS = 2;
/** PRE_DONE and NEXT after `abort()`: past any target or count. */
const ABORTED = 0x3fffffff;

// The worker: plain CommonJS, evaluated (no file to resolve, works under tsx and from dist/).
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require("worker_threads");
const { mem, ctrl, port } = workerData;
const c = new Int32Array(ctrl);
Atomics.store(c, ${READY}, 1);
Atomics.notify(c, ${READY});
// the exports of every module loaded so far, in load order
const kernels = [];
let loaded = 0;
const b = [];
let last = 0;
while (Atomics.load(c, ${READY}) === 1) {
  // Products that come within microseconds of each other (a compiled training step, an eager
  // loop of large products) find the worker spinning: waking it from Atomics.wait takes tens of
  // microseconds, and on a VM the Atomics.notify that does it costs the main thread as much.
  const spinUs = c[${SPIN}];
  if (spinUs > 0 && Atomics.load(c, ${GO}) === last) {
    const t0 = performance.now();
    spin: for (;;) {
      for (let i = 0; i < 256; i++) if (Atomics.load(c, ${GO}) !== last) break spin;
      if ((performance.now() - t0) * 1000 > spinUs) break;
    }
  }
  if (Atomics.load(c, ${GO}) === last) Atomics.wait(c, ${GO}, last);
  last = Atomics.load(c, ${GO});
  // A wake-up call: a job follows once the caller has copied its operands; the loop spins for it.
  if (last & 1) continue;
  try {
    // Modules posted since the last job (each message is in the port's queue before the count is
    // bumped). One that fails to instantiate still takes its places in the list: a job calling
    // its exports then fails, and the caller throws.
    while (loaded < Atomics.load(c, ${MODULES})) {
      const m = receiveMessageOnPort(port);
      if (!m) continue;
      loaded++;
      let ex = {};
      try {
        ex = new WebAssembly.Instance(m.message.mod, { env: { mem } }).exports;
      } catch (e) {}
      for (const f of m.message.fns) kernels.push(ex[f]);
    }
    const pre = kernels[c[${PRE_FN}]], preCount = c[${PRE_COUNT}];
    for (let p = Atomics.add(c, ${PRE_NEXT}, 1); p < preCount; p = Atomics.add(c, ${PRE_NEXT}, 1)) {
      for (let i = 0; i < ${MAX_ARGS}; i++) b[i] = c[${PRE_ARGS} + i] + p * c[${PRE_DELTAS} + i];
      pre(...b);
      Atomics.add(c, ${PRE_DONE}, 1);
    }
    const target = c[${PRE_TARGET}];
    while (Atomics.load(c, ${PRE_DONE}) < target);
    const fn = kernels[c[${FN}]], count = c[${COUNT}], rowArg = c[${ROW_ARG}];
    for (let ch = Atomics.add(c, ${NEXT}, 1); ch < count; ch = Atomics.add(c, ${NEXT}, 1)) {
      const r0 = c[${STARTS} + ch], r1 = c[${STARTS} + ch + 1];
      if (rowArg >= 0) {
        for (let i = 0; i < ${MAX_ARGS}; i++) b[i] = c[${ARGS} + i] + r0 * c[${DELTAS} + i];
        b[rowArg] = r1 - r0;
        fn(...b);
      } else for (let r = r0; r < r1; r++) {
        for (let i = 0; i < ${MAX_ARGS}; i++) b[i] = c[${ARGS} + i] + r * c[${DELTAS} + i];
        fn(...b);
      }
      Atomics.store(c, ${FLAGS} + ch, last);
    }
    c[${ERR}] = 0;
  } catch (e) {
    c[${ERR}] = 1;
  }
  Atomics.store(c, ${DONE}, last);
  Atomics.notify(c, ${DONE});
}
`;

/** One call per index p: `fn(args[i] + p·deltas[i] ...)`. */
export interface CallList {
  /** Index of the export in the worker's list. */
  readonly fn: number;
  readonly args: readonly number[];
  readonly deltas: readonly number[];
  readonly count: number;
}

/** No pre phase: a job whose chunks start at once. */
export const NO_PRE: CallList = { fn: 0, args: [], deltas: [], count: 0 };

/**
 * A job (see the module doc). Chunk c covers rows [starts[c], starts[c + 1]) and calls export
 * `fn` with `args[i] + starts[c]·deltas[i]`, and its row count in argument `rowArg`; with
 * `rowArg` −1, once per row r, with `args[i] + r·deltas[i]` (a row is then a whole call, as one
 * product of a batch).
 */
export interface Job {
  readonly pre: CallList;
  /** How many times the caller will `arrive()` before the chunk phase may start. */
  readonly arrivals: number;
  readonly fn: number;
  readonly args: readonly number[];
  readonly deltas: readonly number[];
  readonly rowArg: number;
  readonly starts: readonly number[];
}

let cached: boolean | undefined;

/**
 * Whether a second kernel thread can be used here: SharedArrayBuffer, Atomics, shared WebAssembly
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

/** A started worker that takes part in jobs over the exports of the modules loaded into it, against a shared memory. */
export class KernelWorker {
  private readonly ctrl: Int32Array;
  private readonly port: PortLike;
  private seq = 0;
  private dead = false;
  private pending = false;
  private count = 0; // exports loaded so far

  constructor(mem: object) {
    const wt = proc!.getBuiltinModule!("worker_threads") as WorkerThreads;
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
    const { port1, port2 } = new wt.MessageChannel();
    this.port = port1;
    const w = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: { mem, ctrl: this.ctrl.buffer, port: port2 }, transferList: [port2] });
    w.on("error", () => (this.dead = true));
    w.on("exit", () => (this.dead = true));
    w.unref();
    port1.unref?.();
  }

  /**
   * Loads module `mod` (compiled, against the shared memory) into the worker, which instantiates
   * it before its next job; returns the index of `fns[0]` in the worker's list (`fns[i]` is that
   * plus i), the numbers jobs name exports by.
   */
  load(mod: object, fns: readonly string[]): number {
    const base = this.count;
    this.port.postMessage({ mod, fns });
    this.count += fns.length;
    Atomics.add(this.ctrl, MODULES, 1);
    return base;
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
   * Wakes the worker ahead of a job (the wake-up takes tens of microseconds; the caller copies its
   * operands meanwhile): it spins up to `spinUs` microseconds for the job, then sleeps again.
   */
  wake(spinUs: number): void {
    if (this.pending) return;
    this.ctrl[SPIN] = spinUs;
    this.go(1);
  }

  /**
   * Posts `job`; the caller then takes part (`claimPre`, `preDone`, `arrive`, `waitPre`, `claim`,
   * `waitChunk`) and must end with `finish()`. Afterwards the worker spins up to `spinUs`
   * microseconds waiting for the next job before it sleeps. Returns the chunk count.
   */
  post(job: Job, spinUs = 0): number {
    const count = job.starts.length - 1;
    if (count < 1 || count > MAX_CHUNKS || job.pre.count > MAX_CHUNKS) throw new RangeError(`KernelWorker.post: 1 to ${MAX_CHUNKS} chunks and at most ${MAX_CHUNKS} pre calls, got ${count} and ${job.pre.count}`);
    const c = this.ctrl;
    for (let i = 0; i < MAX_ARGS; i++) {
      c[ARGS + i] = job.args[i] ?? 0;
      c[DELTAS + i] = job.deltas[i] ?? 0;
      c[PRE_ARGS + i] = job.pre.args[i] ?? 0;
      c[PRE_DELTAS + i] = job.pre.deltas[i] ?? 0;
    }
    for (let i = 0; i <= count; i++) c[STARTS + i] = job.starts[i]!;
    c[FN] = job.fn;
    c[COUNT] = count;
    c[ROW_ARG] = job.rowArg;
    c[PRE_FN] = job.pre.fn;
    c[PRE_COUNT] = job.pre.count;
    c[PRE_NEXT] = 0;
    c[PRE_DONE] = 0;
    c[PRE_TARGET] = job.pre.count + job.arrivals;
    c[SPIN] = spinUs;
    Atomics.store(c, NEXT, 0);
    this.pending = true;
    this.go(0);
    return count;
  }

  /** Claims the next pre call for this thread (≥ the pre count: none left). */
  claimPre(): number {
    return Atomics.add(this.ctrl, PRE_NEXT, 1);
  }

  /** Counts one pre call (claimed here) or one of the caller's arrivals as done. */
  arrive(): void {
    Atomics.add(this.ctrl, PRE_DONE, 1);
  }

  /** Waits until every pre call has run and the caller has made all its arrivals. */
  waitPre(): void {
    this.until(() => Atomics.load(this.ctrl, PRE_DONE) >= this.ctrl[PRE_TARGET]!);
  }

  /** Claims the next chunk for this thread (≥ the count: none left). */
  claim(): number {
    return Atomics.add(this.ctrl, NEXT, 1);
  }

  /** Whether the worker has done chunk `ch` (one it claimed). */
  chunkDone(ch: number): boolean {
    return Atomics.load(this.ctrl, FLAGS + ch) === this.seq << 1;
  }

  /** Waits until the worker has done chunk `ch` (one it claimed); throws if it failed or is gone. */
  waitChunk(ch: number): void {
    this.until(() => this.chunkDone(ch));
  }

  /**
   * Ends the posted job early, after an error on this thread: the worker stops waiting and claims
   * nothing more. `finish()` must still follow.
   */
  abort(): void {
    Atomics.store(this.ctrl, NEXT, ABORTED);
    Atomics.store(this.ctrl, PRE_NEXT, ABORTED);
    Atomics.store(this.ctrl, PRE_DONE, ABORTED);
  }

  /** Waits for the worker to end its part of the posted job; throws if the kernel threw there (or the worker is gone). */
  finish(): void {
    if (!this.pending) return;
    this.pending = false;
    const go = this.seq << 1;
    // Spin up to FINISH_SPIN_MS (the worker usually ends its last chunk within that), then sleep
    // in Atomics.wait: being woken from it takes tens of microseconds, on a VM up to a millisecond.
    const t0 = performance.now();
    spin: while (performance.now() - t0 < FINISH_SPIN_MS) {
      for (let i = 0; i < 256; i++) if (Atomics.load(this.ctrl, DONE) === go) break spin;
    }
    while (Atomics.load(this.ctrl, DONE) !== go) {
      if (Atomics.wait(this.ctrl, DONE, Atomics.load(this.ctrl, DONE), 1000) === "timed-out" && this.dead) {
        throw new Error("typetorch: the kernel worker thread exited");
      }
    }
    if (this.ctrl[ERR] !== 0) throw new Error("typetorch: a WebAssembly kernel failed in the worker thread");
  }

  // Spins until `cond` holds; throws if the worker ends the job (it failed) or is gone first.
  private until(cond: () => boolean): void {
    while (!cond()) {
      if (Atomics.load(this.ctrl, DONE) === this.seq << 1 || this.dead) {
        if (cond()) return;
        this.abort();
        this.finish(); // throws the worker's error, if it had one
        throw new Error("typetorch: the kernel worker ended the job early");
      }
    }
  }

  private go(wake: 0 | 1): void {
    this.seq = (this.seq + 1) & 0x3fffffff;
    Atomics.store(this.ctrl, GO, (this.seq << 1) | wake);
    Atomics.notify(this.ctrl, GO);
  }
}
