/**
 * Tensor printing that matches PyTorch 1.13's `str(tensor)` character for character.
 *
 * This is a re-implementation of `torch/_tensor_str.py` for strided (dense) tensors of the
 * dtypes typetorch supports. It is a pure module: it knows nothing about the Tensor class and
 * works on a contiguous row-major copy of the values, the shape and the dtype.
 *
 * The rules it follows, as PyTorch does:
 * - One formatter per tensor decides how every element prints, from the elements that will be
 *   shown (after summarization): integer dtypes and bool print as Python would (`5`, `True`);
 *   floats print in *int mode* (`1.`, `-0.`) when every finite non-zero value is whole, in
 *   *scientific mode* (`1.0000e-05`) when the largest/smallest magnitude ratio exceeds 1000, the
 *   largest exceeds 1e8 or (not in int mode) the smallest is below 1e-4, and otherwise in fixed
 *   notation with `precision` decimals. `nan`, `inf`, `-inf` print as Python spells them.
 * - Every element is right-aligned to the widest formatted finite non-zero element.
 * - Rows wrap at `linewidth`; tensors with more than `threshold` elements are summarized with
 *   `...`, keeping `edgeitems` entries at each end of every dimension.
 * - Suffixes follow: `device='…'`, `size=(…)` (empty, non 1-d), `dtype=torch.…` (not the default
 *   for its kind), `grad_fn=<…>` or `requires_grad=True`; one wraps onto its own line when it
 *   would pass `linewidth`.
 *
 * Numbers are formatted exactly as Python's `'{:.Nf}'` / `'{:.Ne}'` do: from the exact binary
 * value, rounding half to even (JavaScript's `toFixed`/`toExponential` round ties away from
 * zero, so `(0.125).toFixed(2)` is `"0.13"` where Python prints `0.12`), with at least two
 * exponent digits. float32 values are rounded to float32 first, as a float32 tensor holds them.
 *
 * @module
 */
import type { DType } from "./dtype.js";

/**
 * Printing options, as `torch.set_printoptions` keeps them.
 *
 * - `precision`: decimals of floating point output (default 4).
 * - `threshold`: tensors with more elements than this are summarized (default 1000; `Infinity`
 *   never summarizes).
 * - `edgeitems`: entries kept at each end of a summarized dimension (default 3).
 * - `linewidth`: characters per line used to wrap rows and suffixes (default 80).
 * - `sciMode`: `true`/`false` forces scientific/fixed notation for floats; `null` (default)
 *   lets the formatter choose.
 *
 * @example
 * const { precision } = getPrintOptions();  // 4
 */
export interface PrintOptions {
  precision: number;
  threshold: number;
  edgeitems: number;
  linewidth: number;
  sciMode: boolean | null;
}

/**
 * What `formatTensor` needs beyond the values: autograd state and device.
 *
 * - `requiresGrad`: prints `requires_grad=True` (ignored when `gradFn` is given).
 * - `gradFn`: name of the node that produced the tensor, printed `grad_fn=<NAME>`.
 * - `device`: printed `device='NAME'` unless it is `"cpu"` (or absent).
 *
 * @example
 * formatTensor([2, 4], [2], "float32", { gradFn: "MulBackward0" });
 * // "tensor([2., 4.], grad_fn=<MulBackward0>)"
 */
export interface FormatExtras {
  requiresGrad?: boolean;
  gradFn?: string;
  device?: string;
}

type Profile = "default" | "short" | "full";

const PROFILES: Record<Profile, Omit<PrintOptions, "sciMode">> = {
  default: { precision: 4, threshold: 1000, edgeitems: 3, linewidth: 80 },
  short: { precision: 2, threshold: 1000, edgeitems: 2, linewidth: 80 },
  full: { precision: 4, threshold: Infinity, edgeitems: 3, linewidth: 80 },
};

let OPTS: PrintOptions = { ...PROFILES.default, sciMode: null };

