import type { AnyTensor } from "../tensorTypes.js";
import type { DType } from "../dtype.js";
import { isFloating } from "../dtype.js";
import { toFloat } from "../promote.js";
import type { Tensor } from "../Tensor.js";
import { wgslType } from "../codegen/wgsl.js";
import { type ElementwiseOpDef, elementwiseOp, runElementwise } from "./defineOp.js";

const same = (d: DType) => d;
const noBool = (d: DType) => (d === "bool" ? "not supported for bool tensors, got dtype bool" : undefined);
const floatOnly = (what: string) => (d: DType) => (isFloating(d) ? undefined : `${what} needs a floating point tensor, got dtype ${d}`);

/** `-x`. Backward: `-g`. */
export const neg = elementwiseOp({
  name: "neg", arity: 1, gradName: "NegBackward0", dtype: same, rejects: noBool,
  js: ([a]) => `-${a}`,
  wgsl: ([a]) => `-${a}`,
  backward: (g) => [g.neg()],
});

/** `|x|`. Backward: `g · sign(x)`. */
export const abs = elementwiseOp({
  name: "abs", arity: 1, gradName: "AbsBackward0", dtype: same, rejects: noBool,
  js: ([a]) => `Math.abs(${a})`,
  wgsl: ([a]) => `abs(${a})`,
  backward: (g, [x]) => [g.mul(x!.sign())],
});

/** `sign(x)` ∈ {-1, 0, 1}; NaN and -0 give 0, as PyTorch. Zero gradient. */
export const sign = elementwiseOp({
  name: "sign", arity: 1, gradName: "SignBackward0", dtype: same,
  js: ([a]) => `(${a} > 0 ? 1 : ${a} < 0 ? -1 : 0)`,
  wgsl: ([a], d) => (d === "bool" ? a! : `sign(${a})`),
  backward: (g) => [g.mul(0)],
});

/** `e^x`. Backward: `g · e^x` (reuses the output). */
export const exp = elementwiseOp({
  name: "exp", arity: 1, gradName: "ExpBackward0", dtype: toFloat,
  js: ([a]) => `Math.exp(${a})`,
  wgsl: ([a]) => `exp(${a})`,
  backward: (g, _x, out) => [g.mul(out)],
});

/** Natural log. Backward: `g / x`. */
export const log = elementwiseOp({
  name: "log", arity: 1, gradName: "LogBackward0", dtype: toFloat,
  js: ([a]) => `Math.log(${a})`,
  wgsl: ([a]) => `log(${a})`,
  backward: (g, [x]) => [g.div(x!)],
});

/** `√x`. Backward: `g / (2√x)`. */
export const sqrt = elementwiseOp({
  name: "sqrt", arity: 1, gradName: "SqrtBackward0", dtype: toFloat,
  js: ([a]) => `Math.sqrt(${a})`,
  wgsl: ([a]) => `sqrt(${a})`,
  backward: (g, _x, out) => [g.div(out.mul(2))],
});

/**
 * ReLU's backward as one op (PyTorch's `threshold_backward`): `g · (y > 0)` from the incoming
 * gradient `g` and ReLU's output `y`. The product is taken with the mask as the number 0 or 1, so
 * the result is that of `g.mul(y.gt(0))` bit for bit (`-g · 0` is -0, `NaN · 0` and `±∞ · 0`
 * NaN), in one pass and without the bool mask tensor. Backward: the same op of the gradient's
 * gradient (no gradient for `y`, as for the mask).
 */
export const reluBackward: ElementwiseOpDef = elementwiseOp({
  name: "reluBackward", arity: 2, gradName: "ThresholdBackwardBackward0", dtype: same,
  // `+(y > 0)` is the number without a branch: a ReLU mask is as unpredictable as its input's signs.
  js: ([g, y]) => `${g} * +(${y} > 0)`,
  wgsl: ([g, y]) => `${g} * select(0.0, 1.0, ${y} > 0.0 && !tt_isnan(${y}))`,
  backward: (gg, [, y]) => [reluGrad(gg, y!), null],
});

// `g · (y > 0)` for ReLU's output `y`: the fused op on the CPU for matching dtypes, else the two
// ops it stands for (the WebGPU kernels and mixed dtypes keep their tested path).
function reluGrad(g: AnyTensor, y: AnyTensor): AnyTensor {
  return g.device === "cpu" && y.device === "cpu" && g.dtype === y.dtype && isFloating(g.dtype)
    ? runElementwise(reluBackward, [g, y], [], g.dtype)
    : g.mul(y.gt(0));
}

/**
 * `x < 0 ? 0 : x`, as PyTorch's `relu` (NaN stays NaN, −0 stays −0). Backward: `g · (x > 0)`
 * ({@link reluBackward}).
 */
export const relu = elementwiseOp({
  name: "relu", arity: 1, gradName: "ReluBackward0", dtype: same, rejects: noBool,
  // `v < 0 ? 0 : v` without its branch, which mispredicts on random signs (2 ms → 0.55 ms for
  // 401k elements): |v|·(v > 0) is +0 below 0, v above, NaN for NaN; only ±0 (−0 must stay −0)
  // and −∞ (∞ · 0 is NaN) need tests, branches that ordinary data almost never takes.
  js: ([a]) => `(${a} === -Infinity ? 0 : ${a} === 0 ? ${a} : Math.abs(${a}) * +(${a} > 0))`,
  wgsl: ([a]) => `select(${a}, 0, ${a} < 0)`,
  backward: (g, _x, out) => [reluGrad(g, out)],
});

