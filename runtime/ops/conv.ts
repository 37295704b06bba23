import type { AnyTensor } from "../tensorTypes.js";
/**
 * 2-D convolution: the shape rule (type-level and runtime twins sharing their message writers),
 * and three kernel ops — `im2col`, its adjoint `col2im`, and `conv2d` (im2col + the blocked GEMM
 * of `codegen/js.ts`, bias added in place). conv2d's backward is written in Tensor ops: `∂x` is
 * col2im of `Wᵀ·g`, `∂W` is `Σₙ g·colsᵀ`, `∂b` a sum, so it runs on every backend.
 *
 * The rule twins at the top only import from `types/`; they belong in `types/conv.ts` and sit here
 * until that file's owner moves them.
 */
import type { Mul } from "../../types/arith.js";
import type { Err } from "../../types/check.js";
import { convOutSize, type ConvOutSize, windowArgMsg } from "../../types/conv.js";
import { DTypeError, ShapeError, ValueError } from "../../types/errors.js";
import { type Shape, type ShapeStr, shapeStr } from "../../types/shape.js";
import { needsGrad, noGrad, record } from "../autograd.js";
import { cpu } from "../backend/cpu.js";
import { matmulSource } from "../codegen/js.js";
import { packScratch } from "./matmul.js";
import { useWasmGemm, wasmSgemm } from "./sgemm.js";
import { EAGER_SPLIT, patchesWasm } from "./launchRows.js";
import { wasm } from "../backend/wasm.js";
import { channelBiasSource, col2imSource, im2colSource } from "../codegen/jsConv.js";
import { Tensor } from "../Tensor.js";
import { emptyOutput, type KernelOpDef } from "./defineOp.js";
import { deviceCol2im, deviceConv2d, deviceIm2col, deviceOf } from "./device.js";

// ---------------------------------------------------------------------------------------------
// Shape rule: type-level twin and runtime twin (move to types/conv.ts)
// ---------------------------------------------------------------------------------------------

/** Message of an image input of the wrong rank (conv2d, the pools). */
export type ImageRankMsg<Op extends string, S extends string> = `${Op}: input must have 4 dims [N, C, H, W] (or 3 unbatched), got ${S}`;
/** Runtime twin of {@link ImageRankMsg}. */
export function imageRankMsg<Op extends string, S extends string>(op: Op, s: S): ImageRankMsg<Op, S> {
  return `${op}: input must have 4 dims [N, C, H, W] (or 3 unbatched), got ${s}`;
}

/** Message of a conv2d weight of the wrong rank. */
export type ConvWeightRankMsg<S extends string> = `conv2d: weight must have 4 dims [O, C/groups, kH, kW], got ${S}`;
/** Runtime twin of {@link ConvWeightRankMsg}. */
export function convWeightRankMsg<S extends string>(s: S): ConvWeightRankMsg<S> {
  return `conv2d: weight must have 4 dims [O, C/groups, kH, kW], got ${s}`;
}

/** Message of an input whose channel count is not the weight's `C/groups · groups`. */
export type ConvChannelsMsg<E extends string, S extends string> = `conv2d: weight expects ${E} input channels, got input ${S}`;
/** Runtime twin of {@link ConvChannelsMsg}. */
export function convChannelsMsg<E extends string, S extends string>(e: E, s: S): ConvChannelsMsg<E, S> {
  return `conv2d: weight expects ${e} input channels, got input ${s}`;
}

/** An int or an `[h, w]` pair of them (stride, padding, dilation, kernel size). */
export type Pair = number | readonly [number, number];
/** The padding conv2d takes: a pair, or PyTorch's `"valid"` (0) / `"same"` (output size = input size). */
export type ConvPadding = Pair | "valid" | "same";

/** The options conv2d takes, as PyTorch's keywords. */
export interface Conv2dOptions {
  stride?: Pair;
  padding?: ConvPadding;
  dilation?: Pair;
  groups?: number;
}

/** The height part of a {@link Pair} (`number` when unknown). */
export type PairH<P> = P extends readonly [infer A extends number, number] ? A : P extends number ? P : number;
/** The width part of a {@link Pair} (`number` when unknown). */
export type PairW<P> = P extends readonly [number, infer B extends number] ? B : P extends number ? P : number;
/**
 * An option's type from an options object type: the default when absent, the value when
 * required, both (a union, which the arithmetic reads as `number`) when it may be undefined.
 */
