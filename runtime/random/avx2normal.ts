/**
 * A scalar, bit-exact emulation of PyTorch 1.13's `normal_fill_16_AVX2` (the float32 Box–Muller
 * used by `torch.randn` / `normal_` on x86-64 CPUs with AVX2, for contiguous tensors of 16 or more
 * elements).
 *
 * PyTorch computes the logarithm, sine and cosine there with `log256_ps` and `sincos256_ps` from
 * `ATen/native/cpu/avx_mathfun.h` — Cephes-style float32 polynomials, not libm — and GCC fuses
 * each multiply feeding an add into one FMA. This file replays the same float32 operation
 * sequence lane by lane, rounding with `Math.fround` after every step and using `fmaf` where the
 * compiled code uses a fused multiply-add, so the results agree to the bit.
 */
import { fmaf } from "./fma.js";

const fround = Math.fround;

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

// Cephes log coefficients (as float32, as the C source's `float` constants round them).
const SQRTHF = fround(0.707106781186547524);
const LOG_P0 = fround(7.0376836292e-2);
const LOG_P1 = fround(-1.151461031e-1);
const LOG_P2 = fround(1.167699874e-1);
const LOG_P3 = fround(-1.2420140846e-1);
const LOG_P4 = fround(1.4249322787e-1);
const LOG_P5 = fround(-1.6668057665e-1);
const LOG_P6 = fround(2.0000714765e-1);
const LOG_P7 = fround(-2.4999993993e-1);
const LOG_P8 = fround(3.3333331174e-1);
const LOG_Q1 = fround(-2.12194440e-4);
const LOG_Q2 = fround(0.693359375);

// Cephes sin/cos coefficients and the three-part pi/4 for range reduction.
const DP1 = fround(-0.78515625);
const DP2 = fround(-2.4187564849853515625e-4);
const DP3 = fround(-3.77489497744594108e-8);
const SIN_P0 = fround(-1.9515295891e-4);
const SIN_P1 = fround(8.3321608736e-3);
const SIN_P2 = fround(-1.6666654611e-1);
const COS_P0 = fround(2.443315711809948e-5);
const COS_P1 = fround(-1.388731625493765e-3);
const COS_P2 = fround(4.166664568298827e-2);
const FOPI = fround(1.27323954473516); // 4 / pi

/** `float(2 * pi)`, as `_mm256_set1_ps(2.0f * c10::pi<double>)` rounds it. */
const TWO_PI_F = fround(2 * Math.PI);
const MIN_NORM_POS = 2 ** -126;

/**
 * `log256_ps` for one lane: the natural logarithm of a float32 `xIn`, as avx_mathfun computes it.
 *
 * @example
 * log256(0.5); // -0.6931471824645996 (= Math.fround(Math.log(0.5)))
 */
export function log256(xIn: number): number {
  if (!(xIn > 0)) return xIn === 0 ? -Infinity : NaN; // not reached from normal_fill: u1 is in (0, 1]
  F32[0] = xIn < MIN_NORM_POS ? MIN_NORM_POS : xIn;
  const bits = I32[0]!;
  // Split into mantissa in [0.5, 1) and exponent.
  I32[0] = (bits & ~0x7f800000) | 0x3f000000;
  let x = F32[0]!;
  let e = ((bits >>> 23) - 0x7f) + 1;
  if (x < SQRTHF) {
    e -= 1;
    x = fround(fround(x - 1) + x);
  } else {
    x = fround(x - 1);
  }
  const z = fround(x * x);
  let y = fmaf(LOG_P0, x, LOG_P1);
  y = fmaf(y, x, LOG_P2);
  y = fmaf(y, x, LOG_P3);
  y = fmaf(y, x, LOG_P4);
  y = fmaf(y, x, LOG_P5);
  y = fmaf(y, x, LOG_P6);
  y = fmaf(y, x, LOG_P7);
  y = fmaf(y, x, LOG_P8);
  y = fround(y * x);
  y = fmaf(y, z, fround(e * LOG_Q1));
  y = fround(y - z * 0.5); // z * 0.5 is exact, fused or not
  x = fround(x + y);
  return fround(x + e * LOG_Q2); // e * Q2 is exact
}

/** Results of `sincos256` (module scratch, so no allocation per call). */
let sinOut = 0;
let cosOut = 0;

/**
 * `sincos256_ps` for one lane: sets the module's `sinOut` / `cosOut` to sin and cos of float32 `xIn`.
 */
function sincos256(xIn: number): void {
  const negative = xIn < 0;
  let x = Math.abs(xIn);
  let j = Math.trunc(fround(x * FOPI)) | 0;
  j = (j + 1) & ~1;
  const y = j; // exact as float32 for the arguments seen here (|x| < 2^24)
  const signSin = negative !== ((j & 4) !== 0);
  const signCos = ((j - 2) & 4) === 0;
  const sinPoly = (j & 2) === 0; // true: the sine polynomial gives sin, the cosine one gives cos
  x = fmaf(y, DP1, x);
  x = fmaf(y, DP2, x);
  x = fmaf(y, DP3, x);
  const z = fround(x * x);
  let yc = fmaf(COS_P0, z, COS_P1);
  yc = fmaf(yc, z, COS_P2);
  yc = fround(yc * z);
  yc = fmaf(yc, z, -fround(z * 0.5));
  yc = fround(yc + 1);
  let ys = fmaf(SIN_P0, z, SIN_P1);
  ys = fmaf(ys, z, SIN_P2);
  ys = fround(ys * z);
  ys = fmaf(ys, x, x);
  const s = sinPoly ? ys : yc;
  const c = sinPoly ? yc : ys;
  sinOut = signSin ? -s : s;
  cosOut = signCos ? -c : c;
}

/**
 * `normal_fill_16_AVX2`: turns 16 float32 uniforms `data[off .. off+16)` into normals in place —
 * Box–Muller over the pairs (j, j+8) with u1 = 1 - data[j] (radius) and u2 = data[j+8] (angle),
 * writing `fma(radius*cos, std, mean)` to j and `fma(radius*sin, std, mean)` to j+8.
 * `mean` and `std` must already be float32 values.
 *
 * @example
 * normalFill16Avx2(buf, 0, 0, 1); // buf[0..16) held uniforms, now standard normals
 */
export function normalFill16Avx2(data: Float32Array, off: number, mean: number, std: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = fround(1 - data[off + j]!);
    const u2 = data[off + j + 8]!;
    const radius = fround(Math.sqrt(fround(-2 * log256(u1))));
    const theta = fround(TWO_PI_F * u2);
    sincos256(theta);
    const n1 = fround(radius * cosOut);
    const n2 = fround(radius * sinOut);
    data[off + j] = fmaf(n1, std, mean);
    data[off + j + 8] = fmaf(n2, std, mean);
  }
}
