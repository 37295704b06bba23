/**
 * JavaScript kernel text of the convolution and pooling ops (`runtime/ops/conv.ts`, `pool.ts`):
 * im2col and its adjoint col2im, max pooling with indices and its adjoint (scatter-add at the
 * argmax), and window averaging (avg / adaptive avg pooling) with its adjoint. The GEMM of the
 * convolution is `matmulSource` of `./js.ts`.
 *
 * Conventions shared by every kernel here: images are `[N, C, H, W]`; a strided input is passed
 * as its storage, offset and four strides (`xo, xsN, xsC, xsH, xsW`), so views need no copy;
 * outputs are fresh and contiguous; the adjoints (col2im, unpool, window spread) add into zero-filled ones.
 * Kernels never allocate.
 */




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

/**
 * The declaration `const local = typeof hook === "function" ? hook : null;`: a kernel text's access
 * to a hook that a compiled program passes in scope (`runtime/compiled.ts` `kernelFn`) and eager
 * code does not (`typeof` of an undeclared name is "undefined", no ReferenceError).
 */
export const HOOK = (local: string, hook: string) => `const ${local} = typeof ${hook} === "function" ? ${hook} : null;`;

// ---------------------------------------------------------------------------------------------
// Eager fast paths: the same kernels with their bounds hoisted out of the inner loops. They take
// the arguments of the general kernels above and give their results bit for bit; the compiled
// kernels (runtime/codegen/fused*.ts) embed the general ones.
// ---------------------------------------------------------------------------------------------

// The output range [lo, hi) of one axis whose input position `o·s + off` lies in [0, n).
const axisRange = (lo: string, hi: string, off: string, s: string, n: string, on: string) => [
  `const ${lo} = ${off} >= 0 ? 0 : Math.min(${on}, Math.floor((${s} - 1 - ${off}) / ${s}));`,
  `const ${hi} = Math.max(${lo}, Math.min(${on}, Math.floor((${n} - 1 - ${off}) / ${s}) + 1));`,
];

/**
 * Text of `im2col(O, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)`:
 * writes the patches of a strided image `X` into the contiguous `O[N, C·kh·kw, Ho·Wo]`:
 * `O[n, (c·kh + i)·kw + j, oh·Wo + ow] = X[n, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]` (zero where
 * that falls into the padding). `ph`/`pw` are the top/left paddings; the bottom/right ones follow
 * from `Ho`/`Wo`, so asymmetric ("same") padding needs no extra argument.
 *
 * It writes the zeros of the padding too, so `O` need not be zero-filled. The output rows whose
 * input row lies in the image are computed once per kernel row (no test per row), and where a
 * kernel tap's output rows map onto consecutive input rows, row after row (unit column step,
 * input rows `Wo` apart, as in a stride-1 "same" convolution of a contiguous image), the whole
 * band is one `set` (a memmove: `O` and `X` are arrays of one dtype), after which the few columns
 * that wrapped into the padding are zeroed. It first offers the work to a `wasmIm2col` hook where
 * one is in scope (compiled programs: `runtime/compiled.ts` runs contiguous images in the wasm
 * memory through `codegen/wasmConv.ts`, the same values), and runs its loops when the hook
 * declines or is absent (eager).
 *
 * @example
 * const f = new Function(im2colSource())();
 */