/** `1 / (1 + e^-x)`. Backward: `g · σ(x)(1 − σ(x))`. */
export const sigmoid = elementwiseOp({
  name: "sigmoid", arity: 1, gradName: "SigmoidBackward0", dtype: toFloat,
  js: ([a]) => `1 / (1 + Math.exp(-${a}))`,
  wgsl: ([a]) => `1.0 / (1.0 + exp(-${a}))`,
  backward: (g, _x, out) => [g.mul(out.mul(out.neg().add(1)))],
});

/** Hyperbolic tangent. Backward: `g · (1 − tanh²x)`. */
export const tanh = elementwiseOp({
  name: "tanh", arity: 1, gradName: "TanhBackward0", dtype: toFloat,
  js: ([a]) => `Math.tanh(${a})`,
  wgsl: ([a]) => `tanh(clamp(${a}, -15.0, 15.0))`, // some drivers give NaN for tanh(±large)
  backward: (g, _x, out) => [g.mul(out.mul(out).neg().add(1))],
});

/** `min(max(x, p0), p1)` (PyTorch's clamp; NaN stays NaN). Backward: `g` where x is inside. */
export const clamp = elementwiseOp({
  name: "clamp", arity: 1, gradName: "ClampBackward1", dtype: same, rejects: noBool,
  js: ([a, lo, hi]) => `((${a} < ${lo} ? ${lo} : ${a}) > ${hi} ? ${hi} : (${a} < ${lo} ? ${lo} : ${a}))`,
  wgsl: ([a, lo, hi]) => `select(select(${a}, ${lo}, ${a} < ${lo}), ${hi}, select(${a}, ${lo}, ${a} < ${lo}) > ${hi})`,
  backward: (g, [x], _out, [lo, hi]) => [g.mul(x!.ge(lo!).logicalAnd(x!.le(hi!)))],
});

/** Logical not: bool result (`x == 0`, so NaN, which is true, gives false). No gradient. */
export const logicalNot = elementwiseOp({
  name: "logicalNot", arity: 1, gradName: "", dtype: () => "bool",
  js: ([a]) => `(${a} !== 0 ? 0 : 1)`,
  wgsl: ([a], d) => (isFloating(d) ? `select(1u, 0u, ${a} != 0 || tt_isnan(${a}))` : `select(1u, 0u, ${a} != 0)`),
  backward: null,
});

/** Floor / ceil / round(half to even) / trunc, as PyTorch. Zero gradient. */
export const floor = elementwiseOp({
  name: "floor", arity: 1, gradName: "FloorBackward0", dtype: same, rejects: noBool,
  js: ([a]) => `Math.floor(${a})`, wgsl: ([a], d) => (isFloating(d) ? `floor(${a})` : a!), backward: (g) => [g.mul(0)],
});
/** See {@link floor}. */
export const ceil = elementwiseOp({
  name: "ceil", arity: 1, gradName: "CeilBackward0", dtype: same, rejects: noBool,
  js: ([a]) => `Math.ceil(${a})`, wgsl: ([a], d) => (isFloating(d) ? `ceil(${a})` : a!), backward: (g) => [g.mul(0)],
});
/** See {@link floor}: rounds half to even, like PyTorch and NumPy. */
export const round = elementwiseOp({
  name: "round", arity: 1, gradName: "RoundBackward0", dtype: same, rejects: noBool,
  js: ([a]) => `(Math.abs(${a} % 1) === 0.5 ? 2 * Math.round(${a} / 2) : Math.round(${a}))`,
  wgsl: ([a], d) => (isFloating(d) ? `round(${a})` : a!), backward: (g) => [g.mul(0)],
});

const castDefs = new Map<DType, ElementwiseOpDef>();

/**
 * Conversion to dtype `to` (`x.to(dtype)`): float→int truncates toward zero (as PyTorch);
 * NaN or ±Inf into an integer dtype is an error, not a silent garbage value; anything→bool is `x != 0`.
 * Backward: the gradient converted back to the input's dtype.
 */
export function castDef(to: DType): ElementwiseOpDef {
  let def = castDefs.get(to);
  if (!def) {
    def = elementwiseOp({
      name: "to", arity: 1, gradName: "ToCopyBackward0", dtype: () => to,
      js: ([a, bad], from) => {
        if (to === "bool") return `(${a} !== 0 ? 1 : 0)`;
        if (isFloating(from) && (to === "int32" || to === "int64")) return `(Number.isFinite(${a}) ? Math.trunc(${a}) : ${bad}(${a}))`;
        return a!;
      },
      wgsl: ([a], from) => (to === "bool" ? (isFloating(from) ? `select(0u, 1u, ${a} != 0 || tt_isnan(${a}))` : `select(0u, 1u, ${a} != 0)`) : `${wgslType(to)}(${a})`),
      backward: (g, [x]) => [isFloating(x!.dtype) ? g.to(x!.dtype) : null],
    });
    castDefs.set(to, def);
  }
  return def;
}

/** Runs a unary op. */
export function unary(def: typeof neg, x: AnyTensor, params: readonly number[] = []): AnyTensor {
  return runElementwise(def, [x], params, x.dtype);
}
