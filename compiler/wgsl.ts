/**
 * WGSL kernel text for a compiled program (`--target wgsl`), assembled from `runtime/codegen/wgsl.ts`
 * with the op table's WGSL expressions. Pure.
 *
 * The forward's kernels are named as its launches are ordered (`g0`, `g1`, ...: `forward[i]` runs
 * `wgsl["g" + i]`; a convolution's im2col pass is `g<i>.im2col`). The backward's (Linear chains)
 * are named as the JS backward kernels are (`linear_grad`, `linear_input_grad_relu`,
 * `relu_backward`, ...), since `backward[i].kernel` names them. Every text starts with its
 * `// typetorch:<kind>` line, which tells `runtime/compiledGpu.ts` how to bind the launch.
 */
import {
  colSumWgsl, fusedElementwiseWgsl, gemmWgsl, im2colWgsl, maxPoolWgsl, softmaxLastDimWgsl, tagWgsl, wgslF32, windowAvgWgsl,
} from "../runtime/codegen/wgsl.js";
import type { Act, Fused, Operand } from "./fuse.js";
import { ACTS } from "./fuse.js";
import { opWgsl } from "./kernels.js";

function operand(o: Operand): string {
  if ("in" in o) return "abcd"[o.in]!;
  if ("step" in o) return `t${o.step}`;
  return wgslF32(o.num);
}

/**
 * The WGSL of an activation's backward from the incoming gradient `g` and the activation's output
 * `y`, in the steps of `actBackwardExpr` (`kernels.ts`, eager's Tensor-op backward).
 *
 * @example
 * actBackwardWgsl("tanh", "g", "y"); // "g * (1.0 - y * y)"
 */
export function actBackwardWgsl(act: Act, g: string, y: string): string {
  switch (act) {
    case "relu":
      return `${g} * select(0.0, 1.0, ${y} > 0.0)`;
    case "sigmoid":
      return `${g} * (${y} * (1.0 - ${y}))`;
    case "tanh":
      return `${g} * (1.0 - ${y} * ${y})`;
  }
}

/** The forward GEMM of a Linear layer (bias over columns) or a conv (bias over rows), with the activation in the epilogue. */
function gemmForward(bias: "col" | "row" | null, act: Act | null, bT: boolean): string {
  return gemmWgsl({ bT, bias, epilogue: act ? (v) => opWgsl(act, [v]) : undefined });
}

/**
 * WGSL text of every kernel of a fused program: the forward's, by launch (`g0`, `g1`, ...), and
 * the backward's of Linear chains, by the JS backward kernel names.
 *
 * @example
 * const wgsl = wgslKernels(fuse(graph)); // { g0: "// typetorch:linear\n...", linear_grad: ..., ... }
 */
export function wgslKernels(f: Fused): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const acts = new Set<Act>();
  const biases = new Set<boolean>();
  for (const g of f.groups) {
    if (g.kind === "view") continue;
    const name = `g${i++}`;
    if (g.kind === "linear") {
      out[name] = tagWgsl("linear", gemmForward(g.node.bias !== null ? "col" : null, g.act, true));
      biases.add(g.node.bias !== null);
      if (g.act) acts.add(g.act);
    } else if (g.kind === "conv") {
      out[`${name}.im2col`] = tagWgsl("im2col", im2colWgsl("f32"));
      out[name] = tagWgsl("conv2d", gemmForward(g.node.bias !== null ? "row" : null, g.act, false));
    } else if (g.kind === "pool") {
      out[name] = g.node.mode === "max" ? tagWgsl("max_pool2d", maxPoolWgsl("f32")) : tagWgsl("avg_pool2d", windowAvgWgsl("f32"));
    } else if (g.kind === "ew") {
      out[name] = tagWgsl("ew", fusedElementwiseWgsl(g.inputs.length, g.steps.map((s) => opWgsl(s.fn, s.b ? [operand(s.a), operand(s.b)] : [operand(s.a)]))));
      if (g.steps.length === 1 && !g.steps[0]!.b && ACTS.includes(g.steps[0]!.fn)) acts.add(g.steps[0]!.fn as Act);
    } else out[name] = tagWgsl("softmax", softmaxLastDimWgsl(g.log));
  }
  // The backward's kernels (compiled for chains of Linear layers and activations): what any
  // backward of these layers can launch, under the names `plan.ts` gives the JS kernels.
  if (biases.size > 0 && f.groups.every((g) => g.kind === "linear" || g.kind === "ew" || g.kind === "view")) {
    for (const b of biases) out[`linear_grad${b ? "" : "_nobias"}`] = tagWgsl("linear_grad", gemmWgsl({ aT: true }));
    if (biases.has(true)) out["col_sum"] = tagWgsl("col_sum", colSumWgsl());
    out["linear_input_grad"] = tagWgsl("linear_input_grad", gemmWgsl());
    for (const a of acts) {
      out[`linear_input_grad_${a}`] = tagWgsl("linear_input_grad", gemmWgsl({ extra: true, epilogue: (v, r) => actBackwardWgsl(a, v, `E[${r}]`) }));
      out[`${a}_backward`] = tagWgsl("act_backward", fusedElementwiseWgsl(2, [actBackwardWgsl(a, "a", "b")]));
    }
  }
  return out;
}
