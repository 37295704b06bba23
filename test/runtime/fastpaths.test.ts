/**
 * The eager CPU fast paths against the general kernels they stand in for, bit for bit (`Object.is`
 * on every element, so -0 and NaN count): the flat elementwise kernel (offsets, broadcast
 * elements, unrolling, in-place aliasing), the fused ReLU backward and SGD updates, reductions
 * folded side by side, and the tuned convolution / pooling kernels (im2col, col2im, max pooling
 * with indices, its adjoint, the channel bias; against the plain loops in `./convReference.ts`)
 * on odd sizes, strides, paddings and dilations; matmul gradients made in their operand's layout
 * (so Linear's weight gradient accumulates contiguously) equal to the direct products. Fast
 * kernels that must write every element of their output are run on NaN-poisoned outputs, so an entry they
 * leave unwritten shows.
 */
import { afterEach, describe, expect, it } from "vitest";
import { elementwiseFlatSource, elementwiseSource, type FlatInput, reduceLanesSource, type ReduceTemplate, reduceSource, sgdMomentumSource } from "../../runtime/codegen/js.js";
import { channelBiasSource, col2imSource, im2colSource, maxPoolInsideSource, maxPoolSource, maxUnpoolAddSource } from "../../runtime/codegen/jsConv.js";
import { channelBiasReference, col2imReference, im2colReference, maxUnpoolAddReference } from "./convReference.js";
import { outputDebug } from "../../runtime/dtype.js";
import { nn, optim, torch } from "../../runtime/index.js";
import { addScaledInPlace, scaledSumInPlace } from "../../runtime/ops/binary.js";
import { reluBackward } from "../../runtime/ops/unary.js";
import type { AnyTensor } from "../../runtime/tensorTypes.js";

type Kernel = (...args: unknown[]) => void;
const compile = (source: string) => new Function(source)() as Kernel;

/** Index of the first element where `a` and `b` differ (Object.is), or -1. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const values = (t: AnyTensor) => Array.from(t.data() as ArrayLike<number>);

/** Deterministic float32 values with the awkward ones mixed in. */
function specials(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  const odd = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 3.4e38, -1e-45];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = i % 7 === 3 ? odd[(s >>> 8) % odd.length]! : ((s >>> 8) / 2 ** 24 - 0.5) * 8;
  }
  return out;
}

