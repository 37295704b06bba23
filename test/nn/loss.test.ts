/**
 * The functional losses (runtime/nn/loss.ts) against PyTorch 1.13 (test/fixtures/loss.json):
 * forward values and input gradients for every loss × reduction × option, in float32 and float64;
 * a float64 finite-difference gradcheck of every differentiable case; every error case (class and
 * exact message, the same text the type-level rules put in tsc's output); stability for huge
 * logits; NaN/Inf propagation.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DTypeError, IndexError, ShapeError, type Tensor, torch, ValueError } from "typetorch";
import type { DType } from "../../runtime/dtype.js";
import * as F from "../../runtime/nn/loss.js";
import type { ClassTargetMsg, ClassWeightMsg, FloatTensorMsg, IndexDTypeMsg, ProbDTypeMsg, ProbShapeMsg, SameDTypeMsg, SameShapeMsg } from "../../types/loss.js";
import { classTargetMsg, classWeightMsg, sameShapeMsg } from "../../types/loss.js";

type AnyTensor = Tensor<readonly number[], DType>;
type JsonValue = number | "nan" | "inf" | "-inf";
interface TensorJSON {
  shape: number[];
  dtype: DType;
  data: JsonValue[];
}
type FnName = "mseLoss" | "l1Loss" | "smoothL1Loss" | "huberLoss" | "bceLoss" | "bceWithLogits" | "nllLoss" | "crossEntropy";
interface Inputs {
  input: TensorJSON;
  target: TensorJSON;
  weight?: TensorJSON;
  posWeight?: TensorJSON;
}
interface LossCase {
  id: string;
  fn: FnName;
  inputs: Inputs;
  options: Record<string, number | string>;
  out: TensorJSON;
  gradOutput?: TensorJSON;
  grad?: TensorJSON;
}
interface ErrorCase {
  id: string;
  fn: FnName;
  inputs: Inputs;
  options: Record<string, number | string>;
  torchError: string | null;
  error: { kind: "ShapeError" | "DTypeError" | "ValueError" | "IndexError"; message: string };
}

const fixtures = JSON.parse(readFileSync(new URL("../fixtures/loss.json", import.meta.url), "utf8")) as {
  torch: string;
  cases: LossCase[];
  errors: ErrorCase[];
};

function decode(v: JsonValue): number {
  return v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v;
}

function fromJSON(t: TensorJSON, requiresGrad = false): AnyTensor {
  const x = torch.tensor(t.data.map(decode), { dtype: t.dtype }).reshape(t.shape) as unknown as AnyTensor;
  return requiresGrad ? x.requiresGrad_() : x;
}

// The functions with their type-level checks erased: the fixtures' shapes are only known at run time.
const FNS = F as unknown as Record<FnName, (input: AnyTensor, target: AnyTensor, options?: object) => AnyTensor>;

function call(fn: FnName, input: AnyTensor, ins: Inputs, options: Record<string, number | string>): AnyTensor {
  const opts: Record<string, unknown> = { ...options };
  if (ins.weight) opts["weight"] = fromJSON(ins.weight);
  if (ins.posWeight) opts["posWeight"] = fromJSON(ins.posWeight);
  return FNS[fn](input, fromJSON(ins.target), opts);
}

const TOL = { float32: { rel: 1e-5, abs: 1e-6 }, float64: { rel: 1e-10, abs: 1e-12 } } as const;

function close(got: number, want: number, tol: { rel: number; abs: number }): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Number.isFinite(got) && Math.abs(got - want) <= tol.abs + tol.rel * Math.abs(want);
}

/** The first difference between a result and its fixture, or undefined. */
function mismatch(got: AnyTensor, want: TensorJSON): string | undefined {
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) return `shape ${JSON.stringify(got.shape)} != ${JSON.stringify(want.shape)}`;
  if (got.dtype !== want.dtype) return `dtype ${got.dtype} != ${want.dtype}`;
  const tol = TOL[want.dtype as "float32" | "float64"];
  const data = Array.from(got.data() as ArrayLike<number>);
  for (let i = 0; i < data.length; i++) {
    const w = decode(want.data[i]!);
    if (!close(data[i]!, w, tol)) return `element ${i}: got ${data[i]}, want ${w} (got ${data.join(", ")}; want ${want.data.map(decode).join(", ")})`;
  }
  return undefined;
}

