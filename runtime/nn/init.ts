/**
 * `nn.init`: PyTorch's weight initialisers. Each fills its tensor in place (without recording
 * gradients) and returns it, so it works inside `model.apply(...)`; after the same
 * `torch.manualSeed` the numbers equal PyTorch 1.13's.
 */
import { ValueError } from "../../types/errors.js";
import { noGrad } from "../autograd.js";
import { randperm } from "../creation.js";
import type { Generator } from "../random.js";
import { Tensor } from "../Tensor.js";
import type { AnyTensor } from "../tensorTypes.js";

/** Nonlinearities `calculateGain` knows (PyTorch's names). */
export type Nonlinearity = "linear" | "conv1d" | "conv2d" | "conv3d" | "conv_transpose1d" | "conv_transpose2d" | "conv_transpose3d" | "sigmoid" | "tanh" | "relu" | "leaky_relu" | "selu";

/**
 * The recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh, √2 for relu,
 * √(2 / (1 + slope²)) for leaky_relu (slope defaults to 0.01), 3/4 for selu.
 *
 * @example
 * nn.init.calculateGain("relu"); // 1.4142135623730951
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear": case "conv1d": case "conv2d": case "conv3d": case "conv_transpose1d": case "conv_transpose2d": case "conv_transpose3d": case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu": {
      const slope = param ?? 0.01;
      if (typeof slope !== "number" || !Number.isFinite(slope)) throw new ValueError(`calculateGain: negative_slope must be a finite number, got ${String(slope)}`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new ValueError(`calculateGain: unsupported nonlinearity, got "${String(nonlinearity)}"`);
  }
}

/** `(fanIn, fanOut)` of a weight: `size(1)·receptive`, `size(0)·receptive` (≥ 2 dims). */
export function calculateFanInAndFanOut(t: AnyTensor, op = "init"): [number, number] {
  if (t.ndim < 2) throw new ValueError(`${op}: fan in and fan out need a tensor with at least 2 dims, got shape [${t.shape.join(", ")}]`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

function fan(t: AnyTensor, mode: "fan_in" | "fan_out", op: string): number {
  if (mode !== "fan_in" && mode !== "fan_out") throw new ValueError(`${op}: mode must be "fan_in" or "fan_out", got "${String(mode)}"`);
  const [i, o] = calculateFanInAndFanOut(t, op);
  return mode === "fan_in" ? i : o;
}

interface GenOpt {
  generator?: Generator;
}

/** Fills with `value`. */
export function constant_<T extends AnyTensor>(t: T, value: number): T {
  noGrad(() => t.fill_(value));
  return t;
}
/** Fills with zeros. */
export function zeros_<T extends AnyTensor>(t: T): T {
  return constant_(t, 0);
}
/** Fills with ones. */
export function ones_<T extends AnyTensor>(t: T): T {
  return constant_(t, 1);
}

/**
 * Fills with samples of U(a, b).
 *
 * @example
 * nn.init.uniform_(torch.empty(3, 5), -0.1, 0.1);
 */
export function uniform_<T extends AnyTensor>(t: T, a = 0, b = 1, opts: GenOpt = {}): T {
  noGrad(() => t.uniform_(a, b, opts));
  return t;
}
/** Fills with samples of N(mean, std²). */
export function normal_<T extends AnyTensor>(t: T, mean = 0, std = 1, opts: GenOpt = {}): T {
  noGrad(() => t.normal_(mean, std, opts));
  return t;
}

/**
 * Xavier/Glorot uniform: U(−a, a) with `a = gain·√(6 / (fanIn + fanOut))`.
 *
 * @example
 * nn.init.xavierUniform_(layer.weight, nn.init.calculateGain("relu"));
 */
export function xavierUniform_<T extends AnyTensor>(t: T, gain = 1, opts: GenOpt = {}): T {
  const [i, o] = calculateFanInAndFanOut(t, "xavierUniform_");
  const a = Math.sqrt(3) * gain * Math.sqrt(2 / (i + o));
  return uniform_(t, -a, a, opts);
}
/** Xavier/Glorot normal: N(0, std²) with `std = gain·√(2 / (fanIn + fanOut))`. */
export function xavierNormal_<T extends AnyTensor>(t: T, gain = 1, opts: GenOpt = {}): T {
  const [i, o] = calculateFanInAndFanOut(t, "xavierNormal_");
  return normal_(t, 0, gain * Math.sqrt(2 / (i + o)), opts);
}

/** Options of the Kaiming initialisers (PyTorch's keywords). */
export interface KaimingOptions extends GenOpt {
  a?: number;
  mode?: "fan_in" | "fan_out";
  nonlinearity?: Nonlinearity;
}

/**
 * Kaiming/He uniform: U(−b, b) with `b = gain·√(3 / fan)` (gain from `nonlinearity` and `a`).
 * Linear and Conv layers use it with `a = √5` by default, as PyTorch.
 *
 * @example
 * nn.init.kaimingUniform_(w, { mode: "fan_in", nonlinearity: "relu" });
 */
export function kaimingUniform_<T extends AnyTensor>(t: T, opts: KaimingOptions = {}): T {
  if (t.shape.includes(0)) return t;
  const gain = calculateGain(opts.nonlinearity ?? "leaky_relu", opts.a ?? 0);
  const bound = Math.sqrt(3) * (gain / Math.sqrt(fan(t, opts.mode ?? "fan_in", "kaimingUniform_")));
  return uniform_(t, -bound, bound, opts);
}
/** Kaiming/He normal: N(0, std²) with `std = gain / √fan`. */
export function kaimingNormal_<T extends AnyTensor>(t: T, opts: KaimingOptions = {}): T {
  if (t.shape.includes(0)) return t;
  const gain = calculateGain(opts.nonlinearity ?? "leaky_relu", opts.a ?? 0);
  return normal_(t, 0, gain / Math.sqrt(fan(t, opts.mode ?? "fan_in", "kaimingNormal_")), opts);
}

/**
 * Fills the 2-D tensor with the identity (ones on the diagonal).
 *
 * @example
 * nn.init.eye_(torch.empty(3, 5));
 */
export function eye_<T extends AnyTensor>(t: T): T {
  if (t.ndim !== 2) throw new ValueError(`eye_: expected a 2-D tensor, got shape [${t.shape.join(", ")}]`);
  noGrad(() => {
    t.zero_();
    const n = Math.min(t.shape[0]!, t.shape[1]!);
    for (let i = 0; i < n; i++) t.index(i, i).fill_(1);
  });
  return t;
}

// Householder QR in float64 of an m×n matrix (m ≥ n), returning the m×n Q and R's diagonal.
function qr(a: Float64Array, m: number, n: number): { q: Float64Array; rdiag: Float64Array } {
  const r = Float64Array.from(a);
  const vs: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    const v = new Float64Array(m);
    let norm = 0;
    for (let i = k; i < m; i++) norm += r[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    const x0 = r[k * n + k]!;
    const alpha = x0 >= 0 ? -norm : norm;
    for (let i = k; i < m; i++) v[i] = r[i * n + k]!;
    v[k] = x0 - alpha;
    let vn = 0;
    for (let i = k; i < m; i++) vn += v[i]! ** 2;
    if (vn > 0) {
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let i = k; i < m; i++) dot += v[i]! * r[i * n + j]!;
        const f = (2 * dot) / vn;
        for (let i = k; i < m; i++) r[i * n + j] = r[i * n + j]! - f * v[i]!;
      }
    }
    vs.push(v);
  }
  // Q = H0 H1 ... H(n-1) applied to the first n columns of the identity.
  const q = new Float64Array(m * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k]!;
    let vn = 0;
    for (let i = k; i < m; i++) vn += v[i]! ** 2;
    if (vn === 0) continue;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i]! * q[i * n + j]!;
      const f = (2 * dot) / vn;
      for (let i = k; i < m; i++) q[i * n + j] = q[i * n + j]! - f * v[i]!;
    }
  }
  const rdiag = new Float64Array(n);
  for (let i = 0; i < n; i++) rdiag[i] = r[i * n + i]!;
  return { q, rdiag };
}

