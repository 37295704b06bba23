/**
 * WGSL kernel text for the WebGPU backend: the indexing skeletons of every op family, filled with
 * an op's WGSL expression template (`runtime/ops/*.ts`, the `wgsl` facet). The eager runtime and
 * the compiler get their kernels from `runtime/codegen/wgsl*.ts`, so eager and compiled results
 * agree by construction; the backend (`runtime/backend/webgpu.ts`) only compiles and runs the text.
 *
 * This file holds what every kernel shares (the prelude, bindings, parameter words) and the eager
 * core families (elementwise, reductions, matmul). The others, split by concern:
 * - `wgslIndex.ts`: indexSelect / indexAdd / gather / scatterAdd (the kernels that report bad indices);
 * - `wgslConv.ts`: the image kernels (im2col, col2im, conv2d, pooling and their adjoints);
 * - `wgslFused.ts`: compiled programs' kernels (the `// typetorch:<kind>` tags, the GEMM with a
 *   fused epilogue, column / channel sums, elementwise chains, softmax);
 * - `wgslStep.ts`: the compiled training step's cross-entropy and optimizer updates;
 * - `wgslOps.ts`: one namespace of the eager ops' kernels (what `runtime/ops/device.ts` imports).
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

/**
 * A WGSL scalar type a dtype is stored and computed in.
 *
 * @example
 * const t: WgslScalar = wgslType("bool"); // "u32"
 */
export type WgslScalar = "f32" | "i32" | "u32";

/**
 * Words in every kernel's uniform parameter block.
 *
 * @example
 * const slotBytes = PARAM_WORDS * 4; // 256, also the uniform offset alignment
 */
export const PARAM_WORDS = 64;

/**
 * Invocations per workgroup of the 1-D kernels.
 *
 * @example
 * const groups = Math.ceil(n / WORKGROUP);
 */
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

/**
 * How a kernel binds its storage buffers (after the uniform block at binding 0).
 *
 * @example
 * const spec: KernelSpec = { writes: [true, false, false], err: true }; // O, X, I, then ERR
 */
export interface KernelSpec {
  /** For each storage binding 1…: whether the kernel writes it. */
  readonly writes: readonly boolean[];
  /** Whether the kernel also binds the error buffer (last binding, atomics). */
  readonly err?: boolean;
}

/**
 * The text every kernel starts with: the uniform block at binding 0 and its readers `pu` / `pi` /
 * `pf`, plus the helpers op templates use (`tt_nan`, `tt_inf`, `tt_isnan`, `tt_powf`, `tt_powi`,
 * `tt_floordiv`). Shared by the `wgsl*.ts` kernel files only.
 *
 * @internal
 * @example
 * const text = PRELUDE + buf(1, "O", "f32", true) + MAIN_1D + "\n  O[i] = 0.0;\n}\n";
 */
export const PRELUDE = `struct Params { v: array<vec4<u32>, ${PARAM_WORDS / 4}> };
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

/**
 * The error buffer's declaration at `binding` and `tt_bad(id, v)`, which stores the reporter id
 * and the bad value for the backend to turn into an error at the next readback (a GPU can't throw).
 *
 * @internal
 * @example
 * const text = PRELUDE + buf(1, "O", "f32", true) + ERR_DECL(2); // the kernel may call tt_bad
 */
export const ERR_DECL = (binding: number): string => `@group(0) @binding(${binding}) var<storage, read_write> ERR: array<atomic<u32>, 2>;
fn tt_bad(id: u32, v: i32) { atomicStore(&ERR[1], bitcast<u32>(v)); atomicStore(&ERR[0], id); }
`;

/**
 * The entry point of the 1-D kernels, up to the flat invocation index `i` (the 2-D folded grid
 * unfolded); the kernel text goes on from there and closes the function.
 *
 * @internal
 * @example
 * const text = PRELUDE + buf(1, "O", "f32", true) + `${MAIN_1D}\n  if (i >= pu(0u)) { return; }\n  O[i] = 1.0;\n}\n`;
 */
export const MAIN_1D = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${WORKGROUP}u;`;

/**
 * A storage buffer's declaration: `name` at `binding`, an array of `type`, read_write when `write`.
 *
 * @internal
 * @example
 * buf(2, "X", "f32", false); // "@group(0) @binding(2) var<storage, read> X: array<f32>;\n"
 */
export function buf(binding: number, name: string, type: WgslScalar, write: boolean): string {
  return `@group(0) @binding(${binding}) var<storage, ${write ? "read_write" : "read"}> ${name}: array<${type}>;\n`;
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

/** The lowest / highest value of a WGSL type (reduction starts). */
function extremes(t: WgslScalar): { lo: string; hi: string } {
  if (t === "f32") return { lo: "-tt_inf()", hi: "tt_inf()" };
  if (t === "i32") return { lo: "i32(-2147483647 - 1)", hi: "2147483647" };
  return { lo: "0u", hi: "4294967295u" };
}

/**
 * One operand of an elementwise kernel.
 *
 * @example
 * const x: EwOperand = { type: "f32", aliasOut: false };
 */
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

/**
 * The storage bindings of {@link elementwiseWgsl}: the output, then the inputs that don't alias it.
 *
 * @example
 * elementwiseSpec([{ type: "f32", aliasOut: true }, { type: "f32", aliasOut: false }]); // { writes: [true, false] }
 */
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
