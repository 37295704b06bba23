/**
 * Lowering of one launch of a compiled program (the JS kernel's arguments, `runtime/compiled.ts`)
 * into WebGPU dispatches: which WGSL text, which buffers in binding order, which parameter words
 * and which grid. The WGSL kind on the text's first line (`// typetorch:linear`, see
 * `CompiledWgslKind` in `codegen/wgslFused.ts`) says how to read the arguments — by the signature of
 * the JS kernel of that kind (`codegen/fused.ts`, `codegen/jsConv.ts`, `codegen/fusedConv.ts`) —
 * so the program needs no second launch list for the GPU. A launch the GPU runs in several
 * passes (a convolution: im2col, then the GEMM; its backward: up to six) finds its other texts
 * under `<key>.<part>`. Used by `GpuPlan.ts`; kernel text comes only from `runtime/codegen`.
 *
 * @example
 * const ds = lowerLaunch({ key: "g0", kernel: "linear_relu", label, main, part, arg, constant, colSum, poolGeom });
 */
import { WORKGROUP } from "./codegen/wgsl.js";
import { compiledWgslKind } from "./codegen/wgslFused.js";

const MAX_GROUPS = 65535;

/**
 * Why a program can't run on the GPU (the caller falls back to op by op, warning once).
 *
 * @example
 * throw new PlanError("a matrix product of 100000×16 exceeds the 65535 workgroups per dimension");
 */
export class PlanError extends Error {}

/**
 * One dispatch before it is bound: kernel text, storages in binding order, parameter words, grid.
 *
 * @example
 * const d: Dispatch = { text, label: "relu", storages: [out, x], words: [n], groups: grid1(n) };
 */
export interface Dispatch {
  readonly text: string;
  readonly label: string;
  readonly storages: readonly GPUBuffer[];
  readonly words: number[];
  readonly groups: readonly [number, number, number];
}

/**
 * A resolved launch argument: a buffer, an integer, constant numbers, a list, or null (none).
 *
 * @example
 * const a: Arg = 128;
 */
export type Arg = GPUBuffer | number | readonly number[] | readonly Arg[] | null;

/**
 * The storage bindings a kernel declares (bindings 1…, in order): whether each is read_write.
 *
 * @example
 * storageBindings(colSumWgsl()); // [true, false]
 */
export function storageBindings(text: string): boolean[] {
  const out: boolean[] = [];
  for (const m of text.matchAll(/@group\(0\) @binding\((\d+)\) var<storage, (read_write|read)>/g)) out[Number(m[1]) - 1] = m[2] === "read_write";
  for (let i = 0; i < out.length; i++) if (out[i] === undefined) throw new PlanError(`kernel declares no binding ${i + 1}`);
  return out;
}

/**
 * A 1-D grid of WORKGROUP-wide groups covering n invocations, folded into 2-D past 65,535 (as
 * `codegen/wgsl.ts` kernels unfold it).
 *
 * @example
 * grid1(100); // [2, 1, 1]
 */
export function grid1(n: number): [number, number, number] {
  const g = Math.max(1, Math.ceil(n / WORKGROUP));
  return g <= MAX_GROUPS ? [g, 1, 1] : [MAX_GROUPS, Math.ceil(g / MAX_GROUPS), 1];
}

/** The grid of a GEMM (one 16×16 tile per workgroup, z per batch matrix). */
function gridGemm(M: number, N: number, Z: number): [number, number, number] {
  const g: [number, number, number] = [Math.max(1, Math.ceil(N / 16)), Math.max(1, Math.ceil(M / 16)), Math.max(1, Z)];
  if (g.some((v) => v > MAX_GROUPS)) throw new PlanError(`a matrix product of ${M}×${N} (×${Z}) exceeds the ${MAX_GROUPS} workgroups per dimension`);
  return g;
}

/**
 * What lowering one launch needs from the plan.
 *
 * @example
 * const l: LaunchLowering = { key: "g0", kernel: "linear", label, main: wgsl.g0, part: () => undefined, arg, constant, colSum: undefined, poolGeom: new Map() };
 */