export function im2colSource(): string {
  return [
    '"use strict";',
    HOOK("SIM2COL", "wasmIm2col"),
    "return function im2col(O, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo) {",
    "if (SIM2COL !== null && SIM2COL(O, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)) return;",
    "const L = Ho * Wo;",
    "const st = sw * xsW, rs = sh * xsH;",
    // One copy per band: a step of one output column is one input element, and one output row
    // (Wo columns) is one input row step.
    "const band = st === 1 && rs === Wo;",
    "let o = 0;",
    "for (let n = 0; n < N; n++) {",
    "for (let c = 0; c < C; c++) {",
    "const xc = xo + n * xsN + c * xsC;",
    "for (let i = 0; i < kh; i++) {",
    "const offH = i * dh - ph;",
    ...axisRange("ohLo", "ohHi", "offH", "sh", "H", "Ho"),
    "for (let j = 0; j < kw; j++) {",
    "const offW = j * dw - pw;",
    ...axisRange("owLo", "owHi", "offW", "sw", "W", "Wo"),
    "if (owLo >= owHi || ohLo >= ohHi) O.fill(0, o, o + L);",
    "else {",
    // Rows above and below the image (a row or two: loops, cheaper than calls to fill), then the
    // padding columns of the rows in it.
    "for (let d = o, e = o + ohLo * Wo; d < e; d++) O[d] = 0;",
    "for (let d = o + ohHi * Wo, e = o + L; d < e; d++) O[d] = 0;",
    "if (owLo > 0 || owHi < Wo) {",
    "for (let oh = ohLo; oh < ohHi; oh++) {",
    "const r = o + oh * Wo;",
    "for (let ow = 0; ow < owLo; ow++) O[r + ow] = 0;",
    "for (let ow = owHi; ow < Wo; ow++) O[r + ow] = 0;",
    "}",
    "}",
    // Input element of output (oh, ow): xc + (oh·sh + offH)·xsH + (ow·sw + offW)·xsW = d + shift in a band.
    "if (band) {",
    "const d0 = o + ohLo * Wo + owLo, d1 = o + (ohHi - 1) * Wo + owHi;",
    "const shift = xc + offH * xsH + offW * xsW - o;",
    // A copy between arrays of one type: `set` is a memmove.
    "O.set(X.subarray(d0 + shift, d1 + shift), d0);",
    // The band's copy also wrote the padding columns of its inner rows (values of the
    // neighbouring input row): zero them again.
    "if (owLo > 0 || owHi < Wo) {",
    "for (let oh = ohLo; oh < ohHi - 1; oh++) {",
    "const r = o + oh * Wo;",
    "for (let ow = owHi; ow < Wo; ow++) O[r + ow] = 0;",
    "for (let ow = 0; ow < owLo; ow++) O[r + Wo + ow] = 0;",
    "}",
    "}",
    "} else if (st === 1) {",
    "for (let oh = ohLo; oh < ohHi; oh++) {",
    "const src = xc + (oh * sh + offH) * xsH + offW * xsW - oh * Wo - o;",
    "for (let d = o + oh * Wo + owLo, e = o + oh * Wo + owHi; d < e; d++) O[d] = X[d + src];",
    "}",
    "} else {",
    "for (let oh = ohLo; oh < ohHi; oh++) {",
    "let x = xc + (oh * sh + offH) * xsH + (owLo * sw + offW) * xsW;",
    "for (let d = o + oh * Wo + owLo, e = o + oh * Wo + owHi; d < e; d++, x += st) O[d] = X[x];",
    "}",
    "}",
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
 * offset `oo`) into the pixel it was read from, in the contiguous zero-filled image `X[N, C, H, W]`
 * (every pixel receives its patches' entries in patch order). Output rows are bounded once per
 * kernel row instead of tested one by one, and for stride 1 an inner loop adds four entries per trip.
 * A `wasmCol2im` hook in scope (compiled programs) is offered the work first, as in {@link im2colSource}.
 *
 * @example
 * const f = new Function(col2imSource())();
 */
export function col2imSource(): string {
  return [
    '"use strict";',
    HOOK("SCOL2IM", "wasmCol2im"),
    "return function col2im(X, O, oo, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo) {",
    "if (SCOL2IM !== null && SCOL2IM(X, O, oo, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)) return;",
    "const L = Ho * Wo;",
    "let o = oo;",
    "for (let n = 0; n < N; n++) {",
    "for (let c = 0; c < C; c++) {",
    "const xc = (n * C + c) * H * W;",
    "for (let i = 0; i < kh; i++) {",
    "const offH = i * dh - ph;",
    ...axisRange("ohLo", "ohHi", "offH", "sh", "H", "Ho"),
    "for (let j = 0; j < kw; j++) {",
    "const offW = j * dw - pw;",
    ...axisRange("owLo", "owHi", "offW", "sw", "W", "Wo"),
    "if (owLo < owHi) {",
    "if (sw === 1) {",
    "for (let oh = ohLo; oh < ohHi; oh++) {",
    "const shift = xc + (oh * sh + offH) * W + offW - o - oh * Wo;",
    // Four per trip: the adds of a row go to distinct pixels, so their order is free.
    "let d = o + oh * Wo + owLo;",
    "const e = o + oh * Wo + owHi;",
    "for (const e4 = e - 3; d < e4; d += 4) { X[d + shift] += O[d]; X[d + 1 + shift] += O[d + 1]; X[d + 2 + shift] += O[d + 2]; X[d + 3 + shift] += O[d + 3]; }",
    "for (; d < e; d++) X[d + shift] += O[d];",
    "}",
    "} else {",
    "for (let oh = ohLo; oh < ohHi; oh++) {",
    "let x = xc + (oh * sh + offH) * W + owLo * sw + offW;",
    "for (let d = o + oh * Wo + owLo, e = o + oh * Wo + owHi; d < e; d++, x += sw) X[x] += O[d];",
    "}",
    "}",
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
 * Text of {@link maxPoolSource}'s kernel (same arguments, same values and indices) for pooling
 * whose every window lies inside the image (no padding, and the last window ends in the image,
 * as `MaxPool2d(2)` on an even size): no clipping, and the `kh`×`kw` window unrolled, each tap's
 * offsets precomputed, so the loop body is the window's loads and compares. The window is read in
 * the general kernel's order and compared as it compares (a NaN wins, ties keep the first), with
 * the first tap as the start (the general kernel's `-Infinity` start loses to it or, for
 * `-Infinity` itself, ends in the same value and index). The 2×2 kernel first offers the work to
 * a `maxPool2` hook where one is in scope (compiled programs: `runtime/compiled.ts` runs stride-2
 * pooling of contiguous planes in WASM SIMD, same values and indices), and runs its loops when the
 * hook declines or is absent (eager).
 *
 * @example
 * const f = new Function(maxPoolInsideSource(2, 2))();
 */
export function maxPoolInsideSource(kh: number, kw: number): string {
  const taps: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      if (i === 0 && j === 0) continue;
      taps.push(`const a${i}_${j} = ${i} * rh + ${j} * rw, q${i}_${j} = ${i} * qh + ${j} * dw;`);
    }
  }
  const body: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      if (i === 0 && j === 0) continue;
      body.push(`v = X[x0 + a${i}_${j}]; if (v > mv || v !== v) { mv = v; k = q${i}_${j}; }`);
    }
  }
  const hook = kh === 2 && kw === 2;
  return [
    '"use strict";',
    ...(hook ? [HOOK("SPOOL", "maxPool2")] : []),
    `return function maxpool${kh}x${kw}(O, I, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo) {`,
    ...(hook ? ["if (SPOOL !== null && SPOOL(O, I, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, sh, sw, ph, pw, dh, dw, Ho, Wo)) return;"] : []),
    // Steps between window taps in X and in the index plane.
    "const rh = dh * xsH, rw = dw * xsW, qh = dh * W;",
    ...taps,
    // Steps of a window's first tap per output column, in X and in the index plane.
    "const sx = sw * xsW;",
    "let o = 0;",
    "for (let n = 0; n < N; n++) {",
    "for (let c = 0; c < C; c++) {",
    "const xc = xo + n * xsN + c * xsC;",
    "for (let oh = 0; oh < Ho; oh++) {",
    "const ih = oh * sh - ph;",
    "let x0 = xc + ih * xsH - pw * xsW, q = ih * W - pw;",
    "for (const e = o + Wo; o < e; o++, x0 += sx, q += sw) {",
    "let mv = X[x0], k = 0, v = 0;",
    ...body,
    "O[o] = mv; I[o] = q + k;",
    "}",
    "}",
    "}",
    "}",
    "};",
  ].join("\n");
}

