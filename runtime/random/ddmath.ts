/**
 * Correctly rounded `log`, `sin` and `cos` for float64, from double-double arithmetic (about 100
 * bits) and plain `+ - * /` only.
 *
 * PyTorch's float64 Box–Muller calls the C library (glibc: correctly rounded for all but about
 * 0.1% of arguments); `Math.log/sin/cos` differ from it in the last bit for a few percent of
 * arguments, and between JavaScript engines. Rounding the exact values instead matches PyTorch far
 * more often and gives the same bits on every engine.
 *
 * Double-double results travel through the module variables `H` and `L` (no allocation).
 */

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const HI = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0;

const SPLIT = 134217729; // 2^27 + 1
const SQRT2 = 1.4142135623730951;
const LN2_HI = 0.6931471805599453;
const LN2_LO = 2.3190468138462996e-17;
const PIO2_1 = 1.5707963267948966;
const PIO2_2 = 6.123233995736766e-17;
const PIO2_3 = -1.4973849048591698e-33;

/** The current double-double value (high and low parts). */
let H = 0;
let L = 0;

/** Exact product a*b = H + L (Dekker). */
function twoProd(a: number, b: number): void {
  const p = a * b;
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  H = p;
  L = ah * bh - p + ah * bl + al * bh + al * bl;
}

/** (ah, al) + (bh, bl) → H + L, accurate even under cancellation. */
function ddAdd(ah: number, al: number, bh: number, bl: number): void {
  let s = ah + bh;
  let bb = s - ah;
  let e = ah - (s - bb) + (bh - bb);
  const t = al + bl;
  bb = t - al;
  const f = al - (t - bb) + (bl - bb);
  e += t;
  let h = s + e;
  e = e - (h - s);
  s = h;
  e += f;
  h = s + e;
  L = e - (h - s);
  H = h;
}

/** (ah, al) * (bh, bl) → H + L. */
function ddMul(ah: number, al: number, bh: number, bl: number): void {
  twoProd(ah, bh);
  const p = H;
  const e = L + (ah * bl + al * bh);
  H = p + e;
  L = e - (H - p);
}

/** (ah, al) / (bh, bl) → H + L: three quotient digits from exact remainders. */
function ddDiv(ah: number, al: number, bh: number, bl: number): void {
  const q1 = ah / bh;
  ddMul(q1, 0, bh, bl);
  ddAdd(ah, al, -H, -L);
  const r1h = H;
  const r1l = L;
  const q2 = r1h / bh;
  ddMul(q2, 0, bh, bl);
  ddAdd(r1h, r1l, -H, -L);
  const q3 = H / bh;
  const s = q1 + q2;
  const e = q2 - (s - q1);
  ddAdd(s, e, q3, 0);
}

/** Coefficients as double-doubles: 1/(2k+1) (log), (-1)^k/(2k+1)! (sin), (-1)^k/(2k)! (cos). */
const LOG_C_HI: number[] = [];
const LOG_C_LO: number[] = [];
const SIN_C_HI: number[] = [];
const SIN_C_LO: number[] = [];
const COS_C_HI: number[] = [];
const COS_C_LO: number[] = [];
/**
 * Terms from this index on are summed in plain float64: they are below 1e-5 relative, so their
 * rounding errors stay under 2^-75 of the result, as does the truncation of each series. A result
 * can then round the wrong way only within 2^-75 of a rounding boundary (a chance of about 1e-7).
 */
const DD_TERMS = 5;
const LOG_TERMS = 16;
const TRIG_TERMS = 12;
{
  let fact = 1; // exact up to 18!
  for (let k = 0; k < LOG_TERMS; k++) {
    ddDiv(1, 0, 2 * k + 1, 0);
    LOG_C_HI.push(H);
    LOG_C_LO.push(L);
  }
  for (let n = 0; n <= 2 * TRIG_TERMS; n++) {
    if (n > 0) fact *= n;
    const exact = n <= 18;
    if (exact) ddDiv(1, 0, fact, 0);
    else { H = 1 / fact; L = 0; }
    const sign = n % 4 < 2 ? 1 : -1; // sin: +r -r^3/3! +r^5/5! ...; cos: +1 -r^2/2! +r^4/4! ...
    if (n % 2 === 0) { COS_C_HI.push(sign * H); COS_C_LO.push(sign * L); }
    else { SIN_C_HI.push(sign * H); SIN_C_LO.push(sign * L); }
  }
}

