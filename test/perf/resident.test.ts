import { describe, expect, it } from "vitest";
import { wasm } from "../../runtime/backend/wasm.js";
import { sgdWasm, type SgdTerms } from "../../runtime/codegen/wasm.js";
import { sgdSource } from "../../runtime/codegen/fused.js";
import { wasmSgemm } from "../../runtime/ops/sgemm.js";
import { compileStep, nn, optim, torch } from "../../runtime/index.js";
import { Net } from "../../examples/compile/model.js";
import "../../examples/compile/model.kernels.generated.js";

/**
 * Resident arrays (`wasm.alloc`): float32 storage in the wasm memory that kernels use in place.
 * The GEMM must give the same bits whether its operands and result are resident or copied in,
 * and the WASM SIMD SGD kernel the same bits as the JS kernel for every combination of terms.
 */
let seed = 777;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
const fill = (a: Float32Array) => {
  for (let i = 0; i < a.length; i++) a[i] = rnd();
  return a;
};
const resident = (n: number) => wasm.alloc(n)!;

describe.runIf(wasm.available && wasm.shared)("resident wasm arrays", () => {
  it("alloc gives zeroed, aligned arrays that stay valid across memory growth", () => {
    const a = resident(5);
    expect(a.length).toBe(5);
    expect([...a]).toEqual([0, 0, 0, 0, 0]);
    expect(wasm.addressOf(a) % 16).toBe(0);
    a.set([1, 2, 3, 4, 5]);
    const big = resident(8 << 20); // 32 MiB: grows the memory
    big[big.length - 1] = 7;
    expect([...a]).toEqual([1, 2, 3, 4, 5]);
    expect(wasm.addressOf(a.subarray(2))).toBe(wasm.addressOf(a) + 8);
    expect(wasm.addressOf(new Float32Array(4))).toBe(-1);
  });

  it("the GEMM reads resident operands and writes a resident C in place, bit-identical to copied ones", () => {
    for (const [m, k, n, tA, tB] of [[64, 784, 256, false, true], [37, 41, 43, true, false], [130, 70, 9, true, true]] as const) {
      const A = fill(new Float32Array(m * k + 3));
      const B = fill(new Float32Array(k * n + 5));
      const [sam, sak] = tA ? [1, m] : [k, 1];
      const [sbk, sbn] = tB ? [1, k] : [n, 1];
      const C1 = new Float32Array(m * n + 2);
      wasmSgemm(C1, [2], A, [3], sam, sak, B, [5], sbk, sbn, m, k, n);
      const rA = resident(A.length);
      const rB = resident(B.length);
      const rC = resident(C1.length);
      rA.set(A);
      rB.set(B);
      wasmSgemm(rC, [2], rA, [3], sam, sak, rB, [5], sbk, sbn, m, k, n);
      expect(rC).toEqual(C1);
      // mixed: resident A, copied B, plain C
      const C3 = new Float32Array(C1.length);
      wasmSgemm(C3, [2], rA, [3], sam, sak, B, [5], sbk, sbn, m, k, n);
      expect(C3).toEqual(C1);
    }
  });

  it("the WASM SGD kernel equals the JS kernel bit for bit, for every combination of terms", () => {
    const names = ["momentum", "first", "nesterov", "weightDecay", "maximize", "undamped"] as const;
    const sizes = [1, 6, 37, 256];
    for (let bits = 0; bits < 64; bits++) {
      const terms = Object.fromEntries(names.map((k, i) => [k, (bits >> i) % 2 === 1])) as unknown as SgdTerms;
      const h = [0.05, 0.9, terms.undamped ? 0 : 0.3, terms.weightDecay ? 0.01 : 0];
      const ps = sizes.map((n) => fill(new Float32Array(n)));
      const gs = sizes.map((n) => fill(new Float32Array(n)));
      const bs = sizes.map((n) => fill(new Float32Array(n)));
      const rp = ps.map((a) => { const r = resident(a.length); r.set(a); return r; });
      const rg = gs.map((a) => { const r = resident(a.length); r.set(a); return r; });
      const rb = bs.map((a) => { const r = resident(a.length); r.set(a); return r; });
      (new Function(sgdSource(terms))() as (...a: unknown[]) => void)(ps, gs, bs, Float64Array.from(h));
      const tabF = resident(4 * sizes.length);
      const t0 = wasm.addressOf(tabF);
      const tv = new Int32Array(tabF.buffer, t0, 4 * sizes.length);
      sizes.forEach((n, r) => tv.set([wasm.addressOf(rp[r]!), wasm.addressOf(rg[r]!), wasm.addressOf(rb[r]!), 16 * Math.ceil(n / 4)], 4 * r));
      const hw = resident(4);
      hw.set([-h[0]!, h[1]!, 1 - h[2]!, h[3]!]);
      wasm.run(`sgd-test:${bits}`, () => sgdWasm(wasm.shared, terms), "sgd", [t0, sizes.length, wasm.addressOf(hw)]);
      for (let r = 0; r < sizes.length; r++) {
        expect(rp[r], `terms ${JSON.stringify(terms)} size ${sizes[r]}: parameter`).toEqual(ps[r]);
        if (terms.momentum) expect(rb[r], `terms ${JSON.stringify(terms)}: momentum buffer`).toEqual(bs[r]);
      }
    }
  });

  it("compileStep keeps parameters, gradients and momentum in the wasm memory and still equals eager", () => {
    torch.manualSeed(3);
    const a = new Net();
    const b = new Net();
    b.loadStateDict(a.stateDict());
    a.useKernels(null);
    const optA = optim.SGD(a.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true });
    const optB = optim.SGD(b.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true });
    const lossFn = nn.CrossEntropyLoss();
    const step = compileStep(b, lossFn, optB);
    for (let i = 0; i < 5; i++) {
      const x = torch.randn(16, 784);
      const y = torch.randint(0, 10, [16]);
      optA.zeroGrad();
      const l = lossFn(a(x), y);
      l.backward();
      optA.step();
      expect(step(x, y)).toBe(l.item());
    }
    for (const p of b.parameters()) {
      expect(wasm.addressOf(p._data as Float32Array)).toBeGreaterThanOrEqual(0);
      expect(wasm.addressOf(p.grad!._data as Float32Array)).toBeGreaterThanOrEqual(0);
    }
    const pa = [...a.parameters()];
    [...b.parameters()].forEach((p, i) => expect(p.data()).toEqual(pa[i]!.data()));
  });
});