export interface LaunchLowering {
  /** The kernel name (for messages). */
  readonly kernel: string;
  /** The dispatches' label (names the launch in device errors). */
  readonly label: string;
  /** The launch's tagged WGSL text. */
  readonly main: string;
  /** Another pass of the launch (`<key>.<part>` in the program's WGSL), if the program has it. */
  part(name: string): string | undefined;
  /** Argument `i`, resolved against the plan (null for none or past the end). */
  arg(i: number): Arg;
  /** A buffer holding constant words (the pooling windows). */
  constant(words: Int32Array | Float32Array): GPUBuffer;
  /** The program's `col_sum` text (a Linear's bias gradient). */
  readonly colSum: string | undefined;
  /**
   * The geometry words (`[N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo]`) of each forward
   * max pooling, by the index buffer it records its argmax in: set by the forward's lowering, read
   * by the backward's (whose JS kernel needs no geometry: it scatters, the WGSL gathers).
   */
  readonly poolGeom: Map<GPUBuffer, readonly number[]>;
}

/**
 * The dispatches of one launch, its arguments read by the JS kernel signature its WGSL kind names.
 *
 * @example
 * plan.dispatches.push(...lowerLaunch(lowering));
 */
export function lowerLaunch(l: LaunchLowering): Dispatch[] {
  const { label, main } = l;
  const kind = compiledWgslKind(main);
  const a = (i: number) => l.arg(i);
  const b = (i: number): GPUBuffer => {
    const v = a(i);
    if (v === null || typeof v === "number" || Array.isArray(v)) throw new PlanError(`${label} argument ${i}: expected a buffer argument`);
    return v as GPUBuffer;
  };
  const n = (i: number): number => {
    const v = a(i);
    if (typeof v !== "number") throw new PlanError(`${label} argument ${i}: expected an integer argument`);
    return v;
  };
  const has = (i: number) => a(i) !== null;
  const part = (name: string, want: string): string => {
    const t = l.part(name);
    if (t === undefined || compiledWgslKind(t) !== want) throw new PlanError(`${label}: the program has no ${want} pass (${name}) for ${l.kernel} (compiled by an older typetorch: compile again)`);
    return t;
  };
  // A kernel that reads an optional operand (a bias, an activation's output) binds one buffer more.
  const optional = (text: string, list: GPUBuffer[], i: number, what: string) => {
    const want = storageBindings(text).length;
    if (want === list.length + 1) {
      if (!has(i)) throw new PlanError(`${label}: the kernel reads ${what} the launch doesn't pass`);
      list.push(b(i));
    } else if (want !== list.length) throw new PlanError(`${label}: the kernel binds ${want} buffers, the launch passes ${list.length}`);
    return list;
  };
  switch (kind) {
    case "linear": {
      // gemm(C, co, A, ao, B, bo, M, K, N, P, bias, E, D), B stored N×K (the weight)
      const [M, K, N] = [n(6), n(7), n(8)];
      return [{ text: main, label, storages: optional(main, [b(0), b(2), b(4)], 10, "a bias"), words: [M, K, N, n(3), 0, n(5), 0, n(1), 0, 0], groups: gridGemm(M, N, 1) }];
    }
    case "conv2d": {
      // conv(O, X, Wt, bias, cols, P, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Oc): im2col, then W · cols[n] per sample
      const pre = part("im2col", "im2col");
      const N = n(6), C = n(7), H = n(8), W = n(9), kh = n(10), kw = n(11), sh = n(12), sw = n(13);
      const ph = n(14), pw = n(15), dh = n(16), dw = n(17), Ho = n(18), Wo = n(19), Oc = n(20);
      const K = C * kh * kw, L = Ho * Wo;
      const cols = b(4);
      const im2col: Dispatch = { text: pre, label: `${label} (im2col)`, storages: [cols, b(1)], words: [N * K * L, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, 0, C * H * W, H * W, W, 1], groups: grid1(N * K * L) };
      const gemm: Dispatch = { text: main, label, storages: optional(main, [b(0), b(2), cols], 3, "a bias"), words: [Oc, K, L, 0, 0, 0, K * L, 0, Oc * L, 0], groups: gridGemm(Oc, L, N) };
      return [im2col, gemm];
    }
    case "max_pool2d": {
      // maxpool(O, I, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)
      const g = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21].map(n);
      const total = g[0]! * g[1]! * g[12]! * g[13]!;
      l.poolGeom.set(b(1), g);
      return [{ text: main, label, storages: [b(0), b(1), b(2)], words: [total, ...g, n(3), n(4), n(5), n(6), n(7)], groups: grid1(total) }];
    }
    case "avg_pool2d": {
      // avgpool(O, X, xo, xsN, xsC, xsH, xsW, N, C, Ho, Wo, hs, he, ws, we, dv): the windows become constant buffers
      const [N, C, Ho, Wo] = [n(7), n(8), n(9), n(10)];
      const xsC = n(4), xsH = n(5);
      const total = N * C * Ho * Wo;
      // H and W (words 3, 4) only label the geometry: the kernel reads the image through its strides and windows.
      const words = [total, N, C, xsH > 0 ? xsC / xsH : 0, xsH, Ho, Wo, n(2), n(3), xsC, xsH, n(6)];
      return [{ text: main, label, storages: [b(0), b(1), ...windows(l, 11)], words, groups: grid1(total) }];
    }
    case "ew":
    case "act_backward": {
      // ewc(O, X, n, p)
      const list = a(1);
      if (!Array.isArray(list)) throw new PlanError(`${label}: expected the inputs as a list`);
      const inputs = (list as Arg[]).map((x, i) => {
        if (x === null || typeof x === "number" || Array.isArray(x)) throw new PlanError(`${label} input ${i}: expected a buffer`);
        return x as GPUBuffer;
      });
      const total = n(2);
      return [{ text: main, label, storages: [b(0), ...inputs], words: [total], groups: grid1(total) }];
    }
    case "softmax":
      // sm(O, X, rows, cols)
      return [{ text: main, label, storages: [b(0), b(1)], words: [n(2), n(3)], groups: grid1(n(2)) }];
    case "linear_grad": {
      // gemm(C = ∂W, co, A = ∂Z (stored K×M), ao, B = X, bo, M, K, N, P, bias, E, D = ∂b) with aT: ∂W = ∂Zᵀ·X, ∂b = column sums of ∂Z
      const [M, K, N] = [n(6), n(7), n(8)];
      const out: Dispatch[] = [{ text: main, label, storages: [b(0), b(2), b(4)], words: [M, K, N, n(3), 0, n(5), 0, n(1), 0, 0], groups: gridGemm(M, N, 1) }];
      if (has(12)) {
        if (!l.colSum) throw new PlanError(`${label}: the program has no col_sum kernel for the bias gradient`);
        out.push({ text: l.colSum, label: `${label} (bias)`, storages: [b(12), b(2)], words: [K, M, n(3)], groups: grid1(M) });
      }
      return out;
    }
    case "linear_input_grad": {
      // gemm(C = ∂X, co, A = ∂Z, ao, B = W, bo, M, K, N, P, bias, E = the activation's output, D)
      const [M, K, N] = [n(6), n(7), n(8)];
      return [{ text: main, label, storages: optional(main, [b(0), b(2), b(4)], 11, "an activation's output"), words: [M, K, N, n(3), 0, n(5), 0, n(1), 0, 0], groups: gridGemm(M, N, 1) }];
    }
    case "conv2d_backward":
      return convBackward(l, { b, n, has, part });
    case "max_pool2d_backward": {
      // maxpoolbwd(GX, G, I, E, planes, HW, L): the WGSL gathers over the windows covering each
      // pixel, so it takes the geometry of the forward pooling that recorded I.
      const g = l.poolGeom.get(b(2));
      if (!g) throw new PlanError(`${label}: no forward max pooling records the indices this backward reads`);
      const total = n(4) * n(5);
      if (g[0]! * g[1]! !== n(4) || g[2]! * g[3]! !== n(5) || g[12]! * g[13]! !== n(6)) throw new PlanError(`${label}: the indices' forward pooling has another shape`);
      return [{ text: main, label, storages: optional(main, [b(0), b(1), b(2)], 3, "an activation's output"), words: [total, ...g, 0], groups: grid1(total) }];
    }
    case "avg_pool2d_backward": {
      // avgpoolbwd(GX, G, E, N, C, H, W, Ho, Wo, hs, he, ws, we, dv)
      const [N, C, H, W, Ho, Wo] = [n(3), n(4), n(5), n(6), n(7), n(8)];
      const total = N * C * H * W;
      return [{ text: main, label, storages: optional(main, [b(0), b(1), ...windows(l, 9)], 2, "an activation's output"), words: [total, N, C, H, W, Ho, Wo, 0], groups: grid1(total) }];
    }
    default:
      throw new PlanError(kind === null ? `${label}: the WGSL kernel doesn't say what it computes (compiled by an older typetorch: compile again)` : `${label}: no GPU launch for WGSL kernels of kind "${kind}"`);
  }
}