describe("loss.json", () => {
  it("comes from PyTorch 1.13 and covers every loss, reduction and dtype", () => {
    expect(fixtures.torch.startsWith("1.13")).toBe(true);
    const fns = new Set(fixtures.cases.map((c) => c.fn));
    expect([...fns].sort()).toEqual(Object.keys(F).filter((k) => typeof (F as Record<string, unknown>)[k] === "function").sort());
    for (const fn of fns) {
      for (const suffix of ["mean/float32", "sum/float32", "none/float32", "mean/float64", "sum/float64", "none/float64"]) {
        expect(fixtures.cases.some((c) => c.fn === fn && c.id.endsWith(suffix)), `${fn} ${suffix}`).toBe(true);
      }
    }
  });
});

describe("forward and gradient vs PyTorch", () => {
  it.each(fixtures.cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const x = fromJSON(c.inputs.input, c.grad !== undefined);
    const out = call(c.fn, x, c.inputs, c.options);
    expect(mismatch(out, c.out), "forward").toBeUndefined();
    if (!c.grad) return;
    if (c.gradOutput) out.backward(fromJSON(c.gradOutput));
    else out.backward();
    expect(x.grad, "input.grad").not.toBeNull();
    expect(mismatch(x.grad as AnyTensor, c.grad), "gradient").toBeUndefined();
  });
});

describe("the seed example", () => {
  it("crossEntropy of the 4×3 logits and labels [0, 1, 2, 2] is PyTorch's value", () => {
    const want = fixtures.cases.find((c) => c.id === "crossEntropy/seed/mean/float32")!;
    const logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.2, 3.1], [0.3, 0.1, 2.2]], { dtype: "float32" });
    const loss = F.crossEntropy(logits, torch.tensor([0, 1, 2, 2]));
    const typed: Tensor<[], "float32"> = loss;
    expect(typed.item()).toBeCloseTo(decode(want.out.data[0]!), 6);
  });
});

// -------------------------------------------------------------------------------------------------
// finite differences (float64)

const EPS = 1e-6;

function scalarLoss(c: LossCase, x: AnyTensor): number {
  const out = call(c.fn, x, c.inputs, c.options);
  const d = out.data() as Float64Array;
  if (!c.gradOutput) return d[0]!;
  const g = c.gradOutput.data.map(decode);
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]! * g[i]!;
  return s;
}

describe("finite-difference gradcheck (float64)", () => {
  const cases = fixtures.cases.filter((c) => c.grad && c.id.endsWith("/float64") && c.out.data.every((v) => typeof v === "number"));
  it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const x = fromJSON(c.inputs.input, true);
    const out = call(c.fn, x, c.inputs, c.options);
    if (c.gradOutput) out.backward(fromJSON(c.gradOutput));
    else out.backward();
    const analytic = Array.from((x.grad as AnyTensor).data() as Float64Array);
    const base = c.inputs.input.data.map(decode);
    const at = (j: number, h: number): number => {
      const v = base.slice();
      v[j] = v[j]! + h;
      return scalarLoss(c, fromJSON({ ...c.inputs.input, data: v }));
    };
    const scale = Math.max(1, Math.abs(scalarLoss(c, fromJSON(c.inputs.input))));
    for (let j = 0; j < base.length; j++) {
      const h = EPS * Math.max(1, Math.abs(base[j]!));
      const numeric = (at(j, h) - at(j, -h)) / (2 * h);
      const ok = Math.abs(numeric - analytic[j]!) <= 1e-7 * scale + 1e-5 * Math.abs(numeric);
      expect(ok, `element ${j}: analytic ${analytic[j]}, numeric ${numeric}`).toBe(true);
    }
  });
});

// -------------------------------------------------------------------------------------------------
// errors

const KINDS = { ShapeError, DTypeError, ValueError, IndexError } as const;

