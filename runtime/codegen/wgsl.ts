/**
 * WGSL kernel text for the WebGPU backend: the indexing skeletons of every op family, filled with
 * an op's WGSL expression template (`runtime/ops/*.ts`, the `wgsl` facet). The eager runtime and
 * the compiler get their kernels here, so eager and compiled results agree by construction; the
 * backend (`runtime/backend/webgpu.ts`) only compiles and runs the text.
 *
 * Conventions shared by every kernel:
 * - binding 0 is a uniform block of 64 32-bit words read with `pu(i)` / `pi(i)` / `pf(i)`
 *   (u32 / i32 / f32); bindings 1… are storage buffers, outputs first (see {@link KernelSpec}).
 * - Element types: float32 → `f32`, int32 and int64 → `i32` (int64 lives in 32 bits on WebGPU),
 *   bool → `u32` holding 0 or 1 (WGSL has no 8-bit storage).
 * - One invocation per output element; a 1-D grid of 64-wide workgroups folded into 2-D
 *   (`gx + gy·65535·64`) so any size fits the 65,535-workgroups-per-dim limit.
 * - Kernels that read indices report a bad one through the `ERR` buffer (op id + value); the
 *   backend turns it into an `IndexError` at the next readback (a GPU can't throw).
 */
import type { DType } from "../dtype.js";
import { DTypeError } from "../../types/errors.js";
import type { ReduceTemplate } from "./js.js";

/** A WGSL scalar type a dtype is stored and computed in. */
export type WgslScalar = "f32" | "i32" | "u32";

/** Words in every kernel's uniform parameter block. */
export const PARAM_WORDS = 64;

/** Invocations per workgroup of the 1-D kernels. */
export const WORKGROUP = 64;

/**
 * The WGSL type of a dtype on WebGPU: float32 → f32, int32/int64 → i32, bool → u32 (0/1).
 * float64 has no WGSL type and is rejected.
 *
 * @example
 * wgslType("int64"); // "i32"
 */
export function wgslType(d: DType): WgslScalar {
  switch (d) {
    case "float32": return "f32";
    case "int32": case "int64": return "i32";
    case "bool": return "u32";
    default: throw new DTypeError(`webgpu: dtype must be float32, int32, int64 or bool, got ${d} (WGSL has no 64-bit floats)`);
  }
}

/** How a kernel binds its storage buffers (after the uniform block at binding 0). */
export interface KernelSpec {
  /** For each storage binding 1…: whether the kernel writes it. */
  readonly writes: readonly boolean[];
  /** Whether the kernel also binds the error buffer (last binding, atomics). */
  readonly err?: boolean;
}

const PRELUDE = `struct Params { v: array<vec4<u32>, ${PARAM_WORDS / 4}> };
@group(0) @binding(0) var<uniform> P: Params;
fn pu(i: u32) -> u32 { return P.v[i / 4u][i % 4u]; }
fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }
var<private> tt_nan_bits: u32 = 0x7fc00000u;
var<private> tt_inf_bits: u32 = 0x7f800000u;
fn tt_nan() -> f32 { return bitcast<f32>(tt_nan_bits); }
fn tt_inf() -> f32 { return bitcast<f32>(tt_inf_bits); }
// By the bits: drivers may compile float compares as if NaN can't occur (SwiftShader does).
fn tt_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn tt_powf(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a >= 0.0) { if (a == 0.0) { return select(0.0, tt_inf(), b < 0.0); } return pow(a, b); }
  if (b != floor(b)) { return tt_nan(); }
  let r = pow(-a, b);
  return select(r, -r, fract(b * 0.5) != 0.0);
}
fn tt_powi(a: i32, b: i32) -> i32 {
  if (b < 0) { if (a == 1) { return 1; } if (a == -1) { return select(-1, 1, b % 2 == 0); } return 0; }
  var r = 1; var x = a; var e = b;
  loop { if (e == 0) { break; } if ((e & 1) == 1) { r = r * x; } x = x * x; e = e >> 1u; }
  return r;
}
fn tt_floordiv(a: i32, b: i32) -> i32 {
  let q = a / b;
  return select(q, q - 1, (a % b != 0) && ((a < 0) != (b < 0)));
}
`;

