/**
 * conv2d, maxPool2d, avgPool2d, adaptiveAvgPool2d, batchNorm and dropout
 * (`runtime/nn/functionalConv.ts`):
 * - against PyTorch 1.13 (`test/fixtures/conv.json`, written by `test/fixtures/gen_conv.py`):
 *   forward outputs, max-pool indices, running statistics after a step, dropout masks after the
 *   same seed, and the gradients of `sum(out · r)` — float32 to rel 1e-5;
 * - float64 finite-difference gradchecks of every op (and of the adjoint kernel ops) on tiny sizes;
 * - the run-time error messages, and the compile-time shapes and messages (TypeScript 7 and 6).
 */
import { describe, expect, it } from "vitest";
import { type DType, DTypeError, ShapeError, type Tensor, torch, ValueError } from "typetorch";
import { col2imOp, type ConvGeom, conv2dPlan, im2colOp } from "../../runtime/ops/conv.js";
import { maxPool2dOp, maxUnpoolAddOp, pool2dPlan, windowAvgAdjointOp, windowAvgOp, type Windows } from "../../runtime/ops/pool.js";
import * as F from "../../runtime/nn/functionalConv.js";
import { checkFixtures } from "../types/runner.js";
import { decodeValue, fromJSON, type TensorJSON } from "../ops.cases.js";
import { readFileSync } from "node:fs";
import { gradientMismatches, mulberry } from "../gradcheck.js";

type AnyTensor = Tensor<readonly number[], DType>;
type Inputs = Record<string, AnyTensor | null>;

interface ConvCase {
  id: string;
  op: "conv2d" | "maxPool2d" | "avgPool2d" | "adaptiveAvgPool2d" | "batchNorm" | "dropout";
  inputs: Record<string, TensorJSON | null>;
  args: Record<string, any>;
  out: TensorJSON;
  indices?: TensorJSON;
  r?: TensorJSON;
  grads?: Record<string, TensorJSON>;
  runningMeanAfter?: TensorJSON;
  runningVarAfter?: TensorJSON;
}

const fixtures = JSON.parse(readFileSync(new URL("../fixtures/conv.json", import.meta.url), "utf8")) as {
  torch: string;
  cases: ConvCase[];
  errors: { id: string; op: string; torchError: string }[];
};

/** Each op of the fixtures through the public functional API. */
const RUN: Record<ConvCase["op"], (i: Inputs, a: Record<string, any>) => AnyTensor | [AnyTensor, AnyTensor]> = {
  conv2d: (i, a) => F.conv2d(i.input as never, i.weight as never, i.bias as never, a),
  maxPool2d: (i, a) => F.maxPool2d(i.input as never, a.kernelSize, a.stride, { ...a, returnIndices: true }) as never,
  avgPool2d: (i, a) => F.avgPool2d(i.input as never, a.kernelSize, a.stride, a),
  adaptiveAvgPool2d: (i, a) => F.adaptiveAvgPool2d(i.input as never, a.outputSize),
  batchNorm: (i, a) => F.batchNorm(i.input as never, i.runningMean as never, i.runningVar as never, i.weight as never, i.bias as never, a),
  dropout: (i, a) => {
    torch.manualSeed(a.seed);
    return F.dropout(i.input as never, a);
  },
};

const TOL = { float32: { rel: 1e-5, abs: 1e-6 }, float64: { rel: 1e-12, abs: 1e-12 } } as const;

/** The first element where `got` differs from the fixture beyond tolerance (scaled by the tensor's size). */
function mismatch(got: AnyTensor, want: TensorJSON): string | undefined {
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) return `shape ${JSON.stringify(got.shape)} != ${JSON.stringify(want.shape)}`;
  if (got.dtype !== want.dtype) return `dtype ${got.dtype} != ${want.dtype}`;
  const g = Array.from(got.data() as ArrayLike<number>);
  const w = want.data.map(decodeValue);
  if (want.dtype === "int64") return g.every((v, k) => v === w[k]) ? undefined : `indices ${g.join(",")} != ${w.join(",")}`;
  const tol = TOL[want.dtype as "float32" | "float64"];
  // Sums of many products round differently in another summation order: the absolute part of the
  // tolerance scales with the largest magnitude of the result.
  const scale = Math.max(1, ...w.filter(Number.isFinite).map(Math.abs));
  for (let k = 0; k < w.length; k++) {
    const a = g[k]!;
    const b = w[k]!;
    if (Number.isNaN(b) ? !Number.isNaN(a) : Math.abs(a - b) > tol.abs * scale + tol.rel * Math.abs(b)) return `element ${k}: got ${a}, want ${b}`;
  }
  return undefined;
}