export type Opt<O, K extends PropertyKey, Def> = K extends keyof O
  ? undefined extends O[K] ? Exclude<O[K], undefined> | Def : O[K]
  : Def;

/** `T` where it is a number, else `number`. */
export type NumOr<T> = T extends number ? T : number;
type ConvPad<P, Half extends "h" | "w"> = P extends "valid" ? 0 : Half extends "h" ? PairH<P> : PairW<P>;
type ConvSide<H extends number, K extends number, S extends number, P, D extends number, Half extends "h" | "w"> =
  [P] extends ["same"] ? H : "same" extends P ? number : ConvOutSize<H, K, S, ConvPad<P, Half>, D, "conv2d">;
type ChannelsOk<C extends number, E extends number> = number extends C | E ? true : [C] extends [E] ? true : false;

type ConvBody<X extends Shape, Lead extends number[], C extends number, H extends number, W extends number, O, Oc extends number, Cg extends number, Kh extends number, Kw extends number> =
  Mul<Cg, NumOr<Opt<O, "groups", 1>>> extends infer E extends number
    ? ChannelsOk<C, E> extends false
      ? Err<ConvChannelsMsg<`${E}`, ShapeStr<X>>>
      : ConvSide<H, Kh, PairH<Opt<O, "stride", 1>>, Opt<O, "padding", 0>, PairH<Opt<O, "dilation", 1>>, "h"> extends infer Ho
        ? Ho extends Err<string> ? Ho
          : ConvSide<W, Kw, PairW<Opt<O, "stride", 1>>, Opt<O, "padding", 0>, PairW<Opt<O, "dilation", 1>>, "w"> extends infer Wo
            ? Wo extends Err<string> ? Wo : [...Lead, Oc, Ho & number, Wo & number]
            : never
        : never
    : never;

/**
 * Output shape of `conv2d(x, w, b, opts)`: `[N, O, Ho, Wo]` (or `[O, Ho, Wo]` unbatched) with
 * `Ho = ConvOutSize<H, kH, stride, padding, dilation>` (`H` for `padding: "same"`), or an `Err`
 * for a wrong rank, a channel mismatch (`C ≠ weight C/groups · groups`) or a kernel that does not
 * fit. Unknown dims stay `number`.
 *
 * @example
 * type S = Conv2dShape<[4, 3, 32, 32], [16, 3, 3, 3], { padding: 1 }>; // [4, 16, 32, 32]
 */
export type Conv2dShape<X extends Shape, Wt extends Shape, O = {}> =
  number extends X["length"] | Wt["length"]
    ? number[]
    : Wt extends readonly [infer Oc extends number, infer Cg extends number, infer Kh extends number, infer Kw extends number]
      ? X extends readonly [infer N extends number, infer C extends number, infer H extends number, infer W extends number]
        ? ConvBody<X, [N], C, H, W, O, Oc, Cg, Kh, Kw>
        : X extends readonly [infer C extends number, infer H extends number, infer W extends number]
          ? ConvBody<X, [], C, H, W, O, Oc, Cg, Kh, Kw>
          : Err<ImageRankMsg<"conv2d", ShapeStr<X>>>
      : Err<ConvWeightRankMsg<ShapeStr<Wt>>>;

/** Everything a conv2d (or its im2col/col2im) needs to know about the geometry. */
export interface ConvGeom {
  /** Batch (1 for an unbatched input), channels, height, width of the input image. */
  N: number; C: number; H: number; W: number;
  kh: number; kw: number; sh: number; sw: number;
  /** Top and left padding (bottom/right follow from Ho/Wo: "same" may pad asymmetrically). */
  ph: number; pw: number;
  dh: number; dw: number;
  Ho: number; Wo: number;
}

/** The runtime plan of a conv2d: geometry plus the GEMM sizes. */
export interface ConvPlan extends ConvGeom {
  batched: boolean;
  /** Output channels, groups, output channels per group, GEMM depth `C/groups·kH·kW`, `Ho·Wo`. */
  O: number; G: number; Og: number; K: number; L: number;
  out: number[];
}