const ERR_DECL = (binding: number) => `@group(0) @binding(${binding}) var<storage, read_write> ERR: array<atomic<u32>, 2>;
fn tt_bad(id: u32, v: i32) { atomicStore(&ERR[1], bitcast<u32>(v)); atomicStore(&ERR[0], id); }
`;

const MAIN_1D = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${WORKGROUP}u;`;

function buf(binding: number, name: string, type: WgslScalar, write: boolean): string {
  return `@group(0) @binding(${binding}) var<storage, ${write ? "read_write" : "read"}> ${name}: array<${type}>;\n`;
}

/** The lowest / highest value of a WGSL type (reduction starts). */
function extremes(t: WgslScalar): { lo: string; hi: string } {
  if (t === "f32") return { lo: "-tt_inf()", hi: "tt_inf()" };
  if (t === "i32") return { lo: "i32(-2147483647 - 1)", hi: "2147483647" };
  return { lo: "0u", hi: "4294967295u" };
}

/** One operand of an elementwise kernel. */
export interface EwOperand {
  /** Its storage type. */
  readonly type: WgslScalar;
  /** It shares the output's buffer: read from `O` (a buffer can't be bound read and read_write at once). */
  readonly aliasOut: boolean;
}

/**
 * Text of an elementwise kernel: `O[o] = expr` for every index of a strided output over
 * `rank` dims, each input read through its own strides (0 where broadcast) and converted to the
 * compute type `ct` before the expression sees it as `a`, `b`, `c`; scalar params are `p0`, `p1`, …
 * of type `ct` (`scalarTypes` per param, undefined for a param the kernel ignores).
 * Params: `[n, oOff, inOff…, shape…, oStrides…, inStrides…, scalars…]`.
 *
 * @example
 * elementwiseWgsl("a + b", { out: "f32", ct: "f32", inputs: [{ type: "f32", aliasOut: false }, { type: "f32", aliasOut: false }], rank: 1, scalars: [] });
 */
export function elementwiseWgsl(expr: string, o: { out: WgslScalar; ct: WgslScalar; inputs: readonly EwOperand[]; rank: number; scalars: readonly (WgslScalar | undefined)[] }): string {
  const nIn = o.inputs.length;
  const names = ["a", "b", "c", "d"];
  let s = PRELUDE + buf(1, "O", o.out, true);
  let binding = 2;
  o.inputs.forEach((inp, k) => {
    if (!inp.aliasOut) s += buf(binding++, `X${k}`, inp.type, false);
  });
  const shapeAt = 2 + nIn;
  const oStrAt = shapeAt + o.rank;
  const inStrAt = (k: number) => oStrAt + o.rank * (1 + k);
  const scalarAt = oStrAt + o.rank * (1 + nIn);
  s += MAIN_1D + "\n  if (i >= pu(0u)) { return; }\n  var r = i;\n  var o = pi(1u);\n";
  for (let k = 0; k < nIn; k++) s += `  var x${k} = pi(${2 + k}u);\n`;
  for (let d = o.rank - 1; d >= 0; d--) {
    s += `  { let n = pu(${shapeAt + d}u); let c = i32(r % n); r = r / n; o = o + c * pi(${oStrAt + d}u);`;
    for (let k = 0; k < nIn; k++) s += ` x${k} = x${k} + c * pi(${inStrAt(k) + d}u);`;
    s += " }\n";
  }
  o.inputs.forEach((inp, k) => {
    s += `  let ${names[k]} = ${o.ct}(${inp.aliasOut ? "O" : `X${k}`}[x${k}]);\n`;
  });
  o.scalars.forEach((t, k) => {
    if (t === undefined) return;
    const w = `pu(${scalarAt + k}u)`;
    s += `  let p${k}: ${o.ct} = ${o.ct === "u32" ? w : `bitcast<${o.ct}>(${w})`};\n`;
  });
  s += `  O[o] = ${o.out}(${expr});\n}\n`;
  return s;
}

/** The storage bindings of {@link elementwiseWgsl}: the output, then the inputs that don't alias it. */
export function elementwiseSpec(inputs: readonly EwOperand[]): KernelSpec {
  return { writes: [true, ...inputs.filter((x) => !x.aliasOut).map(() => false)] };
}

/**
 * Text of a reduction: one workgroup per output element; each of its 64 invocations folds a
 * contiguous chunk of the reduced elements with the template (`acc`, `a`, `k`, `idx`), then
 * invocation 0 folds the 64 partial results in order with the same update (so ties keep the first
 * index). Params: `[nOut, xOff, nInner, outerShape…, outerStrides…, innerShape…, innerStrides…]`.
 * Bindings: O (result), [O2 (int indices)], X.
 *
 * @example
 * reduceWgsl({ init: "0", update: "acc = acc + a", final: "acc" }, { x: "f32", out: "f32", outer: 1, inner: 1 });
 */
export function reduceWgsl(t: ReduceTemplate, o: { x: WgslScalar; out: WgslScalar; outer: number; inner: number }): string {
  const { lo, hi } = extremes(o.x);
  let s = PRELUDE + buf(1, "O", o.out, true);
  if (t.withIndex) s += buf(2, "O2", "i32", true);
  s += buf(t.withIndex ? 3 : 2, "X", o.x, false);
  const oSh = 3, oSt = oSh + o.outer, iSh = oSt + o.outer, iSt = iSh + o.inner;
  s += `var<workgroup> sAcc: array<${o.x}, ${WORKGROUP}>;
