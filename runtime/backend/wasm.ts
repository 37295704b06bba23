/**
 * The WebAssembly backend: one linear memory and the modules of `runtime/codegen/wasm.ts`
 * instantiated against it, compiled once per key. Like the other backends it knows no ops: it
 * grows the memory, copies typed arrays in and out, and runs an exported kernel function by name.
 * Memory is used as a per-call arena: a caller `reset()`s it, `place()`s its operands and scratch,
 * runs kernels, and copies the results out before the next call. Below the arena lie *resident*
 * arrays (`alloc`): float32 storage that lives in the wasm memory across calls, so kernels read
 * and write it in place, without copies (compiled training steps keep parameters, gradients,
 * optimizer state and activations there). Resident arrays exist only when the memory is shared:
 * growing a shared memory never detaches the views made before, so they stay valid.
 *
 * `available` is false when the engine lacks WebAssembly SIMD128 (feature-detected by
 * `WebAssembly.validate` of a SIMD probe module) or when `TYPETORCH_NO_WASM=1`; callers then use
 * the JavaScript kernels, which stay the reference.
 *
 * @example
 * if (wasm.available) { wasm.reset(); const p = wasm.place(A); wasm.run("gemm", gemmWasm, "gemm", [...]); }
 */
import { simdProbeWasm } from "../codegen/wasm.js";
import { KernelWorker, MAX_CHUNKS, NO_PRE, threadsAvailable } from "./threads.js";

const PAGE = 65536;