/**
 * Reads an int-or-pair option (`name` names it in messages): integers, each ≥ `min` (below it:
 * `windowArgMsg`'s message, the one `ConvOutSize`/`PoolOutSize` report at compile time).
 */
export function pairArg(op: string, name: string, v: unknown, min: number): [number, number] {
  const p = typeof v === "number" ? [v, v] : Array.isArray(v) && v.length === 2 ? v : undefined;
  if (!p || !p.every((x) => typeof x === "number" && Number.isInteger(x))) {
    const got = typeof v === "number" ? String(v) : Array.isArray(v) ? `[${v.map(String).join(", ")}]` : JSON.stringify(v);
    throw new ValueError(`${op}: ${name} must be an integer or a pair of integers, got ${got}`);
  }
  for (const x of p as number[]) if (x < min) throw new ValueError(windowArgMsg(op, name, `${min}`, `${x}`));
  return [p[0] as number, p[1] as number];
}

/**
 * Runtime twin of {@link Conv2dShape}: checks ranks, channels, groups and options and returns the
 * plan (output shape included). Throws `ShapeError` with the type-level rule's message, or
 * `ValueError` for a bad option.
 *
 * @example
 * conv2dPlan([4, 3, 32, 32], [16, 3, 3, 3], { padding: 1 }).out; // [4, 16, 32, 32]
 */
export function conv2dPlan(x: readonly number[], w: readonly number[], opts: Conv2dOptions = {}): ConvPlan {
  if (x.length !== 4 && x.length !== 3) throw new ShapeError(imageRankMsg("conv2d", shapeStr(x)));
  if (w.length !== 4) throw new ShapeError(convWeightRankMsg(shapeStr(w)));
  const batched = x.length === 4;
  const [N, C, H, W] = (batched ? x : [1, ...x]) as [number, number, number, number];
  const [O, Cg, kh, kw] = w as [number, number, number, number];
  const G = opts.groups ?? 1;
  if (!Number.isInteger(G) || G < 1) throw new ValueError(`conv2d: groups must be a positive integer, got ${String(G)}`);
  if (Cg * G !== C) throw new ShapeError(convChannelsMsg(`${Cg * G}`, shapeStr(x)));
  if (O % G !== 0) throw new ShapeError(`conv2d: out channels (weight dim 0) must be divisible by groups, got ${O} and groups=${G}`);
  const [sh, sw] = pairArg("conv2d", "stride", opts.stride ?? 1, 1);
  const [dh, dw] = pairArg("conv2d", "dilation", opts.dilation ?? 1, 1);
  const pad = opts.padding ?? 0;
  let ph: number, pw: number, Ho: number, Wo: number;
  if (pad === "same") {
    if (sh !== 1 || sw !== 1) throw new ValueError(`conv2d: padding "same" needs stride 1, got stride ${JSON.stringify(opts.stride)}`);
    // As PyTorch: total padding d·(k − 1), the odd one extra at the bottom/right.
    ph = Math.floor((dh * (kh - 1)) / 2);
    pw = Math.floor((dw * (kw - 1)) / 2);
    Ho = H;
    Wo = W;
  } else {
    if (typeof pad === "string" && pad !== "valid") throw new ValueError(`conv2d: padding must be an int, a pair, "valid" or "same", got "${pad}"`);
    [ph, pw] = pad === "valid" ? [0, 0] : pairArg("conv2d", "padding", pad, 0);
    Ho = convOutSize(H, kh, sh, ph, dh, "conv2d");
    Wo = convOutSize(W, kw, sw, pw, dw, "conv2d");
  }
  const L = Ho * Wo;
  return {
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, batched, O, G, Og: O / G, K: Cg * kh * kw, L,
    out: batched ? [N, O, Ho, Wo] : [O, Ho, Wo],
  };
}

// ---------------------------------------------------------------------------------------------
// im2col / col2im
// ---------------------------------------------------------------------------------------------

/** The four strides of an image tensor viewed as [N, C, H, W] (N's is 0 for an unbatched one). */
export function imageStrides(x: AnyTensor): [number, number, number, number] {
  const s = x._strides;
  return (x.ndim === 4 ? [s[0]!, s[1]!, s[2]!, s[3]!] : [0, s[0]!, s[1]!, s[2]!]);
}