var<workgroup> sIdx: array<i32, ${WORKGROUP}>;
var<workgroup> sHas: array<u32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let out = wid.x + wid.y * nw.x;
  let nOut = pu(0u);
  let n = pu(2u);
  var base = pi(1u);
  var r = min(out, nOut - 1u);
`;
  for (let d = o.outer - 1; d >= 0; d--) s += `  { let m = pu(${oSh + d}u); base = base + i32(r % m) * pi(${oSt + d}u); r = r / m; }\n`;
  s += `  let chunk = (n + ${WORKGROUP - 1}u) / ${WORKGROUP}u;
  let k0 = lid * chunk;
  let k1 = min(n, k0 + chunk);
  let MIN: ${o.x} = ${lo};
  let MAX: ${o.x} = ${hi};
  var acc: ${o.x} = ${t.init};
  var idx: i32 = 0;
  for (var kk = k0; kk < k1; kk = kk + 1u) {
    var q = kk;
    var c = base;
`;
  for (let d = o.inner - 1; d >= 0; d--) s += `    { let m = pu(${iSh + d}u); c = c + i32(q % m) * pi(${iSt + d}u); q = q / m; }\n`;
  s += `    let a: ${o.x} = X[c];
    let k = i32(kk);
    ${t.update};
  }
  sAcc[lid] = acc;
  sIdx[lid] = idx;
  sHas[lid] = select(0u, 1u, k1 > k0);
  workgroupBarrier();
  if (lid == 0u && out < nOut) {
    acc = ${t.init};
    idx = 0;
    for (var w = 0u; w < ${WORKGROUP}u; w = w + 1u) {
      if (sHas[w] == 0u) { continue; }
      let a = sAcc[w];
      let k = sIdx[w];
      ${t.update};
    }
    O[out] = ${o.out}(${t.final});
${t.withIndex ? "    O2[out] = idx;\n" : ""}  }
}
`;
  return s;
}

/**
 * Text of the tiled matrix product `C[b] = A[b] · B[b]` (row-major, 16×16 tiles in workgroup
 * memory; edges of any size handled), one workgroup per 16×16 block of C and `z` per batch
 * matrix. `nbd` batch dims broadcast by their strides (0 for a broadcast one).
 * Params: `[M, K, N, aOff, bOff, nbd × (size, aStride, bStride)]`. Bindings: C, A, B.
 *
 * @example
 * matmulWgsl("f32", 0);
 */
export function matmulWgsl(t: WgslScalar, nbd: number): string {
  let s = PRELUDE + buf(1, "C", t, true) + buf(2, "A", t, false) + buf(3, "B", t, false);
  s += `var<workgroup> As: array<array<${t}, 16>, 16>;
