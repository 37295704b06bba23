import { MAX_CHUNKS, NO_PRE, type Job, type KernelWorker } from "../backend/threads.js";
import { wasm } from "../backend/wasm.js";
import { gemmBlock, gemmScratchFloats, gemmWasm, type GemmBlock } from "../codegen/wasm.js";

/**
 * Products with fewer multiply-adds than this run in the JS kernel: below it the WASM path's fixed
 * cost (copies into wasm memory, a few calls) is larger than what SIMD saves. Measured: ~0.5 µs
 * fixed cost; the JS kernel does ~2 GFLOP/s, so the break-even is near 1,000 multiply-adds.
 */
export const WASM_GEMM_MIN_MACS = 1024;

/** Whether a float32 CPU product of this size goes to the WASM SIMD GEMM. */
export function useWasmGemm(m: number, k: number, n: number): boolean {
  return wasm.available && m * k * n >= WASM_GEMM_MIN_MACS;
}

const gemmKey = () => (wasm.relaxed ? "gemm:f32:fma" : "gemm:f32") + (wasm.shared ? ":shared" : "");
const gemmModule = () => gemmWasm(wasm.shared, wasm.relaxed);
/** The exports the worker calls for a GEMM: packing B, rows of C against it, the whole GEMM. */
const WORKER_FNS = ["packB", "gemmPacked", "gemm"] as const;

/**
 * When products go to two threads (where `backend/threads.ts` has them): products with at least
 * `minMacs` multiply-adds and — where operands must be copied into the wasm memory, which one
 * thread does — at least `minIntensity` multiply-adds per element copied (256³ has 85, 128³ 43).
 * - A batch of at least 4 evenly spaced products (a convolution's per-sample products) is split
 *   product by product.
 * - A product with at least {@link ROW_SPLIT_MIN} rows is split by rows: both threads pack column
 *   ranges of B into one shared packing, then claim ranges of C's rows until none is left — large
 *   ones first, small ones last, so the two end together.
 * - A flatter one is split by columns: each thread claims column ranges and packs what it needs.
 *
 * Either way every element is summed in the same order as on one thread: the result is the same
 * bit for bit. Below `minMacs` the hand-off costs more than the second core saves (96³ ≈ 0.9 M
 * was about even on 2 vCPUs).
 *
 * `spinUs`: how long the worker spins after a product, waiting for the next, before it sleeps
 * (compiled steps, whose products come back to back, raise it). Waking a sleeping worker takes
 * tens of microseconds, and on the VM this was tuned on the `Atomics.notify` that does it costs the
 * calling thread ~75 µs; a worker is therefore also woken first thing, so that it gets up while
 * the operands are copied in. `npm run bench` reports the speed-up ("tt 2 thr / 1 thr").
 * `wasm.twoThreads = false` (`backend/wasm.ts`) keeps every kernel on one thread.
 *
 * @example
 * gemmThreads.minMacs = 1 << 24; // only products of 16 M multiply-adds or more on two threads
 */
export const gemmThreads = { minMacs: 1 << 20, minIntensity: 64, spinUs: 500 };

/** Products split over two threads so far by rows and by columns, and batches split by products (for tests and benchmarks). */
export const gemmSplits = { rows: 0, cols: 0, batch: 0 };

/** The fewest rows a product split by rows has (fewer: split by columns). */
export const ROW_SPLIT_MIN = 96;

/**
 * Microseconds a worker woken ahead of a product spins for it: longer than copying the largest
 * operands usually takes, short enough that a product that never comes wastes little.
 */
const WAKE_SPIN_US = 2000;

/** Index range [lo, hi) of `data` that strided matrices at `offs` (m×k, strides rs, cs) touch. */
function span(offs: readonly number[], rows: number, cols: number, rs: number, cs: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const ext = (rows - 1) * rs + (cols - 1) * cs;
  for (const o of offs) {
    if (o < lo) lo = o;
    if (o + ext + 1 > hi) hi = o + ext + 1;
  }
  return [lo, hi];
}

/** Whether offsets step evenly (as a batch's products do): `o[t] = o[0] + t·(o[1] − o[0])`. */
function steady(o: readonly number[]): boolean {
  const d = o[1]! - o[0]!;
  for (let t = 2; t < o.length; t++) if (o[t] !== o[0]! + t * d) return false;
  return true;
}

/**
 * First row of each chunk of a split product's M rows, then M: "guided" sizes — a quarter of what
 * is left, rounded up to a multiple of MR, at least 2·MR — so early chunks are large (a packed B
 * sliver serves many micro-tiles) and the last ones small (the threads end close together).
 */
