/**
 * The WebAssembly SIMD kernels of `codegen/wasmConv.ts` against the JS kernels they stand in for
 * in compiled programs, bit for bit (`Object.is` or the bits, so NaN and ±0 count): the conv
 * epilogue (bias + ReLU), 2×2 max pooling, im2col, col2im and max-unpool with the ReLU backward,
 * on odd sizes, strides, paddings and dilations, with NaN-poisoned outputs where every element
 * must be written; and the hook protocol of the JS kernel texts (offered first, the loops run
 * when it declines or is absent).
 */
import { describe, expect, it } from "vitest";
import { wasm } from "../../runtime/backend/wasm.js";
import { col2imSource, im2colSource, maxPoolInsideSource, maxUnpoolAddSource } from "../../runtime/codegen/jsConv.js";
import { maxPool2dBackwardSource } from "../../runtime/codegen/fusedConv.js";
import { biasActWasm, convWasm, maxPool2Wasm } from "../../runtime/codegen/wasmConv.js";

let seed = 4242;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
type Kernel = (...a: unknown[]) => void;
const js = (text: string) => new Function(text)() as Kernel;
/** Index of the first element where a and b differ (Object.is), or -1. */
const firstDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return a.length === b.length ? -1 : -2;
};
const SPECIALS = [NaN, -0, 0, Infinity, -Infinity, 1e-45, -1e-45, 3.4e38, -3.4e38];
/** Random values in the wasm memory, every 5th one special. */
function filled(n: number): Float32Array {
  const a = wasm.alloc(n)!;
  a.forEach((_, i) => (a[i] = i % 5 === 2 ? SPECIALS[(i >> 2) % SPECIALS.length]! : rnd() * 4));
  return a;
}

describe.runIf(wasm.available && wasm.shared)("WASM conv epilogue (bias + ReLU)", () => {
  // What conv2dSource's JS epilogue computes, element by element.
  const fr = Math.fround;
  const reference = (O: Float32Array, B: Float32Array | null, N: number, Oc: number, L: number, relu: boolean) => {
    for (let n = 0, o = 0; n < N; n++) for (let c = 0; c < Oc; c++) for (let t = 0; t < L; t++, o++) {
      const v = B ? fr(O[o]! + B[c]!) : O[o]!;
      O[o] = relu ? fr(v < 0 ? 0 : v) : v;
    }
  };
  const specials = [NaN, -NaN, -0, 0, Infinity, -Infinity, 1e-45, -1e-45, 3.4e38, -3.4e38, 1, -1];
  for (const [bias, relu] of [[true, true], [true, false], [false, true]] as const) {
    it(`bias ${bias}, relu ${relu}: equals the JS loop bit for bit (NaN, ±0, ±Inf, subnormals, overflow; row tails)`, () => {
      const [N, Oc, L] = [3, 5, 27];
      const O = wasm.alloc(N * Oc * L)!;
      O.forEach((_, i) => (O[i] = i % 4 === 0 ? specials[(i >> 2) % specials.length]! : rnd() * 4));
      const B = wasm.alloc(Oc)!;
      B.set([0.25, -0.5, NaN, -0, 3.4e38]);
      const ref = Float32Array.from(O);
      reference(ref, bias ? B : null, N, Oc, L, relu);
      wasm.run(`epi:test:${bias}:${relu}`, () => biasActWasm(true, bias, relu), "epi", [wasm.addressOf(O), bias ? wasm.addressOf(B) : 0, N, Oc, L]);
      // Bits equal everywhere; where both are NaN (a NaN plus a NaN bias: which operand's NaN an
      // add returns is not fixed in JS), NaN on both sides.
      const a = new Uint32Array(O.buffer, O.byteOffset, O.length);
      const r = new Uint32Array(ref.buffer);
      const differ = [...a.keys()].filter((i) => a[i] !== r[i] && !(Number.isNaN(O[i]) && Number.isNaN(ref[i])));
      expect(differ).toEqual([]);
      expect([...O].map(Number.isNaN)).toEqual([...ref].map(Number.isNaN));
    });
  }
});

