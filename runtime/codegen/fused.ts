/**
 * Kernel text for fused kernels: a matrix product with a fused epilogue (bias + activation, or an
 * activation's backward), a chain of elementwise ops in one loop, row-wise softmax, the losses
 * with their gradients, and the optimizer updates. The build-step compiler (`compiler/`) and the
 * compiled runtime (`runtime/compiled.ts`) take their kernels from here; the op expressions
 * spliced in come from the op table (`runtime/ops/`), so a fused kernel computes what the eager
 * ops compute — and, with `Math.fround` at every op boundary, rounds where they round.
 *
 * Every kernel works on contiguous typed arrays and never allocates.
 */
import { HOOK, im2colSource } from "./jsConv.js";
import type { SgdTerms } from "./wasm.js";

/** Options of {@link gemmSource}. */
export interface GemmOptions {
  /** `A` is stored transposed: `A(i, k)` at `A[ao + k·M + i]` (the stored array is K×M). */
  readonly aT?: boolean;
  /** `B` is stored transposed: `B(k, j)` at `B[bo + j·K + k]` (N×K, as a Linear weight). */
  readonly bT?: boolean;
  /**
   * Statements that store the result, given the accumulator `acc` (a double), the output index
   * `o` (relative to `co`) and the column `j`; they assign `C[co + o]`. Visible: `bias` (a vector
   * over columns), `E` (an extra operand read at `E[o]`), `fr` (Math.fround).
   * Default: `C[co + o] = acc;`.
   */
  readonly epilogue?: (acc: string, o: string, j: string) => string;
  /** Also writes `D[i] = Σ_k A(i, k)` (with `aT`: the column sums of the stored A — a bias gradient). */
  readonly rowSumA?: boolean;
}

/**
 * Text of a register-blocked matrix product `C = A · B` (M×K times K×N, row-major C at `co`),
 * the loop skeleton of `codegen/js.ts`'s `matmulSource` (4×4 register blocks over a packed panel of
 * B, summing over k in order), with optional transposed operands and a fused epilogue:
 * `gemm(C, co, A, ao, B, bo, M, K, N, P, bias, E, D)`. `P` is scratch of ≥ K·N elements.
 *
 * Float32 products that the eager runtime runs in its WebAssembly SIMD GEMM (`ops/matmul.ts`,
 * `useWasmGemm`) go through the same GEMM here: the text is evaluated with a free `sgemm` hook
 * (`new Function("sgemm", "sgemmBatch", text)(hook, batchHook)`, see `runtime/compiled.ts`), called as
 * `sgemm(C, co, A, ao, sam, sak, B, bo, sbk, sbn, M, K, N)` with the operands' element strides; when
 * it returns true it has written the float32 product into C, and the epilogue then runs as a
 * separate pass over C — so it sees the product exactly as eager's next op does. Without the hook
 * (or when it returns false: small products, no WebAssembly) the JS loops below run.
 *
 * @example
 * // y = relu(x · Wᵀ + b), as nn.Linear followed by nn.ReLU:
 * gemmSource({ bT: true, epilogue: (acc, o, j) => `const v = fr(fr(${acc}) + bias[${j}]); C[co + ${o}] = v < 0 ? 0 : v;` });
 */
