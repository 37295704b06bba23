/**
 * Kernel text for fused groups: the loop skeletons come from `runtime/codegen` (the eager
 * runtime's emitters) and the op expressions from the op table (`runtime/ops`), so compiled
 * kernels compute what the eager ops compute. Pure functions of their arguments.
 */
import { conv2dSource, ewChainSource, gemmSource, softmaxRowsSource } from "../runtime/codegen/fused.js";
import { avgPool2dBackwardSource, conv2dBackwardSource, maxPool2dBackwardSource } from "../runtime/codegen/fusedConv.js";
import { windowAvgSource } from "../runtime/codegen/jsConv.js";
import { maxPoolKernelFor } from "../runtime/ops/pool.js";
import { add, div, mul, sub } from "../runtime/ops/binary.js";
import type { ElementwiseOpDef } from "../runtime/ops/defineOp.js";
import { abs, exp, log, neg, relu, sigmoid, sqrt, tanh } from "../runtime/ops/unary.js";
import type { Act, EwStep, Operand } from "./fuse.js";
import type { BinaryFn, UnaryFn } from "./ir.js";

const DEFS: Record<UnaryFn | BinaryFn, ElementwiseOpDef> = { relu, sigmoid, tanh, neg, exp, log, abs, sqrt, add, sub, mul, div };

/** A JS literal of a float32 scalar (as eager mode rounds a scalar operand). */
function lit(v: number): string {
  const f = Math.fround(v);
  return Number.isFinite(f) ? (Object.is(f, -0) ? "-0" : String(f)) : f > 0 ? "Infinity" : f < 0 ? "-Infinity" : "NaN";
}

/** The JS expression of one op over operand expressions, from the op table. */
export function opExpr(fn: UnaryFn | BinaryFn, args: readonly string[]): string {
  return DEFS[fn].js(args.map((a) => (/^[\w.]+$/.test(a) ? a : `(${a})`)), "float32");
}

/** The WGSL expression of one op, from the op table. */
export function opWgsl(fn: UnaryFn | BinaryFn, args: readonly string[]): string {
  return DEFS[fn].wgsl(args.map((a) => (/^[\w.]+$/.test(a) ? a : `(${a})`)), "float32");
}

/** `y = act(x · Wᵀ + b)`: the Linear layer and its activation in one matrix product. */
export function linearKernel(act: Act | null, bias: boolean): string {
  return gemmSource({
    bT: true,
    epilogue: (acc, o, j) => {
      const v = bias ? `fr(fr(${acc}) + bias[${j}])` : `fr(${acc})`;
      return act ? `const v = ${v}; C[co + ${o}] = fr(${opExpr(act, ["v"])});` : `C[co + ${o}] = ${v};`;
    },
  });
}

/** The backward of an activation from its output `y` and the incoming gradient `g` (eager's Tensor-op backward, rounded as it rounds). */
export function actBackwardExpr(act: Act, g: string, y: string): string {
  switch (act) {
    case "relu":
      // `+(y > 0)` (not `y > 0 ? 1 : 0`): the same 0/1 factor, without a branch that mispredicts on
      // half the elements (measured ~4× faster over a ReLU layer's output)
      return `fr(${g} * +(${y} > 0))`;
    case "sigmoid":
      return `fr(${g} * fr(${y} * fr(-${y} + 1)))`;
    case "tanh":
      return `fr(${g} * fr(-fr(${y} * ${y}) + 1))`;
  }
}

/** `∂W = ∂Zᵀ · X` with `∂b = Σ_rows ∂Z` in the same launch. */
export function linearGradKernel(bias: boolean): string {
  return gemmSource({ aT: true, rowSumA: bias });
}

/** `∂X = ∂Z · W`, with the previous activation's backward fused into the epilogue (its output in `E`). */
export function linearInputGradKernel(act: Act | null): string {
  return gemmSource({
    epilogue: (acc, o) => (act ? `C[co + ${o}] = ${actBackwardExpr(act, `fr(${acc})`, `E[${o}]`)};` : `C[co + ${o}] = ${acc};`),
  });
}

/** `∂X = act'(Y) ⊙ ∂Y` as one elementwise kernel (inputs: ∂Y, Y). */
export function actBackwardKernel(act: Act): string {
  return ewChainSource(2, 0, [actBackwardExpr(act, "a", "b")], false);
}

function operand(o: Operand): string {
  if ("in" in o) return "abcd"[o.in]!;
  if ("step" in o) return `t${o.step}`;
  return lit(o.num);
}

/** An elementwise chain in one loop. */
export function ewKernel(nIn: number, steps: readonly EwStep[]): string {
  return ewChainSource(nIn, 0, steps.map((s) => opExpr(s.fn, s.b ? [operand(s.a), operand(s.b)] : [operand(s.a)])), true);
}

/** Softmax / logSoftmax over the last dim. */
export function softmaxKernel(log: boolean): string {
  return softmaxRowsSource(log, true);
}

/** A Conv2d layer with its bias and activation: im2col + the GEMM eager uses + the epilogue, one launch. */
export function convKernel(act: Act | null, bias: boolean): string {
  return conv2dSource(bias, act ? (v) => opExpr(act, [v]) : null, act === "relu");
}

/** Max pooling (eager's kernel for this geometry; the argmax indices go to a planned buffer). */
export function maxPoolKernel(geom: Parameters<typeof maxPoolKernelFor>[0]): string {
  return maxPoolKernelFor(geom).source();
}

/** Average pooling over precomputed windows (eager's kernel). */
export function avgPoolKernel(): string {
  return windowAvgSource(false);
}

const actBw = (act: Act | null) => (act ? (g: string, y: string) => actBackwardExpr(act, g, y) : null);

/**
 * A Conv2d layer's backward in one launch: its own activation's backward (`act`, unless a
 * downstream kernel applied it), `∂b`, `∂W` from the forward's im2col buffer, and — with
 * `inputGrad` — `∂X` through col2im, with the producer's activation backward (`inputAct`) fused in.
 *
 * @example
 * convBackwardKernel("relu", true, false, null); // the first Conv2d + ReLU of a CNN
 */
export function convBackwardKernel(act: Act | null, bias: boolean, inputGrad: boolean, inputAct: Act | null): string {
  return conv2dBackwardSource({ bias, act: actBw(act), inputGrad, inputAct: inputGrad ? actBw(inputAct) : null });
}

/**
 * Max pooling's backward (scatter at the recorded argmax), with the producer's activation backward fused in.
 *
 * @example
 * maxPoolBackwardKernel("relu"); // after Conv2d + ReLU
 */
export function maxPoolBackwardKernel(inputAct: Act | null): string {
  return maxPool2dBackwardSource(actBw(inputAct), inputAct === "relu");
}

/**
 * Average pooling's backward (spread over the windows), with the producer's activation backward fused in.
 *
 * @example
 * avgPoolBackwardKernel("tanh"); // after Conv2d + Tanh
 */
export function avgPoolBackwardKernel(inputAct: Act | null): string {
  return avgPool2dBackwardSource(actBw(inputAct));
}
