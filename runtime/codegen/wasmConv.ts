/**
 * WebAssembly SIMD kernels of the convolution and pooling layers, for compiled programs whose
 * buffers live in the wasm memory (`runtime/compiled.ts` offers them through hooks the shared JS
 * kernel texts of `./jsConv.ts`, `./fused.ts` and `./fusedConv.ts` call first; eager code runs
 * the JS loops). Each computes what its JS kernel computes, in the same order of float32
 * operations, so the results are the JS kernel's bit for bit (NaN payloads aside, see
 * {@link biasActWasm}); byte addresses and counts are i32 arguments. Encoder: `./wasmEncode.ts`.
 *
 * Kernels:
 * - `epi(pO, pB, N, Oc, L)`: a convolution's epilogue, channel bias and ReLU, in place ({@link biasActWasm}).
 * - `maxpool2(pO, pI, pX, planes, H, W, Ho, Wo)`: 2×2 max pooling with indices ({@link maxPool2Wasm}).
 * - `im2col`, `col2im` and `unpool` ({@link convWasm}): the patches of an image, their adjoint,
 *   and max pooling's adjoint with the producer's ReLU backward.
 */
import {
  I32, V128, add, and, bitselect, div_s, eq, f32add, f32const, f32gt, f32load, f32lt, f32ne, f32mul, f32store, fadd4, fmul4, forLoop, ge_s, get, gt4, gt_s, i32, lt4, lt_s,
  min, moduleBytes, mul, ne4, or, or4, select, seq, set, shl, shuf, splat4, sub, truncF32, v128f, vload, vsplat, vstore, vzero, type Bytes,
} from "./wasmEncode.js";

// ---------------------------------------------------------------------------------------------
// channel bias + ReLU

/**
 * Bytes of a module exporting `epi(pO, pB, N, Oc, L)`: in place over the float32 array `O`
 * (`[N, Oc, L]`) at byte address pO, `O[n, c, t] = act(O[n, c, t] + B[c])` — with `bias` the
 * float32 add of `B[c]` (the floats at pB), with `relu` `v < 0 ? 0 : v` as a lane select
 * (`v128.bitselect` on `f32x4.lt`), so NaN stays the same NaN and −0 stays −0 exactly as the JS
 * expression (relu's, `runtime/ops/unary.ts`) does: the JS conv epilogue (`codegen/fused.ts` `conv2dSource`) bit for bit (but for
 * a NaN plus a NaN bias, a NaN either way: which operand's NaN an add returns is not fixed in JS),
 * without its branch per element (ReLU on random signs costs the JS loop ~5 ns per element in
 * mispredictions). Four lanes at a time, then the row's tail one by one.
 *
 * @example
 * const mod = new WebAssembly.Module(biasActWasm(true, true, true));
 */
export function biasActWasm(shared: boolean, bias: boolean, relu: boolean): Uint8Array {
  const [pO, pB, N, Oc, L] = [0, 1, 2, 3, 4];
  const [r, rows, at, t, t4] = [5, 6, 7, 8, 9];
  const [bv, v] = [10, 11]; // v128
  const [bs, s] = [12, 13]; // f32
  const vec: Bytes = seq(
    get(at), get(t), i32(2), shl, add, vload(),
    ...(bias ? [get(bv), fadd4] : []),
    set(v),
    ...(relu ? [vzero, get(v), get(v), vzero, lt4, bitselect, set(v)] : []),
    get(at), get(t), i32(2), shl, add, get(v), vstore(),
  );
  const one: Bytes = seq(
    get(at), get(t), i32(2), shl, add, f32load(),
    ...(bias ? [get(bs), f32add] : []),
    set(s),
    get(at), get(t), i32(2), shl, add,
    ...(relu ? [...f32const(0), get(s), get(s), ...f32const(0), f32lt, select] : [get(s)]),
    f32store(),
  );
  const body = seq(
    get(N), get(Oc), mul, set(rows),
    get(L), get(L), i32(3), and, sub, set(t4),
    forLoop(r, i32(0), get(rows), i32(1), seq(
      get(pO), get(r), get(L), mul, i32(2), shl, add, set(at),
      // B[r mod Oc], splat and scalar (t holds its address until the loops)
      ...(bias ? [get(pB), get(r), get(Oc), 0x70 /* i32.rem_u */, i32(2), shl, add, set(t), get(t), vsplat(), set(bv), get(t), f32load(), set(bs)] : []),
      forLoop(t, i32(0), get(t4), i32(4), vec),
      forLoop(t, get(t4), get(L), i32(1), one),
    )),
  );
  return moduleBytes([{ params: 5, locals: [{ type: I32, count: 5 }, { type: V128, count: 2 }, { type: 0x7d, count: 2 }], body, export: "epi" }], shared);
}

