/**
 * JavaScript kernel text for the CPU backend: the loop and indexing skeletons, filled with an op's
 * expression template. The eager runtime and the compiler both get their kernels here, so eager
 * and compiled results agree by construction.
 */

/** A compiled kernel: the backend calls it with typed arrays and integers; it never allocates. */
export type JsKernel = (...args: never[]) => void;

/** One strided operand of an elementwise kernel. */
export interface StridedOperand {
  offset: number;
  strides: readonly number[];
}

/**
 * Merges adjacent dims that every operand walks contiguously (and drops size-1 dims), so a
 * contiguous op runs as one flat loop and a broadcast one as few loops as possible.
 *
 * @example
 * coalesce([2, 3], [[3, 1], [3, 1]]); // { shape: [6], strides: [[1], [1]] }
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * n)) {
      outShape[last] = outShape[last]! * n;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
    } else {
      outShape.push(n);
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    strides.forEach((_, k) => outStrides[k]!.push(0));
  }
  return { shape: outShape, strides: outStrides };
}

const INPUT_NAMES = ["a", "b", "c", "d"] as const;

/** The variable names an expression template receives for its inputs (`a`, `b`, ...). */
export function inputNames(n: number): string[] {
  return INPUT_NAMES.slice(0, n);
}

/**
 * Text of an elementwise kernel of `nIn` inputs over `rank` dims:
 * `k(O, oo, os, X, xo, xs, sh, p)` writes `O[...] = expr` for every index, where `O`/`X[i]` are
 * typed arrays, `oo`/`xo[i]` offsets, `os`/`xs[i]` strides, `sh` the shape, `p` scalar params
 * (`p0`, `p1`, ... in the expression).
 *
 * @example
 * elementwiseSource("a + b", 2, 1, 0);
 */
export function elementwiseSource(expr: string, nIn: number, rank: number, nParams: number): string {
  const ins = [...Array(nIn).keys()];
  const dims = [...Array(rank).keys()];
  const L: string[] = ['"use strict";', "return function ew(O, oo, os, X, xo, xs, sh, p) {"];
  for (const k of ins) L.push(`const X${k} = X[${k}];`);
  for (let k = 0; k < nParams; k++) L.push(`const p${k} = p[${k}];`);
  for (const d of dims) {
    L.push(`const n${d} = sh[${d}], os${d} = os[${d}];`);
    for (const k of ins) L.push(`const x${k}s${d} = xs[${k}][${d}];`);
  }
  L.push(`let o0 = oo;${ins.map((k) => ` let x${k}_0 = xo[${k}];`).join("")}`);
  for (const d of dims) {
    L.push(`for (let i${d} = 0; i${d} < n${d}; i${d}++) {`);
    if (d < rank - 1) L.push(`let o${d + 1} = o${d};${ins.map((k) => ` let x${k}_${d + 1} = x${k}_${d};`).join("")}`);
  }
  const last = rank - 1;
  const names = inputNames(nIn);
  L.push(ins.map((k) => `const ${names[k]} = X${k}[x${k}_${last}];`).join(" "));
  L.push(`O[o${last}] = ${expr};`);
  for (let d = last; d >= 0; d--) {
    L.push(`o${d} += os${d};${ins.map((k) => ` x${k}_${d} += x${k}s${d};`).join("")}`);
    L.push("}");
  }
  L.push("};");
  return L.join("\n");
}

/**
 * How a flat elementwise kernel reads one input (see {@link elementwiseFlatSource}): `"dense"`
 * walks it element by element beside the output; `"hoist"` reads its one (broadcast) element once,
 * before the loop; `"single"` re-reads that element at every index (an in-place op whose output may
 * be that very element must see each write, as the strided kernel does).
 */
export type FlatInput = "dense" | "hoist" | "single";