/**
 * im2col: the patches of an image `[N, C, H, W]` (or unbatched) as `[N, C·kH·kW, Ho·Wo]`.
 * Backward: col2im of the gradient. JS kernel `im2colSource` (codegen/jsConv.ts); the WGSL
 * builder `im2colWgsl` comes with the WebGPU backend.
 */
export const im2col: KernelOpDef = {
  kind: "kernel",
  name: "im2col",
  gradName: "Im2ColBackward0",
  js: "im2colSource",
  wgsl: "im2colWgsl",
  backward: (g, [x], _out, [geom]) => [col2imOp(g, geom as ConvGeom).reshape(x!.shape)],
};

/**
 * col2im: the adjoint of im2col — adds patches `[N, C·kH·kW, Ho·Wo]` back into an image
 * `[N, C, H, W]` (overlaps sum). Backward: im2col of the gradient. JS kernel `col2imSource`; the
 * WGSL builder `col2imWgsl` comes with the WebGPU backend.
 */
export const col2im: KernelOpDef = {
  kind: "kernel",
  name: "col2im",
  gradName: "Col2ImBackward0",
  js: "col2imSource",
  wgsl: "col2imWgsl",
  backward: (g, _inputs, _out, [geom]) => [im2colOp(g, geom as ConvGeom)],
};

function runIm2col(x: AnyTensor, p: ConvGeom): AnyTensor {
  const shape = [p.N, p.C * p.kh * p.kw, p.Ho * p.Wo];
  // The CPU kernel writes every entry, the padding's zeros too.
  const out = x.device === "cpu" ? emptyOutput(shape, x.dtype) : Tensor._empty(shape, x.dtype, x.device);
  const [sn, sc, sh, sw] = imageStrides(x);
  if (x.device !== "cpu") deviceIm2col(out, x, p);
  else cpu.run("conv:im2col", im2colSource, [out._data, x._data, x._offset, sn, sc, sh, sw, p.N, p.C, p.H, p.W, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.Ho, p.Wo]);
  return out;
}

/** Runs {@link im2col} on `x` (`[N, C, H, W]`, or `[C, H, W]` with N = 1). */
export function im2colOp(x: AnyTensor, p: ConvGeom): AnyTensor {
  const out = runIm2col(x, p);
  if (needsGrad([x])) record(out, im2col.gradName, [x], (g) => im2col.backward!(g, [x], out, [p]));
  return out;
}

/** Runs {@link col2im}: `[N, C·kH·kW, Ho·Wo]` → `[N, C, H, W]`. */
export function col2imOp(cols: AnyTensor, p: ConvGeom): AnyTensor {
  const c = noGrad(() => cols.contiguous());
  const out = Tensor._empty([p.N, p.C, p.H, p.W], cols.dtype, cols.device);
  if (cols.device !== "cpu") deviceCol2im(out, c, p);
  else if (c.dtype === "float32" && wasm.available && c.numel() >= 1 << 16) {
    // the WASM kernel (the JS kernel's sums, in its order) on copies in the arena
    const n = out.numel();
    wasm.reset();
    const pO = wasm.place(c._data as Float32Array, c._offset, c._offset + c.numel());
    const pX = wasm.reserve(n);
    wasm.f32.fill(0, pX >> 2, (pX >> 2) + n);
    patchesWasm("col2im", pX, pO, p.N, p.C, p.H, p.W, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.Ho, p.Wo, EAGER_SPLIT);
    (out._data as Float32Array).set(wasm.f32.subarray(pX >> 2, (pX >> 2) + n));
  } else cpu.run("conv:col2im", col2imSource, [out._data, c._data, c._offset, p.N, p.C, p.H, p.W, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.Ho, p.Wo]);
  if (needsGrad([cols])) record(out, col2im.gradName, [cols], (g) => col2im.backward!(g, [cols], out, [p]));
  return out;
}

// ---------------------------------------------------------------------------------------------
// conv2d
// ---------------------------------------------------------------------------------------------

