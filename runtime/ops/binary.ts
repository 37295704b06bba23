import type { AnyTensor } from "../tensorTypes.js";
import { DTypeError } from "../../types/errors.js";
import type { DType } from "../dtype.js";
import { isFloating } from "../dtype.js";
import { resultType, toFloat } from "../promote.js";
import { Tensor } from "../Tensor.js";
import { type ElementwiseOpDef, elementwiseOp, runElementwise } from "./defineOp.js";
import { deviceOf } from "./device.js";

const same = (d: DType) => d;
const bool = () => "bool" as const;
const noBool = (what: string) => (d: DType) => (d === "bool" ? `${what} is not supported for bool tensors, got dtype bool` : undefined);

/**
 * Sums a broadcast gradient back down to `shape` (the backward of broadcasting): leading dims
 * are summed away, and dims that were 1 are summed with keepdim.
 */
export function sumToShape(g: AnyTensor, shape: readonly number[]): AnyTensor {
  if (g.shape.length === shape.length && g.shape.every((s, i) => s === shape[i])) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  let r = dims.length > 0 ? g.sum(dims, true) : g;
  if (lead > 0) r = r.reshape([...shape]);
  return r;
}

type Operand = AnyTensor | number;
const other = (inputs: readonly AnyTensor[], params: readonly unknown[]): Operand => inputs[1] ?? (params[0] as number);
// Gradient for the second operand only when it is a tensor.
const second = (inputs: readonly AnyTensor[], f: () => AnyTensor): AnyTensor | null => (inputs[1] ? sumToShape(f(), inputs[1].shape) : null);

/** `a + b` (bool: logical or). Backward: `g`, `g`, summed over broadcast dims. */
export const add = elementwiseOp({
  name: "add", arity: 2, gradName: "AddBackward0", dtype: same,
  js: ([a, b], d) => (d === "bool" ? `((${a} || ${b}) ? 1 : 0)` : `${a} + ${b}`),
  wgsl: ([a, b], d) => (d === "bool" ? `(${a} | ${b})` : `${a} + ${b}`),
  backward: (g, inputs) => [sumToShape(g, inputs[0]!.shape), second(inputs, () => g)],
});

// The dtype an operand of a binary op has: a tensor's, or what PyTorch makes of a JS scalar.
const dtypeOf = (o: AnyTensor | number | boolean): DType => (typeof o === "boolean" ? "bool" : typeof o === "number" ? (Number.isInteger(o) ? "int64" : "float32") : o.dtype);

/** `a − b` (any bool operand rejected, as PyTorch). Backward: `g`, `−g`. */
export const sub = elementwiseOp({
  name: "sub", arity: 2, gradName: "SubBackward0", dtype: same,
  // PyTorch rejects a bool on either side, not just bool − bool (bool − int would promote fine).
  rejects: (_d, operands) => {
    const ds = operands.map(dtypeOf);
    return ds.includes("bool") ? `bool operands are not supported (use logicalXor or logicalNot), got dtypes ${ds.join(" and ")}` : undefined;
  },
  js: ([a, b]) => `${a} - ${b}`,
  wgsl: ([a, b]) => `${a} - ${b}`,
  backward: (g, inputs) => [sumToShape(g, inputs[0]!.shape), second(inputs, () => g.neg())],
});

/** `a · b` (int32 wraps like C; bool: logical and). Backward: `g·b`, `g·a`. */
export const mul = elementwiseOp({
  name: "mul", arity: 2, gradName: "MulBackward0", dtype: same,
  js: ([a, b], d) => (d === "int32" ? `Math.imul(${a}, ${b})` : d === "bool" ? `((${a} && ${b}) ? 1 : 0)` : `${a} * ${b}`),
  wgsl: ([a, b]) => `${a} * ${b}`,
  backward: (g, inputs, _o, params) => [sumToShape(g.mul(other(inputs, params)), inputs[0]!.shape), second(inputs, () => g.mul(inputs[0]!))],
});

/** True division `a / b` (integers give float32, as PyTorch). Backward: `g/b`, `−g·out/b`. */
export const div = elementwiseOp({
  name: "div", arity: 2, gradName: "DivBackward0", dtype: toFloat,
  js: ([a, b]) => `${a} / ${b}`,
  wgsl: ([a, b]) => `${a} / ${b}`,
  backward: (g, inputs, out, params) => [sumToShape(g.div(other(inputs, params)), inputs[0]!.shape), second(inputs, () => g.mul(out).div(inputs[1]!).neg())],
});