// ---------------------------------------------------------------------------------------------
// 2×2 max pooling

/**
 * Bytes of a module exporting `maxpool2(pO, pI, pX, planes, H, W, Ho, Wo)`: MaxPool2d(2) (stride 2,
 * no padding, windows inside the image) over `planes` contiguous float32 H×W planes at pX — per
 * output, the window's maximum into O and its index in the plane (`ih·W + iw`, as a float32) into
 * I — taking the taps in the order of `codegen/jsConv.ts` `maxPoolInsideSource` with its test
 * `v > max || v !== v` as a lane mask, so values and indices (NaN and ±0 included) equal the JS
 * kernel's bit for bit without its branch per tap. Four outputs at a time (even and odd columns
 * split with shuffles), then the row's tail one by one.
 *
 * @example
 * const mod = new WebAssembly.Module(maxPool2Wasm(true));
 */
export function maxPool2Wasm(shared: boolean): Uint8Array {
  const [pO, pI, pX, planes, H, W, Ho, Wo] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [pl, oh, ow, r0, o, i, wo4] = [8, 9, 10, 11, 12, 13, 14]; // i32
  const [a, b, m, k, mask, qv, kb, kc, kd] = [15, 16, 17, 18, 19, 20, 21, 22, 23]; // v128
  const [sa, sm, sk, sq, fkc, fkd] = [24, 25, 26, 27, 28, 29]; // f32
  // tap at (row byte address, byte offset): the even (lanes 0, 2, 4, 6) or odd columns of 8 floats
  const cols = (addr: Bytes, odd: boolean) => seq(addr, vload(), addr, vload(16), shuf(odd ? [1, 3, 5, 7] : [0, 2, 4, 6]));
  // vector step: with m, k the running max and index offset; tap value in `a`
  const take = (kv: number) => seq(
    get(a), get(m), gt4, get(a), get(a), ne4, or4, set(mask),
    get(a), get(m), get(mask), bitselect, set(m),
    get(kv), get(k), get(mask), bitselect, set(k),
  );
  const inAt = seq(get(r0), get(ow), i32(3), shl, add); // byte address of X[2oh, 2ow]
  const vec = seq(
    cols(inAt, false), set(m), v128f([0, 0, 0, 0]), set(k),
    cols(inAt, true), set(a), take(kb),
    cols(seq(inAt, get(W), i32(2), shl, add), false), set(a), take(kc),
    cols(seq(inAt, get(W), i32(2), shl, add), true), set(a), take(kd),
    get(pO), get(o), get(ow), add, i32(2), shl, add, get(m), vstore(),
    get(pI), get(o), get(ow), add, i32(2), shl, add, get(qv), get(k), fadd4, vstore(),
    get(qv), v128f([8, 8, 8, 8]), fadd4, set(qv),
  );
  // scalar step: the tap at byte address `addr`, index offset `kf`
  const takeS = (addr: Bytes, kf: Bytes) => seq(
    addr, f32load(), set(sa),
    get(sa), get(sm), f32gt, get(sa), get(sa), f32ne, or, set(i),
    get(sa), get(sm), get(i), select, set(sm),
    kf, get(sk), get(i), select, set(sk),
  );
  const one = seq(
    inAt, f32load(), set(sm), ...f32const(0), set(sk),
    takeS(seq(inAt, i32(4), add), f32const(1)),
    takeS(seq(inAt, get(W), i32(2), shl, add), get(fkc)),
    takeS(seq(inAt, get(W), i32(2), shl, add, i32(4), add), get(fkd)),
    get(pO), get(o), get(ow), add, i32(2), shl, add, get(sm), f32store(),
    get(pI), get(o), get(ow), add, i32(2), shl, add, get(sq), get(ow), i32(1), shl, 0xb2 /* f32.convert_i32_s */, f32add, get(sk), f32add, f32store(),
  );
  const body = seq(
    get(Wo), get(Wo), i32(3), and, sub, set(wo4),
    get(W), 0xb2, set(fkc), get(W), i32(1), add, 0xb2, set(fkd),
    ...f32const(1), splat4, set(kb), get(fkc), splat4, set(kc), get(fkd), splat4, set(kd),
    i32(0), set(o),
    forLoop(pl, i32(0), get(planes), i32(1), seq(
      forLoop(oh, i32(0), get(Ho), i32(1), seq(
        // r0: byte address of row 2·oh of plane pl; sq: its index 2·oh·W in the plane
        get(pX), get(pl), get(H), mul, get(oh), i32(1), shl, add, get(W), mul, i32(2), shl, add, set(r0),
        get(oh), i32(1), shl, get(W), mul, 0xb2, set(sq),
        get(sq), splat4, v128f([0, 2, 4, 6]), fadd4, set(qv),
        forLoop(ow, i32(0), get(wo4), i32(4), vec),
        forLoop(ow, get(wo4), get(Wo), i32(1), one),
        get(o), get(Wo), add, set(o),
      )),
    )),
  );
  return moduleBytes([{ params: 8, locals: [{ type: I32, count: 7 }, { type: V128, count: 9 }, { type: 0x7d, count: 6 }], body, export: "maxpool2" }], shared);
}