/**
 * conv2d: `out[n, o] = b[o] + Σ_{c ∈ group(o), i, j} W[o, c, i, j] · x[n, c, oh·s − p + i·d, ow·s − p + j·d]`.
 * Forward: im2col, then per sample and group the register-blocked GEMM `W_g · cols` of
 * `codegen/js.ts` (`matmulSource`, key "mm"; float32 products go to the WASM SIMD GEMM, and a
 * contiguous float32 image gets its patches from the WASM im2col, made in the wasm memory where
 * the GEMM reads them), then the bias (`channelBiasSource`). A 1×1 kernel with stride 1 and no
 * padding skips im2col. Backward in Tensor ops: `∂x = col2im(Wᵀ · g)`,
 * `∂W = Σₙ g · colsᵀ`, `∂b = Σ g`. The WGSL builder `conv2dWgsl` comes with the WebGPU backend
 * (until then conv2d on webgpu would run as im2col + matmul).
 */
export const conv2d: KernelOpDef = {
  kind: "kernel",
  name: "conv2d",
  gradName: "ConvolutionBackward0",
  js: "im2colSource+matmulSource+channelBiasSource",
  wgsl: "conv2dWgsl",
  backward: (g, [x, w, b], _out, [cols, plan]) => conv2dBackward(g, x!, w!, b ?? null, cols as AnyTensor, plan as ConvPlan),
};

function requireFloat(op: string, what: string, t: AnyTensor): void {
  if (t.dtype !== "float32" && t.dtype !== "float64") throw new DTypeError(`${op}: ${what} must be float32 or float64, got dtype ${t.dtype}`);
}

/** `conv2d(input, weight, bias, opts)` at run time (see {@link conv2d}). */
export function conv2dOp(input: AnyTensor, weight: AnyTensor, bias?: AnyTensor | null, opts: Conv2dOptions = {}): AnyTensor {
  requireFloat("conv2d", "input", input);
  if (weight.dtype !== input.dtype) throw new DTypeError(`conv2d: weight must have the input's dtype ${input.dtype}, got dtype ${weight.dtype}`);
  if (bias && bias.dtype !== input.dtype) throw new DTypeError(`conv2d: bias must have the input's dtype ${input.dtype}, got dtype ${bias.dtype}`);
  const device = deviceOf("conv2d", [input, weight, bias]);
  const p = conv2dPlan(input.shape, weight.shape, opts);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== p.O)) throw new ShapeError(`conv2d: bias must have shape [${p.O}] (one per output channel), got ${shapeStr(bias.shape)}`);
  const { N, O, G, Og, K, L } = p;
  const grad = needsGrad([input, weight, bias]);
  // A 1×1 kernel at stride 1 without padding reads the image as it is.
  const direct = p.kh === 1 && p.kw === 1 && p.sh === 1 && p.sw === 1 && p.ph === 0 && p.pw === 0 && input.isContiguous();
  // float32 on the CPU with WebAssembly: the patches are made in the wasm memory (below)
  const inWasm = !direct && device === "cpu" && input.dtype === "float32" && useWasmGemm(Og, K, L) && input.isContiguous();
  let cols = direct ? Tensor._view(input, [N, p.C, L], [p.C * L, L, 1], input._offset) : inWasm ? null : runIm2col(input, p);
  const wc = noGrad(() => weight.contiguous());
  // On the CPU the GEMM assigns every output element (for K > 0; K = 0 leaves the zeros).
  const out = device === "cpu" && K > 0 ? emptyOutput(p.out, input.dtype) : Tensor._empty(p.out, input.dtype, device);
  if (device !== "cpu") deviceConv2d(out, input, wc, bias, p);
  else if (input.dtype === "float32" && useWasmGemm(Og, K, L)) {
    // One batched WASM SIMD GEMM call: W_g (Og×K) · cols[n, g] (K×L) for every sample and group.
    const cOffs: number[] = [];
    const wOffs: number[] = [];
    const xOffs: number[] = [];
    for (let n = 0; n < N; n++) {
      for (let g = 0; g < G; g++) {
        cOffs.push((n * O + g * Og) * L);
        wOffs.push(wc._offset + g * Og * K);
        xOffs.push((cols ? cols._offset : 0) + (n * G + g) * K * L);
      }
    }
    if (cols) wasmSgemm(out._data as Float32Array, cOffs, wc._data as Float32Array, wOffs, K, 1, cols._data as Float32Array, xOffs, L, 1, Og, K, L);
    else cols = convInWasm(out, input, wc, p, cOffs, wOffs, xOffs, grad && weight.requiresGrad);
  } else for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const c = cols!;
      cpu.run("mm", matmulSource, [out._data, (n * O + g * Og) * L, wc._data, wc._offset + g * Og * K, c._data, c._offset + (n * G + g) * K * L, Og, K, L, packScratch(c._data, K * L)]);
    }
  }
  if (bias && device === "cpu") cpu.run("conv:bias", channelBiasSource, [out._data, bias._data, bias._offset, bias._strides[0], N, O, L]);
  if (grad) {
    // Only ∂W needs the patches: drop them otherwise.
    const saved = weight.requiresGrad ? cols : null;
    record(out, conv2d.gradName, [input, weight, bias ?? null], (g) => conv2d.backward!(g, [input, weight, ...(bias ? [bias] : [])], out, [saved, p]));
  }
  return out;
}

