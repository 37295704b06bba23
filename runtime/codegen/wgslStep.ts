/**
 * WGSL kernel text of the compiled training step on WebGPU (`runtime/compileStepGpu.ts`), the GPU
 * side of `./fused.ts`'s `crossEntropySource`, `sgdSource` and `adamSource`: cross-entropy fused
 * with its gradient, one SGD step and one Adam / AdamW step of a parameter, each in the order of
 * roundings eager's float32 tensor ops use. Conventions: see `./wgsl.ts`.
 */
import { ERR_DECL, MAIN_1D, PRELUDE, WORKGROUP, buf } from "./wgsl.js";

/**
 * Text of cross-entropy over logits `X` (`rows × cols`) with class indices `T` (i32), mean
 * reduced over the kept targets and fused with its gradient, as `crossEntropySource` of
 * `./fused.ts`: one workgroup. A target of −100 (the default `ignoreIndex`, the only one the
 * compiled step takes) is ignored as eager's `crossEntropy` / `nllLoss` ignore it: first the
 * invocations count the kept rows `n` (every row whose target isn't −100); then invocation `l`
 * takes rows `l, l + 64, …`, writes `G = (softmax(X) − onehot(T)) / n` for the kept ones (a 0
 * row for an ignored one) and its partial sum of `x_t − max − log Σ e`; invocation 0 adds the
 * partials in order into `L[0] = −Σ / n` — NaN when every target is ignored, as eager's 0 / 0,
 * with all-zero gradients. A GPU can't throw: any other class index outside `[0, cols)` is
 * reported through `ERR` (as the eager index kernels report theirs; word 2 is the reporter id
 * the backend turns into an `IndexError` at the next readback) and its row adds nothing — 0 to
 * the sum, a 0 gradient row, but it counts in `n` — as eager's gather and its adjoint treat a bad
 * index (eager's mask keeps it too), so the update stays finite.
 * Params: `[rows, cols, errId]`. Bindings: L, G, X, T, ERR. Dispatch one workgroup.
 *
 * @example
 * crossEntropyWgsl();
 */
export function crossEntropyWgsl(): string {
  return PRELUDE + buf(1, "L", "f32", true) + buf(2, "G", "f32", true) + buf(3, "X", "f32", false) + buf(4, "T", "i32", false) + ERR_DECL(5) + `const IGNORE_INDEX: i32 = -100;
var<workgroup> part: array<f32, ${WORKGROUP}>;
var<workgroup> keptPart: array<u32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  let rows = pu(0u); let cols = pu(1u);
  // Every gradient row divides by the number of kept targets: count them before any row is written.
  var mine = 0u;
  for (var r = lid; r < rows; r = r + ${WORKGROUP}u) { if (T[r] != IGNORE_INDEX) { mine = mine + 1u; } }
  keptPart[lid] = mine;
  workgroupBarrier();
  var kept = 0u;
  for (var w = 0u; w < ${WORKGROUP}u; w = w + 1u) { kept = kept + keptPart[w]; }
  // With nothing kept no row reads gInv; max() keeps the division finite (WGSL leaves x / 0 undefined).
  let gInv = 1.0 / f32(max(kept, 1u));
  var total: f32 = 0.0;
  for (var r = lid; r < rows; r = r + ${WORKGROUP}u) {
    let base = r * cols;
    let t = T[r];
    if (t == IGNORE_INDEX) {
      for (var j = 0u; j < cols; j = j + 1u) { G[base + j] = 0.0; }
      continue;
    }
    if (t < 0 || u32(t) >= cols) {
      tt_bad(pu(2u), t);
      for (var j = 0u; j < cols; j = j + 1u) { G[base + j] = 0.0; }
      continue;
    }
    var m: f32 = -tt_inf();
    for (var j = 0u; j < cols; j = j + 1u) { let v = X[base + j]; if (v > m || tt_isnan(v)) { m = v; } }
    if (!tt_isnan(m) && abs(m) == tt_inf()) { m = 0.0; }
    var s: f32 = 0.0;
    for (var j = 0u; j < cols; j = j + 1u) { s = s + exp(X[base + j] - m); }
    let lse = log(s);
    total = total + ((X[base + u32(t)] - m) - lse);
    let gS = gInv / s;
    for (var j = 0u; j < cols; j = j + 1u) {
      let d = gS * exp(X[base + j] - m);
      G[base + j] = select(d, d - gInv, i32(j) == t);
    }
  }
  part[lid] = total;
  workgroupBarrier();
  if (lid == 0u) {
    var sum: f32 = 0.0;
    for (var w = 0u; w < ${WORKGROUP}u; w = w + 1u) { sum = sum + part[w]; }
    // All targets ignored: NaN by its bits (eager's 0 / 0), not a 0 / 0 the driver may fold.
    if (kept == 0u) { L[0] = tt_nan(); } else { L[0] = -sum / f32(kept); }
  }
}
`;
}