// ---------------------------------------------------------------------------------------------
// im2col, col2im, max-unpool

const memoryFill = [0xfc, 11, 0]; // memory.fill (bulk memory): dest, value, bytes
const max = (a: Bytes, b: Bytes) => seq(a, b, a, b, gt_s, select); // select(a, b, a > b)
const shl2 = (e: Bytes) => seq(e, i32(2), shl); // elements → bytes

/**
 * `lo`, `hi` ← the output range [lo, hi) of one axis whose input position `o·s + off` lies in
 * [0, n) (`codegen/jsConv.ts`'s `axisRange`): lo = off ≥ 0 ? 0 : min(on, ⌊(s − 1 − off) / s⌋),
 * hi = max(lo, min(on, ⌊(n − 1 − off) / s⌋ + 1)), with hi = lo when n − 1 − off < 0 (where
 * `div_s`, which truncates, is not the floor).
 */
function axisRange(lo: number, hi: number, off: number, s: number, n: number, on: number, num: number): Bytes {
  return seq(
    i32(0), min(get(on), seq(get(s), i32(1), sub, get(off), sub, get(s), div_s)), get(off), i32(0), ge_s, select, set(lo),
    get(n), i32(1), sub, get(off), sub, set(num),
    get(lo), max(get(lo), min(get(on), seq(get(num), get(s), div_s, i32(1), add))), get(num), i32(0), lt_s, select, set(hi),
  );
}

/** Zeros `cnt` floats from byte address `at` (a local): four per store, then one by one (`q` a scratch local). */
function zeroRun(at: number, cnt: number, q: number): Bytes {
  const addr = seq(get(at), shl2(get(q)), add);
  return seq(
    forLoop(q, i32(0), seq(get(cnt), i32(3), sub), i32(4), seq(addr, vzero, vstore())),
    forLoop(q, get(q), get(cnt), i32(1), seq(addr, f32const(0), f32store())),
  );
}

/**
 * `cnt` floats from byte address `src` to `dst` (locals), or with `accumulate` added into them
 * (`dst[q] += src[q]`: one f32 add each, as the JS kernel's `+=` rounds); four at a time, then
 * one by one.
 */
function runOf(dst: number, src: number, cnt: number, q: number, accumulate: boolean): Bytes {
  const d = seq(get(dst), shl2(get(q)), add);
  const s = seq(get(src), shl2(get(q)), add);
  return seq(
    forLoop(q, i32(0), seq(get(cnt), i32(3), sub), i32(4), seq(d, ...(accumulate ? [d, vload(), s, vload(), fadd4] : [s, vload()]), vstore())),
    forLoop(q, get(q), get(cnt), i32(1), seq(d, ...(accumulate ? [d, f32load(), s, f32load(), f32add] : [s, f32load()]), f32store())),
  );
}