var<workgroup> Bs: array<array<${t}, 16>, 16>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u); let K = pu(1u); let N = pu(2u);
  var ao = pu(3u); var bo = pu(4u);
  var tb = wid.z;
`;
  for (let d = nbd - 1; d >= 0; d--) {
    s += `  { let m = pu(${5 + 3 * d}u); let c = tb % m; tb = tb / m; ao = ao + c * pu(${6 + 3 * d}u); bo = bo + c * pu(${7 + 3 * d}u); }\n`;
  }
  s += `  let co = wid.z * M * N;
  let row = wid.y * 16u + lid.y;
  let col = wid.x * 16u + lid.x;
  var acc: ${t} = ${t}(0);
  for (var t0 = 0u; t0 < K; t0 = t0 + 16u) {
    let ak = t0 + lid.x;
    let bk = t0 + lid.y;
    var av: ${t} = ${t}(0);
    var bv: ${t} = ${t}(0);
    if (row < M && ak < K) { av = A[ao + row * K + ak]; }
    if (bk < K && col < N) { bv = B[bo + bk * N + col]; }
    As[lid.y][lid.x] = av;
    Bs[lid.y][lid.x] = bv;
    workgroupBarrier();
    for (var k = 0u; k < 16u; k = k + 1u) { acc = acc + As[lid.y][k] * Bs[k][lid.x]; }
    workgroupBarrier();
  }
  if (row < M && col < N) { C[co + row * N + col] = acc; }
}
`;
  return s;
}

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

// Params shared by the image kernels: geometry at words 1..14.
const GEOM = `  let N = pu(1u); let C = pu(2u); let H = pi(3u); let W = pi(4u); let kh = pu(5u); let kw = pu(6u);
  let sh = pi(7u); let sw = pi(8u); let ph = pi(9u); let pw = pi(10u); let dh = pi(11u); let dw = pi(12u); let Ho = pu(13u); let Wo = pu(14u);
`;

/** The geometry words `[N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo]` of the image kernels. */
export interface ImageGeom {
  N: number; C: number; H: number; W: number; kh: number; kw: number; sh: number; sw: number;
  ph: number; pw: number; dh: number; dw: number; Ho: number; Wo: number;
}

/** The 14 geometry words of {@link ImageGeom}, in kernel order. */
export function geomWords(p: ImageGeom): number[] {
  return [p.N, p.C, p.H, p.W, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.Ho, p.Wo];
}

/**
 * Text of `im2col`: `O[n, (c·kh + i)·kw + j, oh·Wo + ow] = X[n, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]`
 * (0 in the padding) from a strided image. Params: `[total, geom…, xOff, sN, sC, sH, sW]`. Bindings: O, X.
 *
 * @example
 * im2colWgsl("f32");
 */
export function im2colWgsl(t: WgslScalar): string {
  return PRELUDE + buf(1, "O", t, true) + buf(2, "X", t, false) + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
${GEOM}  let L = Ho * Wo;
  let ow = i32(i % Wo); let oh = i32((i / Wo) % Ho); let r = (i / L) % (C * kh * kw); let n = i / (L * C * kh * kw);
  let j = i32(r % kw); let ii = i32((r / kw) % kh); let c = r / (kh * kw);
  let ih = oh * sh - ph + ii * dh; let iw = ow * sw - pw + j * dw;
  var v: ${t} = ${t}(0);
  if (ih >= 0 && ih < H && iw >= 0 && iw < W) { v = X[pi(15u) + i32(n) * pi(16u) + i32(c) * pi(17u) + ih * pi(18u) + iw * pi(19u)]; }
  O[i] = v;
}
`;
}

