/**
 * Fused multiply-add, correctly rounded, for float32 and float64 — JavaScript has no `Math.fma`.
 *
 * PyTorch's CPU kernels are compiled for AVX2 with FMA and GCC's default `-ffp-contract=fast`, so
 * expressions such as `x * (to - from) + from` run as one fused operation with a single rounding.
 * Reproducing PyTorch's bits needs the same single rounding.
 */

/** Scratch space for bit tricks (no per-call allocation). */
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** Index of the low 32-bit word of a float64 in `U32` (0 on little-endian machines). */
const LO = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

const fround = Math.fround;

/**
 * `fround(a * b + c)` with one rounding, for float32 inputs `a`, `b`, `c` (already float32 values).
 *
 * The product of two float32 values is exact in float64, so only the addition can round twice
 * (to float64, then float32). That goes wrong only when the float64 sum lands exactly on a
 * float32 midpoint while the true sum is off it; then the sign of the float64 addition's error
 * picks the side.
 *
 * @example
 * fmaf(Math.fround(0.1), 3, Math.fround(-0.3)); // -7.450580596923828e-9, as _mm256_fmadd_ps computes it
 */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const f = fround(s);
  if (f === s) return f;
  const d = s - f;
  const g = f + 2 * d;
  if (fround(g) !== g) return f; // s is not a float32 midpoint: one rounding or two agree
  // s is exactly halfway between f and g: the exact sum decides.
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  if (err === 0 || !Number.isFinite(err)) return f;
  return (err > 0) === (g > f) ? g : f;
}

const SPLIT = 134217729; // 2^27 + 1, Veltkamp's splitter
/** Below this magnitude the splitting products stay finite. */
const SPLIT_LIMIT = 2 ** 995;

/**
 * `a * b + c` with one rounding, for float64 inputs (Boldo & Melquiond's emulation through
 * rounding to odd): the exact product `ph + pl` (Dekker), the exact sum `c + ph = th + tl`, then
 * `RN(th + RO(tl + pl))`. Falls back to `a * b + c` where the splitting would overflow or
 * underflow (|a|, |b| beyond 2^995, or products below 2^-969), where PyTorch's result differs
 * from it in the last bit at most.
 *
 * @example
 * fma(0.1, 10, -1); // 5.551115123125783e-17 (the plain expression gives 0)
 */
export function fma(a: number, b: number, c: number): number {
  const ph = a * b;
  const aa = Math.abs(a);
  const ab = Math.abs(b);
  if (!(aa < SPLIT_LIMIT && ab < SPLIT_LIMIT) || !Number.isFinite(c)) return ph + c;
  const aph = Math.abs(ph);
  if (aph !== 0 && aph < 2 ** -969) return ph + c;
  // Dekker's exact product: ph + pl == a * b.
  let t = SPLIT * a;
  const ahi = t - (t - a);
  const alo = a - ahi;
  t = SPLIT * b;
  const bhi = t - (t - b);
  const blo = b - bhi;
  const pl = ahi * bhi - ph + ahi * blo + alo * bhi + alo * blo;
  // Knuth's TwoSum: th + tl == c + ph.
  const th = c + ph;
  const bv = th - c;
  const tl = c - (th - bv) + (ph - bv);
  // v = RO(tl + pl): round to odd.
  const v = tl + pl;
  const bw = v - tl;
  const w = tl - (v - bw) + (pl - bw);
  let vo = v;
  if (w !== 0) {
    F64[0] = v;
    if ((U32[LO]! & 1) === 0) {
      const up = w > 0 === v > 0; // move away from zero?
      if (up) {
        U32[LO] = U32[LO]! + 1;
      } else if (U32[LO] === 0) {
        U32[LO] = 0xffffffff;
        U32[HI] = U32[HI]! - 1;
      } else {
        U32[LO] = U32[LO]! - 1;
      }
      vo = F64[0]!;
    }
  }
  return th + vo;
}