export function gemmSource(opts: GemmOptions = {}): string {
  const A = (i: string, k: string) => (opts.aT ? `A[ao + (${k}) * M + ${i}]` : `A[ao + (${i}) * K + ${k}]`);
  const B = (k: string, j: string) => (opts.bT ? `B[bo + (${j}) * K + ${k}]` : `B[bo + (${k}) * N + ${j}]`);
  const epi = opts.epilogue ?? ((acc: string, o: string) => `C[co + ${o}] = ${acc};`);
  const store = (o: string, j: string, acc: string) => `{ const o = ${o}, jj = ${j}; ${epi(acc, "o", "jj")} }`;
  const acc = (i: number, j: number) => `c${i}${j}`;
  const block: string[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) block.push(`let ${acc(i, j)} = 0;`);
  const body: string[] = [];
  if (opts.aT) {
    body.push("const ak = ao + k * M + i;");
    for (let i = 0; i < 4; i++) body.push(`const a${i} = A[ak + ${i}];`);
  } else {
    for (let i = 0; i < 4; i++) body.push(`const a${i} = A[ar${i} + k];`);
  }
  body.push("const q = pb + k * 4;");
  for (let j = 0; j < 4; j++) body.push(`const b${j} = P[q + ${j}];`);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) body.push(`${acc(i, j)} += a${i} * b${j};`);
  const stores: string[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) stores.push(store(`(i + ${i}) * N + j + ${j}`, `j + ${j}`, acc(i, j)));
  const pack = [0, 1, 2, 3].map((t) => `P[p + ${t}] = ${B("k", `j + ${t}`)};`).join(" ");
  const rowSum = opts.rowSumA ? ["for (let i = 0; i < M; i++) {", "let s = 0;", `for (let k = 0; k < K; k++) s += ${A("i", "k")};`, "D[i] = s;", "}"] : [];
  // element strides of A(i, k) and B(k, j), for the WASM GEMM
  const aStrides = opts.aT ? "1, M" : "K, 1";
  const bStrides = opts.bT ? "1, K" : "N, 1";
  return [
    '"use strict";',
    "const fr = Math.fround;",
    HOOK("SG", "sgemm"),
    "return function gemm(C, co, A, ao, B, bo, M, K, N, P, bias, E, D) {",
    `if (SG !== null && SG(C, co, A, ao, ${aStrides}, B, bo, ${bStrides}, M, K, N)) {`,
    ...(opts.epilogue ? ["for (let i = 0, q = 0; i < M; i++) {", "for (let j = 0; j < N; j++, q++) {", `const acc = C[co + q]; ${store("q", "j", "acc")}`, "}", "}"] : []),
    ...rowSum,
    "return;",
    "}",
    "const M4 = M - (M % 4), N4 = N - (N % 4);",
    "for (let j = 0, p = 0; j < N4; j += 4) {",
    `for (let k = 0; k < K; k++) { ${pack} p += 4; }`,
    "}",
    "for (let j = 0; j < N4; j += 4) {",
    "const pb = j * K;",
    "for (let i = 0; i < M4; i += 4) {",
    opts.aT ? "" : "const ar0 = ao + i * K, ar1 = ar0 + K, ar2 = ar1 + K, ar3 = ar2 + K;",
    ...block,
    "for (let k = 0; k < K; k++) {",
    ...body,
    "}",
    ...stores,
    "}",
    "for (let i = M4; i < M; i++) {",
    "let s0 = 0, s1 = 0, s2 = 0, s3 = 0;",
    `for (let k = 0; k < K; k++) { const a = ${A("i", "k")}; const q = pb + k * 4; s0 += a * P[q]; s1 += a * P[q + 1]; s2 += a * P[q + 2]; s3 += a * P[q + 3]; }`,
    ...[0, 1, 2, 3].map((t) => store(`i * N + j + ${t}`, `j + ${t}`, `s${t}`)),
    "}",
    "}",
    "for (let i = 0; i < M; i++) {",
    "for (let j = N4; j < N; j++) {",
    "let s = 0;",
    `for (let k = 0; k < K; k++) s += ${A("i", "k")} * ${B("k", "j")};`,
    store("i * N + j", "j", "s"),
    "}",
    "}",
    ...rowSum,
    "};",
  ].join("\n");
}

/**
 * Text of a loop of `N` products by a {@link gemmSource} kernel `fn`, product n at offsets
 * `co + n·cStep`, `ao + n·aStep`, `bo + n·bStep` (each an expression), tried first as one batch
 * through the `sgemmBatch` hook — `SGB(C, co, cStep, A, ao, aStep, sam, sak, B, bo, bStep, sbk,
 * sbn, N, M, K, Nc)` with the operands' element strides, true when it has written every product
 * (the WASM GEMM, which splits a batch between two threads) — and the kernel text it goes in must
 * declare `SGB` ({@link SGB_DECL}).
 *
 * @example
 * batchedGemm("gemm", ["O", "0", "Oc * L"], ["Wt", "0", "0", "K, 1"], ["cols", "0", "K * L", "L, 1"], ["Oc", "K", "L"]);
 */