const zeroDiv = (b: string, d: DType, bad: string) => (isFloating(d) ? "" : `${b} === 0 ? ${bad}() : `);

/** `floor(a / b)` (`div(b, { roundingMode: "floor" })`); integer division by zero is an error. Zero gradient. */
export const divFloor = elementwiseOp({
  name: "div", arity: 2, gradName: "DivBackward1", dtype: same, rejects: noBool("floor division"),
  js: ([a, b, bad], d) => `(${zeroDiv(b!, d, bad!)}Math.floor(${a} / ${b}))`,
  wgsl: ([a, b], d) => (isFloating(d) ? `floor(${a} / ${b})` : `tt_floordiv(${a}, ${b})`),
  backward: (g, inputs) => [g.mul(0), inputs[1] ? sumToShape(g.mul(0), inputs[1].shape) : null],
});

/** `trunc(a / b)` (`div(b, { roundingMode: "trunc" })`). Zero gradient. */
export const divTrunc = elementwiseOp({
  name: "div", arity: 2, gradName: "DivBackward1", dtype: same, rejects: noBool("truncating division"),
  js: ([a, b, bad], d) => `(${zeroDiv(b!, d, bad!)}Math.trunc(${a} / ${b}))`,
  wgsl: ([a, b], d) => (isFloating(d) ? `trunc(${a} / ${b})` : `${a} / ${b}`),
  backward: (g, inputs) => [g.mul(0), inputs[1] ? sumToShape(g.mul(0), inputs[1].shape) : null],
});

/**
 * `a^b`; integer results are integer powers (a negative exponent gives `1/a^n` truncated: 0 unless
 * |a| = 1, as PyTorch). Backward: `g·b·a^(b−1)`, `g·out·ln a`.
 */
export const pow = elementwiseOp({
  name: "pow", arity: 2, gradName: "PowBackward0", dtype: same,
  // PyTorch rejects only a negative integer *scalar* exponent of an integer tensor.
  rejects: (d, [, e]) =>
    !isFloating(d) && typeof e === "number" && e < 0 ? `integers to negative integer powers are not allowed, got exponent ${e} for dtype ${d}` : undefined,
  js: ([a, b], d) =>
    isFloating(d) ? `Math.pow(${a}, ${b})` : `(${b} < 0 ? (${a} === 1 ? 1 : ${a} === -1 ? (${b} % 2 === 0 ? 1 : -1) : 0) : Math.pow(${a}, ${b}))`,
  wgsl: ([a, b], d) => (isFloating(d) ? `tt_powf(${a}, ${b})` : `tt_powi(${a}, ${b})`),
  // As PyTorch: a zero exponent has a zero gradient (not 0·a⁻¹, NaN at a = 0), and so has the
  // exponent at a zero base with b >= 0 (not out·ln 0 = 0·−∞).
  backward: (g, inputs, out, params) => {
    const a = inputs[0]!;
    const b = other(inputs, params);
    const ga = typeof b === "number"
      ? (b === 0 ? g.mul(0) : g.mul(b).mul(a.pow(b - 1)))
      : whereOp(b.eq(0), 0, g.mul(b).mul(a.pow(b.sub(1))));
    return [sumToShape(ga, a.shape), second(inputs, () => whereOp(a.eq(0).logicalAnd(inputs[1]!.ge(0)), 0, g.mul(out).mul(a.log())))];
  },
});

// Ties send half the gradient each way, as PyTorch.
const pick = (g: AnyTensor, mine: AnyTensor, tie: AnyTensor) => g.mul(mine).add(g.mul(tie).mul(0.5));

/** Elementwise max (NaN propagates). Backward: `g` to the larger operand, half each on ties. */
export const maximum = elementwiseOp({
  name: "maximum", arity: 2, gradName: "MaximumBackward0", dtype: same,
  js: ([a, b]) => `Math.max(${a}, ${b})`,
  wgsl: ([a, b], d) => (isFloating(d) ? `select(select(max(${a}, ${b}), ${b}, tt_isnan(${b})), ${a}, tt_isnan(${a}))` : `max(${a}, ${b})`),
  backward: (g, [a, b]) => [sumToShape(pick(g, a!.gt(b!), a!.eq(b!)), a!.shape), sumToShape(pick(g, b!.gt(a!), a!.eq(b!)), b!.shape)],
});