describe("conv.json fixtures (PyTorch 1.13)", () => {
  it("come from PyTorch 1.13 and cover every op", () => {
    expect(fixtures.torch.startsWith("1.13")).toBe(true);
    expect(new Set(fixtures.cases.map((c) => c.op))).toEqual(new Set(Object.keys(RUN)));
  });

  it.each(fixtures.cases.map((c) => [`${c.op}: ${c.id}`, c] as const))("%s", (_id, c) => {
    const grads = Object.keys(c.grads ?? {});
    const ins: Inputs = {};
    for (const [k, t] of Object.entries(c.inputs)) {
      ins[k] = t ? fromJSON(t) : null;
      if (t && grads.includes(k)) ins[k]!.requiresGrad_();
    }
    const res = RUN[c.op](ins, c.args);
    const out = Array.isArray(res) ? res[0] : res;
    expect(mismatch(out, c.out), "out").toBeUndefined();
    if (c.indices) expect(mismatch((res as AnyTensor[])[1]!, c.indices), "indices").toBeUndefined();
    if (c.runningMeanAfter) expect(mismatch(ins.runningMean!, c.runningMeanAfter), "runningMean after").toBeUndefined();
    if (c.runningVarAfter) expect(mismatch(ins.runningVar!, c.runningVarAfter), "runningVar after").toBeUndefined();
    if (c.r && grads.length > 0) {
      out.mul(fromJSON(c.r) as never).sum().backward();
      for (const k of grads) expect(mismatch(ins[k]!.grad as AnyTensor, c.grads![k]!), `grad of ${k}`).toBeUndefined();
    }
  });

  it("strided (non-contiguous) inputs and weights give the same results as contiguous ones", () => {
    torch.manualSeed(3);
    const xt = torch.randn(2, 3, 7, 6).transpose(2, 3); // [2, 3, 6, 7], not contiguous
    const xc = xt.contiguous();
    const wt = torch.randn(4, 3, 2, 3).transpose(2, 3); // [4, 3, 3, 2]
    const same = (a: AnyTensor, b: AnyTensor) => expect(Array.from(a.data() as Float32Array)).toEqual(Array.from(b.data() as Float32Array));
    same(F.conv2d(xt, wt, null, { padding: 1, stride: 2 }), F.conv2d(xc, wt.contiguous(), null, { padding: 1, stride: 2 }));
    const w1 = torch.randn(2, 3, 1, 1); // 1×1: im2col for the strided input, the direct path for the contiguous one
    same(F.conv2d(xt, w1), F.conv2d(xc, w1));
    same(F.maxPool2d(xt, 3, 2, { padding: 1 }), F.maxPool2d(xc, 3, 2, { padding: 1 }));
    same(F.avgPool2d(xt, 2, 1), F.avgPool2d(xc, 2, 1));
    same(F.adaptiveAvgPool2d(xt.index(0), [2, 3]), F.adaptiveAvgPool2d(xc.index(0), [2, 3]));
  });

  it("dropout masks equal PyTorch's after the same seed", () => {
    for (const c of fixtures.cases.filter((k) => k.op === "dropout" && k.args.p > 0 && k.args.p < 1 && k.args.training)) {
      const x = fromJSON(c.inputs.input!);
      torch.manualSeed(c.args.seed);
      const got = F.dropout(x as never, c.args).data() as ArrayLike<number>;
      const want = c.out.data.map(decodeValue);
      for (let k = 0; k < want.length; k++) expect(got[k] === 0, `${c.id}: element ${k} dropped`).toBe(want[k] === 0);
    }
  });
});

