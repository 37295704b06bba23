/**
 * Fill functions for contiguous storage, reproducing PyTorch 1.13's CPU kernels (x86-64, AVX2
 * build) draw for draw: `uniform_`, `normal_`, `random_(from, to)`, `randperm`, `bernoulli_(p)`.
 */
import { ValueError } from "../../types/errors.js";
import { normalFill16Avx2 } from "./avx2normal.js";
import { cosResult, crLog, crSinCos, sinResult } from "./ddmath.js";
import { fma, fmaf } from "./fma.js";
import { defaultGenerator, type Generator } from "./generator.js";

const fround = Math.fround;
const TWO_32 = 4294967296;
const TWO_M24 = 2 ** -24;
const FLOAT32_MAX = 3.4028234663852886e38;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * Fills `out` with uniform samples from [from, to) — `torch.rand` (0, 1) and `Tensor.uniform_`.
 *
 * float32: `(random() & (2^24 - 1)) * 2^-24` scaled as `fma(x, to - from, from)` in float32;
 * float64: 53 bits of `random64()` scaled in float64. Bit-exact with PyTorch.
 *
 * @example
 * manualSeed(0); const a = new Float32Array(3); uniformFill(a, 0, 1);
 * // a ≈ [0.4963, 0.7682, 0.0885], as torch.manual_seed(0); torch.rand(3)
 */
export function uniformFill(
  out: Float32Array | Float64Array,
  from: number,
  to: number,
  gen: Generator = defaultGenerator,
): void {
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    throw new ValueError(`uniform_: from and to must be finite, got from=${from}, to=${to}`);
  }
  if (!(from <= to)) throw new ValueError(`uniform_: from must be <= to, got from=${from}, to=${to}`);
  const e = gen.engine;
  const n = out.length;
  if (out instanceof Float32Array) {
    if (Math.abs(from) > FLOAT32_MAX || Math.abs(to) > FLOAT32_MAX) {
      throw new ValueError(`uniform_: from and to must be within float32 range, got from=${from}, to=${to}`);
    }
    const f = fround(from);
    const range = fround(fround(to) - f);
    if (!Number.isFinite(range)) {
      throw new ValueError(`uniform_: to - from must be <= ${FLOAT32_MAX} (float32 max), got to=${to}, from=${from}`);
    }
    if (f === 0 && range === 1) {
      for (let i = 0; i < n; i++) out[i] = (e.nextUint32() & 0xffffff) * TWO_M24;
    } else {
      for (let i = 0; i < n; i++) out[i] = fmaf((e.nextUint32() & 0xffffff) * TWO_M24, range, f);
    }
  } else {
    const range = to - from;
    if (!Number.isFinite(range)) {
      throw new ValueError(`uniform_: to - from must be finite, got to=${to}, from=${from}`);
    }
    if (from === 0 && range === 1) {
      for (let i = 0; i < n; i++) out[i] = gen.uniform53();
    } else {
      for (let i = 0; i < n; i++) out[i] = fma(gen.uniform53(), range, from);
    }
  }
}

/**
 * One sample of PyTorch's `normal_distribution<double>`: Box–Muller over two 53-bit uniforms that
 * returns `r cos θ` and caches `r sin θ` on the generator for the next call.
 */
function normalScalar(gen: Generator, mean: number, std: number): number {
  let z: number;
  if (gen.hasNextDoubleNormal) {
    z = gen.nextDoubleNormal;
    gen.hasNextDoubleNormal = false;
  } else {
    const u1 = gen.uniform53();
    const u2 = gen.uniform53();
    const r = Math.sqrt(-2 * crLog(1 - u2));
    crSinCos(2 * Math.PI * u1);
    gen.nextDoubleNormal = r * sinResult;
    gen.hasNextDoubleNormal = true;
    z = r * cosResult;
  }
  return fma(z, std, mean);
}