describe.runIf(wasm.available && wasm.shared)("WASM 2×2 max pooling", () => {
  const js = new Function(maxPoolInsideSource(2, 2))() as (...a: unknown[]) => void;
  const specials = [NaN, -0, 0, Infinity, -Infinity, 1e-45, 3.4e38, -3.4e38, 1, -1, 1, 1];
  for (const [N, C, H, W] of [[2, 3, 6, 22], [1, 2, 7, 9], [3, 4, 28, 28], [1, 1, 2, 2]] as const) {
    it(`${N}×${C}×${H}×${W}: values and indices equal the JS kernel's bit for bit (NaN, ±0, ties, odd sizes)`, () => {
      const Ho = H >> 1, Wo = W >> 1;
      const X = wasm.alloc(N * C * H * W)!;
      // few distinct values, so windows tie often; specials mixed in
      X.forEach((_, i) => (X[i] = i % 7 === 0 ? specials[(i >> 3) % specials.length]! : Math.round(rnd() * 6) / 2));
      const O1 = new Float32Array(N * C * Ho * Wo).fill(7);
      const I1 = new Float32Array(N * C * Ho * Wo).fill(7);
      js(O1, I1, X, 0, C * H * W, H * W, W, 1, N, C, H, W, 2, 2, 2, 2, 0, 0, 1, 1, Ho, Wo);
      const O2 = wasm.alloc(N * C * Ho * Wo)!;
      const I2 = wasm.alloc(N * C * Ho * Wo)!;
      wasm.run("maxpool2:test", () => maxPool2Wasm(true), "maxpool2", [wasm.addressOf(O2), wasm.addressOf(I2), wasm.addressOf(X), N * C, H, W, Ho, Wo]);
      expect(new Uint32Array(O2.buffer, O2.byteOffset, O2.length)).toEqual(new Uint32Array(O1.buffer));
      expect(new Uint32Array(I2.buffer, I2.byteOffset, I2.length)).toEqual(new Uint32Array(I1.buffer));
    });
  }
});

describe.runIf(wasm.available && wasm.shared)("WASM im2col and col2im", () => {
  const im2col = js(im2colSource());
  const col2im = js(col2imSource());
  const run = (fn: string, args: number[]) => wasm.run("conv:test", () => convWasm(true), fn, args);
  // N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw: a "same" 3×3 (the band path), strides, dilations,
  // asymmetric and large padding (taps wholly in the padding), 1×1, one output column
  const GEOMETRIES = [
    [2, 3, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1], [3, 16, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1], [1, 2, 5, 5, 2, 3, 2, 1, 0, 2, 1, 2],
    [3, 1, 6, 4, 3, 2, 2, 3, 2, 1, 2, 1], [1, 1, 3, 3, 5, 5, 1, 1, 4, 4, 1, 1], [1, 2, 4, 5, 1, 1, 1, 1, 0, 0, 1, 1],
    [2, 2, 9, 8, 3, 3, 3, 2, 5, 0, 2, 3], [1, 3, 10, 11, 5, 5, 1, 1, 2, 2, 1, 1], [2, 1, 1, 13, 1, 3, 1, 1, 0, 1, 1, 1],
  ] as const;
  for (const [N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw] of GEOMETRIES) {
    const Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
    const Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
    const geo = [N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo];
    const entries = N * C * kh * kw * Ho * Wo;
    it(`${geo.slice(0, 12).join(",")}: im2col writes every entry, the JS kernel's values bit for bit`, () => {
      const X = filled(N * C * H * W);
      const want = new Float32Array(entries);
      im2col(want, X, 0, C * H * W, H * W, W, 1, ...geo);
      const got = wasm.alloc(entries)!.fill(NaN);
      got[0] = 7; // a poison that is not NaN either
      run("im2col", [wasm.addressOf(got), wasm.addressOf(X), ...geo]);
      expect(new Uint32Array(got.buffer, got.byteOffset, entries)).toEqual(new Uint32Array(want.buffer));
    });
    it(`${geo.slice(0, 12).join(",")}: col2im adds each pixel's entries in the JS kernel's order`, () => {
      const O = filled(entries);
      const want = new Float32Array(N * C * H * W);
      col2im(want, O, 0, ...geo);
      const got = wasm.alloc(N * C * H * W)!.fill(0);
      run("col2im", [wasm.addressOf(got), wasm.addressOf(O), ...geo]);
      expect(firstDiff(got, want)).toBe(-1);
    });
  }
  it("col2im and im2col are adjoint on a random geometry's values (⟨im2col x, o⟩ = ⟨x, col2im o⟩ in float64)", () => {
    const geo = [2, 3, 8, 7, 3, 2, 2, 1, 1, 0, 1, 2];
    const [N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw] = geo as [number, number, number, number, number, number, number, number, number, number, number, number];
    const Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1, Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
    const n = N * C * kh * kw * Ho * Wo, m = N * C * H * W;
    const x = wasm.alloc(m)!, o = wasm.alloc(n)!;
    x.forEach((_, i) => (x[i] = rnd()));
    o.forEach((_, i) => (o[i] = rnd()));
    const cx = wasm.alloc(n)!, co = wasm.alloc(m)!.fill(0);
    run("im2col", [wasm.addressOf(cx), wasm.addressOf(x), ...geo, Ho, Wo]);
    run("col2im", [wasm.addressOf(co), wasm.addressOf(o), ...geo, Ho, Wo]);
    let a = 0, b = 0;
    for (let i = 0; i < n; i++) a += cx[i]! * o[i]!;
    for (let i = 0; i < m; i++) b += x[i]! * co[i]!;
    expect(Math.abs(a - b)).toBeLessThan(1e-5 * (1 + Math.abs(a)));
  });
});

