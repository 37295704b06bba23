/**
 * WGSL kernel text for a compiled program (`--target wgsl`), assembled from `runtime/codegen/wgsl.ts`
 * with the op table's WGSL expressions. Pure.
 *
 * The forward's kernels are named as its launches are ordered (`g0`, `g1`, ...: `forward[i]` runs
 * `wgsl["g" + i]`; a convolution's im2col pass is `g<i>.im2col`). The backward's (chains of
 * Linear, Conv2d and pooling layers and activations) are named as the JS backward kernels are
 * (`linear_grad`, `linear_input_grad_relu`, `conv2d_backward_dx_relu`, `max_pool2d_backward_relu`,
 * ...), since `backward[i].kernel` names them; a kernel that takes several dispatches on the GPU
 * has its other passes under `<name>.<part>`. Every text starts with its `// typetorch:<kind>`
 * line, which tells `runtime/lowerLaunch.ts` how to bind the launch.
 */
import { wgslF32 } from "../runtime/codegen/wgsl.js";
import { col2imWgsl, im2colWgsl, maxPoolWgsl, maxUnpoolAddWgsl, windowAvgAdjointWgsl, windowAvgWgsl } from "../runtime/codegen/wgslConv.js";
import { channelSumWgsl, colSumWgsl, fusedElementwiseWgsl, gemmWgsl, softmaxLastDimWgsl, tagWgsl } from "../runtime/codegen/wgslFused.js";
import type { Act, Fused, Operand } from "./fuse.js";
import { gradientNeeded, producersOf, singleAct } from "./fuse.js";
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
 * the backward's of chains of Linear, Conv2d and pooling layers and activations, by the JS
 * backward kernel names (`plan.ts`, `planConv.ts`).
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
      if (g.act) acts.add(g.act);
    } else if (g.kind === "pool") {
      out[name] = g.node.mode === "max" ? tagWgsl("max_pool2d", maxPoolWgsl("f32")) : tagWgsl("avg_pool2d", windowAvgWgsl("f32"));
    } else if (g.kind === "ew") {
      out[name] = tagWgsl("ew", fusedElementwiseWgsl(g.inputs.length, g.steps.map((s) => opWgsl(s.fn, s.b ? [operand(s.a), operand(s.b)] : [operand(s.a)]))));
      const act = singleAct(g);
      if (act) acts.add(act);
    } else out[name] = tagWgsl("softmax", softmaxLastDimWgsl(g.log));
  }
  // The backward's kernels (the layers `plan.ts` compiles a backward for, up to a trailing
  // logSoftmax, which the loss takes over): what any backward of these layers can launch, under
  // the names `plan.ts` and `planConv.ts` give the JS kernels.
  const last = [...f.groups].reverse().find((g) => g.kind !== "view");
  const head = last?.kind === "softmax" && last.log ? last : null;
  if (!f.groups.every((g) => g.kind === "linear" || g.kind === "conv" || g.kind === "pool" || g.kind === "ew" || g.kind === "view" || g === head)) return out;
  if (biases.size > 0) {
    for (const b of biases) out[`linear_grad${b ? "" : "_nobias"}`] = tagWgsl("linear_grad", gemmWgsl({ aT: true }));
    if (biases.has(true)) out["col_sum"] = tagWgsl("col_sum", colSumWgsl());
    out["linear_input_grad"] = tagWgsl("linear_input_grad", gemmWgsl());
    for (const a of acts) {
      out[`linear_input_grad_${a}`] = tagWgsl("linear_input_grad", gemmWgsl({ extra: true, epilogue: (v, r) => actBackwardWgsl(a, v, `E[${r}]`) }));
      out[`${a}_backward`] = tagWgsl("act_backward", fusedElementwiseWgsl(2, [actBackwardWgsl(a, "a", "b")]));
    }
  }
  Object.assign(out, cnnBackwardWgsl(f));
  return out;
}

/** The activation backward as an adjoint epilogue (`g`: the summed gradient, `y`: the activation's output). */
const epilogue = (a: Act | null) => (a ? { epilogue: (g: string, y: string) => actBackwardWgsl(a, g, y) } : undefined);

/**
 * The WGSL of the conv and pooling backward launches `planConv.ts` can plan for `f`, by their JS
 * names. What a launch needs is read from the groups as the planner reads it: a conv's `∂X` only
 * where its input depends on a parameter, with the backward of the activation that produced its
 * input (or a pooling layer's) folded into the adjoint; a conv's own activation backward in
 * place on `∂Y` unless the kernel that writes `∂Y` applied it (a Linear's, a conv's or a pooling
 * layer's: each folds its producer's activation in).
 */
function cnnBackwardWgsl(f: Fused): Record<string, string> {
  const out: Record<string, string> = {};
  const { producer, root } = producersOf(f);
  const needed = gradientNeeded(f, root);
  const producerAct = (v: number): Act | null => {
    const p = producer.get(root(v));
    if (!p || p.out !== root(v)) return null;
    return p.kind === "linear" || p.kind === "conv" ? p.act : singleAct(p);
  };
  // Whether the backward of the group reading `v` writes ∂v with v's producer activation folded in.
  const foldsProducerAct = (v: number) => f.groups.some((g) => (g.kind === "linear" || g.kind === "conv" || g.kind === "pool") && root(g.x) === v);
  for (const g of f.groups) {
    if (g.kind === "conv") {
      const bias = g.node.bias !== null;
      const dx = needed.has(root(g.x));
      const pa = dx ? producerAct(g.x) : null;
      const act = g.act && !foldsProducerAct(g.out) ? g.act : null;
      const name = `conv2d${act ? `_${act}` : ""}_backward${bias ? "" : "_nobias"}${dx ? `_dx${pa ? `_${pa}` : ""}` : ""}`;
      // ∂W per sample: DY[n] (Oc × L) · cols[n]ᵀ (cols[n] is K × L, B stored transposed).
      out[name] = tagWgsl("conv2d_backward", gemmWgsl({ bT: true }));
      if (act) out[`${name}.act`] = tagWgsl("act_backward", fusedElementwiseWgsl(2, [actBackwardWgsl(act, "a", "b")], { inPlace: true }));
      if (bias) out[`${name}.bias`] = tagWgsl("channel_sum", channelSumWgsl());
      out[`${name}.wsum`] = tagWgsl("col_sum", colSumWgsl());
      if (dx) {
        // ∂cols per sample: Wᵀ (W is Oc × K: A stored transposed) · DY[n], then col2im.
        out[`${name}.dx`] = tagWgsl("gemm", gemmWgsl({ aT: true }));
        out[`${name}.col2im`] = tagWgsl("col2im", col2imWgsl("f32", epilogue(pa)));
      }
    } else if (g.kind === "pool" && needed.has(root(g.x))) {
      const pa = producerAct(g.x);
      const name = `${g.node.mode === "max" ? "max" : "avg"}_pool2d_backward${pa ? `_${pa}` : ""}`;
      out[name] = g.node.mode === "max"
        ? tagWgsl("max_pool2d_backward", maxUnpoolAddWgsl("f32", epilogue(pa)))
        : tagWgsl("avg_pool2d_backward", windowAvgAdjointWgsl("f32", epilogue(pa)));
    }
  }
  return out;
}
