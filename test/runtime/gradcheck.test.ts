/**
 * Gradients of every differentiable case of the op-case table (test/ops.cases.ts) against central
 * finite differences, in float64: the loss is `sum(out · w)` with fixed random weights `w`, so
 * every output element's gradient path counts with a different weight.
 *
 * Cases at points where the op is not differentiable (kinks, ties, jumps, non-finite values) are
 * skipped by id, each with its reason; a skip that names no case, or a case that passes anyway,
 * fails the suite, so the list can't rot.
 */
import { describe, expect, it } from "vitest";
import type { DType, Tensor } from "typetorch";
import { buildInputs, fixtures, isDifferentiableCase, type OpCase, runOp } from "../ops.cases.js";
import { gradientMismatches, type Mismatch } from "../gradcheck.js";

type AnyTensor = Tensor<readonly number[], DType>;

const EPS = 1e-6;
const REL = 1e-5;
// Finite differences of a float64 loss L carry a rounding error of about |L|·1e-16/EPS, so a
// zero gradient is only zero to this absolute tolerance (scaled by the loss's size below).
const ABS = 1e-7;

/** Cases skipped: the op is not differentiable at (some of) the fixture's inputs. */
const SKIP: Record<string, string> = {
  // Kinks, ties and jumps: the one-sided slopes differ, central differences average them.
  "clamp min+max float32": "x = -0.5 sits on the min bound (kink)",
  "max ties returns first index": "tied maxima: the gradient goes to the first index, differences split it",
  "min ties returns first index": "tied minima: the gradient goes to the first index, differences split it",
  "div floor float32 negative operands": "0 / 3 = 0 sits on a jump of floor",
  "div floor float64 negative operands": "0 / 3 = 0 sits on a jump of floor",
  "div floor float32 scalar -1.5": "0 / -1.5 and -7.5 / -1.5 = 5 sit on jumps of floor",
  "div trunc float32 scalar -1.5": "-7.5 / -1.5 = 5 sits on a jump of trunc",
  "pow float32 zero base": "0^b: 0^2.5 is undefined left of 0, 0^-1 is infinite",
  // NaN or ±Inf among the inputs or outputs: the differences are NaN/Inf.
  "log zero and negative -> -inf, nan": "log(0) = -inf, log(-1) = nan",
  "log float64 zero and negative": "log(0) = -inf, log(-2.5) = nan",
  "sqrt zero and negative -> 0, nan": "sqrt'(0) = inf, sqrt(-1) = nan, inf input",
  "relu keeps nan": "nan input (and relu's kink at 0)",
  "relu of -inf, -0 and subnormals": "±inf inputs (and relu's kink at 0)",
  "abs of -inf and nan": "-inf and nan inputs",
  "neg of inf": "inf input",
  "exp nan": "nan and -inf inputs",
  "clamp keeps nan": "nan input",
  "div float32 by zero": "division by zero: inf/nan outputs",
  "div floor float32 by zero": "division by zero: inf/nan outputs",
  "div trunc float32 by zero": "division by zero: inf/nan outputs",
  "pow float32 negative base fractional exponent -> nan": "(-8)^0.5 = nan",
  "maximum propagates nan": "nan inputs",
  "minimum propagates nan": "nan inputs",
  "maximum with inf": "±inf inputs",
  "minimum with inf": "±inf inputs",
  "sum with inf and nan": "inf and nan inputs",
  "logsumexp all -inf row": "-inf inputs",
  "logsumexp with +inf": "inf input",
  "max nan propagates": "nan input",
  "max nan propagates dim 1": "nan input",
  "max with infs": "±inf inputs",
  "min nan propagates": "nan input",
  "min nan propagates dim 1": "nan input",
  "min with infs": "±inf inputs",
  "amax nan propagates": "nan input",
  "var single element unbiased -> nan": "n - 1 = 0: nan output",
  "std single element unbiased -> nan": "n - 1 = 0: nan output",
  "logSoftmax -inf entry": "-inf input and output",
  "to float32 inf -> float64": "±inf and nan inputs",
};

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

// The differentiable output: the values of [values, indices].
const primary = (r: AnyTensor | AnyTensor[]): AnyTensor => (Array.isArray(r) ? r[0]! : r);

/** Runs the gradient check of one case; returns the mismatches (empty: the gradients agree). */
function gradcheck(c: OpCase): Mismatch[] {
  const inputs = buildInputs(c, { float64: true });
  const wrt = inputs.map((t, k) => (t.dtype === "float64" ? k : -1)).filter((k) => k >= 0);
  return gradientMismatches((xs) => primary(runOp(c.op, xs, c.args)), inputs, {
    wrt,
    seed: hash(c.id),
    eps: EPS,
    agree: (analytic, numeric, scale) =>
      Number.isFinite(analytic) &&
      Number.isFinite(numeric) &&
      Math.abs(analytic - numeric) <= REL * Math.max(Math.abs(analytic), Math.abs(numeric)) + ABS * scale,
  });
}

const cases = fixtures.cases.filter(isDifferentiableCase);

describe("gradcheck", () => {
  it("covers the differentiable ops", () => {
    expect(cases.length).toBeGreaterThan(400);
    const ops = new Set(cases.map((c) => c.op));
    for (const op of ["add", "mul", "div", "pow", "sum", "mean", "max", "var", "softmax", "logSoftmax", "matmul", "index", "gather", "cat", "where", "clamp"]) {
      expect(ops.has(op as never), op).toBe(true);
    }
  });

  it("skips only existing differentiable cases", () => {
    const ids = new Set(cases.map((c) => c.id));
    for (const id of Object.keys(SKIP)) expect(ids.has(id), id).toBe(true);
  });

  it.each(cases.map((c) => [c.id, c] as const))("%s", (id, c) => {
    const bad = gradcheck(c);
    if (id in SKIP) {
      // A skipped case must really be off: else the skip hides nothing and should go.
      expect(bad.length, `skipped (${SKIP[id]}) but its gradients agree`).toBeGreaterThan(0);
      return;
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });
});

