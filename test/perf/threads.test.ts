import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { wasm } from "../../runtime/backend/wasm.js";
import { threadsAvailable } from "../../runtime/backend/threads.js";
import { chunkStarts, gemmSplits, gemmThreads, wasmSgemm } from "../../runtime/ops/sgemm.js";
import { nn, torch } from "../../runtime/index.js";

/**
 * The 2-thread WASM GEMM (`backend/threads.ts`, `ops/sgemm.ts`): a product split over the worker
 * and the main thread — by rows (shared packing of B, guided chunks) or by columns — equals the
 * one-thread product bit for bit (each element is summed in the same order), on odd sizes,
 * strided operands, batches and resident outputs; the process exits with the worker still there;
 * TYPETORCH_THREADS=1 turns it off.
 */
let seed = 777;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
const randArr = (n: number) => Float32Array.from({ length: n }, rnd);

/** Runs `fn` with the thread threshold at `minMacs` (and no intensity threshold). */
function withThreshold<T>(minMacs: number, fn: () => T): T {
  const prev = { ...gemmThreads };
  gemmThreads.minMacs = minMacs;
  gemmThreads.minIntensity = 0;
  try {
    return fn();
  } finally {
    Object.assign(gemmThreads, prev);
  }
}

describe.runIf(wasm.available && threadsAvailable())("2-thread WASM GEMM", () => {
  it("uses a shared memory and a worker for large products", () => {
    expect(wasm.shared).toBe(true);
    const a = torch.randn([200, 300]);
    const b = torch.randn([300, 200]);
    a.matmul(b); // starts the worker (the first product waits for it)
    expect(wasm.worker()).not.toBeNull();
  });

  it("equals the one-thread product bit for bit (odd sizes, transposed operands, batches)", () => {
    const before = { ...gemmSplits };
    // by columns: [67, 129, 33], [20, 50, 200]; by rows: the rest but [1, 1, 16] and [7, 300, 17] (one thread)
    for (const [m, k, n] of [[1, 1, 16], [7, 300, 17], [67, 129, 33], [20, 50, 200], [130, 257, 131], [97, 64, 250], [256, 256, 256], [1000, 30, 20]] as const) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const ao = 3, bo = 5;
        const A = randArr(ao + 2 * m * k + 1);
        const B = randArr(bo + 2 * k * n + 2);
        const [sam, sak] = ta ? [1, m] : [k, 1];
        const [sbk, sbn] = tb ? [1, k] : [n, 1];
        const aOffs = [ao, ao + m * k], bOffs = [bo, bo + k * n], cOffs = [1, 1 + m * n];
        const C1 = new Float32Array(2 * m * n + 3).fill(7);
        const C2 = new Float32Array(2 * m * n + 3).fill(7);
        withThreshold(Infinity, () => wasmSgemm(C1, cOffs, A, aOffs, sam, sak, B, bOffs, sbk, sbn, m, k, n));
        withThreshold(0, () => wasmSgemm(C2, cOffs, A, aOffs, sam, sak, B, bOffs, sbk, sbn, m, k, n));
        expect(new Uint32Array(C2.buffer)).toEqual(new Uint32Array(C1.buffer));
        expect(C2[0]).toBe(7);
        expect(C2[1 + 2 * m * n]).toBe(7);
        // against a float64 reference too (first product)
        let worst = 0;
        for (let i = 0; i < m; i += 5) for (let j = 0; j < n; j += 3) {
          let s = 0, t = 1e-30;
          for (let p = 0; p < k; p++) {
            const x = A[ao + i * sam + p * sak]! * B[bo + p * sbk + j * sbn]!;
            s += x;
            t += Math.abs(x);
          }
          worst = Math.max(worst, Math.abs(C2[1 + i * n + j]! - s) / t);
        }
        expect(worst).toBeLessThan(1e-5);
      }
    }
    expect(gemmSplits.rows - before.rows).toBe(4 * 4 * 2);
    expect(gemmSplits.cols - before.cols).toBe(2 * 4 * 2);
  });

  it("writes a resident C in place, split by rows and by columns, equal to one thread", () => {
    for (const [m, k, n] of [[150, 70, 90], [40, 70, 90]] as const) {
      const A = wasm.alloc(m * k)!;
      const B = randArr(k * n);
      A.set(randArr(m * k));
      const run = (minMacs: number) => {
        const C = wasm.alloc(m * n)!;
        withThreshold(minMacs, () => wasmSgemm(C, [0], A, [0], k, 1, B, [0], n, 1, m, k, n));
        return new Uint32Array(C.buffer, C.byteOffset, m * n).slice();
      };
      expect(run(0)).toEqual(run(Infinity));
    }
  });

  it("splits a batch product by product, equal to one thread (evenly spaced products only)", () => {
    const [m, k, n, T] = [20, 30, 40, 7];
    const A = randArr(m * k); // shared by every product, as a conv's weight
    const B = randArr(T * k * n + 5);
    for (const resident of [false, true]) {
      for (const bOffs of [Array.from({ length: T }, (_, t) => 5 + t * k * n), [5, 5 + 2 * k * n, 5 + k * n, 5 + 3 * k * n, 5 + 6 * k * n, 5 + 4 * k * n, 5 + 5 * k * n]]) {
        const run = (minMacs: number) => {
          const C = resident ? wasm.alloc(T * m * n + 2)! : new Float32Array(T * m * n + 2).fill(7);
          const before = gemmSplits.batch;
          withThreshold(minMacs, () => wasmSgemm(C, Array.from({ length: T }, (_, t) => 1 + t * m * n), A, new Array<number>(T).fill(0), k, 1, B, bOffs, n, 1, m, k, n));
          return { bits: new Uint32Array(C.buffer, C.byteOffset, T * m * n + 2).slice(), batch: gemmSplits.batch - before };
        };
        const one = run(Infinity);
        const two = run(0);
        expect(two.bits).toEqual(one.bits);
        expect(two.batch).toBe(bOffs[1]! - bOffs[0]! === bOffs[2]! - bOffs[1]! ? 1 : 0);
      }
    }
  });

  it("chunks: guided sizes, multiples of MR, covering the rows, large first", () => {
    for (const m of [96, 97, 256, 1000, 5000]) {
      const s = chunkStarts(m, 6);
      expect(s[0]).toBe(0);
      expect(s.at(-1)).toBe(m);
      expect(s.length - 1).toBeLessThanOrEqual(64);
      const sizes = s.slice(1).map((x, i) => x - s[i]!);
      sizes.slice(0, -1).forEach((z) => expect(z % 6).toBe(0));
      for (let i = 1; i < sizes.length - 1; i++) expect(sizes[i]!).toBeLessThanOrEqual(sizes[i - 1]!);
    }
  });

  it("matmul, conv2d and their gradients agree with the one-thread run", () => {
    const x = torch.randn([4, 3, 28, 28], { requiresGrad: true });
    const w = torch.randn([16, 3, 3, 3], { requiresGrad: true });
    const l = torch.randn([784 * 3, 64], { requiresGrad: true });
    const run = () => {
      x.grad = null;
      w.grad = null;
      l.grad = null;
      const y = nn.functional.conv2d(x, w, undefined, { padding: 1 }).relu().sum().add(x.reshape([4, 784 * 3]).matmul(l).mul(2).relu().sum());
      y.backward();
      return [y, x.grad!, w.grad!, l.grad!].map((t) => Array.from(t.contiguous()._data as Float32Array));
    };
    const one = withThreshold(Infinity, run);
    const two = withThreshold(0, run);
    expect(two).toEqual(one);
  });

  it("lets the process exit (the worker is unref'ed); TYPETORCH_THREADS=1 turns threads off", () => {
    const script = `
      import { torch } from "./runtime/index.ts";
      import { wasm } from "./runtime/backend/wasm.ts";
      const c = torch.ones([300, 300]).matmul(torch.ones([300, 300]));
      console.log(JSON.stringify({ shared: wasm.shared, v: c.sum().item() }));`;
    const opts = (env: Record<string, string>) => ({ cwd: process.cwd(), timeout: 60_000, encoding: "utf8" as const, env: { ...process.env, ...env } });
    const on = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], opts({})).trim().split("\n").pop()!);
    expect(on).toEqual({ shared: true, v: 300 * 300 * 300 });
    const off = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], opts({ TYPETORCH_THREADS: "1" })).trim().split("\n").pop()!);
    expect(off).toEqual({ shared: false, v: 300 * 300 * 300 });
  });
});