/**
 * Text of the flat elementwise kernel, the common case of {@link elementwiseSource}: the output
 * and every input are dense and row-major over the same `n` elements (or an input is one element,
 * broadcast). `k(O, oo, n, X0, xo0, X1, xo1, ..., p)` writes `O[oo + i] = expr` for `i < n`;
 * `expr(names)` is the expression over the given input names (and `p0`, `p1`, ... for `p`).
 *
 * Why it is fast: the operands are first viewed from their offsets (`subarray`, unless the offset
 * is 0), so one counter from 0 indexes every array with no offset arithmetic, which V8 would
 * otherwise do (with an overflow check) at every access; with `unroll` > 1 the loop does
 * `unroll` elements per trip, all loads first, which amortises the loop's own compare and
 * increment — together about twice the speed of the strided kernel's loop. Loads before stores
 * reorder reads against writes within a trip, so the caller asks for `unroll` 1 (element by
 * element, as the strided kernel) when an input overlaps the output other than element for
 * element (a shifted view); a `"single"` input (a broadcast element read in place) always runs
 * element by element. With no inputs (a fill) the value is computed once and stored by
 * `TypedArray.prototype.fill`, which converts it as a store does.
 *
 * @example
 * elementwiseFlatSource(([a, b]) => `${a} + ${b}`, ["dense", "hoist"], 0, 4);
 */
export function elementwiseFlatSource(expr: (names: readonly string[]) => string, inputs: readonly FlatInput[], nParams: number, unroll: number): string {
  const names = inputNames(inputs.length);
  const args = inputs.map((_, k) => `X${k}, xo${k}`);
  const L: string[] = ['"use strict";', `return function ewf(O, oo, n, ${[...args, "p"].join(", ")}) {`];
  for (let k = 0; k < nParams; k++) L.push(`const p${k} = p[${k}];`);
  if (inputs.length === 0) {
    L.push(`O.fill(${expr([])}, oo, oo + n);`, "};");
    return L.join("\n");
  }
  L.push("const Y = oo === 0 ? O : O.subarray(oo, oo + n);");
  inputs.forEach((m, k) => {
    if (m === "dense") L.push(`const V${k} = xo${k} === 0 ? X${k} : X${k}.subarray(xo${k}, xo${k} + n);`);
    if (m === "hoist") L.push(`const ${names[k]} = X${k}[xo${k}];`);
  });
  // Names of the inputs' values in lane `j` of a trip (a hoisted input has one for all lanes).
  const lane = (j: number) => inputs.map((m, k) => (m === "dense" ? `${names[k]}${j}` : names[k]!));
  const loads = (j: number, at: string) =>
    inputs.flatMap((m, k) => (m === "dense" ? [`const ${names[k]}${j} = V${k}[${at}];`] : m === "single" ? [`const ${names[k]} = X${k}[xo${k}];`] : []));
  L.push("let i = 0;");
  if (unroll > 1 && !inputs.includes("single")) {
    const lanes = [...Array(unroll).keys()];
    L.push(`for (const e = n - ${unroll - 1}; i < e; i += ${unroll}) {`);
    for (const j of lanes) L.push(...loads(j, j === 0 ? "i" : `i + ${j}`));
    for (const j of lanes) L.push(`Y[${j === 0 ? "i" : `i + ${j}`}] = ${expr(lane(j))};`);
    L.push("}");
  }
  L.push("for (; i < n; i++) {", ...loads(0, "i"), `Y[i] = ${expr(lane(0))};`, "}", "};");
  return L.join("\n");
}

/**
 * Text of SGD's momentum step over dense parameters, momentum buffers and gradients in one pass:
 * `k(P, po, B, bo, G, go, n, mu, alpha, step)` sets, for `i < n`,
 * `B[i] = mu·B[i] + alpha·G[i]`, then `P[i] += step·B[i]` (`step` = −lr), rounding as the
 * unfused ops do (`buf.mul_(mu).add_(g, { alpha })`, then `p.add_(buf, { alpha: step })`): for
 * float32 each product and each sum is rounded to float32 where those ops store it, so the
 * results are theirs bit for bit; float64 needs no rounding. The buffer is read and written once
 * instead of twice, and no temporary `buf·step` is allocated.
 *
 * @example
 * const f = new Function(sgdMomentumSource(true))();
 */