/**
 * A (semi-)orthogonal matrix from the QR decomposition of a normal sample, as PyTorch: the
 * tensor is viewed as `[size(0), rest]`, Q's columns signed so R's diagonal is positive, times `gain`.
 *
 * @example
 * nn.init.orthogonal_(torch.empty(3, 5));
 */
export function orthogonal_<T extends AnyTensor>(t: T, gain = 1, opts: GenOpt = {}): T {
  if (t.ndim < 2) throw new ValueError(`orthogonal_: only tensors with 2 or more dims are supported, got shape [${t.shape.join(", ")}]`);
  if (t.numel() === 0) return t;
  const rows = t.shape[0]!;
  const cols = t.numel() / rows;
  const flat = Tensor._empty([rows, cols], t.dtype).normal_(0, 1, opts);
  const src = rows < cols ? flat.t().contiguous() : flat;
  const [m, n] = [Math.max(rows, cols), Math.min(rows, cols)];
  const { q, rdiag } = qr(Float64Array.from(src.data() as ArrayLike<number>), m, n);
  for (let j = 0; j < n; j++) {
    const s = Math.sign(rdiag[j]!) || 1;
    for (let i = 0; i < m; i++) q[i * n + j] = q[i * n + j]! * s * gain;
  }
  let out = Tensor._empty([m, n], "float64");
  (out._data as Float64Array).set(q);
  if (rows < cols) out = out.t();
  noGrad(() => t.copy_(out.reshape([...t.shape])));
  return t;
}