/**
 * Bytes of a module exporting three kernels over contiguous float32 arrays at byte addresses (the
 * geometry arguments as in `codegen/jsConv.ts`):
 *
 * - `im2col(pO, pX, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)`: `im2colSource`'s patches
 *   `O[N, C·kh·kw, Ho·Wo]` of the image `X[N, C, H, W]`, zeros in the padding; each output row's
 *   run inside the image copied four floats at a time (at stride 1). A copy: the same bits.
 * - `col2im(pX, pO, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)`: `col2imSource`'s adjoint,
 *   every patch entry added into the pixel it was read from in `X` (which the caller zero-fills),
 *   taps in the JS kernel's order — the adds of one output row go to distinct pixels, four at a
 *   time — so each pixel sums its entries in the same order and rounds as the JS `+=` does.
 * - `unpool(pX, pG, pI, pE, planes, HW, L, relu)`: max pooling's backward as `fusedConv.ts`
 *   `maxPool2dBackwardSource` computes it: `X[planes·HW]` zero-filled, `G[p, t]` added at the
 *   argmax `I[p, t]` (flat plane indices stored as float32, as the forward writes them) in order,
 *   then with `relu` (1) the producer's ReLU backward `X ← X · (E > 0 ? 1 : 0)`, four at a time.
 *
 * @example
 * const mod = new WebAssembly.Module(convWasm(true));
 */