const OPTION_KEYS = new Set(["precision", "threshold", "edgeitems", "linewidth", "sciMode", "profile"]);

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  return typeof v;
}

function checkCount(name: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== "number") {
    throw new TypeError(`setPrintOptions: ${name} must be a number, got ${describe(v)}`);
  }
  if (!Number.isInteger(v) || v < 0) {
    throw new RangeError(`setPrintOptions: ${name} must be a non-negative integer, got ${describe(v)}`);
  }
}

/**
 * Sets the printing options, like `torch.set_printoptions`.
 *
 * A `profile` (`"default"`, `"short"`: precision 2 and edgeitems 2, `"full"`: never summarize)
 * is applied first, then the individual options given. As in PyTorch, `sciMode` is reset to
 * `null` (automatic) by every call that does not pass it. Invalid values throw and leave the
 * options unchanged.
 *
 * @example
 * setPrintOptions({ precision: 2 });
 * formatTensor([1.12345], [1], "float32");  // "tensor([1.12])"
 * setPrintOptions({ profile: "default" });
 */
export function setPrintOptions(opts: Partial<PrintOptions> & { profile?: Profile }): void {
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) {
    throw new TypeError(`setPrintOptions: expected an options object, got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!OPTION_KEYS.has(key)) {
      throw new TypeError(
        `setPrintOptions: unknown option ${JSON.stringify(key)} (expected precision, threshold, ` +
          `edgeitems, linewidth, sciMode or profile)`,
      );
    }
  }
  const { profile, precision, threshold, edgeitems, linewidth, sciMode } = opts;
  if (profile !== undefined && !(typeof profile === "string" && Object.hasOwn(PROFILES, profile))) {
    throw new RangeError(
      `setPrintOptions: profile must be "default", "short" or "full", got ${describe(profile)}`,
    );
  }
  checkCount("precision", precision);
  checkCount("edgeitems", edgeitems);
  checkCount("linewidth", linewidth);
  if (threshold !== undefined) {
    if (typeof threshold !== "number") {
      throw new TypeError(`setPrintOptions: threshold must be a number, got ${describe(threshold)}`);
    }
    if (Number.isNaN(threshold) || threshold < 0) {
      throw new RangeError(
        `setPrintOptions: threshold must be a non-negative number (or Infinity), got ${describe(threshold)}`,
      );
    }
  }
  if (sciMode !== undefined && sciMode !== null && typeof sciMode !== "boolean") {
    throw new TypeError(`setPrintOptions: sciMode must be true, false or null, got ${describe(sciMode)}`);
  }

  const next: PrintOptions = { ...OPTS };
  if (profile !== undefined) Object.assign(next, PROFILES[profile]);
  if (precision !== undefined) next.precision = precision;
  if (threshold !== undefined) next.threshold = threshold;
  if (edgeitems !== undefined) next.edgeitems = edgeitems;
  if (linewidth !== undefined) next.linewidth = linewidth;
  next.sciMode = sciMode ?? null;
  OPTS = next;
}

/**
 * Returns a copy of the current printing options.
 *
 * @example
 * getPrintOptions();
 * // { precision: 4, threshold: 1000, edgeitems: 3, linewidth: 80, sciMode: null }
 */
export function getPrintOptions(): PrintOptions {
  return { ...OPTS };
}

// ---------------------------------------------------------------------------------------------
// Exact decimal formatting of doubles (Python's '{:.Nf}' and '{:.Ne}').
// ---------------------------------------------------------------------------------------------

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
// Which half of U32 holds the high word depends on the platform's endianness.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** A positive finite double as an exact fraction `num / den` (den a power of two). */
function exactFraction(a: number): { num: bigint; den: bigint } {
  F64[0] = a;
  const hi = U32[HI]!;
  const lo = U32[1 - HI]!;
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) {
    exp = -1074; // subnormal
  } else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  return exp >= 0 ? { num: mant << BigInt(exp), den: 1n } : { num: mant, den: 1n << BigInt(-exp) };
}

const POW10: bigint[] = [1n];
function pow10(k: number): bigint {
  for (let i = POW10.length; i <= k; i++) POW10.push(POW10[i - 1]! * 10n);
  return POW10[k]!;
}

/** `num / den` rounded to an integer, ties to even (den > 0). */
function divRoundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

function isNegative(v: number): boolean {
  return v < 0 || Object.is(v, -0);
}

function nonFinite(v: number): string {
  return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
}

/** Python's `'{:.{p}f}'.format(v)`. */
function pyFixed(v: number, p: number): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  const sign = isNegative(v) ? "-" : "";
  const a = Math.abs(v);
  let n = 0n;
  if (a !== 0) {
    const { num, den } = exactFraction(a);
    n = divRoundHalfEven(num * pow10(p), den);
  }
  if (p === 0) return sign + n.toString();
  const s = n.toString().padStart(p + 1, "0");
  return sign + s.slice(0, s.length - p) + "." + s.slice(s.length - p);
}

/** Python's `'{:.{p}e}'.format(v)`. */
function pyExp(v: number, p: number): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  const sign = isNegative(v) ? "-" : "";
  const a = Math.abs(v);
  let digits: string;
  let e = 0;
  if (a === 0) {
    digits = "0".repeat(p + 1);
  } else {
    const { num, den } = exactFraction(a);
    e = Math.floor(Math.log10(a)); // an estimate; corrected below
    const lowest = pow10(p);
    const limit = pow10(p + 1);
    for (;;) {
      const shift = e - p;
      const n =
        shift >= 0 ? divRoundHalfEven(num, den * pow10(shift)) : divRoundHalfEven(num * pow10(-shift), den);
      if (n >= limit) e += 1;
      else if (n < lowest) e -= 1;
      else {
        digits = n.toString();
        break;
      }
    }
  }
  const mantissa = p === 0 ? digits : digits.slice(0, 1) + "." + digits.slice(1);
  const expDigits = String(Math.abs(e)).padStart(2, "0");
  return `${sign}${mantissa}e${e < 0 ? "-" : "+"}${expDigits}`;
}

/** Python's `str(int)` for an integral double (exact digits, never exponent notation). */
function pyInt(v: number): string {
  if (Number.isInteger(v)) return Math.abs(v) < 1e21 ? String(v === 0 ? 0 : v) : BigInt(v).toString();
  return Number.isFinite(v) ? String(v) : nonFinite(v);
}

// ---------------------------------------------------------------------------------------------
// The element formatter (PyTorch's _Formatter).
// ---------------------------------------------------------------------------------------------

interface Formatter {
  /** The column width every element is right-aligned to. */
  readonly width: number;
  format(v: number): string;
}

function padLeft(s: string, width: number): string {
  return s.length >= width ? s : " ".repeat(width - s.length) + s;
}

/** Builds the formatter from the values that will be shown (already float32-rounded). */
function makeFormatter(values: readonly number[], dtype: DType, opts: PrintOptions): Formatter {
  const p = opts.precision;
  if (dtype === "bool") {
    const width = values.some((v) => v === 0) ? 5 : values.length > 0 ? 4 : 1;
    return { width, format: (v) => padLeft(v === 0 ? "False" : "True", width) };
  }
  if (dtype === "int32" || dtype === "int64") {
    let width = 1;
    for (const v of values) width = Math.max(width, pyInt(v).length);
    return { width, format: (v) => padLeft(pyInt(v), width) };
  }

  // Floating point. Only finite non-zero values decide the mode and the width.
  let intMode = true;
  let sciMode = false;
  let width = 1;
  let minAbs = Infinity;
  let maxAbs = 0;
  const vals: number[] = [];
  for (const v of values) {
    if (v === 0 || !Number.isFinite(v)) continue;
    vals.push(v);
    const a = Math.abs(v);
    if (a < minAbs) minAbs = a;
    if (a > maxAbs) maxAbs = a;
    if (intMode && v !== Math.ceil(v)) intMode = false;
  }
  if (vals.length > 0) {
    const spread = maxAbs / minAbs > 1000 || maxAbs > 1e8;
    if (intMode) {
      if (spread) {
        sciMode = true;
        for (const v of vals) width = Math.max(width, pyExp(v, p).length);
      } else {
        for (const v of vals) width = Math.max(width, pyFixed(v, 0).length + 1);
      }
    } else if (spread || minAbs < 1e-4) {
      sciMode = true;
      for (const v of vals) width = Math.max(width, pyExp(v, p).length);
    } else {
      for (const v of vals) width = Math.max(width, pyFixed(v, p).length);
    }
    // PyTorch applies the forced mode only when there was a finite non-zero value, and after
    // measuring the width in the automatic mode.
    if (opts.sciMode !== null) sciMode = opts.sciMode;
  }

  const w = width;
  return {
    width: w,
    format(v: number): string {
      let s: string;
      if (sciMode) s = pyExp(v, p);
      else if (intMode) s = Number.isFinite(v) ? pyFixed(v, 0) + "." : nonFinite(v);
      else s = pyFixed(v, p);
      return padLeft(s, w);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Layout (PyTorch's _tensor_str / _vector_str / _add_suffixes).
// ---------------------------------------------------------------------------------------------

/** Indices kept along a dimension of `size` (`null` marks the `...`). */
function keptIndices(size: number, dim1d: boolean, summarize: boolean, edge: number): (number | null)[] {
  const all = Array.from({ length: size }, (_, i) => i);
  if (!summarize || size <= 2 * edge) return all;
  const head = all.slice(0, edge);
  // Python's `x[-edgeitems:]` is the whole dimension when edgeitems is 0; PyTorch only slices
  // that way for the innermost dimension (outer ones use range(len - edge, len)).
  const tail = dim1d && edge === 0 ? all : all.slice(size - edge);
  return [...head, null, ...tail];
}

interface Layout {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly values: (i: number) => number;
  readonly summarize: boolean;
  readonly opts: PrintOptions;
}

/** Flat indices of the elements that are shown, in order. */
function shownIndices(L: Layout): number[] {
  const out: number[] = [];
  const walk = (dim: number, offset: number): void => {
    if (dim === L.shape.length) {
      out.push(offset);
      return;
    }
    const isLast = dim === L.shape.length - 1;
    for (const i of keptIndices(L.shape[dim]!, isLast, L.summarize, L.opts.edgeitems)) {
      if (i !== null) walk(dim + 1, offset + i * L.strides[dim]!);
    }
  };
  walk(0, 0);
  return out;
}

function render(L: Layout, f: Formatter, dim: number, offset: number, indent: number): string {
  const rank = L.shape.length;
  if (dim === rank) return f.format(L.values(offset)); // 0-d tensor
  const size = L.shape[dim]!;
  const stride = L.strides[dim]!;
  const { edgeitems, linewidth } = L.opts;

  if (dim === rank - 1) {
    const items = keptIndices(size, true, L.summarize, edgeitems).map((i) =>
      i === null ? " ..." : f.format(L.values(offset + i * stride)),
    );
    const perLine = Math.max(1, Math.floor((linewidth - indent) / (f.width + 2)));
    const lines: string[] = [];
    for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(", "));
    return "[" + lines.join(",\n" + " ".repeat(indent + 1)) + "]";
  }

  const slices = keptIndices(size, false, L.summarize, edgeitems).map((i) =>
    i === null ? "..." : render(L, f, dim + 1, offset + i * stride, indent + 1),
  );
  return "[" + slices.join("," + "\n".repeat(rank - dim - 1) + " ".repeat(indent + 1)) + "]";
}

function addSuffixes(text: string, suffixes: readonly string[], indent: number, linewidth: number): string {
  // PyTorch's own arithmetic (it over-counts the last line by two characters).
  let lastLineLen = text.length - text.lastIndexOf("\n") + 1;
  let out = text;
  for (const suffix of suffixes) {
    if (lastLineLen + suffix.length + 2 > linewidth) {
      out += ",\n" + " ".repeat(indent) + suffix;
      lastLineLen = indent + suffix.length;
    } else {
      out += ", " + suffix;
      lastLineLen += suffix.length + 2;
    }
  }
  return out + ")";
}

const DTYPE_NAMES: Record<DType, string> = {
  float32: "torch.float32",
  float64: "torch.float64",
  int32: "torch.int32",
  int64: "torch.int64",
  bool: "torch.bool",
};

/** Python's `str(tuple(shape))`. */
function pyTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/**
 * Formats a tensor exactly as PyTorch 1.13's `str(tensor)` / `print(tensor)` does, using the
 * current print options (see {@link setPrintOptions}).
 *
 * @param data  the elements in contiguous row-major order (bool as 0/1, int64 as numbers);
 *              float32 values are rounded to float32 before formatting.
 * @param shape the tensor's shape (`[]` for a 0-d tensor).
 * @param dtype the tensor's dtype; float64 and int32 print a `dtype=` suffix (and every
 *              non-float32 dtype does when the tensor is empty), as in PyTorch.
 * @param extras autograd state and device, printed as suffixes.
 *
 * @example
 * formatTensor([1.5, 2, -3], [3], "float32");        // "tensor([ 1.5000,  2.0000, -3.0000])"
 * formatTensor([1, 2, 3, 4], [2, 2], "int32");
 * // "tensor([[1, 2],\n        [3, 4]], dtype=torch.int32)"
 */
export function formatTensor(
  data: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
  extras: FormatExtras = {},
): string {
  if (!Object.hasOwn(DTYPE_NAMES, dtype)) {
    throw new TypeError(`formatTensor: unknown dtype ${describe(dtype)}`);
  }
  let numel = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`formatTensor: shape must hold non-negative integers, got [${shape.join(", ")}]`);
    }
    numel *= d;
  }
  if (data.length !== numel) {
    throw new RangeError(
      `formatTensor: shape [${shape.join(", ")}] has ${numel} elements but data has ${data.length}`,
    );
  }

  const opts = OPTS;
  const prefix = "tensor(";
  const indent = prefix.length;
  const suffixes: string[] = [];
  if (extras.device !== undefined && extras.device !== "cpu") suffixes.push(`device='${extras.device}'`);

  let body: string;
  if (numel === 0) {
    // Empty tensors show their shape unless 1-d, and their dtype unless float32: nothing in
    // them tells an int64 tensor from a float one.
    if (shape.length !== 1) suffixes.push("size=" + pyTuple(shape));
    if (dtype !== "float32") suffixes.push("dtype=" + DTYPE_NAMES[dtype]);
    body = "[]";
  } else {
    if (dtype === "float64" || dtype === "int32") suffixes.push("dtype=" + DTYPE_NAMES[dtype]);
    const strides: number[] = new Array<number>(shape.length);
    for (let d = shape.length - 1, s = 1; d >= 0; d--) {
      strides[d] = s;
      s *= shape[d]!;
    }
    const values =
      dtype === "float32"
        ? (i: number) => Math.fround(data[i]!)
        : dtype === "bool"
          ? (i: number) => (data[i] ? 1 : 0)
          : (i: number) => data[i]!;
    const layout: Layout = { shape, strides, values, summarize: numel > opts.threshold, opts };
    const formatter = makeFormatter(shownIndices(layout).map(values), dtype, opts);
    body = render(layout, formatter, 0, 0, indent);
  }

  if (extras.gradFn !== undefined) suffixes.push(`grad_fn=<${extras.gradFn}>`);
  else if (extras.requiresGrad) suffixes.push("requires_grad=True");

  return addSuffixes(prefix + body, suffixes, indent, opts.linewidth);
}