export function batchedGemm(
  fn: string, [C, co, cStep]: readonly [string, string, string], [A, ao, aStep, aStrides]: readonly [string, string, string, string],
  [B, bo, bStep, bStrides]: readonly [string, string, string, string], [M, K, N]: readonly [string, string, string],
): string {
  const at = (base: string, step: string) => (step === "0" ? base : base === "0" ? `n * ${step}` : `${base} + n * ${step}`);
  return `if (SGB === null || !SGB(${C}, ${co}, ${cStep}, ${A}, ${ao}, ${aStep}, ${aStrides}, ${B}, ${bo}, ${bStep}, ${bStrides}, N, ${M}, ${K}, ${N})) ` +
    `for (let n = 0; n < N; n++) ${fn}(${C}, ${at(co, cStep)}, ${A}, ${at(ao, aStep)}, ${B}, ${at(bo, bStep)}, ${M}, ${K}, ${N}, P);`;
}

/** The declaration of `SGB`, the `sgemmBatch` hook (or null), for kernels that use {@link batchedGemm}. */
export const SGB_DECL = HOOK("SGB", "sgemmBatch");

/**
 * Text of a whole 2-D convolution (groups 1) over a contiguous float32 batch in one launch, as eager
 * `conv2d` (`runtime/ops/conv.ts`) computes it: im2col (`im2colSource` of `./jsConv.ts`) into the
 * zero-filled scratch `cols`, then per sample the GEMM `W · cols[n]` of {@link gemmSource} (all
 * samples at once through the `sgemmBatch` hook, as eager's batched call: the WASM GEMM where eager
 * uses it, else the same blocked JS loop as eager's `matmulSource`), then the epilogue per element: the channel bias added to the float32 product
 * (eager's `channelBiasSource` rounding) and `act(v)` (an expression of `v`), each rounded to float32.
 * `conv(O, X, Wt, bias, cols, P, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Oc)`; `P` is the
 * GEMM's packing scratch (`C·kh·kw · Ho·Wo` floats).
 *
 * @example
 * conv2dSource(true, (v) => `(${v} < 0 ? 0 : ${v})`, true);
 */
export function conv2dSource(bias: boolean, act: ((v: string) => string) | null, relu = false): string {
  const indent = (t: string) => t.split("\n").map((l) => "  " + l).join("\n");
  const epi: string[] = [];
  if (bias || act) {
    // the same epilogue in WASM SIMD through the `biasAct` hook, when `act` is ReLU or absent
    if (relu || !act) epi.push(`if (SEPI === null || !SEPI(O, bias, N, Oc, L, ${relu ? 1 : 0})) {`);
    epi.push("for (let n = 0, o = 0; n < N; n++) {", "for (let c = 0; c < Oc; c++) {", bias ? "const b = bias[c];" : "", "for (let t = 0; t < L; t++, o++) {");
    epi.push(bias ? "const v = fr(O[o] + b);" : "const v = O[o];");
    epi.push(act ? `O[o] = fr(${act("v")});` : "O[o] = v;", "}", "}", "}");
    if (relu || !act) epi.push("}");
  }
  return [
    '"use strict";',
    "const fr = Math.fround;",
    SGB_DECL,
    ...((bias || act) && (relu || !act) ? [SEPI_DECL] : []),
    `const im2col = (function () {\n${indent(im2colSource())}\n})();`,
    `const gemm = (function () {\n${indent(gemmSource())}\n})();`,
    "return function conv(O, X, Wt, bias, cols, P, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Oc) {",
    "const K = C * kh * kw, L = Ho * Wo;",
    "im2col(cols, X, 0, C * H * W, H * W, W, 1, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo);",
    batchedGemm("gemm", ["O", "0", "Oc * L"], ["Wt", "0", "0", "K, 1"], ["cols", "0", "K * L", "L, 1"], ["Oc", "K", "L"]),
    ...epi.filter((l) => l !== ""),
    "};",
  ].join("\n");
}