/**
 * Options of the image adjoints ({@link col2imWgsl}, {@link maxUnpoolAddWgsl},
 * {@link windowAvgAdjointWgsl}) as compiled backwards use them: the backward of the activation
 * that produced the image, applied to each pixel's summed gradient in the same pass (so the
 * compiled CNN backward spends no dispatch on activations, as its JS kernels spend no loop).
 *
 * @example
 * const relu: AdjointEpilogue = { epilogue: (g, y) => `${g} * select(0.0, 1.0, ${y} > 0.0)` };
 */
export interface AdjointEpilogue {
  /**
   * The stored value as a WGSL expression of the summed gradient `g` and `y` (`E[i]`: the
   * activation's output, a binding after the kernel's others).
   */
  readonly epilogue: (g: string, y: string) => string;
}

/** The `E` binding and the store of an adjoint with an optional epilogue. */
function adjointStore(binding: number, o: AdjointEpilogue | undefined, t: WgslScalar): { decl: string; store: string } {
  if (!o) return { decl: "", store: "  O[i] = acc;\n" };
  return { decl: buf(binding, "E", t, false), store: `  O[i] = ${o.epilogue("acc", "E[i]")};\n` };
}

/**
 * Text of `col2im` (im2col's adjoint): each pixel of the contiguous image `O [N, C, H, W]` sums
 * the patch entries read from it (then, with `o`, the epilogue). Params: `[total, geom…, colsOff]`.
 * Bindings: O, X (the patches), [E].
 *
 * @example
 * col2imWgsl("f32");
 */
export function col2imWgsl(t: WgslScalar, o?: AdjointEpilogue): string {
  const e = adjointStore(3, o, t);
  return PRELUDE + buf(1, "O", t, true) + buf(2, "X", t, false) + e.decl + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
${GEOM}  let L = Ho * Wo;
  let w = i32(i % u32(W)); let h = i32((i / u32(W)) % u32(H)); let c = (i / u32(H * W)) % C; let n = i / (u32(H * W) * C);
  var acc: ${t} = ${t}(0);
  for (var ii = 0u; ii < kh; ii = ii + 1u) {
    let th = h + ph - i32(ii) * dh;
    if (th < 0 || th % sh != 0 || th / sh >= i32(Ho)) { continue; }
    for (var j = 0u; j < kw; j = j + 1u) {
      let tw = w + pw - i32(j) * dw;
      if (tw < 0 || tw % sw != 0 || tw / sw >= i32(Wo)) { continue; }
      acc = acc + X[pu(15u) + ((n * C + c) * kh * kw + ii * kw + j) * L + u32(th / sh) * Wo + u32(tw / sw)];
    }
  }
${e.store}}
`;
}

/**
 * Text of a direct 2-D convolution (grouped, strided, padded, dilated; optional bias):
 * `O[n, o, oh, ow] = b[o] + Σ W[o, c, i, j] · X[n, g·Cg + c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]`.
 * Params: `[total, geom… (C = Cg), xOff, sN, sC, sH, sW, O, Og, wOff, bOff, bStride]`.
 * Bindings: O, X, W, [B].
 *
 * @example
 * conv2dWgsl("f32", true);
 */
export function conv2dWgsl(t: WgslScalar, bias: boolean): string {
  return PRELUDE + buf(1, "O", t, true) + buf(2, "X", t, false) + buf(3, "Wt", t, false) + (bias ? buf(4, "B", t, false) : "") + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
${GEOM}  let Oc = pu(20u); let Og = pu(21u);
  let ow = i32(i % Wo); let oh = i32((i / Wo) % Ho); let o = (i / (Ho * Wo)) % Oc; let n = i / (Ho * Wo * Oc);
  let g = o / Og;
  var acc: ${t} = ${bias ? "B[pu(23u) + o * pu(24u)]" : `${t}(0)`};
  let xb = pi(15u) + i32(n) * pi(16u);
  for (var c = 0u; c < C; c = c + 1u) {
    let xc = xb + i32(g * C + c) * pi(17u);
    for (var ii = 0u; ii < kh; ii = ii + 1u) {
      let ih = oh * sh - ph + i32(ii) * dh;
      if (ih < 0 || ih >= H) { continue; }
      for (var j = 0u; j < kw; j = j + 1u) {
        let iw = ow * sw - pw + i32(j) * dw;
        if (iw < 0 || iw >= W) { continue; }
        acc = acc + Wt[pu(22u) + ((o * C + c) * kh + ii) * kw + j] * X[xc + ih * pi(18u) + iw * pi(19u)];
      }
    }
  }
  O[i] = acc;
}
`;
}