/** The part of the WebAssembly JS API used here (the project's `lib` has no DOM typings). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
type WasmExports = Record<string, unknown>;
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: WasmExports };
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface NodeProcess {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}
const proc = (globalThis as { process?: NodeProcess }).process;

function validates(bytes: Uint8Array): boolean {
  try {
    return WA !== undefined && WA.validate(bytes);
  } catch {
    return false;
  }
}

function detect(): { simd: boolean; relaxed: boolean } {
  if (proc?.env?.["TYPETORCH_NO_WASM"] === "1") return { simd: false, relaxed: false };
  const simd = validates(simdProbeWasm());
  if (!simd || proc?.env?.["TYPETORCH_NO_RELAXED_SIMD"] === "1") return { simd, relaxed: false };
  let relaxed = validates(simdProbeWasm(true));
  // Relaxed SIMD (FMA) is on by default from V8 11.4 (Chrome 114, Node 22); Node 20's V8 11.3 has
  // the finished implementation behind a flag, which only widens what wasm validation accepts.
  // It makes the GEMM ~1.4× faster, so turn it on there (process.getBuiltinModule: Node ≥ 20.16;
  // absent in browsers, where nothing is changed).
  if (!relaxed) {
    try {
      const v8 = proc?.getBuiltinModule?.("v8") as { setFlagsFromString?: (f: string) => void } | undefined;
      if (v8?.setFlagsFromString) {
        v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
        relaxed = validates(simdProbeWasm(true));
      }
    } catch {
      relaxed = false;
    }
  }
  return { simd, relaxed };
}

const features = detect();


class WasmBackend {
  readonly device = "cpu" as const;
  /** Whether WebAssembly SIMD128 kernels can run here (else use the JS kernels). */
  available = features.simd;
  /** Whether relaxed SIMD (`f32x4.relaxed_madd`, fused multiply-add) is available too. */
  readonly relaxed = features.relaxed;
  /**
   * Whether kernels may share their work with the worker thread (where there is one, see
   * `threads.ts`); false keeps every kernel on this thread (benchmarks compare the two).
   */
  twoThreads = true;
  /** Kernels `runRows` has split with the worker so far (for tests and benchmarks). */
  rowJobs = 0;
  private mem: WasmMemory | null = null;
  private f32view = new Float32Array(0);
  private top = 0;
  /** End of the resident region (the arena starts here). */
  private residentTop = 64;
  /** Bottom of the arena while a `hold` keeps what lies below it (else 0). */
  private floor = 0;
  /** Released resident blocks by byte size, for reuse. */
  private readonly freeBlocks = new Map<number, number[]>();
  /** Every buffer object this memory has had: a typed array over one of them lives in wasm memory. */
  private readonly buffers = new WeakSet<object>();
  private readonly instances = new Map<string, WasmExports>();
  private readonly modules = new Map<string, object>();
  private kernelWorker: KernelWorker | null | undefined;
  // per module key: the index of its first export in the worker's list
  private readonly loadedFns = new Map<string, number>();
  private sharedMem: boolean | undefined;

  /**
   * Whether the memory is shared, so kernels can also run on a worker thread (`backend/threads.ts`);
   * modules must then import a shared memory (`gemmWasm(true, ...)`). Decided when first asked.
   */
  get shared(): boolean {
    if (this.sharedMem === undefined) {
      let ok = this.available && threadsAvailable();
      if (ok) {
        try {
          new WA!.Memory({ initial: 1, maximum: 65536, shared: true });
        } catch {
          ok = false;
        }
      }
      this.sharedMem = ok;
    }
    return this.sharedMem;
  }

  private memory(): WasmMemory {
    if (!this.mem) {
      this.mem = this.shared ? new WA!.Memory({ initial: 16, maximum: 65536, shared: true }) : new WA!.Memory({ initial: 16 });
      this.f32view = new Float32Array(this.mem.buffer);
      this.buffers.add(this.mem.buffer);
    }
    return this.mem;
  }

  private grow(top: number): void {
    const mem = this.memory();
    if (top > mem.buffer.byteLength) {
      mem.grow(Math.ceil((top - mem.buffer.byteLength) / PAGE));
      this.f32view = new Float32Array(mem.buffer);
      this.buffers.add(mem.buffer);
    }
  }

  /**
   * A zero-filled float32 array of `n` elements that lives in the wasm memory (16-byte aligned,
   * its length padded to a multiple of 4 floats in the block, so f32x4 kernels may run over the
   * padding); its block is reused once the array object is garbage-collected (keep it referenced
   * while views of it are in use). Null when the memory is not shared (views would be detached by
   * the next grow) or there is no WebAssembly SIMD: use a plain array then.
   */
  alloc(n: number): Float32Array | null {
    if (!this.available || !this.shared) return null;
    const bytes = Math.max(16, (n * 4 + 15) & ~15);
    let at = this.freeBlocks.get(bytes)?.pop();
    if (at === undefined) {
      // above a held arena, if one is held (see hold)
      at = Math.max(this.residentTop, this.floor);
      this.residentTop = at + bytes;
      this.grow(this.residentTop);
    }
    const view = new Float32Array(this.memory().buffer, at, n);
    new Float32Array(this.memory().buffer, at, bytes >> 2).fill(0);
    this.collected.register(view, at * 0x100000000 + bytes);
    return view;
  }

  // Gives a collected array's block back: held value = address · 2^32 + size in bytes.
  private readonly collected = new FinalizationRegistry<number>((key) => {
    const bytes = key % 0x100000000;
    let list = this.freeBlocks.get(bytes);
    if (!list) this.freeBlocks.set(bytes, (list = []));
    list.push(Math.floor(key / 0x100000000));
  });

  /** The byte address of `a[0]` when `a` lies in the wasm memory (a resident array or a view of one), else -1. */
  addressOf(a: Float32Array): number {
    return this.buffers.has(a.buffer) ? a.byteOffset : -1;
  }

  /** Float32 view of the whole memory (valid until the next `reserve`/`place`). */
  get f32(): Float32Array {
    return this.f32view;
  }

  /** Starts a new arena (everything placed before is free again, but what a `hold` keeps). */
  reset(): void {
    this.top = Math.max(this.residentTop, this.floor);
  }

  /**
   * Keeps what the arena holds now through the `reset()`s of nested calls — operands one kernel
   * wrote into the arena for the next, which places its own above them — until `release(mark)`
   * with the mark this returns.
   *
   * @example
   * const mark = wasm.hold();
   * try { wasmSgemm(...); } finally { wasm.release(mark); }
   */
  hold(): number {
    const mark = this.floor;
    this.floor = this.top;
    return mark;
  }

  /** Ends the `hold` that returned `mark`. */
  release(mark: number): void {
    this.floor = mark;
  }

  /** Reserves `floats` f32 slots (16-byte aligned); returns the byte address. */
  reserve(floats: number): number {
    const at = this.top;
    this.top = (at + floats * 4 + 15) & ~15;
    this.grow(this.top);
    return at;
  }

  /** Copies `src[from, to)` into the arena; returns its byte address. */
  place(src: Float32Array, from = 0, to = src.length): number {
    const at = this.reserve(to - from);
    this.f32view.set(from === 0 && to === src.length ? src : src.subarray(from, to), at >> 2);
    return at;
  }

  /** Runs export `fn` of the module `key` (bytes from `source`, compiled once) with `args`. */
  run(key: string, source: () => Uint8Array, fn: string, args: readonly number[]): void {
    let ex = this.instances.get(key);
    if (!ex) {
      ex = new WA!.Instance(this.module(key, source), { env: { mem: this.memory() } }).exports;
      this.instances.set(key, ex);
    }
    (ex[fn] as (...a: readonly number[]) => void)(...args);
  }

  private module(key: string, source: () => Uint8Array): object {
    let mod = this.modules.get(key);
    if (!mod) {
      mod = new WA!.Module(source());
      this.modules.set(key, mod);
    }
    return mod;
  }

  /**
   * The worker thread that takes part in jobs against this memory (one for every module); null
   * when there are no threads or `twoThreads` is off (then run it all here) or while the worker is
   * still starting (the first call waits up to 2 s for it).
   */
  worker(): KernelWorker | null {
    if (!this.shared || !this.twoThreads) return null;
    if (this.kernelWorker === undefined) {
      try {
        this.kernelWorker = new KernelWorker(this.memory());
        return this.kernelWorker.ready(2000) ? this.kernelWorker : null;
      } catch {
        this.kernelWorker = null;
        return null;
      }
    }
    return this.kernelWorker && this.kernelWorker.ready() ? this.kernelWorker : null;
  }

  /**
   * Runs export `fn` (one of the module's `fns`) over `rows` independent rows, in `chunks` ranges
   * that this thread and the worker claim until none is left (all here where there is no worker,
   * or one chunk): range [r0, r1) calls `fn` with `args[i] + r0·deltas[i]` and `r1 − r0` as
   * argument `rowArg`. For kernels whose rows (samples, image planes) touch disjoint memory: the
   * result is the one call's. The worker spins `spinUs` microseconds after it, waiting for more.
   */
  runRows(key: string, source: () => Uint8Array, fns: readonly string[], fn: string, args: readonly number[], deltas: readonly number[], rowArg: number, rows: number, chunks: number, spinUs: number): void {
    const count = Math.min(rows, chunks, MAX_CHUNKS);
    const w = count > 1 ? this.worker() : null;
    if (!w) {
      this.rowsCall(key, source, fn, args, deltas, rowArg, 0, rows);
      return;
    }
    this.rowJobs++;
    const job = this.rowJob;
    const starts = job.starts;
    starts.length = count + 1;
    for (let c = 0; c <= count; c++) starts[c] = Math.round((c * rows) / count);
    job.fn = this.workerFns(w, key, source, fns) + fns.indexOf(fn);
    job.args = args;
    job.deltas = deltas;
    job.rowArg = rowArg;
    w.post(job, spinUs);
    try {
      for (let c = w.claim(); c < count; c = w.claim()) this.rowsCall(key, source, fn, args, deltas, rowArg, starts[c]!, starts[c + 1]!);
    } catch (e) {
      w.abort();
      throw e;
    } finally {
      w.finish();
    }
  }

  // runRows' job and argument array, reused (no allocation per launch)
  private readonly rowJob = { pre: NO_PRE, arrivals: 0, fn: 0, args: [] as readonly number[], deltas: [] as readonly number[], rowArg: 0, starts: [] as number[] };
  private readonly rowArgs: number[] = [];

  // Rows [r0, r1) of a runRows kernel, here.
  private rowsCall(key: string, source: () => Uint8Array, fn: string, args: readonly number[], deltas: readonly number[], rowArg: number, r0: number, r1: number): void {
    const at = this.rowArgs;
    at.length = args.length;
    for (let i = 0; i < args.length; i++) at[i] = args[i]! + r0 * (deltas[i] ?? 0);
    at[rowArg] = r1 - r0;
    this.run(key, source, fn, at);
  }

  /**
   * The index in `worker`'s list of export `fns[0]` of module `key` (`fns[i]`: plus i), the module
   * loaded into the worker the first time it is asked for (with the same `fns`).
   */
  workerFns(worker: KernelWorker, key: string, source: () => Uint8Array, fns: readonly string[]): number {
    let base = this.loadedFns.get(key);
    if (base === undefined) {
      base = worker.load(this.module(key, source), fns);
      this.loadedFns.set(key, base);
    }
    return base;
  }
}

/** The process-wide WebAssembly backend. */
export const wasm = new WasmBackend();