/**
 * The declaration of `SEPI`, the `biasAct` hook (or null): `SEPI(O, bias, N, Oc, L, relu)` applies
 * a conv epilogue — `O[n, c, t] = act(O[n, c, t] + bias[c])`, act ReLU (relu = 1) or none, bias
 * optional — in place as the JS loop would, bit for bit (see `biasActWasm` for NaN plus NaN), and
 * returns true; false when it can't (no WebAssembly, arrays outside the wasm memory).
 */
export const SEPI_DECL = HOOK("SEPI", "biasAct");

/**
 * Text of an elementwise chain over contiguous operands, one loop for the whole chain:
 * `ewc(O, X, n, p)` with inputs `X[0..nIn)` read as `a`, `b`, `c`, `d`, scalars `p0`, `p1`, ...;
 * `steps[k]` is the expression of temporary `t{k}` (it may use the inputs, scalars and earlier
 * temporaries); `O[i]` gets the last. With `round`, every step is rounded to float32 (`fr`), as
 * the eager ops round when they store.
 *
 * @example
 * ewChainSource(1, 0, ["(a < 0 ? 0 : a)", "1 / (1 + Math.exp(-t0))"], true);
 */
export function ewChainSource(nIn: number, nParams: number, steps: readonly string[], round: boolean): string {
  const names = ["a", "b", "c", "d"];
  const L: string[] = ['"use strict";', "const fr = Math.fround;", "return function ewc(O, X, n, p) {"];
  for (let k = 0; k < nIn; k++) L.push(`const X${k} = X[${k}];`);
  for (let k = 0; k < nParams; k++) L.push(`const p${k} = p[${k}];`);
  L.push("for (let i = 0; i < n; i++) {");
  for (let k = 0; k < nIn; k++) L.push(`const ${names[k]} = X${k}[i];`);
  steps.forEach((s, k) => L.push(`const t${k} = ${round ? `fr(${s})` : s};`));
  L.push(`O[i] = t${steps.length - 1};`);
  L.push("}", "};");
  return L.join("\n");
}

/**
 * Text of a softmax (or, with `log`, logSoftmax) over the last dim of a contiguous `rows × cols`
 * array, in one kernel: `sm(O, X, rows, cols)`. The steps are eager softmax's (`x − max`, exp,
 * sum, divide — or subtract the log of the sum), each rounded to float32 with `round`.
 *
 * @example
 * softmaxRowsSource(false, true);
 */
export function softmaxRowsSource(log: boolean, round: boolean): string {
  const r = (e: string) => (round ? `fr(${e})` : e);
  return [
    '"use strict";',
    "const fr = Math.fround;",
    "return function sm(O, X, rows, cols) {",
    "for (let r = 0; r < rows; r++) {",
    "const base = r * cols;",
    "let m = -Infinity;",
    "for (let j = 0; j < cols; j++) { const v = X[base + j]; if (v > m || v !== v) m = v; }",
    "if (m === Infinity || m === -Infinity) m = 0;",
    "let s = 0;",
    `for (let j = 0; j < cols; j++) s += ${r("Math.exp(" + r("X[base + j] - m") + ")")};`,
    `s = ${r("s")};`,
    log
      ? `const ls = ${r("Math.log(s)")}; for (let j = 0; j < cols; j++) O[base + j] = ${r(`${r("X[base + j] - m")} - ls`)};`
      : `for (let j = 0; j < cols; j++) O[base + j] = ${r(`${r(`Math.exp(${r("X[base + j] - m")})`)} / s`)};`,
    "}",
    "};",
  ].join("\n");
}