describe.runIf(wasm.available && wasm.shared)("WASM max-unpool (max pooling's backward)", () => {
  const unpool = js(maxUnpoolAddSource());
  for (const relu of [0, 1]) {
    it(`relu ${relu}: zero-fill, the scatter-add at the argmax in order (shared argmaxes too), the ReLU mask — the JS kernel's values`, () => {
      const planes = 5, HW = 37, L = 11;
      const I = wasm.alloc(planes * L)!;
      // argmaxes anywhere in the plane, some shared (overlapping windows): their adds keep their order
      I.forEach((_, k) => (I[k] = k % 4 === 1 ? I[k - 1]! : Math.floor((rnd() + 0.5) * HW)));
      const G = filled(planes * L);
      const E = filled(planes * HW);
      const want = new Float32Array(planes * HW);
      unpool(want, G, 0, I, planes, HW, L);
      if (relu) for (let k = 0; k < want.length; k++) want[k] = Math.fround(want[k]! * +(E[k]! > 0));
      const got = wasm.alloc(planes * HW)!.fill(NaN);
      wasm.run("conv:test", () => convWasm(true), "unpool", [wasm.addressOf(got), wasm.addressOf(G), wasm.addressOf(I), wasm.addressOf(E), planes, HW, L, relu]);
      expect(firstDiff(got, want)).toBe(-1);
    });
  }
});

describe("hooks of the JS kernel texts", () => {
  // N=1, C=1, 3×3 image, 2×2 kernel, stride 1, no padding: 4 taps × 4 outputs
  const geo = [1, 1, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 2, 2];
  const X = Float32Array.from({ length: 9 }, (_, i) => i + 1);
  const withHook = (name: string, text: string, answer: boolean) => {
    const calls: unknown[][] = [];
    const f = new Function(name, text)((...a: unknown[]) => (calls.push(a), answer)) as Kernel;
    return { f, calls };
  };
  it("im2col and col2im offer the work to wasmIm2col / wasmCol2im first: taken, the loops don't run; declined, they do", () => {
    for (const answer of [true, false]) {
      const { f, calls } = withHook("wasmIm2col", im2colSource(), answer);
      const O = new Float32Array(16).fill(-1);
      f(O, X, 0, 9, 9, 3, 1, ...geo);
      expect(calls).toEqual([[O, X, 0, 9, 9, 3, 1, ...geo]]);
      expect(Array.from(O)).toEqual(answer ? new Array(16).fill(-1) : [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9]);
      const back = withHook("wasmCol2im", col2imSource(), answer);
      const Xs = new Float32Array(9);
      back.f(Xs, O, 0, ...geo);
      expect(back.calls).toHaveLength(1);
      expect(Array.from(Xs)).toEqual(answer ? new Array(9).fill(0) : [1, 4, 3, 8, 20, 12, 7, 16, 9]);
    }
  });
  it("without a hook in scope (eager) the kernels run their loops", () => {
    const O = new Float32Array(16);
    js(im2colSource())(O, X, 0, 9, 9, 3, 1, ...geo);
    expect(Array.from(O)).toEqual([1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9]);
  });
  it("max pooling's backward offers wasmUnpool its work only with no activation or ReLU's", () => {
    const reluBw = (g: string, y: string) => `Math.fround(${g} * +(${y} > 0))`;
    const sigmoidBw = (g: string, y: string) => `Math.fround(${g} * ${y} * (1 - ${y}))`;
    for (const [act, relu, offered] of [[null, false, true], [reluBw, true, true], [sigmoidBw, false, false]] as const) {
      const { f, calls } = withHook("wasmUnpool", maxPool2dBackwardSource(act, relu), true);
      const GX = new Float32Array(4).fill(-1);
      f(GX, new Float32Array([5]), new Float32Array([2]), new Float32Array([1, 1, 1, 1]), 1, 4, 1);
      expect(calls.length).toBe(offered ? 1 : 0);
      if (offered) expect(calls[0]!.at(-1)).toBe(relu ? 1 : 0);
      else expect(Array.from(GX)).toEqual([0, 0, 0, 0]); // σ'·g with y = 1: 5·1·0
    }
  });
});