/** The pooling windows `hs, he, ws, we, dv` (arguments `at…at+4`) as the constant buffers WIN (i32) and DV (f32). */
function windows(l: LaunchLowering, at: number): GPUBuffer[] {
  const win = [0, 1, 2, 3].map((k) => l.arg(at + k));
  const dv = l.arg(at + 4);
  if (!win.every(Array.isArray) || !Array.isArray(dv)) throw new PlanError(`${l.label}: expected the pooling windows as constants`);
  return [l.constant(Int32Array.from((win as number[][]).flat())), l.constant(Float32Array.from(dv as number[]))];
}

interface Read {
  b(i: number): GPUBuffer;
  n(i: number): number;
  has(i: number): boolean;
  part(name: string, kind: string): string;
}

/**
 * A Conv2d layer's backward in eager's order (as `conv2dBackwardSource` of `codegen/fusedConv.ts`):
 * `convbwd(GW, GB, GX, DY, Y, E, Wt, cols, T, DC, P, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Oc)`.
 * With `Y`, the activation's backward in place on `DY`; with `GB`, the bias gradient; the weight
 * gradient per sample into the scratch `T` (`N` GEMMs in one dispatch, as the JS kernel's per-sample
 * products), then summed over samples; with `GX`, `Wᵀ·DY[n]` per sample into the scratch `DC`, then
 * col2im with the producer's activation backward (reading `E`) into `GX`, which it writes whole.
 */
