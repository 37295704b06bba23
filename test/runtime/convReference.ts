/**
 * Reference kernels for test/runtime/fastpaths.test.ts: the straightforward loops that
 * `runtime/codegen/jsConv.ts` had before its kernels were tuned (same arguments, same results,
 * element by element with every bound tested). The tuned kernels must agree with them bit for bit.
 */
/**
 * Text of `im2col(O, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)`:
 * writes the patches of a strided image `X` into the contiguous, zero-filled
 * `O[N, C·kh·kw, Ho·Wo]`: `O[n, (c·kh + i)·kw + j, oh·Wo + ow] = X[n, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]`
 * (zero where that falls into the padding). `ph`/`pw` are the top/left paddings; the bottom/right
 * ones follow from `Ho`/`Wo`, so asymmetric ("same") padding needs no extra argument.
 *
 * @example
 * const f = new Function(im2colReference())();
 */
export function im2colReference(): string {
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
 * {@link im2colReference}: adds every entry of the contiguous patches `O[N, C·kh·kw, Ho·Wo]` (at
 * offset `oo`) into the pixel it was read from, in the contiguous zero-filled image `X[N, C, H, W]`.
 *
 * @example
 * const f = new Function(col2imReference())();
 */
export function col2imReference(): string {
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
 * const f = new Function(channelBiasReference())();
 */
export function channelBiasReference(): string {
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
 * Text of `unpool(X, G, go, I, planes, HW, L)`, the adjoint of max pooling: for each of `planes`
 * image planes of `HW` pixels, adds the contiguous gradient `G[p, t]` (at offset `go`) into the
 * zero-filled `X[p, I[p, t]]` (the argmax it came from; `L` entries per plane).
 *
 * @example
 * const f = new Function(maxUnpoolAddReference())();
 */
export function maxUnpoolAddReference(): string {
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