/**
 * Text of one SGD step of one parameter, PyTorch 1.13's update in `sgdSource`'s order (`./fused.ts`):
 * `d = ±G (+ wd·P)`, the momentum buffer `B = first ? d : B·μ + d·(1 − dampening)`, Nesterov's
 * `d + B·μ`, then `P += d · (−lr)`. Params: `[n, −lr, μ, 1 − dampening, wd, nesterov, maximize, first]`
 * (floats by their bits, see `paramWord` of `./wgsl.ts`). Bindings: W (the parameter), G, B (any buffer without momentum).
 *
 * @example
 * sgdStepWgsl();
 */
export function sgdStepWgsl(): string {
  return PRELUDE + buf(1, "W", "f32", true) + buf(2, "G", "f32", false) + buf(3, "B", "f32", true) + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
  let lr = pf(1u); let mu = pf(2u); let damp1 = pf(3u); let wd = pf(4u);
  var d = G[i];
  if (pu(6u) != 0u) { d = -d; }
  if (wd != 0.0) { d = d + W[i] * wd; }
  if (mu != 0.0) {
    var b = d;
    if (pu(7u) == 0u) { b = B[i] * mu + d * damp1; }
    B[i] = b;
    d = select(b, d + b * mu, pu(5u) != 0u);
  }
  W[i] = W[i] + d * lr;
}
`;
}

/**
 * Text of one Adam (or AdamW) step of one parameter, PyTorch 1.13's single-tensor update in
 * `adamSource`'s order of roundings (`./fused.ts`): AdamW's decay `P·(1 − lr·wd)`, `g = ±G`
 * (`+ wd·P` for Adam's L2), `M = M·β₁ + g·(1 − β₁)`, `V = V·β₂ + (g·(1 − β₂))·g`, with amsgrad
 * `V̂ = X = max(X, V)`, then `P += (M·(−stepSize)) / (√V̂ / √(1 − β₂ᵗ) + ε)`. The step count and the
 * bias corrections are the caller's (computed in doubles from the float32 step, as eager does),
 * so the kernel only rounds where eager's float32 tensor ops round.
 * Params: `[n, −stepSize, √(1 − β₂ᵗ), β₁, 1 − β₁, β₂, 1 − β₂, ε, wd, 1 − lr·wd, l2, amsgrad,
 * maximize, decoupled]` (floats by their bits, see `paramWord` of `./wgsl.ts`). Bindings: W (the parameter),
 * G, M, V, X (any buffer without amsgrad).
 *
 * @example
 * adamStepWgsl();
 */
export function adamStepWgsl(): string {
  return PRELUDE + buf(1, "W", "f32", true) + buf(2, "G", "f32", false) + buf(3, "M", "f32", true) + buf(4, "V", "f32", true) + buf(5, "X", "f32", true) + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
  let nss = pf(1u); let bc2s = pf(2u); let b1 = pf(3u); let omb1 = pf(4u); let b2 = pf(5u); let omb2 = pf(6u);
  let eps = pf(7u); let wd = pf(8u); let decay = pf(9u);
  var p = W[i];
  if (pu(13u) != 0u) { p = p * decay; }
  var g = G[i];
  if (pu(12u) != 0u) { g = -g; }
  if (pu(10u) != 0u) { g = g + p * wd; }
  let m = M[i] * b1 + g * omb1;
  M[i] = m;
  var v = V[i] * b2 + (g * omb2) * g;
  V[i] = v;
  if (pu(11u) != 0u) { v = max(X[i], v); X[i] = v; }
  let denom = sqrt(v) / bc2s + eps;
  W[i] = p + (m * nss) / denom;
}
`;
}