describe("errors", () => {
  const z = (...s: number[]) => torch.zeros(s) as unknown as AnyTensor;
  const cases: [string, () => unknown, new (m: string) => Error, string][] = [
    ["conv2d rank", () => F.conv2d(z(3, 32) as never, z(4, 3, 3, 3) as never), ShapeError, "conv2d: input must have 4 dims [N, C, H, W] (or 3 unbatched), got [3, 32]"],
    ["conv2d channels", () => F.conv2d(z(4, 1, 28, 28) as never, z(16, 3, 3, 3) as never), ShapeError, "conv2d: weight expects 3 input channels, got input [4, 1, 28, 28]"],
    ["conv2d kernel too big", () => F.conv2d(z(1, 3, 2, 2) as never, z(4, 3, 3, 3) as never), ShapeError, "conv2d: kernel (with dilation) must fit the padded input, got kernel 3 and padded input 2"],
    ["conv2d same strided", () => F.conv2d(z(1, 3, 5, 5) as never, z(4, 3, 3, 3) as never, null, { padding: "same", stride: 2 }), ValueError, 'conv2d: padding "same" needs stride 1'],
    ["conv2d groups", () => F.conv2d(z(1, 4, 5, 5) as never, z(3, 2, 3, 3) as never, null, { groups: 2 }), ShapeError, "conv2d: out channels (weight dim 0) must be divisible by groups, got 3 and groups=2"],
    ["conv2d weight rank", () => F.conv2d(z(1, 3, 5, 5) as never, z(4, 3, 3) as never), ShapeError, "conv2d: weight must have 4 dims [O, C/groups, kH, kW], got [4, 3, 3]"],
    ["conv2d bias", () => F.conv2d(z(1, 3, 5, 5) as never, z(4, 3, 3, 3) as never, z(3) as never), ShapeError, "conv2d: bias must have shape [4] (one per output channel), got [3]"],
    ["conv2d int input", () => F.conv2d(torch.zeros([1, 3, 5, 5], { dtype: "int64" }) as never, z(4, 3, 3, 3) as never), DTypeError, "conv2d: input must be float32 or float64, got dtype int64"],
    ["conv2d mixed dtypes", () => F.conv2d(z(1, 3, 5, 5) as never, torch.zeros([4, 3, 3, 3], { dtype: "float64" }) as never), DTypeError, "conv2d: weight must have the input's dtype float32, got dtype float64"],
    ["conv2d stride 0", () => F.conv2d(z(1, 3, 5, 5) as never, z(4, 3, 3, 3) as never, null, { stride: 0 }), ValueError, "conv2d: stride must be >= 1, got 0"],
    ["conv2d padding fraction", () => F.conv2d(z(1, 3, 5, 5) as never, z(4, 3, 3, 3) as never, null, { padding: 0.5 }), ValueError, "conv2d: padding must be an integer or a pair of integers, got 0.5"],
    ["maxPool2d negative padding", () => F.maxPool2d(z(1, 1, 4, 4) as never, 2, 2, { padding: [0, -1] }), ValueError, "maxPool2d: padding must be >= 0, got -1"],
    ["maxPool2d rank", () => F.maxPool2d(z(5, 5) as never, 2), ShapeError, "maxPool2d: input must have 4 dims [N, C, H, W] (or 3 unbatched), got [5, 5]"],
    ["maxPool2d padding too big", () => F.maxPool2d(z(1, 1, 5, 5) as never, 2, null, { padding: 2 }), ValueError, "maxPool2d: padding must be at most half the kernel size, got padding [2, 2] for kernel [2, 2]"],
    ["maxPool2d kernel too big", () => F.maxPool2d(z(1, 1, 3, 3) as never, 4), ShapeError, "maxPool2d: kernel (with dilation) must fit the padded input, got kernel 4 and padded input 3"],
    ["maxPool2d int input", () => F.maxPool2d(torch.zeros([1, 1, 4, 4], { dtype: "int32" }) as never, 2), DTypeError, "maxPool2d: input must be float32 or float64, got dtype int32"],
    ["avgPool2d divisorOverride 0", () => F.avgPool2d(z(1, 1, 4, 4) as never, 2, null, { divisorOverride: 0 }), ValueError, "avgPool2d: divisorOverride must be a non-zero integer, got 0"],
    ["adaptiveAvgPool2d size", () => F.adaptiveAvgPool2d(z(1, 1, 4, 4) as never, 0), ValueError, "adaptiveAvgPool2d: outputSize must be a positive integer"],
    ["batchNorm one value per channel", () => F.batchNorm(z(1, 3) as never, null, null, null, null, { training: true }), ValueError, "batchNorm: expected more than 1 value per channel when training, got input size [1, 3]"],
    ["batchNorm param shape", () => F.batchNorm(z(2, 3) as never, z(4) as never, z(3) as never), ShapeError, "batchNorm: runningMean must have shape [3] (one per channel of input [2, 3]), got [4]"],
    ["batchNorm eval without stats", () => F.batchNorm(z(2, 3) as never, null, null), ValueError, "batchNorm: runningMean and runningVar are required when not training"],
    ["dropout p", () => F.dropout(z(3) as never, { p: 1.5 }), ValueError, "dropout: p must be in [0, 1], got 1.5"],
    ["dropout int", () => F.dropout(torch.zeros([3], { dtype: "int64" }) as never), DTypeError, "dropout: input must be float32 or float64, got dtype int64"],
  ];
  it.each(cases)("%s", (_id, f, cls, msg) => {
    expect(f).toThrow(cls);
    expect(f).toThrow(msg);
  });

  it("covers every error case PyTorch raises in the fixtures", () => {
    const ids = new Set(cases.map((c) => c[0]));
    for (const e of fixtures.errors) expect(ids.has(e.id), e.id).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// float64 finite-difference gradchecks
// ---------------------------------------------------------------------------------------------

let seed = 1;
function t64(...shape: number[]): AnyTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return torch.tensor(mulberry(n, seed++), { dtype: "float64" }).reshape(shape) as unknown as AnyTensor;
}

/** Checks the analytic gradient of `Σ f(xs) · w` against central differences, for every input. */
function gradcheck(f: (xs: AnyTensor[]) => AnyTensor, xs: AnyTensor[]): void {
  expect(gradientMismatches(f, xs, { seed: 999, eps: 1e-6, agree: (a, n) => Math.abs(a - n) < 1e-6 + 1e-5 * Math.abs(n) })).toEqual([]);
}

describe("float64 gradcheck (finite differences)", () => {
  const convs: [string, number[], number[], F.Conv2dOptions][] = [
    ["plain", [2, 2, 4, 4], [3, 2, 2, 2], {}],
    ["stride 2 padding 1", [1, 2, 5, 4], [2, 2, 3, 3], { stride: 2, padding: 1 }],
    ["dilation 2 groups 2", [1, 4, 5, 5], [2, 2, 2, 2], { dilation: 2, groups: 2 }],
    ["same, even kernel", [1, 1, 4, 3], [2, 1, 2, 2], { padding: "same" }],
    ["1x1", [2, 3, 2, 2], [2, 3, 1, 1], {}],
  ];
  it.each(convs)("conv2d %s", (_id, xs, ws, opts) => {
    gradcheck(([x, w, b]) => F.conv2d(x as never, w as never, b as never, opts), [t64(...xs), t64(...ws), t64(ws[0]!)]);
  });
  it("conv2d unbatched", () => gradcheck(([x, w]) => F.conv2d(x as never, w as never, null, { padding: 1 }), [t64(2, 3, 3), t64(2, 2, 2, 2)]));
  it("maxPool2d (padding, dilation, ceilMode)", () => {
    gradcheck(([x]) => F.maxPool2d(x as never, 2, 2, { padding: 1, dilation: [1, 2], ceilMode: true }), [t64(1, 2, 5, 5)]);
  });
  it("avgPool2d (padding, ceilMode, countIncludePad false)", () => {
    gradcheck(([x]) => F.avgPool2d(x as never, 3, 2, { padding: 1, ceilMode: true, countIncludePad: false }), [t64(1, 2, 6, 5)]);
  });
  it("avgPool2d divisorOverride, unbatched", () => gradcheck(([x]) => F.avgPool2d(x as never, [2, 3], 1, { divisorOverride: 4 }), [t64(2, 4, 4)]));
  it("adaptiveAvgPool2d", () => gradcheck(([x]) => F.adaptiveAvgPool2d(x as never, [3, 2]), [t64(1, 2, 5, 4)]));
  it("batchNorm train", () => {
    gradcheck(([x, w, b]) => F.batchNorm(x as never, null, null, w as never, b as never, { training: true }), [t64(3, 2, 2, 2), t64(2), t64(2)]);
  });
  it("batchNorm eval", () => {
    const rm = t64(3);
    const rv = torch.ones([3], { dtype: "float64" }).add(0.5) as unknown as AnyTensor;
    gradcheck(([x, w, b]) => F.batchNorm(x as never, rm as never, rv as never, w as never, b as never), [t64(4, 3), t64(3), t64(3)]);
  });
  it("dropout (the mask is fixed by the seed)", () => {
    gradcheck(([x]) => {
      torch.manualSeed(7);
      return F.dropout(x as never, { p: 0.4 });
    }, [t64(3, 4)]);
  });

  // The backward kernel ops are adjoints of the forward ones: <A x, y> = <x, Aᵀ y>, and each
  // one's recorded backward (so a gradient through a gradient) is the other.
  const geom: ConvGeom = conv2dPlan([2, 2, 5, 4], [3, 2, 3, 2], { stride: [2, 1], padding: [1, 0], dilation: [1, 2] });
  const dot = (a: AnyTensor, b: AnyTensor) => a.mul(b as never).sum().item() as number;
  it("im2col and col2im are adjoint, and each other's backward", () => {
    const x = t64(2, 2, 5, 4);
    const y = t64(2, 2 * 3 * 2, geom.Ho * geom.Wo);
    expect(dot(im2colOp(x, geom), y)).toBeCloseTo(dot(x, col2imOp(y, geom)), 12);
    gradcheck(([a]) => im2colOp(a!, geom), [x]);
    gradcheck(([a]) => col2imOp(a!, geom), [y]);
  });
  it("max-pool scatter and window-average adjoints are gradient-checked", () => {
    const x = t64(1, 2, 5, 5);
    const plan = pool2dPlan("maxPool2d", x.shape, 3, 2, { padding: 1 });
    const [, idx] = maxPool2dOp(x, 3, 2, { padding: 1 });
    gradcheck(([g]) => maxUnpoolAddOp(g!, idx, plan), [t64(1, 2, plan.Ho, plan.Wo)]);
    const win: Windows = {
      N: 1, C: 2, H: 5, W: 5, Ho: 2, Wo: 2,
      hs: Int32Array.from([0, 2]), he: Int32Array.from([3, 5]), ws: Int32Array.from([0, 1]), we: Int32Array.from([2, 5]), dv: Float64Array.from([9, 6, 7, 4]),
    };
    const g = t64(1, 2, 2, 2);
    expect(dot(windowAvgOp(x, win, "t"), g)).toBeCloseTo(dot(x, windowAvgAdjointOp(g, win)), 12);
    gradcheck(([a]) => windowAvgAdjointOp(a!, win), [g]);
  });
});

// ---------------------------------------------------------------------------------------------
// a small CNN trains
// ---------------------------------------------------------------------------------------------

describe("a small MNIST-shaped CNN", () => {
  it("trains: conv → relu → pool → conv → bn → relu → pool → dropout → linear, loss falls", () => {
    torch.manualSeed(0);
    const B = 16;
    const p = {
      w1: torch.randn(8, 1, 3, 3).mul(0.3).requiresGrad_(),
      b1: torch.zeros(8).requiresGrad_(),
      w2: torch.randn(8, 8, 3, 3).mul(0.1).requiresGrad_(),
      g2: torch.ones(8).requiresGrad_(),
      c2: torch.zeros(8).requiresGrad_(),
      w3: torch.randn(8 * 5 * 5, 10).mul(0.05).requiresGrad_(),
    };
    const rm = torch.zeros(8);
    const rv = torch.ones(8);
    const x = torch.rand(B, 1, 28, 28);
    const y = torch.randint(0, 10, [B, 1]);
    const loss = () => {
      const h1 = F.maxPool2d(F.conv2d(x, p.w1, p.b1).relu(), 2);
      const h2 = F.maxPool2d(F.batchNorm(F.conv2d(h1, p.w2), rm, rv, p.g2, p.c2, { training: true }).relu(), 2);
      const h = F.dropout(h2, { p: 0.1 }).flatten(1);
      return h.matmul(p.w3).logSoftmax(1).gather(1, y).mean().neg();
    };
    const first = loss().item();
    let last = first;
    for (let i = 0; i < 15; i++) {
      const l = loss();
      l.backward();
      torch.noGrad(() => {
        for (const t of Object.values(p)) {
          (t as unknown as AnyTensor).sub_(t.grad!.mul(0.1));
          t.grad = null;
        }
      });
      last = l.item();
    }
    expect(last).toBeLessThan(first * 0.7);
    expect(rm.abs().sum().item()).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// compile-time shapes and messages
// ---------------------------------------------------------------------------------------------

const TYPE_FIXTURE = `
import { torch, type Tensor } from "../../runtime/index.js";
import { adaptiveAvgPool2d, avgPool2d, batchNorm, conv2d, dropout, maxPool2d } from "../../runtime/nn/functionalConv.js";
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

const x = torch.randn(4, 3, 32, 32);
const w = torch.randn(16, 3, 3, 3);
const b = torch.zeros(16);
const y1 = conv2d(x, w, b, { padding: 1 });
type _1 = Expect<Equal<typeof y1, Tensor<[4, 16, 32, 32], "float32">>>;
const y2 = conv2d(x, w, b, { stride: 2 });
type _2 = Expect<Equal<typeof y2, Tensor<[4, 16, 15, 15], "float32">>>;
const y3 = conv2d(x, w);
type _3 = Expect<Equal<typeof y3, Tensor<[4, 16, 30, 30], "float32">>>;
const y4 = conv2d(x, torch.randn(8, 1, 5, 5), null, { groups: 3, padding: "same", dilation: 2 });
type _4 = Expect<Equal<typeof y4, Tensor<[4, 8, 32, 32], "float32">>>;
const y5 = conv2d(torch.randn(3, 9, 9), w, null, { stride: [2, 1], padding: [0, 1] });
type _5 = Expect<Equal<typeof y5, Tensor<[16, 4, 9], "float32">>>;
const y6 = conv2d(torch.randn([4, 3, 32, 32] as number[]), w);
type _6 = Expect<Equal<typeof y6, Tensor<number[], "float32">>>;

function cnn<B extends number>(xb: Tensor<[B, 1, 28, 28]>) {
  const h1 = maxPool2d(conv2d(xb, torch.randn(16, 1, 3, 3)).relu(), 2);
  type _h1 = Expect<Equal<typeof h1, Tensor<[B, 16, 13, 13], "float32">>>;
  const h2 = maxPool2d(conv2d(h1, torch.randn(32, 16, 3, 3)).relu(), 2);
  type _h2 = Expect<Equal<typeof h2, Tensor<[B, 32, 5, 5], "float32">>>;
  return h2;
}

const p1 = maxPool2d(y3, 2);
type _7 = Expect<Equal<typeof p1, Tensor<[4, 16, 15, 15], "float32">>>;
const [p2, i2] = maxPool2d(torch.randn(2, 3, 5, 5), 2, 2, { ceilMode: true, returnIndices: true });
type _8 = Expect<Equal<typeof p2, Tensor<[2, 3, 3, 3], "float32">>>;
type _9 = Expect<Equal<typeof i2, Tensor<[2, 3, 3, 3], "int64">>>;
const a1 = avgPool2d(torch.randn(2, 3, 7, 7), 3, 2, { padding: 1 });
type _10 = Expect<Equal<typeof a1, Tensor<[2, 3, 4, 4], "float32">>>;
const a2 = adaptiveAvgPool2d(torch.randn(2, 3, 7, 7), [1, null]);
type _11 = Expect<Equal<typeof a2, Tensor<[2, 3, 1, 7], "float32">>>;
const bn = batchNorm(y1, torch.zeros(16), torch.ones(16));
type _12 = Expect<Equal<typeof bn, Tensor<[4, 16, 32, 32], "float32">>>;
const d = dropout(bn, { p: 0.2 });
type _13 = Expect<Equal<typeof d, Tensor<[4, 16, 32, 32], "float32">>>;

// @ts-expect-error conv2d: weight expects 3 input channels, got input [4, 1, 28, 28]
conv2d(torch.randn(4, 1, 28, 28), w);
// @ts-expect-error conv2d: input must have 4 dims [N, C, H, W] (or 3 unbatched), got [3, 32]
conv2d(torch.randn(3, 32), w);
// @ts-expect-error conv2d: kernel (with dilation) must fit the padded input, got kernel 3 and padded input 2
conv2d(torch.randn(1, 3, 2, 2), w);
// @ts-expect-error conv2d: weight expects 6 input channels, got input [2, 4, 8, 8]
conv2d(torch.randn(2, 4, 8, 8), torch.randn(6, 2, 3, 3), null, { groups: 3 });
// @ts-expect-error conv2d: stride must be >= 1, got 0
conv2d(x, w, null, { stride: 0 });
// @ts-expect-error maxPool2d: kernel (with dilation) must fit the padded input, got kernel 7 and padded input 5
maxPool2d(torch.randn(2, 3, 5, 5), 7);
`;

describe("types (TypeScript 7)", () => {
  const file = "test/nn/conv.types.fixture.ts";
  it.each(["ts7"] as const)("output shapes and messages under %s", (compiler) => {
    const r = checkFixtures([{ file, text: TYPE_FIXTURE }], compiler);
    expect(r.expectations).toBe(6);
    // Only this fixture's own diagnostics: errors elsewhere in the project are other tests' business.
    expect(r.byFile[file] ?? []).toEqual([]);
  });
});