/** Elementwise min (NaN propagates). Backward: `g` to the smaller operand, half each on ties. */
export const minimum = elementwiseOp({
  name: "minimum", arity: 2, gradName: "MinimumBackward0", dtype: same,
  js: ([a, b]) => `Math.min(${a}, ${b})`,
  wgsl: ([a, b], d) => (isFloating(d) ? `select(select(min(${a}, ${b}), ${b}, tt_isnan(${b})), ${a}, tt_isnan(${a}))` : `min(${a}, ${b})`),
  backward: (g, [a, b]) => [sumToShape(pick(g, a!.lt(b!), a!.eq(b!)), a!.shape), sumToShape(pick(g, b!.lt(a!), a!.eq(b!)), b!.shape)],
});

const compare = (name: string, js: string, wgsl: string): ElementwiseOpDef =>
  elementwiseOp({
    name, arity: 2, gradName: "", dtype: bool,
    // `+(cond)` rather than `cond ? 1 : 0`: the same 0/1, but V8 makes the number from the flag
    // without a branch, which on data of mixed signs (a ReLU mask) mispredicts half the time.
    js: ([a, b]) => `+(${a} ${js} ${b})`,
    // NaN by its bits (drivers may treat float compares as NaN-free): unequal to all, not ordered.
    wgsl: ([a, b], d) =>
      !isFloating(d) ? `select(0u, 1u, ${a} ${wgsl} ${b})`
      : name === "ne" ? `select(0u, 1u, ${a} != ${b} || tt_isnan(${a}) || tt_isnan(${b}))`
      : `select(0u, 1u, ${a} ${wgsl} ${b} && !tt_isnan(${a}) && !tt_isnan(${b}))`,
    backward: null,
  });

/** Comparisons: bool results, no gradient. */
export const eq = compare("eq", "===", "==");
/** See {@link eq}. */
export const ne = compare("ne", "!==", "!=");
/** See {@link eq}. */
export const gt = compare("gt", ">", ">");
/** See {@link eq}. */
export const ge = compare("ge", ">=", ">=");
/** See {@link eq}. */
export const lt = compare("lt", "<", "<");
/** See {@link eq}. */
export const le = compare("le", "<=", "<=");
/** WGSL truthiness of a value of dtype `d` (`x != 0`; NaN is true). */
export const truthy = (a: string, d: DType): string => (isFloating(d) ? `(${a} != 0 || tt_isnan(${a}))` : `(${a} != 0)`);
// Truthiness is `x != 0`, as PyTorch: NaN is true (JS's `&&`/`!` would count NaN as false).
const logical = (name: string, js: string, wgsl: string): ElementwiseOpDef =>
  elementwiseOp({
    name, arity: 2, gradName: "", dtype: bool,
    js: ([a, b]) => `((${a} !== 0) ${js} (${b} !== 0) ? 1 : 0)`,
    wgsl: ([a, b], d) => `select(0u, 1u, ${truthy(a!, d)} ${wgsl} ${truthy(b!, d)})`,
    backward: null,
  });

/** Logical and / or / xor of truthiness (`x != 0`, so NaN is true): bool results. */
export const logicalAnd = logical("logicalAnd", "&&", "&&");
/** See {@link logicalAnd}. */
export const logicalOr = logical("logicalOr", "||", "||");
/** See {@link logicalAnd}. */
export const logicalXor = logical("logicalXor", "!==", "!=");

/**
 * `a + fround(b · p0)` (float32; `a + b · p0` for float64): `x.add_(y, { alpha })` in one pass,
 * rounded as that op's two kernels round (`y.mul(alpha)` stored, then added), for the optimizer
 * updates. Gradient-free: only used in place, under `noGrad`.
 */
export const addScaled = elementwiseOp({
  name: "add", arity: 2, gradName: "AddBackward0", dtype: same,
  js: ([a, b, s], d) => (d === "float32" ? `${a} + Math.fround(${b} * ${s})` : `${a} + ${b} * ${s}`),
  wgsl: ([a, b, s]) => `${a} + ${b} * ${s}`,
  backward: null,
});

/**
 * `fround(a · p0) + fround(b · p1)` (float32; unrounded for float64): SGD's momentum update
 * `buf.mul_(μ).add_(g, { alpha })` in one pass, rounded as those kernels round. With `p1 = 1` the
 * second product is `b` itself, as `add_` without alpha. Gradient-free: only used in place.
 */
export const scaledSum = elementwiseOp({
  name: "add", arity: 2, gradName: "AddBackward0", dtype: same,
  js: ([a, b, s, t], d) => (d === "float32" ? `Math.fround(${a} * ${s}) + Math.fround(${b} * ${t})` : `${a} * ${s} + ${b} * ${t}`),
  wgsl: ([a, b, s, t]) => `${a} * ${s} + ${b} * ${t}`,
  backward: null,
});

