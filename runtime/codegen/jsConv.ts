/**
 * JavaScript kernel text of the convolution and pooling ops (`runtime/ops/conv.ts`, `pool.ts`):
 * im2col and its adjoint col2im, max pooling with indices and its adjoint (scatter-add at the
 * argmax), and window averaging (avg / adaptive avg pooling) with its adjoint. The GEMM of the
 * convolution is `matmulSource` of `./js.ts`.
 *
 * Conventions shared by every kernel here: images are `[N, C, H, W]`; a strided input is passed
 * as its storage, offset and four strides (`xo, xsN, xsC, xsH, xsW`), so views need no copy;
 * outputs are fresh, contiguous and zero-filled (the kernels only write or add what is non-zero).
 * Kernels never allocate.
 */

/**
 * Text of `im2col(O, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)`:
 * writes the patches of a strided image `X` into the contiguous, zero-filled
 * `O[N, C·kh·kw, Ho·Wo]`: `O[n, (c·kh + i)·kw + j, oh·Wo + ow] = X[n, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]`
 * (zero where that falls into the padding). `ph`/`pw` are the top/left paddings; the bottom/right
 * ones follow from `Ho`/`Wo`, so asymmetric ("same") padding needs no extra argument.
 *
 * @example
 * const f = new Function(im2colSource())();
 */
export function im2colSource(): string {
  return [
    '"use strict";',
    "return function im2col(O, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo) {",
    "const L = Ho * Wo;",
    "let o = 0;",
    "for (let n = 0; n < N; n++) {",
    "for (let c = 0; c < C; c++) {",
    "const xc = xo + n * xsN + c * xsC;",
    "for (let i = 0; i < kh; i++) {",
    "const offH = i * dh - ph;",
    "for (let j = 0; j < kw; j++) {",
    "const offW = j * dw - pw;",
    // Output columns whose input column lies inside the image: [owLo, owHi).
    "const owLo = offW >= 0 ? 0 : Math.min(Wo, Math.floor((sw - 1 - offW) / sw));",
    "const owHi = Math.min(Wo, Math.max(0, Math.floor((W - 1 - offW) / sw) + 1));",
    "for (let oh = 0; oh < Ho; oh++) {",
    "const ih = oh * sh + offH;",
    "if (ih < 0 || ih >= H) continue;",
    "const xr = xc + ih * xsH;",
    "const orow = o + oh * Wo;",
    "let iw = owLo * sw + offW;",
    "for (let ow = owLo; ow < owHi; ow++, iw += sw) O[orow + ow] = X[xr + iw * xsW];",
    "}",
    "o += L;",
    "}",
    "}",
    "}",
    "}",
    "};",
  ].join("\n");
}

/**
 * Text of `col2im(X, O, oo, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)`, the adjoint of
 * {@link im2colSource}: adds every entry of the contiguous patches `O[N, C·kh·kw, Ho·Wo]` (at
 * offset `oo`) into the pixel it was read from, in the contiguous zero-filled image `X[N, C, H, W]`.
 *
 * @example
 * const f = new Function(col2imSource())();
 */
export function col2imSource(): string {
  return [
    '"use strict";',
    "return function col2im(X, O, oo, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo) {",
    "const L = Ho * Wo;",
    "let o = oo;",
    "for (let n = 0; n < N; n++) {",
    "for (let c = 0; c < C; c++) {",
    "const xc = (n * C + c) * H * W;",
    "for (let i = 0; i < kh; i++) {",
    "const offH = i * dh - ph;",
    "for (let j = 0; j < kw; j++) {",
    "const offW = j * dw - pw;",
    "const owLo = offW >= 0 ? 0 : Math.min(Wo, Math.floor((sw - 1 - offW) / sw));",
    "const owHi = Math.min(Wo, Math.max(0, Math.floor((W - 1 - offW) / sw) + 1));",
    "for (let oh = 0; oh < Ho; oh++) {",
    "const ih = oh * sh + offH;",
    "if (ih < 0 || ih >= H) continue;",
    "const xr = xc + ih * W;",
    "const orow = o + oh * Wo;",
    "let iw = owLo * sw + offW;",
    "for (let ow = owLo; ow < owHi; ow++, iw += sw) X[xr + iw] += O[orow + ow];",
    "}",
    "o += L;",
    "}",
    "}",
    "}",
    "}",
    "};",
  ].join("\n");
}

/**
 * Text of `bias(O, B, bo, bs, N, Ch, L)`: adds `B[bo + c·bs]` to every element of channel `c` of
 * the contiguous `O[N, Ch, L]` (a convolution's bias, added after its GEMM).
 *
 * @example
 * const f = new Function(channelBiasSource())();
 */
export function channelBiasSource(): string {
  return [
    '"use strict";',
    "return function bias(O, B, bo, bs, N, Ch, L) {",
    "let o = 0;",
    "for (let n = 0; n < N; n++) {",
    "for (let c = 0; c < Ch; c++) {",
    "const b = B[bo + c * bs];",
    "for (let t = 0; t < L; t++) O[o++] += b;",
    "}",
    "}",
    "};",
  ].join("\n");
}