/**
 * Text of `bias(O, B, bo, bs, N, Ch, L)`: adds `B[bo + c·bs]` to every element of channel `c` of
 * the contiguous `O[N, Ch, L]` (a convolution's bias, added after its GEMM), four elements per
 * trip: the loop's own compare and increment cost about as much as the add.
 *
 * @example
 * const f = new Function(channelBiasSource())();
 */
export function channelBiasSource(): string {
  return [
    '"use strict";',
    "return function bias(O, B, bo, bs, N, Ch, L) {",
    "for (let n = 0, o = 0; n < N; n++) {",
    "for (let c = 0; c < Ch; c++, o += L) {",
    "const b = B[bo + c * bs];",
    "let t = o;",
    "for (const e = o + L - 3; t < e; t += 4) { O[t] += b; O[t + 1] += b; O[t + 2] += b; O[t + 3] += b; }",
    "for (const e = o + L; t < e; t++) O[t] += b;",
    "}",
    "}",
    "};",
  ].join("\n");
}

/**
 * Text of `unpool(X, G, go, I, planes, HW, L)`, the adjoint of max pooling: for each of `planes`
 * image planes of `HW` pixels, adds the contiguous gradient `G[p, t]` (at offset `go`) into the
 * zero-filled `X[p, I[p, t]]` (the argmax it came from; `L` entries per plane), four entries per
 * trip. The adds stay in their order, one statement each (two entries of one plane may share an
 * argmax when windows overlap).
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
    "const e = t + L;",
    "for (const e4 = e - 3; t < e4; t += 4) {",
    "X[xp + I[t]] += G[go + t];",
    "X[xp + I[t + 1]] += G[go + t + 1];",
    "X[xp + I[t + 2]] += G[go + t + 2];",
    "X[xp + I[t + 3]] += G[go + t + 3];",
    "}",
    "for (; t < e; t++) X[xp + I[t]] += G[go + t];",
    "}",
    "};",
  ].join("\n");
}