/**
 * The float32 CPU forward with its patches made in the wasm memory: the contiguous image copied
 * in, im2col by the WASM kernel (`codegen/wasmConv.ts`, the JS kernel's values) into the arena,
 * and the batched GEMM reading them in place — no patch array to allocate and copy in, so the
 * products also qualify for both threads. `xOffs` are the products' offsets into the patches.
 * Returns the patches as a tensor when `keep` (∂W needs them), else null.
 */
function convInWasm(out: AnyTensor, input: AnyTensor, wc: AnyTensor, p: ConvPlan, cOffs: readonly number[], wOffs: readonly number[], xOffs: readonly number[], keep: boolean): AnyTensor | null {
  const { N, Og, K, L } = p;
  const n = N * p.C * p.kh * p.kw * L;
  wasm.reset();
  const pX = wasm.place(input._data as Float32Array, input._offset, input._offset + input.numel());
  const pCols = wasm.reserve(n);
  patchesWasm("im2col", pCols, pX, N, p.C, p.H, p.W, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.Ho, p.Wo, EAGER_SPLIT);
  // the GEMM's own arena goes above the patches
  const mark = wasm.hold();
  try {
    // In training (`keep`) the products stay on this thread: split, they were slower in eager
    // training steps on the 2-vCPU VM this was measured on (~23 → ~21.5 ms a CNN step), as the
    // worker reads patches this thread has just written; inference gains from the split.
    const two = wasm.twoThreads;
    if (keep) wasm.twoThreads = false;
    try {
      wasmSgemm(out._data as Float32Array, cOffs, wc._data as Float32Array, wOffs, K, 1, wasm.f32.subarray(pCols >> 2, (pCols >> 2) + n), xOffs, L, 1, Og, K, L);
    } finally {
      wasm.twoThreads = two;
    }
    if (!keep) return null;
    const cols = emptyOutput([N, p.C * p.kh * p.kw, L], "float32");
    (cols._data as Float32Array).set(wasm.f32.subarray(pCols >> 2, (pCols >> 2) + n));
    return cols;
  } finally {
    wasm.release(mark);
  }
}

function conv2dBackward(g: AnyTensor, x: AnyTensor, w: AnyTensor, b: AnyTensor | null, cols: AnyTensor | null, p: ConvPlan): (AnyTensor | null)[] {
  const { N, G, Og, K, L } = p;
  const g4 = g.reshape([N, G, Og, L]);
  let gx: AnyTensor | null = null;
  let gw: AnyTensor | null = null;
  if (x.requiresGrad) {
    const wt = w.reshape([G, Og, K]).transpose(1, 2); // [G, K, Og]
    gx = col2imOp(wt.matmul(g4).reshape([N, G * K, L]), p).reshape(x.shape);
  }
  if (w.requiresGrad && cols) {
    const c4 = cols.reshape([N, G, K, L]);
    // Σₙ g·colsᵀ, transposing whichever operand is smaller before the GEMM.
    const gwT = Og <= K ? c4.matmul(g4.transpose(2, 3)).sum(0).transpose(1, 2) : g4.matmul(c4.transpose(2, 3)).sum(0);
    gw = gwT.reshape(w.shape);
  }
  const gb = b?.requiresGrad ? g.sum(p.batched ? [0, 2, 3] : [1, 2]) : null;
  return [gx, gw, gb];
}