/**
 * Text of `maxpool(O, I, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)`:
 * the max of each (dilated, padded) window of a strided image into the contiguous `O[N, C, Ho, Wo]`
 * and its flat index into the `H·W` plane into `I` — PyTorch's CPU kernel step for step: padding
 * never wins, a NaN wins (the last NaN of a window), ties keep the first element.
 *
 * @example
 * const f = new Function(maxPoolSource())();
 */
export function maxPoolSource(): string {
  return [
    '"use strict";',
    "return function maxpool(O, I, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo) {",
    "let o = 0;",
    "for (let n = 0; n < N; n++) {",
    "for (let c = 0; c < C; c++) {",
    "const xc = xo + n * xsN + c * xsC;",
    "for (let oh = 0; oh < Ho; oh++) {",
    "let ih0 = oh * sh - ph;",
    "const ih1 = Math.min(ih0 + (kh - 1) * dh + 1, H);",
    "while (ih0 < 0) ih0 += dh;",
    "for (let ow = 0; ow < Wo; ow++) {",
    "let iw0 = ow * sw - pw;",
    "const iw1 = Math.min(iw0 + (kw - 1) * dw + 1, W);",
    "while (iw0 < 0) iw0 += dw;",
    "let mi = ih0 * W + iw0, mv = -Infinity;",
    "for (let ih = ih0; ih < ih1; ih += dh) {",
    "const xr = xc + ih * xsH;",
    "for (let iw = iw0; iw < iw1; iw += dw) {",
    "const v = X[xr + iw * xsW];",
    "if (v > mv || v !== v) { mv = v; mi = ih * W + iw; }",
    "}",
    "}",
    "O[o] = mv; I[o] = mi; o++;",
    "}",
    "}",
    "}",
    "}",
    "};",
  ].join("\n");
}

/**
 * Text of `unpool(X, G, go, I, planes, HW, L)`, the adjoint of max pooling: for each of `planes`
 * image planes of `HW` pixels, adds the contiguous gradient `G[p, t]` (at offset `go`) into the
 * zero-filled `X[p, I[p, t]]` (the argmax it came from; `L` entries per plane).
 *
 * @example
 * const f = new Function(maxUnpoolAddSource())();
 */
export function maxUnpoolAddSource(): string {
  return [
    '"use strict";',
    "return function unpool(X, G, go, I, planes, HW, L) {",
    "let t = 0;",
    "for (let p = 0; p < planes; p++) {",
    "const xp = p * HW;",
    "for (let k = 0; k < L; k++, t++) X[xp + I[t]] += G[go + t];",
    "}",
    "};",
  ].join("\n");
}

/**
 * Text of window averaging over rectangular windows given as index arrays — average pooling and
 * adaptive average pooling alike. Output `(oh, ow)` of each plane averages rows `[hs[oh], he[oh])`
 * × columns `[ws[ow], we[ow])` and divides by `dv[oh·Wo + ow]`.
 *
 * - forward, `avgpool(O, X, xo, xsN, xsC, xsH, xsW, N, C, Ho, Wo, hs, he, ws, we, dv)`: strided
 *   image in, contiguous `O[N, C, Ho, Wo]` out;
 * - adjoint (`adjoint = true`), `avgunpool(X, G, go, N, C, H, W, Ho, Wo, hs, he, ws, we, dv)`:
 *   adds `G[n, c, oh, ow] / dv` over each window of the zero-filled contiguous `X[N, C, H, W]`.
 *
 * @example
 * const f = new Function(windowAvgSource(false))();
 */
export function windowAvgSource(adjoint: boolean): string {
  const head = adjoint
    ? ["return function avgunpool(X, G, go, N, C, H, W, Ho, Wo, hs, he, ws, we, dv) {", "let o = go;", "const P = N * C;", "for (let p = 0; p < P; p++) {", "const xc = p * H * W;"]
    : ["return function avgpool(O, X, xo, xsN, xsC, xsH, xsW, N, C, Ho, Wo, hs, he, ws, we, dv) {", "let o = 0;", "for (let n = 0; n < N; n++) {", "for (let c = 0; c < C; c++) {", "const xc = xo + n * xsN + c * xsC;"];
  const body = adjoint
    ? [
        "const g = G[o] / dv[oh * Wo + ow]; o++;",
        "for (let ih = h0; ih < h1; ih++) { const xr = xc + ih * W; for (let iw = w0; iw < w1; iw++) X[xr + iw] += g; }",
      ]
    : [
        "let s = 0;",
        "for (let ih = h0; ih < h1; ih++) { const xr = xc + ih * xsH; for (let iw = w0; iw < w1; iw++) s += X[xr + iw * xsW]; }",
        "O[o++] = s / dv[oh * Wo + ow];",
      ];
  return [
    '"use strict";',
    ...head,
    "for (let oh = 0; oh < Ho; oh++) {",
    "const h0 = hs[oh], h1 = he[oh];",
    "for (let ow = 0; ow < Wo; ow++) {",
    "const w0 = ws[ow], w1 = we[ow];",
    ...body,
    "}",
    "}",
    "}",
    ...(adjoint ? [] : ["}"]),
    "};",
  ].join("\n");
}