/**
 * Text of max pooling with indices (PyTorch's rules: padding never wins, NaN wins, ties keep the
 * first): `O[n, c, oh, ow]` and its flat index into the `H·W` plane `I`. Params: `[total, geom…,
 * xOff, sN, sC, sH, sW]`. Bindings: O, I, X.
 *
 * @example
 * maxPoolWgsl("f32");
 */
export function maxPoolWgsl(t: WgslScalar): string {
  return PRELUDE + buf(1, "O", t, true) + buf(2, "I", "i32", true) + buf(3, "X", t, false) + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
${GEOM}  let ow = i32(i % Wo); let oh = i32((i / Wo) % Ho); let c = (i / (Ho * Wo)) % C; let n = i / (Ho * Wo * C);
  let xc = pi(15u) + i32(n) * pi(16u) + i32(c) * pi(17u);
  var ih0 = oh * sh - ph; let ih1 = min(ih0 + (i32(kh) - 1) * dh + 1, H);
  loop { if (ih0 >= 0) { break; } ih0 = ih0 + dh; }
  var iw0 = ow * sw - pw; let iw1 = min(iw0 + (i32(kw) - 1) * dw + 1, W);
  loop { if (iw0 >= 0) { break; } iw0 = iw0 + dw; }
  var mi = ih0 * W + iw0;
  var mv: ${t} = -tt_inf();
  for (var ih = ih0; ih < ih1; ih = ih + dh) {
    for (var iw = iw0; iw < iw1; iw = iw + dw) {
      let v = X[xc + ih * pi(18u) + iw * pi(19u)];
      if (v > mv || v != v) { mv = v; mi = ih * W + iw; }
    }
  }
  O[i] = mv;
  I[i] = mi;
}
`;
}

/**
 * Text of max pooling's adjoint: each pixel of the contiguous image `O [N, C, H, W]` sums the
 * gradients of the windows whose argmax it was (only windows that cover it are visited; then,
 * with `o`, the epilogue). Params: `[total, geom…, gOff]`. Bindings: O, G, I, [E].
 *
 * @example
 * maxUnpoolAddWgsl("f32");
 */
export function maxUnpoolAddWgsl(t: WgslScalar, o?: AdjointEpilogue): string {
  const e = adjointStore(4, o, t);
  return PRELUDE + buf(1, "O", t, true) + buf(2, "G", t, false) + buf(3, "I", "i32", false) + e.decl + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
${GEOM}  let HW = u32(H * W);
  let hw = i % HW; let plane = i / HW;
  let w = i32(hw % u32(W)); let h = i32(hw / u32(W));
  var acc: ${t} = ${t}(0);
  for (var ii = 0u; ii < kh; ii = ii + 1u) {
    let th = h + ph - i32(ii) * dh;
    if (th < 0 || th % sh != 0 || th / sh >= i32(Ho)) { continue; }
    for (var j = 0u; j < kw; j = j + 1u) {
      let tw = w + pw - i32(j) * dw;
      if (tw < 0 || tw % sw != 0 || tw / sw >= i32(Wo)) { continue; }
      let at = plane * Ho * Wo + u32(th / sh) * Wo + u32(tw / sw);
      if (I[at] == i32(hw)) { acc = acc + G[pu(15u) + at]; }
    }
  }
${e.store}}
`;
}