// Whether `x op= y` may run as one fused kernel: both floating CPU tensors of one dtype and shape,
// in separate storage (an aliasing `y` is cloned first by the unfused ops).
function fusable(x: AnyTensor, y: AnyTensor): boolean {
  return x.device === "cpu" && y.device === "cpu" && isFloating(x.dtype) && y.dtype === x.dtype && y._data !== x._data &&
    x.shape.length === y.shape.length && x.shape.every((n, i) => n === y.shape[i]);
}

/**
 * `x.add_(y, { alpha })` with the result of that op bit for bit, in one kernel and without the
 * temporary `y·alpha` when {@link fusable}; otherwise it is `x.add_(y, { alpha })`.
 * For optimizer steps (run under `noGrad`).
 */
export function addScaledInPlace(x: AnyTensor, y: AnyTensor, alpha: number): void {
  if (fusable(x, y)) runElementwise(addScaled, [x, y], [fitScalar(alpha, x.dtype)], x.dtype, x);
  else x.add_(y, { alpha });
}

/**
 * `x.mul_(s).add_(y, { alpha })` with that result bit for bit, in one kernel when {@link fusable}.
 * For optimizer steps (run under `noGrad`).
 */
export function scaledSumInPlace(x: AnyTensor, s: number, y: AnyTensor, alpha: number): void {
  if (fusable(x, y)) runElementwise(scaledSum, [x, y], [fitScalar(s, x.dtype), fitScalar(alpha, x.dtype)], x.dtype, x);
  else x.mul_(s).add_(y, { alpha });
}

/** `cond ? a : b` elementwise (cond must be bool). Backward: `g` routed by cond. */
export const where = elementwiseOp({
  name: "where", arity: 3, gradName: "WhereBackward0", dtype: same,
  js: ([c, a, b]) => `(${c} ? ${a} : ${b})`,
  wgsl: ([c, a, b]) => `select(${b}, ${a}, ${c} != 0)`,
  backward: (g, [c, a, b]) => [null, sumToShape(g.mul(c!), a!.shape), sumToShape(g.mul(c!.logicalNot()), b!.shape)],
});

/**
 * Kernels compute in doubles whatever the dtypes, so an operand only needs converting where that
 * would differ from PyTorch, which first casts every operand to the result dtype: a float64 value
 * entering a float32 op is rounded to float32 first.
 */
export function fit(t: AnyTensor, promoted: DType): AnyTensor {
  return t.dtype === "float64" && promoted === "float32" ? t.to("float32") : t;
}

/** A JS scalar as the result dtype would hold it (see {@link fit}). */
export function fitScalar(x: number, promoted: DType): number {
  return promoted === "float32" ? Math.fround(x) : x;
}

const throwZeroDiv = () => {
  throw new DTypeError("div: integer division by zero (ZeroDivisionError in PyTorch), got a zero divisor");
};

/** Runs a binary op `a op b` where `b` may be a JS number (a scalar operand, PyTorch's promotion rules). */
export function binary(def: ElementwiseOpDef, a: AnyTensor, b: AnyTensor | number | boolean): AnyTensor {
  const promoted = resultType([a, b]);
  // runElementwise sees only tensor operands; the scalar's dtype and value are checked here.
  const reason = def.rejects?.(promoted, [a, b]);
  if (reason) throw new DTypeError(`${def.name}: ${reason}`);
  const extra = def === divFloor || def === divTrunc ? [throwZeroDiv] : [];
  if (b instanceof Tensor) {
    deviceOf(def.name, [a, b]);
    return runElementwise(def, [fit(a, promoted), fit(b, promoted)], extra, promoted);
  }
  return runElementwise(def, [fit(a, promoted)], [fitScalar(+b, promoted), ...extra], promoted);
}

/** `torch.where(cond, a, b)` with tensor or scalar branches. */
export function whereOp(cond: AnyTensor, a: AnyTensor | number, b: AnyTensor | number): AnyTensor {
  if (cond.dtype !== "bool") throw new DTypeError(`where: condition must be a bool tensor, got dtype ${cond.dtype}`);
  const promoted = resultType([a, b]);
  const ta = a instanceof Tensor ? fit(a, promoted) : Tensor._scalar(a, promoted, cond.device);
  const tb = b instanceof Tensor ? fit(b, promoted) : Tensor._scalar(b, promoted, cond.device);
  return runElementwise(where, [cond, ta, tb], [], promoted);
}