export function sgdMomentumSource(float32: boolean): string {
  const fr = (e: string) => (float32 ? `Math.fround(${e})` : `(${e})`);
  const at = (j: number) => (j === 0 ? "i" : `i + ${j}`);
  // Zero-based views and four elements per trip, loads first, as elementwiseFlatSource does (and
  // for its reasons; the three arrays are distinct).
  const load = (j: number) => `const b${j} = ${fr(`${fr(`VB[${at(j)}] * mu`)} + ${fr(`VG[${at(j)}] * alpha`)}`)}, p${j} = VP[${at(j)}];`;
  const store = (j: number) => `VB[${at(j)}] = b${j}; VP[${at(j)}] = p${j} + ${fr(`b${j} * step`)};`;
  const lanes = [0, 1, 2, 3];
  return [
    '"use strict";',
    "return function sgdMomentum(P, po, B, bo, G, go, n, mu, alpha, step) {",
    "const VP = P.subarray(po, po + n), VB = B.subarray(bo, bo + n), VG = G.subarray(go, go + n);",
    "let i = 0;",
    "for (const e = n - 3; i < e; i += 4) {",
    ...lanes.map(load),
    ...lanes.map(store),
    "}",
    "for (; i < n; i++) {",
    load(0),
    store(0),
    "}",
    "};",
  ].join("\n");
}

/** Templates of a reduction: accumulator start, update per element `a` (index `k`), result. */
export interface ReduceTemplate {
  init: string;
  update: string;
  final: string;
  /** Also writes `idx` (the winning inner index) into a second output. */
  withIndex?: boolean;
}

/**
 * Text of a reduction kernel `k(O, O2, X, xo, outerStrides, innerStrides, outerShape, innerShape, p)`:
 * for each output element (contiguous in `O`), folds the inner (reduced) elements of `X`.
 * Variables visible to the templates: `acc`, `a` (current element), `k` (its flat inner index),
 * `idx`, `n` (inner count), `p0`...
 *
 * @example
 * reduceSource({ init: "0", update: "acc += a", final: "acc" }, 1, 1, 0);
 */
export function reduceSource(t: ReduceTemplate, outerRank: number, innerRank: number, nParams: number): string {
  const L: string[] = ['"use strict";', "return function red(O, O2, X, xo, ost, ist, osh, ish, p) {"];
  for (let k = 0; k < nParams; k++) L.push(`const p${k} = p[${k}];`);
  let n = "1";
  for (let d = 0; d < outerRank; d++) L.push(`const on${d} = osh[${d}], os${d} = ost[${d}];`);
  for (let d = 0; d < innerRank; d++) {
    L.push(`const in${d} = ish[${d}], is${d} = ist[${d}];`);
    n += ` * in${d}`;
  }
  L.push(`const n = ${n};`, "let o = 0;", "let b0 = xo;");
  for (let d = 0; d < outerRank; d++) {
    L.push(`for (let u${d} = 0; u${d} < on${d}; u${d}++) {`);
    L.push(`let b${d + 1} = b${d};`);
  }
  L.push("let acc = " + t.init + ", idx = 0, k = 0;");
  L.push(`let c0 = b${outerRank};`);
  for (let d = 0; d < innerRank; d++) {
    L.push(`for (let v${d} = 0; v${d} < in${d}; v${d}++) {`);
    L.push(`let c${d + 1} = c${d};`);
  }
  L.push(`const a = X[c${innerRank}];`, `${t.update};`, "k++;");
  for (let d = innerRank - 1; d >= 0; d--) L.push(`c${d} += is${d};`, "}");
  L.push(`O[o] = ${t.final};`);
  if (t.withIndex) L.push("O2[o] = idx;");
  L.push("o++;");
  for (let d = outerRank - 1; d >= 0; d--) L.push(`b${d} += os${d};`, "}");
  L.push("};");
  return L.join("\n");
}

/**
 * Text of {@link reduceSource}'s kernel (same arguments, same results) for one outer dim and a
 * template without an index output, folding `lanes` outputs side by side: each output's fold is a
 * chain of dependent operations (`acc += a` waits for the previous add), so one fold at a time
 * runs at the latency of the add, while several independent folds interleaved keep the FPU busy.
 * Every output still folds its own elements in the same order from the same start, so the results
 * are those of the plain kernel bit for bit. Outputs past the last multiple of `lanes` are folded
 * one at a time. (The per-channel sums of a conv layer's bias gradient, `g.sum([0, 2, 3])`.)
 *
 * @example
 * reduceLanesSource({ init: "0", update: "acc += a", final: "acc" }, 2, 0, 4);
 */