describe("errors", () => {
  it.each(fixtures.errors.map((e) => [e.id, e] as const))("%s", (_id, e) => {
    let thrown: unknown;
    try {
      call(e.fn, fromJSON(e.inputs.input), e.inputs, e.options);
    } catch (err) {
      thrown = err;
    }
    expect(thrown, `expected ${e.error.kind}: ${e.error.message}`).toBeInstanceOf(KINDS[e.error.kind]);
    expect((thrown as Error).name).toBe(e.error.kind);
    expect((thrown as Error).message).toBe(e.error.message);
  });

  it("uses the type-level messages (the types below are checked by tsc)", () => {
    // Each constant is typed with the type-level message: tsc rejects it if the texts drift apart.
    const msgs: [string, string][] = [
      [sameShapeMsg("mseLoss", "[4, 3]", "[4, 1]"), "mseLoss/shape"],
      [classTargetMsg("crossEntropy", "[N] = [4] class indices", "[4, 3]", "[5]"), "crossEntropy/batch"],
      [classWeightMsg("crossEntropy", "3", "[4, 3]", "[2]"), "crossEntropy/weight-shape"],
    ];
    const typed: {
      [K in string]:
        | SameShapeMsg<"mseLoss", "[4, 3]", "[4, 1]">
        | ClassTargetMsg<"crossEntropy", "[N] = [4] class indices", "[4, 3]", "[5]">
        | ClassTargetMsg<"crossEntropy", "[N, d1] = [2, 4] class indices", "[2, 3, 4]", "[2, 3]">
        | ClassTargetMsg<"crossEntropy", "a 0-d class index", "[3]", "[1]">
        | IndexDTypeMsg<"crossEntropy", "float32">
        | ProbDTypeMsg<"crossEntropy", "int64">
        | ProbShapeMsg<"crossEntropy", "[4, 3]", "[4, 2]">
        | ClassWeightMsg<"crossEntropy", "3", "[4, 3]", "[2]">
        | SameDTypeMsg<"bceLoss", "target", "float32", "float64">
        | FloatTensorMsg<"mseLoss", "input", "int64">;
    } = {
      "mseLoss/shape": "mseLoss: input and target must have the same shape, got [4, 3] and [4, 1]",
      "crossEntropy/batch": "crossEntropy: target must be [N] = [4] class indices for input [4, 3], got [5]",
      "crossEntropy/kdim": "crossEntropy: target must be [N, d1] = [2, 4] class indices for input [2, 3, 4], got [2, 3]",
      "crossEntropy/unbatched": "crossEntropy: target must be a 0-d class index for input [3], got [1]",
      "crossEntropy/target-float": "crossEntropy: class-index targets must be int64, got float32",
      "crossEntropy/probs-int": "crossEntropy: class-probability targets (the input's shape) must be floating point, got int64",
      "crossEntropy/probs-shape": "crossEntropy: class-probability targets must have the input's shape [4, 3], got [4, 2]",
      "crossEntropy/weight-shape": "crossEntropy: weight must be [C] = [3] for input [4, 3], got [2]",
      "bceLoss/target-dtype": "bceLoss: target must have the input's dtype float32, got float64",
      "mseLoss/int-input": "mseLoss: input must be a floating point tensor, got dtype int64",
    };
    for (const [id, text] of Object.entries(typed)) {
      expect(fixtures.errors.find((e) => e.id === id)?.error.message, id).toBe(text);
    }
    for (const [m, id] of msgs) expect(m).toBe(typed[id]);
  });
});

// -------------------------------------------------------------------------------------------------
// stability and non-finite values

function finite(t: AnyTensor): boolean {
  return Array.from(t.data() as ArrayLike<number>).every(Number.isFinite);
}