describe("flat elementwise kernel", () => {
  const SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 9, 1001];
  const cases: { expr: (x: readonly string[]) => string; modes: FlatInput[]; params: number[] }[] = [
    { expr: ([a]) => `(${a} <= 0 ? 0 : ${a})`, modes: ["dense"], params: [] },
    { expr: ([g, y]) => `${g} * +(${y} > 0)`, modes: ["dense", "dense"], params: [] },
    { expr: ([a, b]) => `${a} + Math.fround(${b} * p0)`, modes: ["dense", "dense"], params: [Math.fround(-0.01)] },
    { expr: ([a, b]) => `${a} * ${b}`, modes: ["dense", "hoist"], params: [] },
    { expr: ([a, b]) => `${a} - ${b}`, modes: ["hoist", "dense"], params: [] },
    { expr: ([a, b]) => `${a} + ${b}`, modes: ["dense", "single"], params: [] },
    { expr: ([c, a, b]) => `(${c} ? ${a} : ${b})`, modes: ["dense", "dense", "hoist"], params: [] },
    { expr: () => "p0", modes: [], params: [2.5] },
  ];
  for (const [ci, c] of cases.entries()) {
    for (const unroll of [1, 4]) {
      it(`case ${ci}, unroll ${unroll}: equals the strided kernel at every size and offset`, () => {
        const flat = compile(elementwiseFlatSource(c.expr, c.modes, c.params.length, unroll));
        const names = c.modes.map((_, k) => "abcd"[k]!);
        const general = compile(elementwiseSource(c.expr(names), c.modes.length, 1, c.params.length));
        for (const n of SIZES) {
          for (const off of [0, 3]) {
            const ins = c.modes.map((_, k) => specials(n + 5, 7 + k));
            const offs = c.modes.map((m, k) => (m === "dense" ? off + k : 2));
            const want = new Float32Array(n + off).fill(NaN);
            const got = new Float32Array(n + off).fill(NaN);
            general(want, off, [1], ins, offs, c.modes.map((m) => (m === "dense" ? [1] : [0])), [n], c.params);
            flat(got, off, n, ...ins.flatMap((x, k) => [x, offs[k]]), c.params);
            expect(firstDiff(got, want), `n=${n} offset=${off}`).toBe(-1);
          }
        }
      });
    }
  }

  it("relu equals PyTorch's `v < 0 ? 0 : v` on every value, dense and strided, float32 and float64", () => {
    // The kernel text is branch-free (|v|·(v > 0), ±0 and −∞ tested apart): its result must
    // still be +0 for negatives and −∞, −0 for −0, and NaN for NaN.
    const xs = Array.from(specials(1001, 5));
    for (const dtype of ["float32", "float64"] as const) {
      const x = torch.tensor(xs, { dtype }).reshape([11, 91]);
      const want = xs.map((v) => (v < 0 ? 0 : v));
      expect(firstDiff(values(x.relu() as AnyTensor), want), dtype).toBe(-1);
      expect(firstDiff(values((x.t().contiguous().t() as AnyTensor).relu().contiguous()), want), `${dtype} strided`).toBe(-1);
    }
    const ints = torch.tensor([-3, 0, 4, -2147483648, 2147483647], { dtype: "int32" });
    expect(values(ints.relu() as AnyTensor)).toEqual([0, 0, 4, 0, 2147483647]);
  });

  it("ops on dense tensors equal the same ops on strided views of the same values", () => {
    const a = torch.tensor(Array.from(specials(7 * 13)), { dtype: "float32" }).reshape([7, 13]);
    const b = torch.tensor(Array.from(specials(7 * 13, 3)), { dtype: "float32" }).reshape([7, 13]);
    const aT = a.t().contiguous().t(); // same values, column-major: the strided kernel
    const bT = b.t().contiguous().t();
    const pairs: [string, (x: AnyTensor, y: AnyTensor) => AnyTensor][] = [
      ["relu", (x) => x.relu()],
      ["gt", (x, y) => x.gt(y)],
      ["le scalar", (x) => x.le(0)],
      ["mul mask", (x, y) => x.mul(y.gt(0))],
      ["add", (x, y) => x.add(y)],
      ["add alpha", (x, y) => x.add(y, { alpha: -0.3 })],
      ["mul scalar", (x) => x.mul(0.9)],
      ["where", (x, y) => torch.where(x.gt(0), x, y) as AnyTensor],
      ["int64", (x) => torch.where(x.ne(x), 0, x.clamp(-100, 100)).mul(10).to("int64").mul(-1) as AnyTensor],
      ["logical", (x, y) => x.logicalAnd(y)],
      ["broadcast element", (x, y) => x.mul(y.sum())],
      ["clone", (x) => x.clone()],
    ];
    for (const [name, f] of pairs) {
      const dense = f(a as AnyTensor, b as AnyTensor);
      const strided = f(aT as AnyTensor, bT as AnyTensor);
      expect(firstDiff(values(dense.contiguous()), values(strided.contiguous())), name).toBe(-1);
    }
  });

  it("in place: an input aliasing the output element for element, shifted, or as a broadcast element", () => {
    // x.mul_(x): the same elements, unrolled.
    const x = torch.tensor(Array.from(specials(11)), { dtype: "float32" });
    const want = values(x).map((v) => Math.fround(v * v));
    x.mul_(x);
    expect(firstDiff(values(x), want)).toBe(-1);
    // A shifted view of the same storage: element by element, as the strided loop reads it
    // (each write is seen by the next read).
    const y = torch.arange(10, { dtype: "float32" });
    (y.index("1:") as AnyTensor).copy_(y.index(":9") as AnyTensor);
    expect(values(y)).toEqual(new Array(10).fill(0));
    // A broadcast element of the output itself: re-read after it is written, as before.
    const z = torch.tensor([1, 2, 3, 4, 5, 6], { dtype: "float32" });
    (z as AnyTensor).add_(z.index(":1").expand([6]) as AnyTensor); // cloned by add_ first: [2, 3, ..., 7]
    expect(values(z)).toEqual([2, 3, 4, 5, 6, 7]);
    const w = torch.tensor([1, 2, 3, 4, 5, 6], { dtype: "float32" });
    (w.index("1:") as AnyTensor).copy_(w.index(":1").expand([5]) as AnyTensor); // w[0] is not written
    expect(values(w)).toEqual([1, 1, 1, 1, 1, 1]);
    // Kernel level: a "single" input that is an element of the output is re-read after each write,
    // as the strided kernel reads it (here O[2] changes under the loop).
    const single = compile(elementwiseFlatSource(([a, b]) => `${a} + ${b}`, ["dense", "single"], 0, 4));
    const general = compile(elementwiseSource("a + b", 2, 1, 0));
    const O1 = new Float32Array([1, 2, 3, 4, 5, 6, 7]), O2 = O1.slice();
    const X = new Float32Array([10, 20, 30, 40, 50, 60, 70]);
    general(O1, 0, [1], [X, O1], [0, 2], [[1], [0]], [7], []);
    single(O2, 0, 7, X, 0, O2, 2, []);
    expect(firstDiff(O2, O1)).toBe(-1);
    expect(Array.from(O2)).toEqual([13, 23, 33, 73, 83, 93, 103]);
  });
});

