/**
 * Backward planning for the convolution part of a model (called by `plan.ts`'s backward pass,
 * a pure function of the fused groups): one launch per Conv2d layer (its activation's backward,
 * `∂b`, `∂W` from the im2col buffer the forward kept, `∂X` through col2im) and one per pooling
 * layer (the adjoint at the argmax indices the forward recorded, or spread over the averaging
 * windows). The activation that produced a layer's input is applied to the `∂X` it writes (as
 * the Linear chain fuses it into `linear_input_grad`), so activations cost no launch of their own.
 * Scratch the launches share (per-sample `∂W` products, `∂cols`) is one buffer per kind, sized
 * for the largest layer: launches run one after another, so they never overlap.
 */
import type { DimExpr, Launch, LaunchArg } from "../runtime/compiled.js";
import type { Act, Group } from "./fuse.js";
import type { Dim, Graph } from "./ir.js";
import { numel } from "./ir.js";
import { avgPoolBackwardKernel, convBackwardKernel, maxPoolBackwardKernel } from "./kernels.js";

/**
 * What the conv/pool backward planners need from the program being planned (`plan.ts` makes one per program).
 *
 * @example
 * const dy = ctx.gradArg(group.out); // { buf: "g5" }
 */
export interface BackwardCtx {
  /** Names a kernel text (the same text gets the same name). */
  name(base: string, text: string): string;
  /** A value's forward buffer (or the input). */
  arg(v: number): LaunchArg;
  /** A value's gradient buffer. */
  gradArg(v: number): LaunchArg;
  /** Whether a value depends on a parameter (else its gradient is never needed). */
  needs(v: number): boolean;
  /** The activation that produced a value, when a kernel that writes its gradient can apply its backward. */
  producerAct(v: number): { group: Group; act: Act } | null;
  /** Groups whose activation backward a downstream kernel applied. */
  fusedAct: Set<Group>;
  node(v: number): Graph["nodes"][number];
  /** The value a view chain starts from (views share their source's buffer). */
  root(v: number): number;
  /** A buffer of `n` samples of `perSample` floats shared by every launch that asks for `id`. */
  scratch(id: string, n: Dim, perSample: number): LaunchArg;
  /** Makes the shared GEMM packing scratch (`packC`) hold at least `n` floats. */
  pack(n: number): void;
}

const int = (v: DimExpr): LaunchArg => ({ int: v });
const none: LaunchArg = { none: true };

/**
 * The launch of a Conv2d layer's backward (`gr` is a `conv` group): `conv2d[_act]_backward[_nobias][_dx[_act]]`.
 *
 * @example
 * launches.push(convBackward(group, ctx)); // groups are visited last to first
 */
export function convBackward(gr: Extract<Group, { kind: "conv" }>, c: BackwardCtx): Launch {
  const n = gr.node;
  const q = n.geom;
  const K = q.C * q.kh * q.kw;
  const L = q.Ho * q.Wo;
  const N = c.node(gr.x).shape[0]!;
  // The activation fused into the forward epilogue: applied here unless a downstream kernel did.
  const act = gr.act && !c.fusedAct.has(gr) ? gr.act : null;
  const inputGrad = c.needs(gr.x);
  const pa = inputGrad ? c.producerAct(gr.x) : null;
  if (pa) c.fusedAct.add(pa.group);
  c.pack(Math.max(K, n.outC) * L);
  const kernel = c.name(
    `conv2d${act ? `_${act}` : ""}_backward${n.bias ? "" : "_nobias"}${inputGrad ? `_dx${pa ? `_${pa.act}` : ""}` : ""}`,
    convBackwardKernel(act, n.bias !== null, inputGrad, pa?.act ?? null),
  );
  const layer = c.node(c.root(gr.x)).layer?.path;
  return {
    kernel,
    covers: `${act ? `∂${act} + ` : ""}∂${n.weight}${n.bias ? ` + ∂${n.bias}` : ""}${inputGrad ? ` + ∂${layer ?? "x"}${pa ? ` through ${pa.act}` : ""}` : ""}`,
    args: [
      { grad: n.weight }, n.bias ? { grad: n.bias } : none, inputGrad ? c.gradArg(gr.x) : none,
      c.gradArg(gr.out), act ? c.arg(gr.out) : none, pa ? c.arg(gr.x) : none,
      { param: n.weight }, { buf: `cols${gr.out}` },
      c.scratch("dwT", N, n.outC * K), inputGrad ? c.scratch("dcols", N, K * L) : none, { buf: "packC" },
      int(N), ...[q.C, q.H, q.W, q.kh, q.kw, q.sh, q.sw, q.ph, q.pw, q.dh, q.dw, q.Ho, q.Wo, n.outC].map(int),
    ],
  };
}

/**
 * The launch of a pooling layer's backward, or null when its input needs no gradient.
 *
 * @example
 * const l = poolBackward(group, ctx);
 * if (l) launches.push(l);
 */
export function poolBackward(gr: Extract<Group, { kind: "pool" }>, c: BackwardCtx): Launch | null {
  if (!c.needs(gr.x)) return null;
  const n = gr.node;
  const q = n.geom;
  const N = c.node(gr.x).shape[0]!;
  const pa = c.producerAct(gr.x);
  if (pa) c.fusedAct.add(pa.group);
  const covers = `∂(${gr.covers.join(" + ")})${pa ? ` + ∂${pa.act}` : ""}`;
  const E = pa ? c.arg(gr.x) : none;
  if (n.mode === "max") {
    const kernel = c.name(`max_pool2d_backward${pa ? `_${pa.act}` : ""}`, maxPoolBackwardKernel(pa?.act ?? null));
    return { kernel, covers, args: [c.gradArg(gr.x), c.gradArg(gr.out), { buf: `idx${gr.out}` }, E, int(numel([N, q.C])), int(q.H * q.W), int(q.Ho * q.Wo)] };
  }
  const kernel = c.name(`avg_pool2d_backward${pa ? `_${pa.act}` : ""}`, avgPoolBackwardKernel(pa?.act ?? null));
  const f64 = (v: readonly number[]): LaunchArg => ({ f64: v });
  return {
    kernel,
    covers,
    args: [c.gradArg(gr.x), c.gradArg(gr.out), E, ...[N, q.C, q.H, q.W, q.Ho, q.Wo].map(int), f64(n.rows![0]!), f64(n.rows![1]!), f64(n.cols![0]!), f64(n.cols![1]!), f64(n.divisors!)],
  };
}
