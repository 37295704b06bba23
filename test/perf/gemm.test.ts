import { describe, expect, it } from "vitest";
import { wasm } from "../../runtime/backend/wasm.js";
import { gemmWasm, simdProbeWasm } from "../../runtime/codegen/wasm.js";
import { useWasmGemm, wasmSgemm } from "../../runtime/ops/sgemm.js";
import { nn, torch } from "../../runtime/index.js";

/**
 * The generated WASM SIMD GEMM (`codegen/wasm.ts`) against a float64 reference, on sizes that are
 * not multiples of any block, strided (transposed) operands, offsets and batches; and through
 * `matmul` / `conv2d` against the JS kernel (TYPETORCH_NO_WASM would select it for the whole run).
 * The convolution and pooling kernels of `codegen/wasmConv.ts`: `./wasmConv.test.ts`.
 */
let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
const randArr = (n: number) => Float32Array.from({ length: n }, rnd);

/** max |C − ref| / Σ|a||b| over C (strided A, B as in wasmSgemm). */
function check(C: Float32Array, co: number, A: Float32Array, ao: number, sam: number, sak: number, B: Float32Array, bo: number, sbk: number, sbn: number, m: number, k: number, n: number): number {
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let b = 1e-30;
      for (let p = 0; p < k; p++) {
        const x = A[ao + i * sam + p * sak]! * B[bo + p * sbk + j * sbn]!;
        s += x;
        b += Math.abs(x);
      }
      worst = Math.max(worst, Math.abs(C[co + i * n + j]! - s) / b);
    }
  }
  return worst;
}