/**
 * Text of cross-entropy over logits `X` (`rows × cols`) with class indices `T`, mean-reduced,
 * fused with its gradient: `ce(L, G, X, T, rows, cols, bad)` writes the loss into `L[0]` and
 * `∂loss/∂X = (softmax(X) − onehot(T)) / kept` into `G` — softmax, the loss and its backward
 * in one pass. Targets equal to -100 (PyTorch's default `ignoreIndex`) are skipped: their rows get
 * a zero gradient and the mean is over the `kept` rows (none kept: NaN loss, zero gradient). The
 * gradient is rounded as eager autograd through `logSoftmax` + `nllLoss` rounds it:
 * `g = fr(1/kept)`, `gS = fr(g / Σ e)`, `fr(gS · e_j)`, minus `g` at the target. `bad(v)` is
 * called (and throws) for any other class index outside `[0, cols)`, before anything is written.
 *
 * @example
 * crossEntropySource();
 */
export function crossEntropySource(): string {
  return [
    '"use strict";',
    "const fr = Math.fround;",
    "return function ce(L, G, X, T, rows, cols, bad) {",
    "let kept = 0;",
    "for (let r = 0; r < rows; r++) {",
    "const t = T[r];",
    "if (t === -100) continue;",
    "if (!(t >= 0 && t < cols && t === Math.floor(t))) bad(t);",
    "kept++;",
    "}",
    "const gInv = fr(1 / kept);",
    "let total = 0;",
    "for (let r = 0; r < rows; r++) {",
    "const base = r * cols;",
    "const t = T[r];",
    "if (t === -100) { G.fill(0, base, base + cols); continue; }",
    "let m = -Infinity;",
    "for (let j = 0; j < cols; j++) { const v = X[base + j]; if (v > m || v !== v) m = v; }",
    "if (m === Infinity || m === -Infinity) m = 0;",
    "let s = 0;",
    "for (let j = 0; j < cols; j++) s += fr(Math.exp(fr(X[base + j] - m)));",
    "const lse = fr(Math.log(fr(s)));",
    "total += fr(fr(X[base + t] - m) - lse);",
    "const gS = fr(gInv / fr(s));",
    "for (let j = 0; j < cols; j++) { const d = fr(gS * fr(Math.exp(fr(X[base + j] - m)))); G[base + j] = j === t ? fr(d - gInv) : d; }",
    "}",
    "L[0] = fr(-fr(total) / kept);",
    "};",
  ].join("\n");
}

/**
 * Text of the mean squared error fused with its gradient: `mse(L, G, Y, T, n)` writes
 * `mean((Y − T)²)` into `L[0]` and `2(Y − T)/n` into `G`, rounded as eager autograd of
 * `d.mul(d).mean()` rounds it (`∂mean = fr(1/n)`, then `d·g` from each factor, summed).
 *
 * @example
 * mseSource();
 */
export function mseSource(): string {
  return [
    '"use strict";',
    "const fr = Math.fround;",
    "return function mse(L, G, Y, T, n) {",
    "let s = 0;",
    "const gInv = fr(1 / n);",
    "for (let i = 0; i < n; i++) { const d = fr(Y[i] - T[i]); s += fr(d * d); G[i] = fr(2 * fr(gInv * d)); }",
    "L[0] = fr(fr(s) / n);",
    "};",
  ].join("\n");
}

/**
 * Text of one SGD step over a whole param group in one launch (PyTorch 1.13's update, in its
 * order of roundings): `sgd(Ps, Gs, Bs, h)` with parameter, gradient and momentum-buffer arrays
 * and `h = [lr, momentum, dampening, weightDecay]`. The text is specialised on `v` (which terms
 * exist), so the inner loop has no branches: the update is memory-bound, and a branchy loop
 * over all options ran at ~4.5 ns per element where this one runs at ~1.
 *
 * @example
 * sgdSource({ momentum: true, first: false, nesterov: false, weightDecay: false, maximize: false, undamped: true });
 */
