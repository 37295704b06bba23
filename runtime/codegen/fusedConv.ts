/**
 * Kernel text for the compiled backward of convolution models (`typetorch compile`, see
 * `compiler/planConv.ts`): one launch per Conv2d layer (its activation's backward, `∂b`, `∂W`
 * and `∂X` through col2im), one per pooling layer (the adjoint, with the producer's activation
 * backward fused in). The loops come from `./jsConv.ts` (col2im, the max-unpool scatter, the
 * window-average adjoint) and the products from `gemmSource` of `./fused.ts` (so they reach the
 * WASM SIMD GEMM through the `sgemm` hook as eager's products do); this file only strings them
 * together in eager's order of operations, so every gradient rounds where eager's Tensor-op
 * backward (`runtime/ops/conv.ts`, `pool.ts`) rounds.
 *
 * Activation backwards are passed in as expression builders `(g, y) => string` (the gradient
 * and the activation's output, as `compiler/kernels.ts`'s `actBackwardExpr` writes them), so
 * this file knows no ops. Every kernel works on contiguous typed arrays and never allocates.
 */
import { batchedGemm, gemmSource, SGB_DECL } from "./fused.js";
import { col2imSource, HOOK, maxUnpoolAddSource, windowAvgSource } from "./jsConv.js";

/**
 * An activation's backward: an expression of the incoming gradient `g` and the activation's output `y`.
 *
 * @example
 * const reluBackward: ActBackward = (g, y) => `fr(${g} * (${y} > 0 ? 1 : 0))`;
 */
export type ActBackward = (g: string, y: string) => string;

/**
 * Options of {@link conv2dBackwardSource}.
 *
 * @example
 * const first: Conv2dBackwardOptions = { bias: true, act: null, inputGrad: false, inputAct: null };
 */
export interface Conv2dBackwardOptions {
  /** The layer has a bias (`∂b` is written into `GB`). */
  readonly bias: boolean;
  /**
   * The backward of the activation fused into this layer's forward epilogue, applied to `DY` in
   * place first (`DY` then holds `∂Z`, the gradient before the activation; `Y` is the
   * activation's output). Null when there is none, or when a downstream kernel applied it already.
   */
  readonly act: ActBackward | null;
  /** Also compute `∂X` (false for a first layer whose input needs no gradient). */
  readonly inputGrad: boolean;
  /** The backward of the activation that produced this layer's input, applied to `∂X` (`E`: its output). */
  readonly inputAct: ActBackward | null;
}

const indent = (t: string) => t.split("\n").map((l) => "  " + l).join("\n");
/** A kernel text (`"use strict"; ... return function`) as a local function of another kernel. */
const local = (name: string, text: string) => `const ${name} = (function () {\n${indent(text)}\n})();`;

/**
 * Text of a Conv2d layer's whole backward (groups 1) in one launch, as eager's `conv2dBackward`
 * (`runtime/ops/conv.ts`) computes it from the gradient `g` of its output:
 *
 * 1. with `act`: `DY ← act'(Y) ⊙ DY` in place (eager's activation backward, before the conv's);
 * 2. `∂b[c] = Σ_{n, t} DY[n, c, t]` (eager's `g.sum([0, 2, 3])`: a double sum in that order, rounded once);
 * 3. `∂W = Σₙ DY[n] · cols[n]ᵀ`: per sample the float32 product into the scratch `T[n]` (all samples at
 *    once through the `sgemmBatch` hook, as eager's batched product), then the sum over samples in doubles, rounded once
 *    (eager's `.sum(0)`); `cols` is the im2col buffer the forward kept;
 * 4. with `inputGrad`: per sample `DC[n] = Wᵀ · DY[n]`, then col2im into the zero-filled `GX` (eager's
 *    `col2im(wᵀ · g)`), then with `inputAct` `GX ← act'(E) ⊙ GX` (the producer's activation backward).
 *
 * `convbwd(GW, GB, GX, DY, Y, E, Wt, cols, T, DC, P, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Oc)`:
 * `T` holds `N·Oc·C·kh·kw` floats, `DC` `N·C·kh·kw·Ho·Wo`, `P` (the JS GEMM's packing scratch)
 * `max(C·kh·kw, Oc)·Ho·Wo`.
 *
 * @example
 * // a Conv2d + ReLU layer with a bias, not the first layer:
 * conv2dBackwardSource({ bias: true, act: (g, y) => `Math.fround(${g} * +(${y} > 0))`, inputGrad: true, inputAct: null });
 */