describe.runIf(wasm.available)("WASM SIMD GEMM", () => {
  it("emits a valid module (plain and, where available, relaxed-SIMD FMA)", () => {
    const WA = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
    expect(WA.validate(simdProbeWasm())).toBe(true);
    expect(WA.validate(gemmWasm(false, false))).toBe(true);
    if (wasm.relaxed) expect(WA.validate(gemmWasm(false, true))).toBe(true);
  });

  it("matches the float64 reference on odd sizes 1..67 (contiguous and transposed operands)", () => {
    const sizes = [1, 2, 3, 5, 7, 8, 9, 13, 17, 31, 33, 47, 64, 67];
    let worst = 0;
    for (const m of sizes) {
      for (const k of [1, 3, 8, 29, 67]) {
        for (const n of [1, 4, 9, 17, 67]) {
          for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
            const ao = 3, bo = 5, co = 2;
            const A = randArr(ao + m * k + 1);
            const B = randArr(bo + k * n + 2);
            const C = new Float32Array(co + m * n + 3).fill(7);
            const [sam, sak] = ta ? [1, m] : [k, 1];
            const [sbk, sbn] = tb ? [1, k] : [n, 1];
            wasmSgemm(C, [co], A, [ao], sam, sak, B, [bo], sbk, sbn, m, k, n);
            worst = Math.max(worst, check(C, co, A, ao, sam, sak, B, bo, sbk, sbn, m, k, n));
            expect(C[0]).toBe(7); // nothing written outside [co, co + m·n)
            expect(C[co + m * n]).toBe(7);
          }
        }
      }
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it("crosses the KC/MC cache blocks (k > 256, m > 96) and batches with shared and broadcast operands", () => {
    const m = 131, k = 517, n = 45;
    const A = randArr(2 * m * k);
    const B = randArr(k * n + 10);
    const C = new Float32Array(3 * m * n);
    // batch: A0·B, A1·B, A0·B (broadcast B, repeated A)
    wasmSgemm(C, [0, m * n, 2 * m * n], A, [0, m * k, 0], k, 1, B, [10, 10, 10], n, 1, m, k, n);
    expect(check(C, 0, A, 0, k, 1, B, 10, n, 1, m, k, n)).toBeLessThan(1e-5);
    expect(check(C, m * n, A, m * k, k, 1, B, 10, n, 1, m, k, n)).toBeLessThan(1e-5);
    expect(check(C, 2 * m * n, A, 0, k, 1, B, 10, n, 1, m, k, n)).toBeLessThan(1e-5);
  });

  it("C given as a function is made once, when results are first copied out, and never for an empty product", () => {
    const m = 40, k = 30, n = 20;
    const A = randArr(m * k);
    const B = randArr(k * n);
    const direct = new Float32Array(m * n);
    wasmSgemm(direct, [0], A, [0], k, 1, B, [0], n, 1, m, k, n);
    let made = 0;
    let lazy: Float32Array | undefined;
    wasmSgemm(() => ((made++), (lazy = new Float32Array(m * n))), [0], A, [0], k, 1, B, [0], n, 1, m, k, n);
    expect(made).toBe(1);
    expect(lazy).toEqual(direct);
    wasmSgemm(() => ((made++), new Float32Array(0)), [0], A, [0], k, 1, B, [0], n, 1, 0, k, n);
    wasmSgemm(() => ((made++), new Float32Array(0)), [], A, [], k, 1, B, [], n, 1, m, k, n);
    expect(made).toBe(1);
  });

  it("k = 0 gives zeros", () => {
    const C = new Float32Array(6).fill(3);
    wasmSgemm(C, [0], new Float32Array(0), [0], 0, 1, new Float32Array(0), [0], 3, 1, 2, 0, 3);
    expect([...C]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("matmul on transposed views, batches and broadcasts agrees with float64 (the JS path's reference)", () => {
    expect(useWasmGemm(64, 64, 64)).toBe(true);
    torch.manualSeed(0);
    const cases: [number[], number[], boolean, boolean][] = [
      [[37, 41], [41, 43], false, false],
      [[41, 37], [41, 43], true, false],
      [[37, 41], [43, 41], false, true],
      [[3, 2, 29, 33], [2, 33, 19], false, false],
      [[4, 33, 29], [4, 19, 33], true, true],
      [[67], [67, 30], false, false],
      [[30, 67], [67], false, false],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      let a = torch.randn(sa as number[]) as ReturnType<typeof torch.randn<number[]>>;
      let b = torch.randn(sb as number[]) as ReturnType<typeof torch.randn<number[]>>;
      if (ta) a = a.transpose(-1, -2);
      if (tb) b = b.transpose(-1, -2);
      const got = a.matmul(b as never);
      const ref = a.to("float64").matmul(b.to("float64") as never);
      const g = Array.from((got as unknown as { contiguous(): { _data: ArrayLike<number> } }).contiguous()._data);
      const r = Array.from((ref as unknown as { contiguous(): { _data: ArrayLike<number> } }).contiguous()._data);
      expect(g.length).toBe(r.length);
      for (let i = 0; i < g.length; i++) expect(Math.abs(g[i]! - r[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(r[i]!)));
    }
  });

  it("conv2d and its gradients agree with float64", () => {
    torch.manualSeed(1);
    const x = torch.randn([3, 4, 11, 9]).requiresGrad_();
    const w = torch.randn([6, 2, 3, 3]).requiresGrad_();
    const b = torch.randn([6]);
    const y = nn.functional.conv2d(x, w, b, { padding: 1, groups: 2 });
    y.sum().backward();
    const x64 = x.detach().to("float64").requiresGrad_();
    const w64 = w.detach().to("float64").requiresGrad_();
    const y64 = nn.functional.conv2d(x64, w64, b.to("float64"), { padding: 1, groups: 2 });
    y64.sum().backward();
    const close = (p: unknown, q: unknown) => {
      const u = (p as { toArray(): unknown[] }).toArray().flat(4) as number[];
      const v = (q as { toArray(): unknown[] }).toArray().flat(4) as number[];
      for (let i = 0; i < u.length; i++) expect(Math.abs(u[i]! - v[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(v[i]!)));
    };
    close(y, y64);
    close(x.grad, x64.grad);
    close(w.grad, w64.grad);
  });
});
