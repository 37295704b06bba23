/**
 * WGSL kernel text of compiled programs (`typetorch compile --target wgsl`, assembled by
 * `compiler/wgsl.ts`, lowered into dispatches by `runtime/lowerLaunch.ts`): the `// typetorch:<kind>`
 * tag every such text starts with, the batched GEMM with a fused bias and epilogue (Linear and
 * conv forwards and backwards), column and channel sums (bias gradients), elementwise chains in
 * one kernel, and softmax / logSoftmax over the last dim — the GPU side of `./fused.ts`. The
 * image kernels they share with eager ops are `./wgslConv.ts`'s, the training step's
 * `./wgslStep.ts`'s. Conventions: see `./wgsl.ts`.
 */
import { MAIN_1D, PRELUDE, WORKGROUP, buf } from "./wgsl.js";

/**
 * What a compiled program's WGSL kernel computes, named on its first line (`// typetorch:linear`):
 * the GPU runtime reads the launch's arguments by the JS kernel signature this names
 * (`runtime/codegen/fused.ts`, `jsConv.ts`) and binds and dispatches accordingly.
 *
 * - `linear`: `gemm(C, co, A, ao, B, bo, M, K, N, P, bias, E, D)` forward (`C = epi(A·Bᵀ + bias)`);
 * - `conv2d` / `im2col`: `conv(O, X, Wt, bias, cols, P, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Oc)`
 *   as two dispatches (im2col into `cols`, then the GEMM with the epilogue);
 * - `max_pool2d`: `maxpool(O, I, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)`;
 * - `avg_pool2d`: `avgpool(O, X, xo, xsN, xsC, xsH, xsW, N, C, Ho, Wo, hs, he, ws, we, dv)`;
 * - `ew`: `ewc(O, X, n, p)`; `softmax`: `sm(O, X, rows, cols)`;
 * - backward: `linear_grad` (`gemm` with `aT`, bias gradient by `col_sum`), `linear_input_grad`
 *   (`gemm` with the activation's backward reading `E`), `act_backward` (`ewc` over `[∂Y, Y]`);
 * - the CNN backward (`codegen/fusedConv.ts`): `conv2d_backward`
 *   `convbwd(GW, GB, GX, DY, Y, E, Wt, cols, T, DC, P, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Oc)`
 *   as up to six dispatches — the activation's backward in place on `DY` (`<name>.act`), `∂b` by
 *   `channel_sum` (`<name>.bias`), `∂W` per sample (the tagged text itself, a `gemm` with `bT`) and
 *   their sum over samples (`<name>.wsum`, a `col_sum`), `Wᵀ·DY` per sample (`<name>.dx`, a `gemm`
 *   with `aT`) and `col2im` with the producer's activation backward (`<name>.col2im`);
 *   `max_pool2d_backward` `maxpoolbwd(GX, G, I, E, planes, HW, L)` (the adjoint at the argmax
 *   indices the forward's `max_pool2d` recorded, over that forward's geometry);
 *   `avg_pool2d_backward` `avgpoolbwd(GX, G, E, N, C, H, W, Ho, Wo, hs, he, ws, we, dv)`.
 *
 * @example
 * const kind: CompiledWgslKind = "linear";
 */
export type CompiledWgslKind =
  | "linear" | "conv2d" | "im2col" | "max_pool2d" | "avg_pool2d" | "ew" | "softmax"
  | "linear_grad" | "col_sum" | "linear_input_grad" | "act_backward"
  | "conv2d_backward" | "max_pool2d_backward" | "avg_pool2d_backward" | "channel_sum" | "gemm" | "col2im";

/**
 * Prefixes kernel text with the `// typetorch:<kind>` line {@link compiledWgslKind} reads.
 *
 * @example
 * tagWgsl("ew", fusedElementwiseWgsl(1, ["exp(a)"])).split("\n")[0]; // "// typetorch:ew"
 */
export function tagWgsl(kind: CompiledWgslKind, text: string): string {
  return `// typetorch:${kind}\n${text}`;
}

/**
 * The kind a compiled kernel's text names on its first line (see {@link tagWgsl}), or null for
 * text without one (WGSL from a compiler that predates the GPU runtime).
 *
 * @example
 * compiledWgslKind("// typetorch:softmax\n..."); // "softmax"
 */
export function compiledWgslKind(text: string): CompiledWgslKind | null {
  const m = /^\/\/ typetorch:(\w+)\n/.exec(text);
  return m ? (m[1] as CompiledWgslKind) : null;
}