/**
 * Fills `out` with normal samples N(mean, std²) — `torch.randn` (0, 1) and `Tensor.normal_`.
 *
 * Follows PyTorch's two paths. With 16 or more elements (`normal_fill`): all elements are first
 * filled with uniforms, then turned into normals 16 at a time by Box–Muller over the pairs
 * (j, j+8); if the length is not a multiple of 16 the last 16 elements are redrawn and
 * recomputed. float32 replays the AVX2 kernel's float32 log/sincos polynomials (bit-exact);
 * float64 uses correctly rounded log/sin/cos where PyTorch calls glibc (which is correctly
 * rounded for all but ~0.15% of these arguments, so a few values differ in the last bit). With
 * fewer than 16 elements each element is one `normal_distribution<double>` sample (computed in
 * float64, then rounded to the output), which takes the generator's cached second sample first.
 * PyTorch also takes that scalar path for every element of a non-contiguous tensor: pass
 * `contiguous = false` (and `out` in the order PyTorch's TensorIterator visits the elements).
 *
 * The float32 path is that of x86-64 CPUs with AVX2 (what PyTorch uses there); PyTorch on other
 * CPUs (e.g. ARM) computes float32 normals of 16+ elements with libm and gets slightly different
 * last bits.
 *
 * @example
 * manualSeed(0); const a = new Float32Array(3); normalFill(a, 0, 1);
 * // a ≈ [1.5410, -0.2934, -2.1788], as torch.manual_seed(0); torch.randn(3)
 */
export function normalFill(
  out: Float32Array | Float64Array,
  mean: number,
  std: number,
  gen: Generator = defaultGenerator,
  contiguous = true,
): void {
  if (!(std >= 0)) throw new ValueError(`normal_: std must be >= 0, got ${std}`);
  const n = out.length;
  if (n < 16 || !contiguous) {
    for (let i = 0; i < n; i++) out[i] = normalScalar(gen, mean, std);
    return;
  }
  if (out instanceof Float32Array) {
    const e = gen.engine;
    const m = fround(mean);
    const s = fround(std);
    for (let i = 0; i < n; i++) out[i] = (e.nextUint32() & 0xffffff) * TWO_M24;
    for (let i = 0; i + 16 <= n; i += 16) normalFill16Avx2(out, i, m, s);
    if (n % 16 !== 0) {
      for (let i = n - 16; i < n; i++) out[i] = (e.nextUint32() & 0xffffff) * TWO_M24;
      normalFill16Avx2(out, n - 16, m, s);
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = gen.uniform53();
    for (let i = 0; i + 16 <= n; i += 16) normalFill16Double(out, i, mean, std);
    if (n % 16 !== 0) {
      for (let i = n - 16; i < n; i++) out[i] = gen.uniform53();
      normalFill16Double(out, n - 16, mean, std);
    }
  }
}

/** PyTorch's `normal_fill_16<double>`: Box–Muller over (j, j+8) in float64. */
function normalFill16Double(data: Float64Array, off: number, mean: number, std: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = 1 - data[off + j]!;
    const u2 = data[off + j + 8]!;
    const radius = Math.sqrt(-2 * crLog(u1));
    crSinCos(2 * Math.PI * u2);
    data[off + j] = fma(radius * cosResult, std, mean);
    data[off + j + 8] = fma(radius * sinResult, std, mean);
  }
}

