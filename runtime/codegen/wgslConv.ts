/**
 * WGSL kernel text of the image ops (the GPU side of `jsConv.ts`): im2col and its adjoint col2im,
 * the direct convolution, max pooling with indices and its adjoint, window averaging (avg and
 * adaptive avg pooling) and its adjoint. Eager conv / pooling ops run them one by one; compiled
 * programs (`compiler/wgsl.ts`) reuse them, with the adjoints' optional activation epilogue, in
 * their CNN forward and backward. Conventions: see `./wgsl.ts`.
 */
import { MAIN_1D, PRELUDE, type WgslScalar, buf } from "./wgsl.js";

// Params shared by the image kernels: geometry at words 1..14.
const GEOM = `  let N = pu(1u); let C = pu(2u); let H = pi(3u); let W = pi(4u); let kh = pu(5u); let kw = pu(6u);
  let sh = pi(7u); let sw = pi(8u); let ph = pi(9u); let pw = pi(10u); let dh = pi(11u); let dw = pi(12u); let Ho = pu(13u); let Wo = pu(14u);
`;

/**
 * The geometry words `[N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo]` of the image kernels.
 *
 * @example
 * const g: ImageGeom = { N: 1, C: 3, H: 8, W: 8, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, Ho: 8, Wo: 8 };
 */
export interface ImageGeom {
  N: number; C: number; H: number; W: number; kh: number; kw: number; sh: number; sw: number;
  ph: number; pw: number; dh: number; dw: number; Ho: number; Wo: number;
}

/**
 * The 14 geometry words of {@link ImageGeom}, in kernel order (words 1…14 of the image kernels).
 *
 * @example
 * const words = [total, ...geomWords(g), xOff, ...xStrides]; // im2colWgsl's params
 */
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
 * The loops of an adjoint over the windows that cover pixel `(h, w)`: for kernel tap `(ii, j)` the
 * window at output `(th / sh, tw / sw)`, skipping taps that fall between strides or off the output;
 * `body` runs per covering window (WGSL statements).
 */
function coveringWindows(body: string): string {
  return `  for (var ii = 0u; ii < kh; ii = ii + 1u) {
    let th = h + ph - i32(ii) * dh;
    if (th < 0 || th % sh != 0 || th / sh >= i32(Ho)) { continue; }
    for (var j = 0u; j < kw; j = j + 1u) {
      let tw = w + pw - i32(j) * dw;
      if (tw < 0 || tw % sw != 0 || tw / sw >= i32(Wo)) { continue; }
      ${body}
    }
  }
`;
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
${coveringWindows("acc = acc + X[pu(15u) + ((n * C + c) * kh * kw + ii * kw + j) * L + u32(th / sh) * Wo + u32(tw / sw)];")}${e.store}}
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
${coveringWindows("let at = plane * Ho * Wo + u32(th / sh) * Wo + u32(tw / sw);\n      if (I[at] == i32(hw)) { acc = acc + G[pu(15u) + at]; }")}${e.store}}
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