export function reduceLanesSource(t: ReduceTemplate, innerRank: number, nParams: number, lanes: number): string {
  if (t.withIndex) throw new Error("reduceLanesSource: templates with an index output fold one output at a time");
  const ls = [...Array(lanes).keys()];
  // The template for lane l: its own accumulator and element.
  const lane = (code: string, l: number) => code.replace(/\bacc\b/g, `acc${l}`).replace(/\ba\b/g, `a${l}`);
  const L: string[] = ['"use strict";', "return function redl(O, O2, X, xo, ost, ist, osh, ish, p) {"];
  for (let k = 0; k < nParams; k++) L.push(`const p${k} = p[${k}];`);
  let n = "1";
  L.push("const on0 = osh[0], os0 = ost[0];");
  for (let d = 0; d < innerRank; d++) {
    L.push(`const in${d} = ish[${d}], is${d} = ist[${d}];`);
    n += ` * in${d}`;
  }
  L.push(`const n = ${n};`, "const idx = 0;", `const full = on0 - on0 % ${lanes};`, "let o = 0, b = xo;");
  // `group`: the folds of `m` outputs starting at `o` (outer element `b`).
  const group = (m: number) => {
    const G: string[] = [];
    G.push(`let ${ls.slice(0, m).map((l) => `acc${l} = ${t.init}`).join(", ")}, k = 0;`);
    G.push("let c0 = b;");
    for (let d = 0; d < innerRank; d++) G.push(`for (let v${d} = 0; v${d} < in${d}; v${d}++) {`, `let c${d + 1} = c${d};`);
    for (const l of ls.slice(0, m)) G.push(`const a${l} = X[c${innerRank}${l === 0 ? "" : ` + ${l} * os0`}];`);
    for (const l of ls.slice(0, m)) G.push(`${lane(t.update, l)};`);
    G.push("k++;");
    for (let d = innerRank - 1; d >= 0; d--) G.push(`c${d} += is${d};`, "}");
    for (const l of ls.slice(0, m)) G.push(`O[o${l === 0 ? "" : ` + ${l}`}] = ${lane(t.final, l)};`);
    return G;
  };
  L.push(`for (; o < full; o += ${lanes}, b += ${lanes} * os0) {`, ...group(lanes), "}");
  L.push("for (; o < on0; o++, b += os0) {", ...group(1), "}");
  L.push("};");
  return L.join("\n");
}

/**
 * Text of the register-blocked matrix product `C = A · B` for row-major contiguous `A` (M×K),
 * `B` (K×N) and `C` (M×N), at offsets `ao`, `bo`, `co`. B's columns are first packed, four at a
 * time, into `P` (a scratch array of B's kind, ≥ K·N elements; allocated if absent) so the inner
 * loop reads one contiguous panel that stays in L1 while every row block of A streams past it.
 * The main loop keeps a 4×4 block of C in registers; edge rows use 1×4 and edge columns 1×1 loops.
 *
 * @example
 * const mm = new Function(matmulSource())() as (...a: unknown[]) => void;
 */
export function matmulSource(): string {
  const acc = (i: number, j: number) => `c${i}${j}`;
  const block: string[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) block.push(`let ${acc(i, j)} = 0;`);
  const body: string[] = [];
  for (let i = 0; i < 4; i++) body.push(`const a${i} = A[ar${i} + k];`);
  body.push("const q = pb + k * 4;");
  for (let j = 0; j < 4; j++) body.push(`const b${j} = P[q + ${j}];`);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) body.push(`${acc(i, j)} += a${i} * b${j};`);
  const store: string[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) store.push(`C[co + (i + ${i}) * N + j + ${j}] = ${acc(i, j)};`);
  return [
    '"use strict";',
    "return function mm(C, co, A, ao, B, bo, M, K, N, P) {",
    "const M4 = M - (M % 4), N4 = N - (N % 4);",
    "if (!P || P.length < K * N4) P = new B.constructor(K * N4);",
    // Pack: panel j/4 holds B[:, j..j+3] as K rows of 4.
    "for (let j = 0, p = 0; j < N4; j += 4) {",
    "for (let k = 0; k < K; k++) { const b = bo + k * N + j; P[p] = B[b]; P[p + 1] = B[b + 1]; P[p + 2] = B[b + 2]; P[p + 3] = B[b + 3]; p += 4; }",
    "}",
    "for (let j = 0; j < N4; j += 4) {",
    "const pb = j * K;",
    "for (let i = 0; i < M4; i += 4) {",
    "const ar0 = ao + i * K, ar1 = ar0 + K, ar2 = ar1 + K, ar3 = ar2 + K;",
    ...block,
    "for (let k = 0; k < K; k++) {",
    ...body,
    "}",
    ...store,
    "}",
    "for (let i = M4; i < M; i++) {",
    "const ar = ao + i * K;",
    "let s0 = 0, s1 = 0, s2 = 0, s3 = 0;",
    "for (let k = 0; k < K; k++) { const a = A[ar + k]; const q = pb + k * 4; s0 += a * P[q]; s1 += a * P[q + 1]; s2 += a * P[q + 2]; s3 += a * P[q + 3]; }",
    "const c = co + i * N + j; C[c] = s0; C[c + 1] = s1; C[c + 2] = s2; C[c + 3] = s3;",
    "}",
    "}",
    "for (let i = 0; i < M; i++) {",
    "const ar = ao + i * K;",
    "for (let j = N4; j < N; j++) {",
    "let s = 0;",
    "for (let k = 0; k < K; k++) s += A[ar + k] * B[bo + k * N + j];",
    "C[co + i * N + j] = s;",
    "}",
    "}",
    "};",
  ].join("\n");
}