/** floor(log2(|x|)) for a nonzero safe integer. */
function ilog2(x: number): number {
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--; // Math.log2 may round up just below a power of two
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/** PyTorch's `update_from<float>`: the smallest integer >= low whose float32 + 1 stays >= low. */
function updateFromF32(low: number): number {
  const fromPlus1 = fround(low + 1);
  if (fromPlus1 < low) return fromPlus1 + 2 ** (ilog2(low + 1) - 24 + 1);
  return low;
}

/** PyTorch's `update_to<float>`: moves high left where float32(high - 1) would round up to high. */
function updateToF32(high: number): number {
  const toMinus1 = fround(high - 1);
  if (toMinus1 >= high) return toMinus1 - 2 ** (ilog2(high - 1) - 24 + 1);
  return high;
}

/** `(hi * 2^32 + lo) mod range` for 2^32 <= range < 2^53, exactly and without BigInt. */
function mod64(hi: number, lo: number, range: number): number {
  let r = hi % range;
  for (let k = 0; k < 32; k++) {
    r *= 2; // exact: r < 2^53
    if (r >= range) r -= range;
  }
  const gap = range - r;
  return lo >= gap ? lo - gap : r + lo;
}

/**
 * Fills `out` with integers uniform on [low, high) — `torch.randint(low, high, size)` and
 * `Tensor.random_(low, high)`: `random() % (high - low) + low`, or `random64()` when the range
 * is 2^32 or more (int64 and float storage only). Bit-exact with PyTorch.
 *
 * `out` is the tensor's storage: Float64Array for int64 (the default dtype of `randint`),
 * Int32Array for int32, Float32Array for float32.
 *
 * @example
 * manualSeed(0); const a = new Float64Array(4); randintFill(a, 0, 10);
 * // a = [4, 9, 3, 0], as torch.manual_seed(0); torch.randint(0, 10, (4,))
 */
export function randintFill(
  out: Float64Array | Int32Array | Float32Array,
  low: number,
  high: number,
  gen: Generator = defaultGenerator,
): void {
  if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high)) {
    throw new ValueError(`randint: low and high must be integers within ±(2**53 - 1), got low=${low}, high=${high}`);
  }
  if (!(low < high)) throw new ValueError(`randint: low must be < high, got low=${low}, high=${high}`);
  if (!Number.isSafeInteger(high - low)) {
    throw new ValueError(`randint: high - low must be <= 2**53 - 1, got low=${low}, high=${high}`);
  }
  if (out instanceof Int32Array && (low < INT32_MIN || high - 1 > INT32_MAX)) {
    throw new ValueError(`randint: low and high - 1 must fit in int32, got low=${low}, high=${high}`);
  }
  if (out instanceof Float32Array) {
    // PyTorch's update_from / update_to: pull the bounds inwards so that no value rounds (as
    // float32) outside [low, high).
    const l = updateFromF32(low);
    const h = updateToF32(high);
    if (!(l < h)) {
      throw new ValueError(`randint: low must be < high after rounding to float32, got low=${l}, high=${h}`);
    }
    low = l;
    high = h;
  }
  const range = high - low;
  const e = gen.engine;
  const n = out.length;
  if (range < TWO_32 || out instanceof Int32Array) {
    for (let i = 0; i < n; i++) out[i] = (e.nextUint32() % range) + low;
  } else {
    for (let i = 0; i < n; i++) {
      const hi = e.nextUint32();
      const lo = e.nextUint32();
      out[i] = mod64(hi, lo, range) + low;
    }
  }
}

/**
 * A random permutation of 0..n-1 — `torch.randperm(n)` (int64, so a Float64Array): PyTorch's
 * forward Fisher–Yates, swapping element i with element `i + random() % (n - i)`. Bit-exact with
 * PyTorch for every n.
 *
 * @example
 * manualSeed(0); randpermArray(5); // Float64Array [4, 0, 1, 3, 2], as torch.randperm(5)
 */
export function randpermArray(n: number, gen: Generator = defaultGenerator): Float64Array {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ValueError(`randperm: n must be a non-negative integer, got ${n}`);
  }
  const e = gen.engine;
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = i;
  for (let i = 0; i < n - 1; i++) {
    const z = i + (e.nextUint32() % (n - i));
    const t = r[i]!;
    r[i] = r[z]!;
    r[z] = t;
  }
  return r;
}

/**
 * Fills `out` with 1 (probability p) or 0 — `torch.bernoulli(x, p)` / `Tensor.bernoulli_(p)` with a
 * scalar p, as `dropout` uses it: one 53-bit uniform per element, `u < p`. This is PyTorch's
 * default CPU kernel (builds without MKL, and MKL builds on non-Intel CPUs); PyTorch's MKL builds
 * on Intel CPUs draw from MKL's own stream instead.
 *
 * @example
 * manualSeed(0); const m = new Float32Array(4); bernoulliFill(m, 0.5); // [0, 0, 1, 0]
 */
export function bernoulliFill(
  out: Float32Array | Float64Array | Uint8Array,
  p: number,
  gen: Generator = defaultGenerator,
): void {
  if (!(p >= 0 && p <= 1)) throw new ValueError(`bernoulli_: p must be in [0, 1], got ${p}`);
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = gen.uniform53() < p ? 1 : 0;
}