export function sgdSource(v: SgdTerms): string {
  const body: string[] = [v.maximize ? "let d = -G[i];" : "let d = G[i];"];
  if (v.weightDecay) body.push("d = fr(d + fr(P[i] * wd));");
  if (v.momentum) {
    body.push(v.first ? "const b = d;" : `const b = fr(fr(Bf[i] * mu) + ${v.undamped ? "d" : "fr(d * damp1)"});`, "Bf[i] = b;");
    body.push(v.nesterov ? "d = fr(d + fr(b * mu));" : "d = b;");
  }
  body.push("P[i] = fr(P[i] + fr(d * lr));");
  return [
    '"use strict";',
    "const fr = Math.fround;",
    "return function sgd(Ps, Gs, Bs, h) {",
    "// the hyper-parameters are float32 scalar operands in eager's tensor ops (x.mul(alpha)): rounded as they are there",
    "const lr = fr(-h[0]), mu = fr(h[1]), damp1 = fr(1 - h[2]), wd = fr(h[3]);",
    "for (let t = 0; t < Ps.length; t++) {",
    "const P = Ps[t], G = Gs[t], Bf = Bs[t], n = P.length;",
    "for (let i = 0; i < n; i++) {",
    ...body,
    "}",
    "}",
    "};",
  ].join("\n");
}

/**
 * Text of one Adam (or AdamW) step over a whole param group in one launch: PyTorch 1.13's
 * single-tensor update (`optim/Adam.ts`), rounding where its tensor ops round:
 * `adam(Ps, Gs, Ms, Vs, Xs, Ss, h)` with parameter, gradient, first and second moment arrays,
 * the amsgrad maxima (`Xs`, entries unused without amsgrad), the per-parameter step counts
 * (one-element float32 arrays, incremented here) and
 * `h = [lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, decoupled]` (`decoupled`: AdamW's
 * decay). The bias corrections are computed in doubles from the float32 step, as eager does.
 *
 * @example
 * adamSource();
 */
export function adamSource(): string {
  return [
    '"use strict";',
    "const fr = Math.fround;",
    "return function adam(Ps, Gs, Ms, Vs, Xs, Ss, h) {",
    "const lrD = h[0], b1D = h[1], b2D = h[2], wdD = h[4], ams = h[5] !== 0, maximize = h[6] !== 0, decoupled = h[7] !== 0;",
    "// scalar operands of eager's float32 tensor ops are rounded to float32 there: rounded here too",
    "const b1 = fr(b1D), omb1 = fr(1 - b1D), b2 = fr(b2D), omb2 = fr(1 - b2D), eps = fr(h[3]), wd = fr(wdD), decay = fr(1 - lrD * wdD);",
    "const l2 = !decoupled && wdD !== 0;",
    "for (let t = 0; t < Ps.length; t++) {",
    "const P = Ps[t], G = Gs[t], M = Ms[t], V = Vs[t], X = Xs[t], S = Ss[t], n = P.length;",
    "S[0] = fr(S[0] + 1);",
    "const step = S[0];",
    "const stepSize = lrD / (1 - b1D ** step);",
    "const bc2s = fr(Math.sqrt(1 - b2D ** step)), nss = fr(-stepSize);",
    "for (let i = 0; i < n; i++) {",
    "if (decoupled) P[i] = fr(P[i] * decay);",
    "let g = maximize ? -G[i] : G[i];",
    "if (l2) g = fr(g + fr(P[i] * wd));",
    "const m = fr(fr(M[i] * b1) + fr(g * omb1));",
    "M[i] = m;",
    "let v = fr(fr(V[i] * b2) + fr(fr(g * omb2) * g));",
    "V[i] = v;",
    "if (ams) { v = Math.max(X[i], v); X[i] = v; }",
    "const denom = fr(fr(fr(Math.sqrt(v)) / bc2s) + eps);",
    "P[i] = fr(P[i] + fr(fr(m * nss) / denom));",
    "}",
    "}",
    "};",
  ].join("\n");
}