export function chunkStarts(m: number, MR: number): number[] {
  let least = 2 * MR;
  for (;;) {
    const starts = [0];
    let r = 0;
    while (r < m) {
      r = Math.min(m, r + Math.max(least, Math.ceil((m - r) / 4 / MR) * MR));
      starts.push(r);
    }
    if (starts.length - 1 <= MAX_CHUNKS) return starts;
    least *= 2;
  }
}

/**
 * The float32 GEMM through the generated WASM SIMD kernel (`codegen/wasm.ts`), for a batch of
 * products: for each t, `C[cOffs[t] + i·n + j] = Σₚ A[aOffs[t] + i·sam + p·sak] · B[bOffs[t] + p·sbk + j·sbn]`.
 * Strides are in elements and must be ≥ 0; A and B may be any strided views (a transposed `x.t()`
 * is packed as it lies, without a contiguous copy). Operands that live in the wasm memory
 * (`wasm.alloc`, as a compiled step's buffers do) are read in place, and a resident C is written in
 * place; other operands' touched element ranges are copied into wasm memory once for the whole
 * batch, and such a C is copied back per product (per range of rows, when split over two threads).
 * C may also be a function that makes it (a fresh array, not in the wasm memory), called when the
 * first results are copied out: on two threads, while the worker computes, so that allocating
 * the output (page faults on fresh memory) costs no time of its own.
 *
 * @example
 * const C = new Float32Array(m * n);
 * wasmSgemm(C, [0], A, [0], k, 1, B, [0], n, 1, m, k, n); // C = A·B, all row-major
 */
export function wasmSgemm(
  C: Float32Array | (() => Float32Array), cOffs: readonly number[],
  A: Float32Array, aOffs: readonly number[], sam: number, sak: number,
  B: Float32Array, bOffs: readonly number[], sbk: number, sbn: number,
  m: number, k: number, n: number,
): void {
  let dst = typeof C === "function" ? null : C;
  const target = () => (dst ??= (C as () => Float32Array)());
  if (m === 0 || n === 0 || cOffs.length === 0) return;
  if (k === 0) {
    for (const co of cOffs) target().fill(0, co, co + m * n);
    return;
  }
  const blk = gemmBlock(wasm.relaxed);
  // Operands outside the wasm memory are copied in: their touched element ranges.
  let pA = wasm.addressOf(A);
  let pB = wasm.addressOf(B);
  const cRes = dst ? wasm.addressOf(dst) : -1;
  const [alo, ahi] = pA < 0 ? span(aOffs, m, k, sam, sak) : [0, 0];
  const [blo, bhi] = pB < 0 ? span(bOffs, k, n, sbk, sbn) : [0, 0];
  const macs = m * k * n * cOffs.length;
  const copied = ahi - alo + (bhi - blo) + (cRes < 0 ? m * n * cOffs.length : 0);
  const T = cOffs.length;
  const mode = T >= 4 && steady(aOffs) && steady(bOffs) && (cRes < 0 || steady(cOffs)) ? "batch"
    : m >= ROW_SPLIT_MIN ? "rows" : n >= 4 * blk.NR ? "cols" : null;
  const worker = mode && macs >= gemmThreads.minMacs && macs >= gemmThreads.minIntensity * copied ? wasm.worker() : null;
  worker?.wake(WAKE_SPIN_US);
  wasm.reset();
  // pA/pB: the byte address of element 0 of A/B (as if the whole array were in wasm memory); A is
  // copied later, while the worker packs B
  if (pB < 0) pB = wasm.place(B, blo, bhi) - 4 * blo;
  if (pA < 0) pA = wasm.reserve(ahi - alo) - 4 * alo;
  const copyA = () => {
    if (ahi > alo) wasm.f32.set(alo === 0 && ahi === A.length ? A : A.subarray(alo, ahi), (pA >> 2) + alo);
  };
  // A C outside the wasm memory is staged there: one product at a time, or the whole batch when
  // the products of a batch are split between the threads
  const staged = worker && mode === "batch" ? T : 1;
  const pCs = cRes < 0 ? wasm.reserve(staged * m * n) : 0;
  const stage = (t: number) => pCs + 4 * (staged > 1 ? t : 0) * m * n;
  const pC = (t: number) => (cRes < 0 ? stage(t) : cRes + 4 * cOffs[t]!);
  // C's rows [r0, r1) of product t out of the staging area, when C is not resident
  const out = cRes < 0 ? (t: number, r0: number, r1: number) => target().set(wasm.f32.subarray((stage(t) >> 2) + r0 * n, (stage(t) >> 2) + r1 * n), cOffs[t]! + r0 * n) : null;
  const key = gemmKey();
  if (worker) {
    // the worker's index of WORKER_FNS[0]
    const fn0 = wasm.workerFns(worker, key, gemmModule, WORKER_FNS);
    gemmSplits[mode!] += mode === "batch" ? 1 : T;
    // per thread: A panels, B panels (but for a split by rows, which shares one packing), edge tile
    const cols = mode === "cols" ? Math.ceil(n / 4 / blk.NR) * blk.NR : mode === "batch" ? n : 0;
    const sc = gemmScratchFloats(cols, blk);
    const own = [wasm.reserve(sc.ap), wasm.reserve(sc.bp), wasm.reserve(sc.t)] as const;
    const its = [wasm.reserve(sc.ap), wasm.reserve(sc.bp), wasm.reserve(sc.t)] as const;
    if (mode === "batch") {
      const step = (o: readonly number[]) => o[1]! - o[0]!;
      const call = [pA + 4 * aOffs[0]!, sam, sak, pB + 4 * bOffs[0]!, sbk, sbn, pC(0), n, m, k, n];
      const deltas = [4 * step(aOffs), 0, 0, 4 * step(bOffs), 0, 0, pC(1) - pC(0)];
      splitBatch(worker, fn0, key, copyA, T, call, deltas, own, its, out ? (t) => out(t, 0, m) : null);
      return;
    }
    const pBall = mode === "rows" ? wasm.reserve(k * Math.ceil(n / blk.NR) * blk.NR) : 0;
    for (let t = 0; t < T; t++) {
      const pa = pA + 4 * aOffs[t]!;
      const pb = pB + 4 * bOffs[t]!;
      const o = out ? (r0: number, r1: number) => out(t, r0, r1) : null;
      if (mode === "rows") splitRows(worker, fn0, key, blk, t === 0 ? copyA : null, pa, sam, sak, pb, sbk, sbn, pC(t), m, k, n, pBall, own, its, o);
      else splitCols(worker, fn0, key, t === 0 ? copyA : null, pa, sam, sak, pb, sbk, sbn, pC(t), m, k, n, cols, own, its, o);
    }
    return;
  }
  copyA();
  const sc = gemmScratchFloats(n, blk);
  const [pAp, pBp, pT] = [wasm.reserve(sc.ap), wasm.reserve(sc.bp), wasm.reserve(sc.t)];
  for (let t = 0; t < cOffs.length; t++) {
    wasm.run(key, gemmModule, "gemm", [pA + 4 * aOffs[t]!, sam, sak, pB + 4 * bOffs[t]!, sbk, sbn, pC(t), n, m, k, n, pAp, pBp, pT]);
    out?.(t, 0, m);
  }
}