/**
 * Text of window averaging (avg / adaptive avg pooling): output `(oh, ow)` of each plane averages
 * rows `[hs, he)` × columns `[ws, we)` (`WIN = [hs…, he…, ws…, we…]`) divided by `DV[oh·Wo + ow]`.
 * Params: `[total, N, C, H, W, Ho, Wo, xOff, sN, sC, sH, sW]`. Bindings: O, X, WIN, DV.
 *
 * @example
 * windowAvgWgsl("f32");
 */
export function windowAvgWgsl(t: WgslScalar): string {
  return PRELUDE + buf(1, "O", t, true) + buf(2, "X", t, false) + buf(3, "WIN", "i32", false) + buf(4, "DV", "f32", false) + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
  let C = pu(2u); let Ho = pu(5u); let Wo = pu(6u);
  let ow = i % Wo; let oh = (i / Wo) % Ho; let c = (i / (Ho * Wo)) % C; let n = i / (Ho * Wo * C);
  let xc = pi(7u) + i32(n) * pi(8u) + i32(c) * pi(9u);
  var s: ${t} = ${t}(0);
  for (var ih = WIN[oh]; ih < WIN[Ho + oh]; ih = ih + 1) {
    for (var iw = WIN[2u * Ho + ow]; iw < WIN[2u * Ho + Wo + ow]; iw = iw + 1) { s = s + X[xc + ih * pi(10u) + iw * pi(11u)]; }
  }
  O[i] = s / ${t}(DV[oh * Wo + ow]);
}
`;
}

/**
 * Text of window averaging's adjoint: each pixel of the contiguous image `O [N, C, H, W]` sums
 * `G / DV` over the windows that contain it (then, with `o`, the epilogue).
 * Params: `[total, N, C, H, W, Ho, Wo, gOff]`. Bindings: O, G, WIN, DV, [E].
 *
 * @example
 * windowAvgAdjointWgsl("f32");
 */
export function windowAvgAdjointWgsl(t: WgslScalar, o?: AdjointEpilogue): string {
  const e = adjointStore(5, o, t);
  return PRELUDE + buf(1, "O", t, true) + buf(2, "G", t, false) + buf(3, "WIN", "i32", false) + buf(4, "DV", "f32", false) + e.decl + `${MAIN_1D}
  if (i >= pu(0u)) { return; }
  let H = pu(3u); let W = pu(4u); let Ho = pu(5u); let Wo = pu(6u);
  let w = i32(i % W); let h = i32((i / W) % H); let plane = i / (H * W);
  var acc: ${t} = ${t}(0);
  for (var oh = 0u; oh < Ho; oh = oh + 1u) {
    if (h < WIN[oh] || h >= WIN[Ho + oh]) { continue; }
    for (var ow = 0u; ow < Wo; ow = ow + 1u) {
      if (w < WIN[2u * Ho + ow] || w >= WIN[2u * Ho + Wo + ow]) { continue; }
      acc = acc + G[pu(7u) + (plane * Ho + oh) * Wo + ow] / ${t}(DV[oh * Wo + ow]);
    }
  }