export function conv2dBackwardSource(o: Conv2dBackwardOptions): string {
  const L: string[] = [
    '"use strict";',
    "const fr = Math.fround;",
    SGB_DECL,
    // ∂W: A = DY[n] (Oc × L), B = cols[n]ᵀ (cols[n] is K × L: B stored transposed).
    local("gemmW", gemmSource({ bT: true })),
    // ∂cols: A = Wᵀ (W is Oc × K: A stored transposed), B = DY[n] (Oc × L).
    ...(o.inputGrad ? [local("gemmX", gemmSource({ aT: true })), local("col2im", col2imSource())] : []),
    "return function convbwd(GW, GB, GX, DY, Y, E, Wt, cols, T, DC, P, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Oc) {",
    "const K = C * kh * kw, L = Ho * Wo, OL = Oc * L, KL = K * L, OK = Oc * K;",
  ];
  if (o.act) L.push("for (let i = 0, n = N * OL; i < n; i++) {", `const g = DY[i], y = Y[i];`, `DY[i] = ${o.act("g", "y")};`, "}");
  // The sums below fold four outputs side by side (as eager's `reduceLanesSource` does): each is a
  // chain of dependent adds, four chains keep the FPU busy; every output still adds its own
  // elements in the same order, so the results don't change.
  if (o.bias) {
    L.push(
      "let c = 0;",
      "for (; c < Oc - 3; c += 4) {",
      "let s0 = 0, s1 = 0, s2 = 0, s3 = 0;",
      "for (let n = 0; n < N; n++) {",
      "const b = n * OL + c * L;",
      "for (let t = b, e = b + L; t < e; t++) { s0 += DY[t]; s1 += DY[t + L]; s2 += DY[t + 2 * L]; s3 += DY[t + 3 * L]; }",
      "}",
      "GB[c] = s0; GB[c + 1] = s1; GB[c + 2] = s2; GB[c + 3] = s3;",
      "}",
      "for (; c < Oc; c++) {",
      "let s = 0;",
      "for (let n = 0; n < N; n++) { const b = n * OL + c * L; for (let t = 0; t < L; t++) s += DY[b + t]; }",
      "GB[c] = s;",
      "}",
    );
  }
  L.push(
    batchedGemm("gemmW", ["T", "0", "OK"], ["DY", "0", "OL", "L, 1"], ["cols", "0", "KL", "1, L"], ["Oc", "L", "K"]),
    "let e = 0;",
    "for (; e < OK - 3; e += 4) {",
    "let s0 = 0, s1 = 0, s2 = 0, s3 = 0;",
    "for (let n = 0, q = e; n < N; n++, q += OK) { s0 += T[q]; s1 += T[q + 1]; s2 += T[q + 2]; s3 += T[q + 3]; }",
    "GW[e] = s0; GW[e + 1] = s1; GW[e + 2] = s2; GW[e + 3] = s3;",
    "}",
    "for (; e < OK; e++) {",
    "let s = 0;",
    "for (let n = 0; n < N; n++) s += T[n * OK + e];",
    "GW[e] = s;",
    "}",
  );
  if (o.inputGrad) {
    L.push(
      batchedGemm("gemmX", ["DC", "0", "KL"], ["Wt", "0", "0", "1, K"], ["DY", "0", "OL", "L, 1"], ["K", "Oc", "L"]),
      "GX.fill(0, 0, N * C * H * W);",
      "col2im(GX, DC, 0, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo);",
    );
    if (o.inputAct) L.push("for (let i = 0, n = N * C * H * W; i < n; i++) {", "const g = GX[i], y = E[i];", `GX[i] = ${o.inputAct("g", "y")};`, "}");
  }
  L.push("};");
  return L.join("\n");
}

/**
 * Text of max pooling's backward in one launch: the gradient `G[N, C, Ho, Wo]` added at the
 * argmax indices the forward recorded (`I`, flat indices into each `H·W` plane, as
 * `maxPoolSource` writes them; ties went to the first max there, as PyTorch's) into the
 * zero-filled `GX[N, C, H, W]` (`maxUnpoolAddSource`, eager's adjoint), then, with `act`, the
 * producer's activation backward `GX ← act'(E) ⊙ GX` (`E`: the pooled input).
 * `maxpoolbwd(GX, G, I, E, planes, HW, L)` with `planes = N·C`, `HW = H·W`, `L = Ho·Wo`.
 * With no `act`, or `relu` (`act` is ReLU's backward), the work is first offered to a
 * `wasmUnpool` hook (compiled programs: `codegen/wasmConv.ts`'s `unpool`, the same values).
 *
 * @example
 * maxPool2dBackwardSource((g, y) => `Math.fround(${g} * +(${y} > 0))`, true);
 */
export function maxPool2dBackwardSource(act: ActBackward | null, relu = false): string {
  const hook = !act || relu;
  return [
    '"use strict";',
    "const fr = Math.fround;",
    ...(hook ? [HOOK("SUNPOOL", "wasmUnpool")] : []),
    local("unpool", maxUnpoolAddSource()),
    "return function maxpoolbwd(GX, G, I, E, planes, HW, L) {",
    ...(hook ? [`if (SUNPOOL !== null && SUNPOOL(GX, G, I, E, planes, HW, L, ${relu ? 1 : 0})) return;`] : []),
    "const n = planes * HW;",
    "GX.fill(0, 0, n);",
    "unpool(GX, G, 0, I, planes, HW, L);",
    ...(act ? ["for (let i = 0; i < n; i++) {", "const g = GX[i], y = E[i];", `GX[i] = ${act("g", "y")};`, "}"] : []),
    "};",
  ].join("\n");
}

/**
 * Text of average pooling's backward in one launch: `G[n, c, oh, ow] / divisor` spread over each
 * window of the zero-filled `GX[N, C, H, W]` (`windowAvgSource(true)`, eager's adjoint, over the
 * windows the forward used), then, with `act`, `GX ← act'(E) ⊙ GX` (`E`: the pooled input).
 * `avgpoolbwd(GX, G, E, N, C, H, W, Ho, Wo, hs, he, ws, we, dv)`.
 *
 * @example
 * avgPool2dBackwardSource(null);
 */
export function avgPool2dBackwardSource(act: ActBackward | null): string {
  return [
    '"use strict";',
    "const fr = Math.fround;",
    local("spread", windowAvgSource(true)),
    "return function avgpoolbwd(GX, G, E, N, C, H, W, Ho, Wo, hs, he, ws, we, dv) {",
    "const n = N * C * H * W;",
    "GX.fill(0, 0, n);",
    "spread(GX, G, 0, N, C, H, W, Ho, Wo, hs, he, ws, we, dv);",
    ...(act ? ["for (let i = 0; i < n; i++) {", "const g = GX[i], y = E[i];", `GX[i] = ${act("g", "y")};`, "}"] : []),
    "};",
  ].join("\n");
}