/**
 * Options of {@link gemmWgsl}.
 *
 * @example
 * const conv: GemmWgslOptions = { bias: "row", epilogue: (v) => `tanh(clamp(${v}, -15.0, 15.0))` };
 */
export interface GemmWgslOptions {
  /** `A` is stored transposed: `A(i, k)` at `A[ao + k·M + i]`. */
  readonly aT?: boolean;
  /** `B` is stored transposed: `B(k, j)` at `B[bo + j·K + k]` (N×K, as a Linear weight). */
  readonly bT?: boolean;
  /** Adds a bias vector (binding `BIAS`, at `biasOff`) over the columns (a Linear's) or the rows (a conv's channels). */
  readonly bias?: "col" | "row" | null;
  /** Binds an extra operand `E` laid out like C (read as `E[r]`, `r` the output's index from `cOff`). */
  readonly extra?: boolean;
  /** The stored value as a WGSL expression of `v` (the f32 product plus bias) and `r`; default `v`. */
  readonly epilogue?: (v: string, r: string) => string;
}

/**
 * Text of the batched matrix product with a fused epilogue:
 * `C[cOff + z·cZ + i·N + j] = epilogue(Σ_k A(i, k)·B(k, j) + bias)` for every batch `z`, A and B
 * at `aOff + z·aZ` and `bOff + z·bZ` (a stride of 0 shares an operand across the batch, as a
 * conv's weight), optionally transposed. 16×16 tiles in workgroup memory (as `matmulWgsl` of `./wgsl.ts`),
 * one workgroup per 16×16 block of C and `z` per batch matrix; k is summed in order.
 * Params: `[M, K, N, aOff, aZ, bOff, bZ, cOff, cZ, biasOff]`. Bindings: C, A, B, [BIAS], [E].
 *
 * @example
 * // a Linear layer with ReLU: C = relu(A · Wᵀ + b)
 * gemmWgsl({ bT: true, bias: "col", epilogue: (v) => `max(${v}, 0.0)` });
 */
export function gemmWgsl(o: GemmWgslOptions = {}): string {
  let s = PRELUDE + buf(1, "C", "f32", true) + buf(2, "A", "f32", false) + buf(3, "B", "f32", false);
  let next = 4;
  if (o.bias) s += buf(next++, "BIAS", "f32", false);
  if (o.extra) s += buf(next++, "E", "f32", false);
  const a = o.aT ? "A[ao + ak * M + row]" : "A[ao + row * K + ak]";
  const b = o.bT ? "B[bo + col * K + bk]" : "B[bo + bk * N + col]";
  const bias = o.bias === "col" ? " + BIAS[pu(9u) + col]" : o.bias === "row" ? " + BIAS[pu(9u) + row]" : "";
  const epi = o.epilogue ? o.epilogue("v", "r") : "v";
  return s + `var<workgroup> As: array<array<f32, 16>, 16>;
var<workgroup> Bs: array<array<f32, 16>, 16>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u); let K = pu(1u); let N = pu(2u);
  let ao = pu(3u) + wid.z * pu(4u);
  let bo = pu(5u) + wid.z * pu(6u);
  let cr = wid.z * pu(8u);
  let row = wid.y * 16u + lid.y;
  let col = wid.x * 16u + lid.x;
  var acc: f32 = 0.0;
  for (var t0 = 0u; t0 < K; t0 = t0 + 16u) {
    let ak = t0 + lid.x;
    let bk = t0 + lid.y;
    var av: f32 = 0.0;
    var bv: f32 = 0.0;
    if (row < M && ak < K) { av = ${a}; }
    if (bk < K && col < N) { bv = ${b}; }
    As[lid.y][lid.x] = av;
    Bs[lid.y][lid.x] = bv;
    workgroupBarrier();
    for (var k = 0u; k < 16u; k = k + 1u) { acc = acc + As[lid.y][k] * Bs[k][lid.x]; }
    workgroupBarrier();
  }
  if (row < M && col < N) {
    let r = cr + row * N + col;
    let v: f32 = acc${bias};
    C[pu(7u) + r] = ${epi};
  }
}
`;
}

/**
 * Text of the column sums of a contiguous `M × N` matrix: `D[j] = Σ_i G[gOff + i·N + j]` (a
 * Linear's bias gradient from `∂Z`), one invocation per column, rows summed in order.
 * Params: `[M, N, gOff]`. Bindings: D, G.
 *
 * @example
 * colSumWgsl();
 */