${e.store}}
`;
}

const f32Buf = new Float32Array(1);
const u32View = new Uint32Array(f32Buf.buffer);

/**
 * The 32-bit word of a parameter value as the kernel reads it: `f32` by its bits, `i32`
 * saturated to ±2^31 (−Infinity → the lowest int) as two's complement, `u32` as is.
 *
 * @example
 * paramWord(0.5, "f32"); // 0x3f000000
 */
export function paramWord(v: number, t: WgslScalar): number {
  if (t === "f32") {
    f32Buf[0] = v;
    return u32View[0]!;
  }
  if (t === "u32") return (Number.isInteger(v) && v >= 0 ? v : v !== 0 ? 1 : 0) >>> 0;
  const c = Number.isNaN(v) ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(v)));
  return c >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Kernels of compiled programs (`typetorch compile --target wgsl`, lowered by `runtime/lowerLaunch.ts`)
// ---------------------------------------------------------------------------------------------

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
 * A float32 constant as a WGSL literal (`1.0`, `0.5`, `1e-7`; infinities and NaN by their bits,
 * which WGSL has no literal for): the value eager mode rounds a scalar operand to.
 *
 * @example
 * wgslF32(0.1); // "0.10000000149011612"
 */
export function wgslF32(v: number): string {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return "tt_nan()";
  if (!Number.isFinite(f)) return f > 0 ? "tt_inf()" : "(-tt_inf())";
  if (Object.is(f, -0)) return "(-0.0)";
  const s = String(f);
  // An integer without an exponent needs a fraction to be a float literal (`3` is an int in WGSL).
  return /[.e]/.test(s) ? s : `${s}.0`;
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
 * conv's weight), optionally transposed. 16×16 tiles in workgroup memory (as {@link matmulWgsl}),
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

/**
 * Text of cross-entropy over logits `X` (`rows × cols`) with class indices `T` (i32), mean
 * reduced and fused with its gradient, as `crossEntropySource` of `./fused.ts`: one workgroup;
 * invocation `l` takes rows `l, l + 64, …`, writes `G = (softmax(X) − onehot(T)) / rows` for them
 * and its partial sum of `x_t − max − log Σ e`; invocation 0 adds the partials in order into
 * `L[0] = −Σ / rows`. A GPU can't throw: a class index outside `[0, cols)` is reported through
 * `ERR` (as the eager index kernels report theirs; word 2 is the reporter id the backend turns
 * into an `IndexError` at the next readback) and its row adds nothing — 0 to the sum, a 0
 * gradient row — as eager's gather and its adjoint treat a bad index, so the update stays finite.
 * Params: `[rows, cols, errId]`. Bindings: L, G, X, T, ERR. Dispatch one workgroup.
 *
 * @example
 * crossEntropyWgsl();
 */
export function crossEntropyWgsl(): string {
  return PRELUDE + buf(1, "L", "f32", true) + buf(2, "G", "f32", true) + buf(3, "X", "f32", false) + buf(4, "T", "i32", false) + ERR_DECL(5) + `var<workgroup> part: array<f32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  let rows = pu(0u); let cols = pu(1u);
  let gInv = 1.0 / f32(rows);
  var total: f32 = 0.0;
  for (var r = lid; r < rows; r = r + ${WORKGROUP}u) {
    let base = r * cols;
    let t = T[r];
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
    L[0] = -sum / f32(rows);
  }
}
`;
}

/**
 * Text of one SGD step of one parameter, PyTorch 1.13's update in `sgdSource`'s order (`./fused.ts`):
 * `d = ±G (+ wd·P)`, the momentum buffer `B = first ? d : B·μ + d·(1 − dampening)`, Nesterov's
 * `d + B·μ`, then `P += d · (−lr)`. Params: `[n, −lr, μ, 1 − dampening, wd, nesterov, maximize, first]`
 * (floats by their bits, see {@link paramWord}). Bindings: W (the parameter), G, B (any buffer without momentum).
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
 * maximize, decoupled]` (floats by their bits, see {@link paramWord}). Bindings: W (the parameter),
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