/**
 * Sparse init: N(0, std²) with a fraction `sparsity` of each column's entries zeroed (2-D only).
 *
 * @example
 * nn.init.sparse_(torch.empty(3, 5), 0.1);
 */
export function sparse_<T extends AnyTensor>(t: T, sparsity: number, std = 0.01, opts: GenOpt = {}): T {
  if (t.ndim !== 2) throw new ValueError(`sparse_: only 2-D tensors are supported, got shape [${t.shape.join(", ")}]`);
  if (!(sparsity >= 0 && sparsity <= 1)) throw new ValueError(`sparse_: sparsity must be in [0, 1], got ${sparsity}`);
  const [rows, cols] = [t.shape[0]!, t.shape[1]!];
  const numZeros = Math.ceil(sparsity * rows);
  normal_(t, 0, std, opts);
  noGrad(() => {
    for (let c = 0; c < cols; c++) {
      const perm = randperm(rows, opts.generator ? { generator: opts.generator } : {}).data();
      for (let k = 0; k < numZeros; k++) t.index(perm[k]!, c).fill_(0);
    }
  });
  return t;
}

// Inverse error function: a rational initial guess refined by two Newton steps (double precision).
function erfinv(y: number): number {
  if (y <= -1) return y === -1 ? -Infinity : NaN;
  if (y >= 1) return y === 1 ? Infinity : NaN;
  const w = -Math.log((1 - y) * (1 + y));
  let x: number;
  if (w < 5) {
    const v = w - 2.5;
    let p = 2.81022636e-8;
    for (const c of [3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]) p = c + p * v;
    x = p * y;
  } else {
    const v = Math.sqrt(w) - 3;
    let p = -0.000200214257;
    for (const c of [0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]) p = c + p * v;
    x = p * y;
  }
  for (let i = 0; i < 2; i++) x -= (erf(x) - y) / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
  return x;
}
// erf to double precision (series for small |x|, continued fraction via erfc otherwise).
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = ax;
    let term = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Lentz continued fraction for erfc.
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

/**
 * Normal samples N(mean, std²) truncated to [a, b], by PyTorch's inverse-CDF method.
 *
 * @example
 * nn.init.truncNormal_(torch.empty(3, 5), 0, 1, -2, 2);
 */
export function truncNormal_<T extends AnyTensor>(t: T, mean = 0, std = 1, a = -2, b = 2, opts: GenOpt = {}): T {
  if (!(a < b)) throw new ValueError(`truncNormal_: a must be < b, got a=${a}, b=${b}`);
  const cdf = (x: number) => (1 + erf(x / Math.SQRT2)) / 2;
  const l = cdf((a - mean) / std);
  const u = cdf((b - mean) / std);
  uniform_(t, 2 * l - 1, 2 * u - 1, opts);
  noGrad(() => {
    const v = Tensor._empty([...t.shape], t.dtype);
    const src = t.contiguous().data() as ArrayLike<number>;
    const dst = v._data as Float32Array | Float64Array;
    for (let i = 0; i < src.length; i++) dst[i] = Math.min(Math.max(erfinv(src[i]!) * std * Math.SQRT2 + mean, a), b);
    t.copy_(v);
  });
  return t;
}
/** PyTorch's snake_case spelling of {@link truncNormal_}. */
export const trunc_normal_ = truncNormal_;