/** Σ c_k z^k over the coefficient table, z a double-double; the result in H + L. */
function series(cHi: number[], cLo: number[], n: number, zh: number, zl: number): void {
  let t = cHi[n - 1]!;
  for (let k = n - 2; k >= DD_TERMS; k--) t = t * zh + cHi[k]!;
  let ph = t;
  let pl = 0;
  for (let k = DD_TERMS - 1; k >= 0; k--) {
    ddMul(ph, pl, zh, zl);
    // (H, L) + c_k, where |H| < |c_k|: TwoSum of the high parts, then the low parts.
    const c = cHi[k]!;
    const s = H + c;
    const bb = s - H;
    const e = H - (s - bb) + (c - bb) + L + cLo[k]!;
    ph = s + e;
    pl = e - (ph - s);
  }
  H = ph;
  L = pl;
}

/**
 * The natural logarithm of a positive, finite float64, correctly rounded.
 *
 * @example
 * crLog(0.1); // -2.3025850929940455
 */
export function crLog(x: number): number {
  if (!(x > 0) || x === Infinity) return Math.log(x);
  let e = 0;
  if (x < 2.2250738585072014e-308) { x *= 2 ** 54; e = -54; } // subnormal: scale up exactly
  F64[0] = x;
  const hw = U32[HI]!;
  e += (hw >>> 20) - 1023;
  U32[HI] = (hw & 0x000fffff) | 0x3ff00000;
  let m = F64[0]!; // in [1, 2)
  if (m > SQRT2) { m /= 2; e += 1; }
  // log m = 2 atanh(s), s = (m - 1) / (m + 1)
  const num = m - 1; // exact
  const dh = m + 1;
  const bv = dh - m;
  const dl = m - (dh - bv) + (1 - bv);
  ddDiv(num, 0, dh, dl);
  const sh = H;
  const sl = L;
  ddMul(sh, sl, sh, sl);
  series(LOG_C_HI, LOG_C_LO, LOG_TERMS, H, L);
  ddMul(H, L, 2 * sh, 2 * sl);
  const lh = H;
  const ll = L;
  twoProd(e, LN2_HI);
  ddAdd(H, L + e * LN2_LO, lh, ll);
  return H;
}

/** sin and cos of the last `crSinCos` call. */
export let sinResult = 0;
export let cosResult = 0;

/**
 * Sets `sinResult` and `cosResult` to sin(x) and cos(x), correctly rounded, for |x| < 2^20
 * (beyond that, falls back to Math.sin/cos).
 *
 * @example
 * crSinCos(1); sinResult; // 0.8414709848078965
 */
export function crSinCos(x: number): void {
  if (!(Math.abs(x) < 1048576)) {
    sinResult = Math.sin(x);
    cosResult = Math.cos(x);
    return;
  }
  // x = k pi/2 + r, |r| <= pi/4, with pi/2 to 160 bits.
  const k = Math.round(x / PIO2_1);
  twoProd(k, PIO2_1);
  const r0 = x - H; // exact (Sterbenz) for k != 0
  let rh = r0;
  let rl = -L;
  twoProd(k, PIO2_2);
  ddAdd(rh, rl, -H, -L);
  ddAdd(H, L, -k * PIO2_3, 0);
  rh = H;
  rl = L;
  ddMul(rh, rl, rh, rl);
  const zh = H;
  const zl = L;
  series(SIN_C_HI, SIN_C_LO, TRIG_TERMS, zh, zl);
  ddMul(H, L, rh, rl);
  const s = H + L;
  series(COS_C_HI, COS_C_LO, TRIG_TERMS, zh, zl);
  const c = H + L;
  switch (k & 3) {
    case 0: sinResult = s; cosResult = c; break;
    case 1: sinResult = c; cosResult = -s; break;
    case 2: sinResult = -s; cosResult = -c; break;
    default: sinResult = -c; cosResult = s; break;
  }
}