export function convWasm(shared: boolean): Uint8Array {
  // im2col / col2im: parameters 0–15, then locals
  const [pA, pB, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  const [P, p, xc, i, offH, ohLo, ohHi, j, offW, owLo, owHi, oh, row, q, cnt, src, o, L4, num, dst, rLo, rHi] =
    [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37];
  // pixel of output (oh, owLo) of tap (i, j): xc + 4·((oh·sh + offH)·W + owLo·sw + offW)
  const pixel = seq(get(xc), shl2(seq(get(oh), get(sh), mul, get(offH), add, get(W), mul, get(owLo), get(sw), mul, add, get(offW), add)), add);
  const taps = (image: number, perTap: Bytes) => seq(
    get(N), get(C), mul, set(P),
    get(Ho), get(Wo), mul, i32(2), shl, set(L4),
    forLoop(p, i32(0), get(P), i32(1), seq(
      get(image), shl2(seq(get(p), get(H), mul, get(W), mul)), add, set(xc),
      forLoop(i, i32(0), get(kh), i32(1), seq(
        get(i), get(dh), mul, get(ph), sub, set(offH),
        axisRange(ohLo, ohHi, offH, sh, H, Ho, num),
        forLoop(j, i32(0), get(kw), i32(1), seq(
          get(j), get(dw), mul, get(pw), sub, set(offW),
          axisRange(owLo, owHi, offW, sw, W, Wo, num),
          perTap,
          get(o), get(L4), add, set(o),
        )),
      )),
    )),
  );
  // dst[q] = src[q·sw] (a column stride sw ≠ 1): one float at a time
  const strided = forLoop(q, i32(0), get(cnt), i32(1), seq(get(dst), shl2(get(q)), add, get(src), shl2(seq(get(q), get(sw), mul)), add, f32load(), f32store()));
  // im2col per tap: the rows above and below the image zeroed; then either one band — where a
  // step of one output row is one input row (stride 1 columns, sh·W = Wo: a stride-1 "same"
  // convolution), the rows' runs and the input between them are one contiguous copy, whose
  // padding columns are zeroed after — or row by row: zeros, the run inside the image, zeros.
  const sides = seq( // zero columns [0, owLo) and [owHi, Wo) of row `row`
    get(owLo), set(cnt), zeroRun(row, cnt, q),
    get(row), shl2(get(owHi)), add, set(dst),
    get(Wo), get(owHi), sub, set(cnt), zeroRun(dst, cnt, q),
  );
  const im2col = seq(
    get(pA), set(o),
    taps(pB, seq(
      get(owLo), get(owHi), ge_s, get(ohLo), get(ohHi), ge_s, or,
      0x04, 0x40, // no run inside the image: all zeros
      get(Ho), get(Wo), mul, set(cnt), zeroRun(o, cnt, q),
      0x05,
      get(ohLo), get(Wo), mul, set(cnt), zeroRun(o, cnt, q),
      get(o), shl2(seq(get(ohHi), get(Wo), mul)), add, set(dst),
      get(Ho), get(ohHi), sub, get(Wo), mul, set(cnt), zeroRun(dst, cnt, q),
      get(sw), i32(1), eq, get(sh), get(W), mul, get(Wo), eq, and,
      0x04, 0x40, // one band
      get(ohLo), get(Wo), mul, get(owLo), add, set(rLo), // its first and last output (+1), in the tap
      get(ohHi), i32(1), sub, get(Wo), mul, get(owHi), add, set(rHi),
      get(o), shl2(get(rLo)), add, set(dst),
      get(xc), shl2(seq(get(offH), get(W), mul, get(offW), add, get(rLo), add)), add, set(src),
      get(rHi), get(rLo), sub, set(cnt), runOf(dst, src, cnt, q, false),
      forLoop(oh, get(ohLo), get(ohHi), i32(1), seq(get(o), shl2(seq(get(oh), get(Wo), mul)), add, set(row), sides)),
      0x05, // row by row
      forLoop(oh, get(ohLo), get(ohHi), i32(1), seq(
        get(o), shl2(seq(get(oh), get(Wo), mul)), add, set(row),
        pixel, set(src),
        get(row), shl2(get(owLo)), add, set(dst),
        get(owHi), get(owLo), sub, set(cnt),
        get(sw), i32(1), eq, 0x04, 0x40, runOf(dst, src, cnt, q, false), 0x05, strided, 0x0b,
        sides,
      )),
      0x0b,
      0x0b,
    )),
  );
  // col2im: pA is X (the image), pB the patches; `src` walks the patches, `dst` the image
  const col2im = seq(
    get(pB), set(o),
    taps(pA, seq(
      get(owLo), get(owHi), lt_s,
      0x04, 0x40,
      get(owHi), get(owLo), sub, set(cnt),
      forLoop(oh, get(ohLo), get(ohHi), i32(1), seq(
        pixel, set(dst),
        get(o), shl2(seq(get(oh), get(Wo), mul, get(owLo), add)), add, set(src),
        get(sw), i32(1), eq, 0x04, 0x40, runOf(dst, src, cnt, q, true), 0x05,
        // X[dst + 4·q·sw] += O[src + 4·q]
        forLoop(q, i32(0), get(cnt), i32(1), seq(
          get(dst), shl2(seq(get(q), get(sw), mul)), add,
          get(dst), shl2(seq(get(q), get(sw), mul)), add, f32load(),
          get(src), shl2(get(q)), add, f32load(), f32add, f32store(),
        )),
        0x0b,
      )),
      0x0b,
    )),
  );
  const locals = [{ type: I32, count: 22 }];
  // unpool: parameters, then locals
  const [uX, uG, uI, uE, planes, HW, L, relu] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [up, ut, uq, xp, n4, e] = [8, 9, 10, 11, 12, 13];
  const uAt = (base: number) => seq(get(base), shl2(get(e)), add);
  const unpool = seq(
    get(uX), i32(0), shl2(seq(get(planes), get(HW), mul)), ...memoryFill,
    i32(0), set(ut), // byte offset into G and I
    forLoop(up, i32(0), get(planes), i32(1), seq(
      get(uX), shl2(seq(get(up), get(HW), mul)), add, set(xp),
      forLoop(uq, i32(0), get(L), i32(1), seq(
        get(xp), get(uI), get(ut), add, f32load(), truncF32, i32(2), shl, add, set(n4),
        get(n4), get(n4), f32load(), get(uG), get(ut), add, f32load(), f32add, f32store(),
        get(ut), i32(4), add, set(ut),
      )),
    )),
    get(relu),
    0x04, 0x40,
    get(planes), get(HW), mul, set(n4),
    forLoop(e, i32(0), seq(get(n4), i32(3), sub), i32(4), seq(
      uAt(uX), uAt(uX), vload(), v128f([1, 1, 1, 1]), vzero, uAt(uE), vload(), vzero, gt4, bitselect, fmul4, vstore(),
    )),
    forLoop(e, get(e), get(n4), i32(1), seq(
      uAt(uX), uAt(uX), f32load(), f32const(1), f32const(0), uAt(uE), f32load(), f32const(0), f32gt, select, f32mul, f32store(),
    )),
    0x0b,
  );
  return moduleBytes([
    { params: 16, locals, body: im2col, export: "im2col" },
    { params: 16, locals, body: col2im, export: "col2im" },
    { params: 8, locals: [{ type: I32, count: 6 }], body: unpool, export: "unpool" },
  ], shared);
}