/**
 * Text of a gather-style kernel along one dim: `out[pre, i, post] = X[pre, idx[i], post]`
 * (`indexSelect`) — the index is checked against the dim size first, so a bad index is an error
 * naming the op, never a read out of bounds.
 *
 * @example
 * const f = new Function(indexSelectSource())();
 */
export function indexSelectSource(): string {
  return [
    '"use strict";',
    "return function isel(O, X, I, pre, dimSize, post, nIdx, bad) {",
    "for (let t = 0; t < nIdx; t++) { let v = I[t]; if (v < 0) v += dimSize; if (!(v >= 0 && v < dimSize)) bad(I[t]); }",
    "let o = 0;",
    "for (let a = 0; a < pre; a++) {",
    "const base = a * dimSize * post;",
    "for (let t = 0; t < nIdx; t++) {",
    "let v = I[t]; if (v < 0) v += dimSize;",
    "const src = base + v * post;",
    "for (let c = 0; c < post; c++) O[o++] = X[src + c];",
    "}",
    "}",
    "};",
  ].join("\n");
}

/**
 * Text of the accumulate-into kernel that is indexSelect's backward:
 * `O[pre, idx[i], post] += G[pre, i, post]`.
 *
 * @example
 * const f = new Function(indexAddSource())();
 */
export function indexAddSource(): string {
  return [
    '"use strict";',
    "return function iadd(O, G, I, pre, dimSize, post, nIdx) {",
    "let g = 0;",
    "for (let a = 0; a < pre; a++) {",
    "const base = a * dimSize * post;",
    "for (let t = 0; t < nIdx; t++) {",
    "let v = I[t]; if (v < 0) v += dimSize;",
    "const dst = base + v * post;",
    "for (let c = 0; c < post; c++) O[dst + c] += G[g++];",
    "}",
    "}",
    "};",
  ].join("\n");
}

/**
 * Text of `gather` (and, with `add`, its backward `scatterAdd`) along dim `d` of contiguous
 * operands viewed as [pre, size, post]: `out[a, i, c] = X[a, idx[a, i, c], c]`. Indices must lie
 * in `[0, size)`: as in PyTorch, a negative one is an error, not a count from the end.
 *
 * @example
 * const f = new Function(gatherSource(false))();
 */
export function gatherSource(add: boolean): string {
  const inner = add ? "O[a * xSize * post + v * post + c] += G[t];" : "O[t] = X[a * xSize * post + v * post + c];";
  return [
    '"use strict";',
    `return function ${add ? "scatterAdd" : "gather"}(O, X, G, I, pre, iSize, xSize, post, bad) {`,
    "let t = 0;",
    "for (let a = 0; a < pre; a++) {",
    "for (let i = 0; i < iSize; i++) {",
    "for (let c = 0; c < post; c++, t++) {",
    "const v = I[t];",
    "if (!(v >= 0 && v < xSize)) bad(v);",
    inner,
    "}",
    "}",
    "}",
    "};",
  ].join("\n");
}

const cache = new Map<string, JsKernel>();

/**
 * Compiles kernel text once per key and caches it.
 *
 * @example
 * const k = compileKernel("mm", matmulSource);
 */
export function compileKernel(key: string, source: () => string): JsKernel {
  let k = cache.get(key);
  if (!k) {
    k = new Function(source())() as JsKernel;
    cache.set(key, k);
  }
  return k;
}
