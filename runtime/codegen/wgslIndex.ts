/**
 * WGSL kernel text of the eager index ops: `indexSelect` and its adjoint `indexAdd`, `gather` and
 * `scatterAdd` over contiguous operands viewed as `[pre, size, post]`. The readers report a bad
 * index through the `ERR` buffer (`ERR_DECL` of `./wgsl.ts`), which the backend turns into the
 * op's `IndexError` at the next readback; the adjoints sum per output element (no atomics, so
 * results are deterministic). Conventions: see `./wgsl.ts`.
 */
import { ERR_DECL, MAIN_1D, PRELUDE, type WgslScalar, buf } from "./wgsl.js";

/**
 * Text of `indexSelect`: `O[a, t, c] = X[a, I[t], c]` over contiguous `X [pre, size, post]`
 * (negative indices count from the end; a bad one writes 0 and is reported).
 * Params: `[total, size, post, nIdx, xOff, iOff, errId]`. Bindings: O, X, I, ERR.
 *
 * @example
 * indexSelectWgsl("f32");
 */
export function indexSelectWgsl(t: WgslScalar): string {
  return PRELUDE + buf(1, "O", t, true) + buf(2, "X", t, false) + buf(3, "I", "i32", false) + ERR_DECL(4) + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
  let size = pi(1u); let post = pu(2u); let nIdx = pu(3u);
  let c = i % post; let tt = (i / post) % nIdx; let a = i / (post * nIdx);
  var v = I[pu(5u) + tt];
  let v0 = v;
  if (v < 0) { v = v + size; }
  if (v < 0 || v >= size) { tt_bad(pu(6u), v0); O[i] = ${t}(0); return; }
  O[i] = X[pu(4u) + (a * u32(size) + u32(v)) * post + c];
}
`;
}

/**
 * Text of `indexAdd` (indexSelect's adjoint): `O[a, j, c] = Σ_{t: I[t] = j} G[a, t, c]`, one
 * invocation per element of O (no atomics, deterministic). Params: `[total, size, post, nIdx, gOff, iOff]`.
 * Bindings: O, G, I.
 *
 * @example
 * indexAddWgsl("f32");
 */
export function indexAddWgsl(t: WgslScalar): string {
  return PRELUDE + buf(1, "O", t, true) + buf(2, "G", t, false) + buf(3, "I", "i32", false) + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
  let size = pi(1u); let post = pu(2u); let nIdx = pu(3u);
  let c = i % post; let j = i32((i / post) % u32(size)); let a = i / (post * u32(size));
  var acc: ${t} = ${t}(0);
  for (var tt = 0u; tt < nIdx; tt = tt + 1u) {
    var v = I[pu(5u) + tt];
    if (v < 0) { v = v + size; }
    if (v == j) { acc = acc + G[pu(4u) + (a * nIdx + tt) * post + c]; }
  }
  O[i] = acc;
}
`;
}

/**
 * Text of `gather` along one dim of contiguous operands viewed as `[pre, size, post]`:
 * `O[a, i, c] = X[a, I[a, i, c], c]` (an index outside `[0, xSize)` writes 0 and is reported).
 * Params: `[total, iSize, xSize, post, xOff, iOff, errId]`. Bindings: O, X, I, ERR.
 *
 * @example
 * gatherWgsl("f32");
 */
export function gatherWgsl(t: WgslScalar): string {
  return PRELUDE + buf(1, "O", t, true) + buf(2, "X", t, false) + buf(3, "I", "i32", false) + ERR_DECL(4) + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
  let iSize = pu(1u); let xSize = pi(2u); let post = pu(3u);
  let c = i % post; let a = i / (post * iSize);
  let v = I[pu(5u) + i];
  if (v < 0 || v >= xSize) { tt_bad(pu(6u), v); O[i] = ${t}(0); return; }
  O[i] = X[pu(4u) + (a * u32(xSize) + u32(v)) * post + c];
}
`;
}

/**
 * Text of `scatterAdd` into a contiguous region `R [pre, xSize, post]` in place:
 * `R[a, j, c] += Σ_{i: I[a, i, c] = j} S[a, i, c]`, one invocation per element of R (no atomics).
 * Params: `[total, iSize, xSize, post, sOff, iOff, errId]`. Bindings: R, S, I, ERR.
 *
 * @example
 * scatterAddWgsl("f32");
 */
export function scatterAddWgsl(t: WgslScalar): string {
  return PRELUDE + buf(1, "R", t, true) + buf(2, "S", t, false) + buf(3, "I", "i32", false) + ERR_DECL(4) + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
  let iSize = pu(1u); let xSize = pi(2u); let post = pu(3u);
  let c = i % post; let j = i32((i / post) % u32(xSize)); let a = i / (post * u32(xSize));
  var acc = R[i];
  for (var k = 0u; k < iSize; k = k + 1u) {
    let at = (a * iSize + k) * post + c;
    let v = I[pu(5u) + at];
    if (v < 0 || v >= xSize) { if (j == 0) { tt_bad(pu(6u), v); } continue; }
    if (v == j) { acc = acc + S[pu(4u) + at]; }
  }
  R[i] = acc;
}
`;
}