describe.runIf(wasm.available && threadsAvailable())("rows of a kernel split with the worker (wasm.runRows)", () => {
  it("im2col over a batch: split into ranges of samples, the one call's result; wasm.twoThreads = false keeps it here", async () => {
    const { convWasm } = await import("../../runtime/codegen/wasmConv.js");
    const [N, C, H, W] = [13, 3, 9, 11];
    const geo = [N, C, H, W, 3, 3, 1, 1, 1, 1, 1, 1, H, W];
    const X = wasm.alloc(N * C * H * W)!;
    X.set(randArr(N * C * H * W));
    const entries = N * C * 9 * H * W;
    const one = wasm.alloc(entries)!.fill(NaN);
    const split = wasm.alloc(entries)!.fill(NaN);
    const source = () => convWasm(true);
    const fns = ["im2col", "col2im", "unpool"];
    wasm.run("conv:rows-test", source, "im2col", [wasm.addressOf(one), wasm.addressOf(X), ...geo]);
    const deltas = [4 * C * 9 * H * W, 4 * C * H * W];
    for (const [two, chunks] of [[true, 5], [true, 13], [false, 5]] as const) {
      split.fill(NaN);
      const before = wasm.rowJobs;
      wasm.twoThreads = two;
      try {
        wasm.runRows("conv:rows-test", source, fns, "im2col", [wasm.addressOf(split), wasm.addressOf(X), ...geo], deltas, 2, N, chunks, 0);
      } finally {
        wasm.twoThreads = true;
      }
      expect(wasm.rowJobs - before).toBe(two ? 1 : 0);
      expect(new Uint32Array(split.buffer, split.byteOffset, entries)).toEqual(new Uint32Array(one.buffer, one.byteOffset, entries));
    }
  });

  it("an error in the kernel on either thread is thrown here and leaves the worker usable", async () => {
    const { convWasm } = await import("../../runtime/codegen/wasmConv.js");
    const source = () => convWasm(true);
    // unpool with NaN indices: their conversion to an integer traps
    const I = wasm.alloc(64)!.fill(NaN);
    const G = wasm.alloc(64)!, X = wasm.alloc(64)!;
    expect(() => wasm.runRows("conv:rows-test", source, ["im2col", "col2im", "unpool"], "unpool", [wasm.addressOf(X), wasm.addressOf(G), wasm.addressOf(I), 0, 64, 1, 1, 0], [4, 4, 4, 0], 4, 64, 8, 0)).toThrow();
    const a = torch.randn([200, 300]);
    const b = torch.randn([300, 200]);
    expect(() => withThreshold(0, () => a.matmul(b))).not.toThrow();
  });
});

describe.runIf(wasm.available && threadsAvailable())("modules loaded into the one worker", () => {
  it("a module that fails to instantiate there fails its jobs (thrown here), and the others still run", async () => {
    const { convWasm } = await import("../../runtime/codegen/wasmConv.js");
    // a module for an unshared memory cannot link against the shared one, on either thread
    const bad = () => convWasm(false);
    const X = wasm.alloc(64)!;
    expect(() => wasm.runRows("conv:unshared-test", bad, ["im2col", "col2im", "unpool"], "unpool", [wasm.addressOf(X), wasm.addressOf(X), wasm.addressOf(X), 0, 64, 1, 0, 0], [4, 4, 4, 0], 4, 64, 8, 0)).toThrow();
    const a = torch.randn([200, 300]);
    const b = torch.randn([300, 200]);
    const before = gemmSplits.rows;
    const c = withThreshold(0, () => a.matmul(b));
    expect(gemmSplits.rows - before).toBe(1);
    expect(c.shape).toEqual([200, 200]);
  });
});