type Scratch = readonly [ap: number, bp: number, t: number];

/**
 * Runs `job` on both threads: this thread first runs `copyA` (if given; the worker packs
 * meanwhile), then claims pre calls (`pre(p)`) and chunks (`chunk(ch)`) as the worker does;
 * `done(ch)` follows each chunk of its own, `end(mine)` the last.
 */
function runSplit(worker: KernelWorker, job: Job, copyA: (() => void) | null, pre: (p: number) => void, chunk: (ch: number) => void, done: (ch: number, mine: readonly boolean[]) => void, end: (mine: readonly boolean[]) => void): void {
  const count = worker.post(job, gemmThreads.spinUs);
  try {
    if (copyA) {
      copyA();
      worker.arrive();
    }
    for (let p = worker.claimPre(); p < job.pre.count; p = worker.claimPre()) {
      pre(p);
      worker.arrive();
    }
    worker.waitPre();
    const mine = new Array<boolean>(count).fill(false);
    for (let ch = worker.claim(); ch < count; ch = worker.claim()) {
      chunk(ch);
      mine[ch] = true;
      done(ch, mine);
    }
    end(mine);
  } catch (e) {
    worker.abort();
    throw e;
  } finally {
    worker.finish();
  }
}

/**
 * The `done` and `end` of {@link runSplit} that copy each chunk's results out (`outChunk`, if
 * any): this thread's own right after it, the worker's between this thread's chunks as they finish,
 * and the rest at the end.
 */
function drainer(worker: KernelWorker, count: number, outChunk: ((ch: number) => void) | null) {
  let next = 0; // chunks before this one are copied out (or are being, by their own thread)
  const drain = (mine: readonly boolean[], wait: boolean) => {
    for (; next < count; next++) {
      if (mine[next]) continue;
      if (!worker.chunkDone(next)) {
        if (!wait) return;
        worker.waitChunk(next);
      }
      outChunk!(next);
    }
  };
  return {
    done: (ch: number, mine: readonly boolean[]) => {
      if (!outChunk) return;
      outChunk(ch);
      drain(mine, false);
    },
    end: (mine: readonly boolean[]) => void (outChunk && drain(mine, true)),
  };
}

/**
 * One product split by rows (see {@link gemmThreads}): B packed into `pBall` in column ranges,
 * then C's rows in chunks; `out(r0, r1)` copies rows [r0, r1) of C out as soon as they are done.
 */