export function colSumWgsl(): string {
  return PRELUDE + buf(1, "D", "f32", true) + buf(2, "G", "f32", false) + `${MAIN_1D}
  let M = pu(0u); let N = pu(1u);
  if (i >= N) { return; }
  var s: f32 = 0.0;
  for (var r = 0u; r < M; r = r + 1u) { s = s + G[pu(2u) + r * N + i]; }
  D[i] = s;
}
`;
}

/**
 * Text of the per-channel sums of a contiguous `[N, C, L]` array: `D[c] = Σ_n Σ_t G[(n·C + c)·L + t]`
 * (a convolution's bias gradient from `∂Y`, eager's `g.sum([0, 2, 3])`). One 64-wide workgroup
 * per channel: invocation `l` sums the elements `l, l + 64, …` of the channel's `N·L`, then
 * invocation 0 adds the 64 partial sums in order (deterministic). Params: `[N, C, L]`.
 * Bindings: D, G. Dispatch `C` workgroups.
 *
 * @example
 * channelSumWgsl();
 */
export function channelSumWgsl(): string {
  return PRELUDE + buf(1, "D", "f32", true) + buf(2, "G", "f32", false) + `var<workgroup> part: array<f32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let N = pu(0u); let C = pu(1u); let L = pu(2u);
  let c = wid.x;
  var s: f32 = 0.0;
  for (var k = lid; k < N * L; k = k + ${WORKGROUP}u) { s = s + G[((k / L) * C + c) * L + k % L]; }
  part[lid] = s;
  workgroupBarrier();
  if (lid == 0u && c < C) {
    var sum: f32 = 0.0;
    for (var w = 0u; w < ${WORKGROUP}u; w = w + 1u) { sum = sum + part[w]; }
    D[c] = sum;
  }
}
`;
}

/**
 * Text of an elementwise chain over contiguous f32 operands in one kernel: inputs `X0…` read as
 * `a`, `b`, `c`, `d`; `steps[k]` (WGSL expressions of the inputs and earlier steps) defines
 * `t{k}`, and `O[i]` gets the last. With `inPlace`, the first input is `O` itself (a buffer
 * can't be bound read and read_write at once): `O[i] = f(O[i], X1[i], …)`.
 * Params: `[n]`. Bindings: O, X0 (not in place), X1, ….
 *
 * @example
 * fusedElementwiseWgsl(2, ["a * b", "tanh(clamp(t0, -15.0, 15.0))"]);
 */
export function fusedElementwiseWgsl(nIn: number, steps: readonly string[], o: { inPlace?: boolean } = {}): string {
  const names = ["a", "b", "c", "d"];
  const first = o.inPlace ? 1 : 0;
  let s = PRELUDE + buf(1, "O", "f32", true);
  for (let k = first; k < nIn; k++) s += buf(2 + k - first, `X${k}`, "f32", false);
  s += `${MAIN_1D}\n  if (i >= pu(0u)) { return; }\n`;
  for (let k = 0; k < nIn; k++) s += `  let ${names[k]} = ${k < first ? "O" : `X${k}`}[i];\n`;
  steps.forEach((e, k) => (s += `  let t${k}: f32 = ${e};\n`));
  return s + `  O[i] = t${steps.length - 1};\n}\n`;
}

/**
 * Text of softmax (or, with `log`, logSoftmax) over the last dim of a contiguous `rows × cols`
 * array, one invocation per row, in eager softmax's steps: the row max (NaN wins; an infinite
 * max counts as 0, as the JS kernel), `exp(x − max)`, their sum, then divide (or subtract the
 * log of the sum). Params: `[rows, cols]`. Bindings: O, X.
 *
 * @example
 * softmaxLastDimWgsl(true);
 */
export function softmaxLastDimWgsl(log: boolean): string {
  const store = log
    ? "  let ls = log(s);\n  for (var j = 0u; j < cols; j = j + 1u) { O[base + j] = (X[base + j] - m) - ls; }\n"
    : "  for (var j = 0u; j < cols; j = j + 1u) { O[base + j] = exp(X[base + j] - m) / s; }\n";
  return PRELUDE + buf(1, "O", "f32", true) + buf(2, "X", "f32", false) + `${MAIN_1D}
  let rows = pu(0u); let cols = pu(1u);
  if (i >= rows) { return; }
  let base = i * cols;
  var m: f32 = -tt_inf();
  for (var j = 0u; j < cols; j = j + 1u) { let v = X[base + j]; if (v > m || tt_isnan(v)) { m = v; } }
  if (!tt_isnan(m) && abs(m) == tt_inf()) { m = 0.0; }
  var s: f32 = 0.0;
  for (var j = 0u; j < cols; j = j + 1u) { s = s + exp(X[base + j] - m); }
${store}}
`;
}