describe.runIf(wasm.available)("eager conv2d with its patches made in the wasm memory", () => {
  it("equals the JS-im2col path bit for bit (a strided view of the same image takes that path), outputs and gradients, with and without grad", async () => {
    const { nn, torch } = await import("../../runtime/index.js");
    for (const [C, O, k, opts] of [[3, 8, 3, { padding: 1 }], [4, 6, 3, { stride: 2, dilation: 2, padding: 2 }], [6, 4, 2, { groups: 2 }]] as const) {
      const conv = nn.Conv2d(C, O, k, opts);
      const x = torch.randn([5, C, 11, 9]);
      // the same values, stored channels-last: not contiguous, so im2col runs in JS
      const xs = x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2]);
      expect(xs.isContiguous()).toBe(false);
      const run = (input: typeof x) => {
        const xi = input.detach().requiresGrad_();
        const y = (conv as unknown as (t: unknown) => typeof x)(xi);
        const g = torch.linspace(-1, 1, y.numel()).reshape(y.shape);
        for (const p of conv.parameters()) p.grad = null;
        y.mul(g).sum().backward();
        return [y, xi.grad!, conv.weight.grad!, conv.bias!.grad!].map((t) => Array.from(t.contiguous().data() as Float32Array));
      };
      const fast = run(x);
      const slow = run(xs);
      for (let i = 0; i < fast.length; i++) expect(new Float32Array(fast[i]!)).toEqual(new Float32Array(slow[i]!));
      const inference = torch.noGrad(() => (conv as unknown as (t: unknown) => typeof x)(x));
      expect(Array.from(inference.data() as Float32Array)).toEqual(fast[0]);
    }
  });
});

describe.runIf(wasm.available)("eager 2×2 max pooling through the WASM kernel", () => {
  it("values, int64 indices and gradients equal the JS kernel's (a strided view takes that path): NaN, ±0, ties, odd sizes", async () => {
    const { torch } = await import("../../runtime/index.js");
    const F = await import("../../runtime/nn/functionalConv.js");
    for (const [N, C, H, W] of [[4, 8, 28, 28], [8, 24, 15, 13], [2, 64, 14, 14]] as const) {
      const x = torch.tensor(Array.from({ length: N * C * H * W }, (_, i) => (i % 11 === 0 ? SPECIALS[(i >> 3) % SPECIALS.length]! : Math.round(rnd() * 6) / 2)), { dtype: "float32" }).reshape([N, C, H, W]);
      const xs = x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2]);
      const run = (input: typeof x) => {
        const xi = input.detach().requiresGrad_();
        const [v, i] = F.maxPool2d(xi as never, 2, 2, { returnIndices: true }) as unknown as [typeof x, typeof x];
        v.mul(torch.linspace(-1, 1, v.numel()).reshape(v.shape)).sum().backward();
        return [v, i, xi.grad!].map((t) => Array.from(t.contiguous().data() as ArrayLike<number>));
      };
      const fast = run(x);
      const slow = run(xs);
      for (let k = 0; k < 3; k++) expect(firstDiff(fast[k]!, slow[k]!), `${N}×${C}×${H}×${W} output ${k}`).toBe(-1);
    }
  });
});