describe("stability", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`crossEntropy of huge logits is finite, with finite gradients (${dtype})`, () => {
      for (const scale of [1e4, 1e30]) {
        const logits = torch.tensor([[scale, 0, -scale], [-scale, scale, scale], [scale, scale, scale]], { dtype, requiresGrad: true });
        for (const opts of [{}, { labelSmoothing: 0.1 }, { weight: torch.tensor([0.5, 1, 2], { dtype }) }] as const) {
          logits.grad = null;
          const loss = F.crossEntropy(logits, torch.tensor([2, 0, 1]), opts);
          expect(finite(loss), `${scale} ${JSON.stringify(opts)}: ${loss.toString()}`).toBe(true);
          loss.backward();
          expect(finite(logits.grad!), `${scale}: ${String(logits.grad)}`).toBe(true);
        }
        const probs = F.crossEntropy(logits.detach(), torch.tensor([[0, 0.5, 0.5], [1, 0, 0], [0.2, 0.3, 0.5]], { dtype }));
        expect(finite(probs)).toBe(true);
      }
    });

    it(`bceWithLogits of huge logits is finite, with finite gradients (${dtype})`, () => {
      for (const scale of [1e4, 1e30]) {
        const x = torch.tensor([scale, -scale, scale, -scale, 0], { dtype, requiresGrad: true });
        const y = torch.tensor([1, 1, 0, 0, 0.5], { dtype });
        const loss = F.bceWithLogits(x, y, { posWeight: torch.tensor([2, 2, 2, 2, 2], { dtype }) });
        expect(finite(loss)).toBe(true);
        loss.backward();
        expect(finite(x.grad!)).toBe(true);
      }
    });

    it(`bceLoss at probabilities 0 and 1 is finite (logs clamped at -100), with finite gradients (${dtype})`, () => {
      const p = torch.tensor([0, 1, 0, 1, 1e-45, 0.5], { dtype, requiresGrad: true });
      const loss = F.bceLoss(p, torch.tensor([0, 1, 1, 0, 1, 0.5], { dtype }), { reduction: "none" });
      expect(Array.from(loss.data(), (v) => v + 0).slice(0, 4)).toEqual([0, 0, 100, 100]);
      loss.sum().backward();
      expect(finite(p.grad!)).toBe(true);
    });

    it(`no loss of finite random inputs is NaN (${dtype})`, () => {
      torch.manualSeed(1);
      const x = torch.randn([16, 5], { dtype }).mul(50);
      const y = torch.randn([16, 5], { dtype }).mul(50);
      const labels = torch.randint(0, 5, [16]);
      const p = torch.rand([16, 5], { dtype });
      const outs = [
        F.mseLoss(x, y), F.l1Loss(x, y), F.smoothL1Loss(x, y), F.huberLoss(x, y, { delta: 0.5 }),
        F.bceLoss(p, p.gt(0.5).to(dtype)), F.bceWithLogits(x, p), F.crossEntropy(x, labels, { labelSmoothing: 0.2 }),
        F.nllLoss(x.logSoftmax(1), labels), F.crossEntropy(x, y.softmax(1)),
      ];
      for (const o of outs) expect(finite(o as AnyTensor), o.toString()).toBe(true);
    });
  }

  it("NaN inputs propagate instead of throwing (bceLoss excepted: PyTorch rejects them too)", () => {
    const nan = torch.tensor([NaN, 1], { dtype: "float32" });
    const one = torch.tensor([1, 1], { dtype: "float32" });
    expect(F.mseLoss(nan, one).item()).toBeNaN();
    expect(F.l1Loss(nan, one).item()).toBeNaN();
    expect(F.smoothL1Loss(nan, one).item()).toBeNaN();
    expect(F.huberLoss(nan, one).item()).toBeNaN();
    expect(F.bceWithLogits(nan, one).item()).toBeNaN();
    expect(F.crossEntropy(nan, torch.tensor(0)).item()).toBeNaN();
    expect(F.nllLoss(nan, torch.tensor(1)).item()).toBe(-1);
    expect(() => F.bceLoss(nan, one)).toThrow(ValueError);
  });

  it("all targets ignored: the mean is NaN, and the gradient 0 (as PyTorch)", () => {
    const x = torch.tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float64", requiresGrad: true });
    const loss = F.crossEntropy(x, torch.tensor([-100, -100]), { labelSmoothing: 0.1 });
    expect(loss.item()).toBeNaN();
    loss.backward();
    expect(x.grad!.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
  });
});

describe("types of results", () => {
  it("reduction none keeps the unreduced shape in the type", () => {
    const x = torch.randn([4, 3, 5]);
    const none: Tensor<[4, 5], "float32"> = F.crossEntropy(x, torch.zeros([4, 5], { dtype: "int64" }), { reduction: "none" });
    const mse: Tensor<[4, 3, 5], "float32"> = F.mseLoss(x, x, { reduction: "none" });
    const sum: Tensor<[], "float32"> = F.l1Loss(x, x, { reduction: "sum" });
    expect([none.shape, mse.shape, sum.shape]).toEqual([[4, 5], [4, 3, 5], []]);
  });
});