function convBackward(l: LaunchLowering, r: Read): Dispatch[] {
  const { b, n, has, part } = r;
  const label = l.label;
  const N = n(11), C = n(12), H = n(13), W = n(14), kh = n(15), kw = n(16), sh = n(17), sw = n(18);
  const ph = n(19), pw = n(20), dh = n(21), dw = n(22), Ho = n(23), Wo = n(24), Oc = n(25);
  const K = C * kh * kw, L = Ho * Wo, OL = Oc * L, OK = Oc * K;
  const DY = b(3);
  const out: Dispatch[] = [];
  if (has(4)) out.push({ text: part("act", "act_backward"), label: `${label} (activation)`, storages: [DY, b(4)], words: [N * OL], groups: grid1(N * OL) });
  if (has(1)) out.push({ text: part("bias", "channel_sum"), label: `${label} (bias)`, storages: [b(1), DY], words: [N, Oc, L], groups: [Oc, 1, 1] });
  const T = b(8);
  // T[n] = DY[n] (Oc × L) · cols[n]ᵀ (cols[n] is K × L: B stored transposed)
  out.push({ text: l.main, label: `${label} (weight, per sample)`, storages: [T, DY, b(7)], words: [Oc, L, K, 0, OL, 0, K * L, 0, OK, 0], groups: gridGemm(Oc, K, N) });
  out.push({ text: part("wsum", "col_sum"), label: `${label} (weight)`, storages: [b(0), T], words: [N, OK, 0], groups: grid1(OK) });
  if (has(2)) {
    const DC = b(9);
    // DC[n] = Wᵀ (W is Oc × K: A stored transposed) · DY[n] (Oc × L)
    out.push({ text: part("dx", "gemm"), label: `${label} (input, per sample)`, storages: [DC, b(6), DY], words: [K, Oc, L, 0, 0, 0, OL, 0, K * L, 0], groups: gridGemm(K, L, N) });
    const col2im = part("col2im", "col2im");
    const storages = [b(2), DC];
    if (storageBindings(col2im).length === 3) {
      if (!has(5)) throw new PlanError(`${label}: the col2im pass reads an activation's output the launch doesn't pass`);
      storages.push(b(5));
    }
    const total = N * C * H * W;
    out.push({ text: col2im, label: `${label} (input)`, storages, words: [total, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, 0], groups: grid1(total) });
  }
  return out;
}