function splitRows(
  worker: KernelWorker, fn0: number, key: string, blk: GemmBlock, copyA: (() => void) | null,
  pa: number, sam: number, sak: number, pb: number, sbk: number, sbn: number, pC: number,
  m: number, k: number, n: number, pBall: number, [pAp, , pT]: Scratch, [wAp, , wT]: Scratch,
  out: ((r0: number, r1: number) => void) | null,
): void {
  const starts = chunkStarts(m, blk.MR);
  // B's column ranges: about 8, each a multiple of NR
  const cols = Math.ceil(n / 8 / blk.NR) * blk.NR;
  const pre = { fn: fn0, args: [pb, sbk, sbn, k, n, pBall, 0, cols], deltas: [0, 0, 0, 0, 0, 0, cols, 0], count: Math.ceil(n / cols) };
  const job = { pre, arrivals: copyA ? 1 : 0, fn: fn0 + 1, args: [pa, sam, sak, pBall, pC, n, 0, k, n, wAp, wT], deltas: [4 * sam, 0, 0, 0, 4 * n], rowArg: 6, starts };
  const { done, end } = drainer(worker, starts.length - 1, out ? (ch) => out(starts[ch]!, starts[ch + 1]!) : null);
  runSplit(worker, job, copyA,
    (p) => wasm.run(key, gemmModule, "packB", [pb, sbk, sbn, k, n, pBall, p * cols, cols]),
    (ch) => {
      const r0 = starts[ch]!;
      wasm.run(key, gemmModule, "gemmPacked", [pa + 4 * r0 * sam, sam, sak, pBall, pC + 4 * r0 * n, n, starts[ch + 1]! - r0, k, n, pAp, pT]);
    },
    done, end);
}

/**
 * A batch of `count` products split between the threads product by product: product t is the
 * whole GEMM `gemm(call[i] + t·deltas[i] ...)` with the claiming thread's scratch; `out(t)`
 * copies product t out as soon as it is done.
 */
function splitBatch(
  worker: KernelWorker, fn0: number, key: string, copyA: () => void, count: number,
  call: readonly number[], deltas: readonly number[], own: Scratch, its: Scratch,
  out: ((t: number) => void) | null,
): void {
  const per = Math.ceil(count / MAX_CHUNKS);
  const starts: number[] = [];
  for (let t = 0; t < count; t += per) starts.push(t);
  starts.push(count);
  const job = { pre: NO_PRE, arrivals: 1, fn: fn0 + 2, args: [...call, ...its], deltas, rowArg: -1, starts };
  const base = [...call, ...own];
  const args = base.slice(); // product t's arguments, rewritten in place
  const { done, end } = drainer(worker, starts.length - 1, out ? (ch) => {
    for (let t = starts[ch]!; t < starts[ch + 1]!; t++) out(t);
  } : null);
  runSplit(worker, job, copyA, () => {},
    (ch) => {
      for (let t = starts[ch]!; t < starts[ch + 1]!; t++) {
        for (let i = 0; i < base.length; i++) args[i] = base[i]! + t * (deltas[i] ?? 0);
        wasm.run(key, gemmModule, "gemm", args);
      }
    },
    done, end);
}

/**
 * One product split by columns (see {@link gemmThreads}): ranges of `cols` columns of C, each
 * computed by the whole GEMM with its own packing; `out(0, m)` copies C out at the end.
 */
function splitCols(
  worker: KernelWorker, fn0: number, key: string, copyA: (() => void) | null,
  pa: number, sam: number, sak: number, pb: number, sbk: number, sbn: number, pC: number,
  m: number, k: number, n: number, cols: number, own: Scratch, its: Scratch,
  out: ((r0: number, r1: number) => void) | null,
): void {
  const starts: number[] = [];
  for (let j = 0; j < n; j += cols) starts.push(j);
  starts.push(n);
  const job = { pre: NO_PRE, arrivals: copyA ? 1 : 0, fn: fn0 + 2, args: [pa, sam, sak, pb, sbk, sbn, pC, n, m, k, 0, ...its], deltas: [0, 0, 0, 4 * sbn, 0, 0, 4], rowArg: 10, starts };
  runSplit(worker, job, copyA, () => {},
    (ch) => {
      const j0 = starts[ch]!;
      wasm.run(key, gemmModule, "gemm", [pa, sam, sak, pb + 4 * j0 * sbn, sbk, sbn, pC + 4 * j0, n, m, k, starts[ch + 1]! - j0, ...own]);
    },
    () => {},
    (mine) => {
      if (!out) return;
      for (let ch = 0; ch < starts.length - 1; ch++) if (!mine[ch]) worker.waitChunk(ch);
      out(0, m);
    });
}