describe("fused ReLU backward", () => {
  it("is g · (y > 0) bit for bit, and its gradient is the same op", () => {
    const x = torch.tensor(Array.from(specials(64)), { dtype: "float32" }).requiresGrad_();
    const g = torch.tensor(Array.from(specials(64, 5)), { dtype: "float32" });
    const y = x.relu();
    y.backward(g);
    const want = g.mul(y.detach().gt(0));
    expect(firstDiff(values(x.grad as AnyTensor), values(want as AnyTensor))).toBe(-1);
    // Its own backward (for a recorded backward): the same op of the incoming gradient, nothing for y.
    const gg = torch.tensor(Array.from(specials(64, 9)), { dtype: "float32" }) as AnyTensor;
    const [dg, dy] = reluBackward.backward!(gg, [g as AnyTensor, y.detach() as AnyTensor], y as AnyTensor, []);
    expect(dy).toBeNull();
    expect(firstDiff(values(dg!), values(gg.mul(y.detach().gt(0)) as AnyTensor))).toBe(-1);
    expect(reluBackward.gradName).toBe("ThresholdBackwardBackward0");
  });

  it("float64 and non-CPU-shaped cases keep g · (y > 0)", () => {
    const x = torch.tensor([-1.5, 0, -0, 2, NaN, Infinity, -Infinity], { dtype: "float64" }).requiresGrad_();
    const g = torch.tensor([1, -2, 3, -4, 5, NaN, Infinity], { dtype: "float64" });
    x.relu().backward(g);
    expect(firstDiff(values(x.grad as AnyTensor), [0, -0, 0, -4, 0, NaN, NaN])).toBe(-1);
  });
});

describe("fused SGD updates", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: addScaledInPlace, scaledSumInPlace and the momentum kernel equal the unfused ops`, () => {
      for (const n of [1, 3, 4, 5, 1001]) {
        const p = torch.tensor(Array.from(specials(n, 2)), { dtype }) as AnyTensor;
        const b = torch.tensor(Array.from(specials(n, 4)), { dtype }) as AnyTensor;
        const g = torch.tensor(Array.from(specials(n, 6)), { dtype }) as AnyTensor;
        const [mu, alpha, step] = [0.9, 0.7, -0.01];

        const p1 = p.clone(), p2 = p.clone();
        p1.add_(g, { alpha: step });
        addScaledInPlace(p2, g, step);
        expect(firstDiff(values(p2), values(p1)), `add n=${n}`).toBe(-1);

        const b1 = b.clone(), b2 = b.clone();
        b1.mul_(mu).add_(g, { alpha });
        scaledSumInPlace(b2, mu, g, alpha);
        expect(firstDiff(values(b2), values(b1)), `momentum n=${n}`).toBe(-1);

        // The one-pass kernel, at offsets into larger arrays.
        const P = p.clone(), B = b.clone();
        P.add_(b1, { alpha: step });
        const big = (t: AnyTensor) => {
          const src = t.data() as Float32Array | Float64Array;
          const a = new (src.constructor as new (n: number) => Float32Array | Float64Array)(n + 3);
          a.set(src, 3);
          return a;
        };
        const [PP, BB, GG] = [big(p), big(b), big(g)];
        const f32 = dtype === "float32";
        const fr = (v: number) => (f32 ? Math.fround(v) : v);
        compile(sgdMomentumSource(f32))(PP, 3, BB, 3, GG, 3, n, fr(mu), fr(alpha), fr(step));
        expect(firstDiff(BB.subarray(3), values(b1)), `kernel buf n=${n}`).toBe(-1);
        expect(firstDiff(PP.subarray(3), values(P)), `kernel param n=${n}`).toBe(-1);
        expect(values(B)).toEqual(values(b)); // untouched copies
      }
    });
  }

  it("SGD with momentum: the fused step (dense params) and the unfused ops (strided params) agree", () => {
    const run = (strided: boolean) => {
      torch.manualSeed(3);
      const w0 = torch.randn([6, 5]);
      const w = (strided ? w0.t().contiguous().t() : w0.clone()).requiresGrad_() as AnyTensor; // same values
      const opt = optim.SGD([w], { lr: 0.05, momentum: 0.9, dampening: 0.1 });
      for (let s = 0; s < 4; s++) {
        opt.zeroGrad();
        w.mul(w).mul(torch.arange(30, { dtype: "float32" }).reshape([6, 5])).sum().backward();
        opt.step();
      }
      return values(w.contiguous());
    };
    expect(firstDiff(run(false), run(true))).toBe(-1);
  });
});

describe("reductions folded side by side", () => {
  const templates: [string, ReduceTemplate][] = [
    ["sum", { init: "0", update: "acc += a", final: "acc" }],
    ["prod", { init: "1", update: "acc *= a", final: "acc" }],
  ];
  for (const [name, t] of templates) {
    it(`${name}: equals the one-output-at-a-time kernel for any output count and strides`, () => {
      const lanes = compile(reduceLanesSource(t, 2, 0, 4));
      const plain = compile(reduceSource(t, 1, 2, 0));
      const X = specials(4000, 9).map((v) => (name === "prod" ? 1 + v / 64 : v));
      for (const m of [1, 3, 4, 5, 8, 11]) {
        for (const [ish, ist, os] of [[[3, 7], [7 * m, 1], 7], [[5, 2], [1, 5], 10], [[0, 4], [4, 1], 1], [[2, 3], [3 * m, m], 1]] as const) {
          const a = new Float32Array(m).fill(NaN);
          const b = new Float32Array(m).fill(NaN);
          lanes(a, undefined, X, 2, [os], ist, [m], ish, []);
          plain(b, undefined, X, 2, [os], ist, [m], ish, []);
          expect(firstDiff(a, b), `m=${m} inner=${ish}`).toBe(-1);
        }
      }
    });
  }

  it("tensor sums over several dims equal sums one dim at a time in the same order", () => {
    const x = torch.tensor(Array.from(specials(6 * 5 * 7, 2)), { dtype: "float32" }).reshape([6, 5, 7]);
    // [0, 2] per middle index: the same elements in the same order as summing a permuted copy.
    const got = x.sum([0, 2]);
    const want = x.permute([1, 0, 2]).contiguous().reshape([5, 42]).sum(1);
    expect(firstDiff(values(got as AnyTensor), values(want as AnyTensor))).toBe(-1);
  });
});

describe("convolution and pooling kernels", () => {
  // [N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw]
  const geoms: number[][] = [
    [2, 3, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1], // "same" 3×3: the band copy
    [2, 1, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1],
    [1, 2, 9, 7, 3, 3, 1, 1, 0, 0, 1, 1], // valid
    [2, 2, 9, 8, 3, 3, 2, 2, 1, 1, 1, 1], // stride 2
    [1, 2, 7, 9, 2, 4, 1, 1, 0, 1, 1, 1], // "same" of an even kernel: asymmetric (left 1)
    [1, 2, 11, 10, 3, 3, 1, 1, 2, 2, 2, 2], // dilation
    [1, 1, 5, 13, 5, 2, 2, 1, 0, 3, 1, 1], // padding wider than the image's overlap
    [1, 2, 6, 6, 7, 7, 1, 1, 3, 3, 1, 1], // kernel bigger than the image
    [1, 2, 4, 4, 1, 1, 3, 3, 0, 0, 1, 1],
  ];
  const out = (n: number, k: number, s: number, p: number, d: number, extra = 0) => Math.floor((n + 2 * p + extra - d * (k - 1) - 1) / s) + 1;

  it("im2col: the fast kernel writes every entry (padding zeros too) and equals the general one", () => {
    const fast = compile(im2colSource());
    const general = compile(im2colReference());
    for (const [N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw] of geoms as [number, number, number, number, number, number, number, number, number, number, number, number][]) {
      const Ho = out(H, kh, sh, ph, dh), Wo = out(W, kw, sw, pw, dw);
      for (const layout of ["contiguous", "channels-last", "offset"]) {
        const X = specials(N * C * H * W + 5, 3);
        const xo = layout === "offset" ? 5 : 0;
        const st = layout === "channels-last" ? [H * W * C, 1, W * C, C] : [C * H * W, H * W, W, 1];
        const size = N * C * kh * kw * Ho * Wo;
        const want = new Float32Array(size);
        const got = new Float32Array(size).fill(NaN);
        const args = [X, xo, ...st, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo];
        general(want, ...args);
        fast(got, ...args);
        expect(firstDiff(got, want), `${[N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw]} ${layout}`).toBe(-1);
      }
    }
  });

  it("col2im: the fast kernel accumulates every pixel in the same order", () => {
    const fast = compile(col2imSource());
    const general = compile(col2imReference());
    for (const [N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw] of geoms as [number, number, number, number, number, number, number, number, number, number, number, number][]) {
      const Ho = out(H, kh, sh, ph, dh), Wo = out(W, kw, sw, pw, dw);
      const cols = specials(N * C * kh * kw * Ho * Wo + 4, 5);
      const want = new Float32Array(N * C * H * W);
      const got = new Float32Array(N * C * H * W);
      general(want, cols, 4, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo);
      fast(got, cols, 4, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo);
      expect(firstDiff(got, want), `${[N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw]}`).toBe(-1);
    }
  });

  it("max pooling with every window inside: values and indices of the general kernel (NaN, ties, -Inf)", () => {
    // [N, C, H, W, kh, kw, sh, sw, dh, dw]: no padding; the last window ends inside.
    const pools = [[2, 3, 28, 28, 2, 2, 2, 2, 1, 1], [1, 2, 7, 9, 3, 3, 2, 2, 1, 1], [1, 2, 9, 9, 2, 3, 1, 2, 2, 1], [1, 1, 5, 5, 1, 1, 1, 1, 1, 1], [1, 2, 8, 8, 4, 4, 4, 4, 1, 1]];
    for (const [N, C, H, W, kh, kw, sh, sw, dh, dw] of pools as [number, number, number, number, number, number, number, number, number, number][]) {
      const Ho = out(H, kh, sh, 0, dh), Wo = out(W, kw, sw, 0, dw);
      const fast = compile(maxPoolInsideSource(kh, kw));
      const general = compile(maxPoolSource());
      for (const data of ["specials", "ties"]) {
        const X = data === "ties" ? new Float32Array(N * C * H * W).map((_, i) => (i % 5 === 0 ? -Infinity : i % 3 === 0 ? -0 : 0)) : specials(N * C * H * W, 11);
        for (const channelsLast of [false, true]) {
          const st = channelsLast ? [H * W * C, 1, W * C, C] : [C * H * W, H * W, W, 1];
          const size = N * C * Ho * Wo;
          const [wo, wi, go, gi] = [new Float32Array(size), new Float64Array(size), new Float32Array(size).fill(NaN), new Float64Array(size).fill(NaN)];
          const args = [X, 0, ...st, N, C, H, W, kh, kw, sh, sw, 0, 0, dh, dw, Ho, Wo];
          general(wo, wi, ...args);
          fast(go, gi, ...args);
          const where = `${[N, C, H, W, kh, kw, sh, sw, dh, dw]} ${data} ${channelsLast}`;
          expect(firstDiff(go, wo), where).toBe(-1);
          expect(firstDiff(gi, wi), where).toBe(-1);
        }
      }
    }
  });

  it("max unpooling and the channel bias: the unrolled kernels equal the general ones", () => {
    const planes = 3, HW = 20, L = 7;
    // Indices with repeats (overlapping windows send two gradients to one pixel).
    const I = new Float64Array(planes * L).map((_, t) => (t * 7) % 5);
    const G = specials(planes * L + 2, 13);
    const want = new Float32Array(planes * HW), got = new Float32Array(planes * HW);
    compile(maxUnpoolAddReference())(want, G, 2, I, planes, HW, L);
    compile(maxUnpoolAddSource())(got, G, 2, I, planes, HW, L);
    expect(firstDiff(got, want)).toBe(-1);
    for (const Lb of [1, 3, 4, 7, 13]) {
      const O1 = specials(2 * 3 * Lb, 17), O2 = O1.slice();
      const B = specials(8, 19);
      compile(channelBiasReference())(O1, B, 1, 2, 2, 3, Lb);
      compile(channelBiasSource())(O2, B, 1, 2, 2, 3, Lb);
      expect(firstDiff(O2, O1), `L=${Lb}`).toBe(-1);
    }
  });
});

describe("outputs written in full (NaN-poisoned storage)", () => {
  afterEach(() => {
    outputDebug.poison = false;
  });

  it("a CNN training step gives the same numbers when its outputs start as NaN", () => {
    const step = () => {
      torch.manualSeed(0);
      const model = nn.Sequential(
        nn.Conv2d(1, 8, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, { stride: 2, padding: 1 }), nn.ReLU(), nn.MaxPool2d(2, 1),
        nn.Flatten(), nn.Linear(16 * 6 * 6, 10),
      ) as unknown as ((x: AnyTensor) => AnyTensor) & { parameters(): Iterable<AnyTensor> };
      const opt = optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      const x = torch.rand([4, 1, 28, 28]) as AnyTensor;
      const y = torch.tensor([1, 2, 3, 4], { dtype: "int64" }) as AnyTensor;
      const lossFn = nn.CrossEntropyLoss() as unknown as (a: AnyTensor, b: AnyTensor) => AnyTensor;
      const losses: number[] = [];
      for (let s = 0; s < 2; s++) {
        opt.zeroGrad();
        const loss = lossFn(model(x), y);
        loss.backward();
        opt.step();
        losses.push(loss.item() as number);
      }
      return [...losses, ...[...model.parameters()].flatMap(values)];
    };
    const clean = step();
    outputDebug.poison = true;
    const poisoned = step();
    expect(clean.every(Number.isFinite)).toBe(true);
    expect(firstDiff(poisoned, clean)).toBe(-1);
  });
});

describe("matmul gradients in the operand's layout", () => {
  // The gradient of a column-major operand (Linear's W.t()) comes from the transposed product, so
  // the source tensor's gradient is contiguous; it must equal the direct product bit for bit.
  const rand = (shape: number[], seed: number) => {
    torch.manualSeed(seed);
    return torch.randn(shape);
  };
  for (const [m, k, n] of [[5, 7, 3], [64, 200, 40], [3, 40, 130]] as const) {
    it(`x·Wᵀ and Wᵀ·x, ${m}×${k}×${n}: contiguous gradients equal to gᵀ·x and W·gᵀ`, () => {
      const x = rand([m, k], 3);
      const w = rand([n, k], 5).requiresGrad_();
      const g = rand([m, n], 7);
      const out = x.matmul(w.t());
      // the gradient for Wᵀ [k, n] is column-major, so W's own is contiguous
      const gwt = out.gradFn!.backward(g)[1]!;
      expect(gwt._strides).toEqual([1, k]);
      out.backward(g, { retainGraph: true });
      out.backward(g); // accumulated in place
      expect(firstDiff(values(w.grad!), values(g.t().matmul(x).mul(2)))).toBe(-1);
      // column-major first operand: (Wᵀ)·y with W [k, m]
      const w2 = rand([k, m], 9).requiresGrad_();
      const y = rand([k, n], 11);
      const g2 = rand([m, n], 13);
      const out2 = w2.t().matmul(y);
      expect(out2.gradFn!.backward(g2)[0]!._strides).toEqual([1, m]);
      out2.backward(g2);
      expect(firstDiff(values(w2.grad!), values(y.matmul(g2.t())))).toBe(-1);
    });
  }
  it("batched: a broadcast column-major operand's gradient is summed over the batch", () => {
    const x = rand([4, 6, 9], 2);
    const w = rand([5, 9], 4).requiresGrad_();
    const g = rand([4, 6, 5], 6);
    const out = x.matmul(w.t());
    expect(out.gradFn!.backward(g)[1]!._strides).toEqual([1, 9]);
    out.backward(g);
    const direct = g.transpose(1, 2).matmul(x).sum(0);
    expect(Math.max(...values(w.grad!).map((v, i) => Math.abs(v - values(direct)[i]!)))).toBeLessThan(1e-4);
  });
});
