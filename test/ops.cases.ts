/**
 * The one op-case table (DESIGN.md §3, §7): maps each op of `test/fixtures/ops.json` (written by
 * `test/fixtures/gen_ops.py` from PyTorch 1.13) onto a call of typetorch's public API, with the
 * facts the op tests need about it. Every op test iterates over this table — forward values
 * against PyTorch (`runtime/ops.test.ts`), gradients against finite differences
 * (`runtime/gradcheck.test.ts`) — so a new op is one entry here plus cases in the generator.
 *
 * The fixture encoding is described in `test/fixtures/README.md`: tensors are
 * `{ shape, dtype, data }` with data flat in row-major order, NaN/±Inf as the strings
 * `"nan"`/`"inf"`/`"-inf"`, bool as 0/1.
 */
import { readFileSync } from "node:fs";
import { type DType, Tensor, torch } from "typetorch";

/** A fixture element: a number, or a non-finite float spelled as a string. */
export type JsonValue = number | "nan" | "inf" | "-inf";

/** A tensor as the fixtures encode it. */
export interface TensorJSON {
  shape: number[];
  dtype: DType;
  data: JsonValue[];
}

/** An index item of `index` as the fixtures encode it (`{ tensor }` for an index tensor). */
export type IndexItemJSON = number | string | null | number[] | { tensor: TensorJSON };

/** One forward case: `op(inputs, args)` gives `out` in PyTorch. */
export interface OpCase {
  id: string;
  op: OpName;
  inputs: TensorJSON[];
  args: Record<string, unknown>;
  /** A tensor, or `[values, indices]` for `max`/`min` with a dim. */
  out: TensorJSON | TensorJSON[];
}

/** One case PyTorch rejects (`torchError` is the first line of its message). */
export interface ErrorCase {
  id: string;
  op: OpName;
  inputs: TensorJSON[];
  args: Record<string, unknown>;
  torchError: string;
}

/** The parsed `test/fixtures/ops.json`. */
export const fixtures = JSON.parse(readFileSync(new URL("./fixtures/ops.json", import.meta.url), "utf8")) as {
  generator: string;
  torch: string;
  cases: OpCase[];
  errors: ErrorCase[];
};

/** A fixture element as a JS number (`"nan"` → NaN, `"inf"` → Infinity, bool 0/1 stay numbers). */
export function decodeValue(v: JsonValue): number {
  if (v === "nan") return NaN;
  if (v === "inf") return Infinity;
  if (v === "-inf") return -Infinity;
  return v;
}

type AnyTensor = Tensor<readonly number[], DType>;

/**
 * Builds a fixture tensor through the public API (`torch.tensor` of the flat values, reshaped),
 * optionally converted to `dtype` (gradcheck widens float inputs to float64). The result is a
 * fresh leaf: it owns its storage and has no autograd history.
 */
export function fromJSON(t: TensorJSON, dtype: DType = t.dtype): AnyTensor {
  const flat = Float64Array.from(t.data, decodeValue);
  const x = torch.tensor(flat, { dtype }) as AnyTensor;
  return x.reshape(t.shape as number[]) as AnyTensor;
}

/** Options for {@link buildInputs}. */
export interface InputOptions {
  /** Convert floating point inputs to float64 (what gradcheck runs in). */
  float64?: boolean;
}

/** The tensor inputs of a case, built from their JSON. */
export function buildInputs(c: Pick<OpCase, "inputs">, opts: InputOptions = {}): AnyTensor[] {
  return c.inputs.map((t) => fromJSON(t, opts.float64 && isFloatDType(t.dtype) ? "float64" : t.dtype));
}

/** True for float32/float64. */
export function isFloatDType(d: DType): boolean {
  return d === "float32" || d === "float64";
}

/** What running an op gives: one tensor, or `[values, indices]` for max/min with a dim. */
export type OpResult = AnyTensor | AnyTensor[];

type Args = Record<string, unknown>;

/** How an op is called and what the gradient check may do with it. */
export interface OpEntry {
  /** Calls typetorch's public API for the case's (already built) inputs and args. */
  run(inputs: AnyTensor[], args: Args): OpResult;
  /**
   * Whether gradcheck runs this op: `true` (every case whose float inputs feed a float output),
   * `false` (no gradient: comparisons, arg-reductions, integer-only ops, creation), or a predicate
   * on the case's args for ops that are differentiable only in some forms.
   */
  differentiable: boolean | ((args: Args) => boolean);
}

// ---------------------------------------------------------------------------------------------
// argument helpers
// ---------------------------------------------------------------------------------------------

const num = (a: Args, k: string): number => a[k] as number;
const opt = <T>(a: Args, k: string): T | undefined => (k in a ? (a[k] as T) : undefined);
const dtypeOpt = (a: Args): { dtype?: DType } => ("dtype" in a ? { dtype: a.dtype as DType } : {});
const first = (inputs: AnyTensor[]): AnyTensor => inputs[0]!;

/** The second operand of a binary op: the second input, or the scalar `args.other`. */
function operand(inputs: AnyTensor[], a: Args): AnyTensor | number | boolean {
  return inputs[1] ?? (a.other as number | boolean);
}

/** Index items with `{ tensor }` turned into tensors (int64 or bool index tensors). */
export function indexItems(items: readonly IndexItemJSON[]): unknown[] {
  return items.map((it) => (it !== null && typeof it === "object" && !Array.isArray(it) ? fromJSON(it.tensor) : it));
}

// The methods take shape-checked parameters; with the shape-erased tensors of the table the
// checks pass through, but a few overloads want literal types, so calls go through `call`.
type Fn = (...a: unknown[]) => unknown;
const call = (x: AnyTensor, method: keyof AnyTensor, ...args: unknown[]): AnyTensor => (x[method] as unknown as Fn).apply(x, args) as AnyTensor;

const unary = (m: keyof AnyTensor): OpEntry => ({ run: (i) => call(first(i), m), differentiable: true });

const binary = (m: "add" | "sub" | "mul" | "div" | "pow", differentiable = true): OpEntry => ({
  run: (i, a) => {
    const o: Args = {};
    if ("alpha" in a) o.alpha = a.alpha;
    if ("roundingMode" in a) o.roundingMode = a.roundingMode;
    return Object.keys(o).length > 0 ? call(first(i), m, operand(i, a), o) : call(first(i), m, operand(i, a));
  },
  differentiable,
});

// torch.maximum has no scalar overload: the generator uses torch.tensor(other), and so do we.
const elementwiseExtreme = (m: "maximum" | "minimum"): OpEntry => ({
  run: (i, a) => call(first(i), m, i[1] ?? torch.tensor(a.other as number)),
  differentiable: true,
});

const compare = (m: "eq" | "ne" | "gt" | "ge" | "lt" | "le"): OpEntry => ({ run: (i, a) => call(first(i), m, operand(i, a)), differentiable: false });

// A reduction called as `x.op()`, `x.op(dim)` or `x.op(dim, keepdim)`.
const reduce = (m: keyof AnyTensor, differentiable = true): OpEntry => ({
  run: (i, a) => {
    const x = first(i);
    if (!("dim" in a)) return call(x, m);
    return "keepdim" in a ? call(x, m, a.dim, a.keepdim) : call(x, m, a.dim);
  },
  differentiable,
});

// max/min with a dim give [values, indices].
const extreme = (m: "max" | "min"): OpEntry => ({
  run: (i, a) => {
    const x = first(i);
    if (!("dim" in a)) return call(x, m);
    const r = ("keepdim" in a ? call(x, m, a.dim, a.keepdim) : call(x, m, a.dim)) as unknown as AnyTensor[];
    return [r[0]!, r[1]!];
  },
  differentiable: true,
});

const variance = (m: "var" | "std"): OpEntry => ({
  run: (i, a) => {
    const o: Args = {};
    for (const k of ["unbiased", "correction", "keepdim"]) if (k in a) o[k] = a[k];
    return call(first(i), m, opt(a, "dim"), o);
  },
  differentiable: true,
});

// ---------------------------------------------------------------------------------------------
// the table
// ---------------------------------------------------------------------------------------------

/**
 * Every op of the fixtures, by name. `satisfies` keeps the key set exact: a fixture op missing
 * here fails the ops test (it looks the op up), an entry without a fixture op is dead weight.
 */
export const OPS = {
  // unary
  neg: unary("neg"),
  abs: unary("abs"),
  exp: unary("exp"),
  log: unary("log"),
  sqrt: unary("sqrt"),
  relu: unary("relu"),
  sigmoid: unary("sigmoid"),
  tanh: unary("tanh"),
  clamp: { run: (i, a) => first(i).clamp(opt<number>(a, "min") ?? null, opt<number>(a, "max") ?? null), differentiable: true },
  // Piecewise constant (zero gradient): the fixtures sit on the jumps (halves, integers) on purpose.
  floor: { run: (i) => first(i).floor(), differentiable: false },
  ceil: { run: (i) => first(i).ceil(), differentiable: false },
  round: { run: (i) => first(i).round(), differentiable: false },
  sign: { run: (i) => first(i).sign(), differentiable: false },
  logicalNot: { run: (i) => first(i).logicalNot() as AnyTensor, differentiable: false },

  // binary
  add: binary("add"),
  sub: binary("sub"),
  mul: binary("mul"),
  // With a roundingMode the result is piecewise constant: PyTorch's gradient is zero, which the
  // finite differences confirm away from the jumps.
  div: binary("div"),
  pow: binary("pow"),
  maximum: elementwiseExtreme("maximum"),
  minimum: elementwiseExtreme("minimum"),
  eq: compare("eq"),
  ne: compare("ne"),
  gt: compare("gt"),
  ge: compare("ge"),
  lt: compare("lt"),
  le: compare("le"),
  logicalAnd: { run: (i) => call(first(i), "logicalAnd", i[1]), differentiable: false },
  logicalOr: { run: (i) => call(first(i), "logicalOr", i[1]), differentiable: false },
  logicalXor: { run: (i) => call(first(i), "logicalXor", i[1]), differentiable: false },
  where: { run: (i) => torch.where(i[0] as Tensor<number[], "bool">, i[1] as never, i[2] as never) as AnyTensor, differentiable: true },

  // reductions
  sum: reduce("sum"),
  mean: reduce("mean"),
  logsumexp: reduce("logsumexp"),
  prod: reduce("prod"),
  max: extreme("max"),
  min: extreme("min"),
  amax: reduce("amax"),
  argmax: reduce("argmax", false),
  argmin: reduce("argmin", false),
  var: variance("var"),
  std: variance("std"),
  softmax: { run: (i, a) => call(first(i), "softmax", num(a, "dim")), differentiable: true },
  logSoftmax: { run: (i, a) => call(first(i), "logSoftmax", num(a, "dim")), differentiable: true },

  // matrix products
  matmul: { run: (i) => torch.matmul(i[0]!, i[1] as never) as AnyTensor, differentiable: true },
  mm: { run: (i) => torch.mm(i[0]!, i[1] as never) as AnyTensor, differentiable: true },
  bmm: { run: (i) => torch.bmm(i[0]!, i[1] as never) as AnyTensor, differentiable: true },

  // movement
  reshape: { run: (i, a) => call(first(i), "reshape", a.shape), differentiable: true },
  view: { run: (i, a) => call(first(i), "view", a.shape), differentiable: true },
  flatten: { run: (i, a) => call(first(i), "flatten", opt(a, "startDim"), opt(a, "endDim")), differentiable: true },
  transpose: { run: (i, a) => call(first(i), "transpose", a.dim0, a.dim1), differentiable: true },
  permute: { run: (i, a) => call(first(i), "permute", a.dims), differentiable: true },
  t: { run: (i) => call(first(i), "t"), differentiable: true },
  squeeze: { run: (i, a) => ("dim" in a ? call(first(i), "squeeze", a.dim) : call(first(i), "squeeze")), differentiable: true },
  unsqueeze: { run: (i, a) => call(first(i), "unsqueeze", a.dim), differentiable: true },
  expand: { run: (i, a) => call(first(i), "expand", a.shape), differentiable: true },
  contiguous: { run: (i) => first(i).contiguous(), differentiable: true },
  cat: { run: (i, a) => torch.cat(i as never, opt<number>(a, "dim")) as AnyTensor, differentiable: true },
  stack: { run: (i, a) => torch.stack(i as never, opt<number>(a, "dim")) as AnyTensor, differentiable: true },

  // indexing
  index: { run: (i, a) => call(first(i), "index", ...indexItems(a.indices as IndexItemJSON[])), differentiable: true },
  gather: { run: (i, a) => first(i).gather(num(a, "dim"), i[1] as Tensor<readonly number[], "int64">) as AnyTensor, differentiable: true },
  scatterAdd: { run: (i, a) => first(i).scatterAdd(num(a, "dim"), i[1] as Tensor<readonly number[], "int64">, i[2]!) as AnyTensor, differentiable: true },
  indexSelect: { run: (i, a) => first(i).indexSelect(num(a, "dim"), i[1] as Tensor<readonly number[], "int64">) as AnyTensor, differentiable: true },
  oneHot: { run: (i, a) => torch.oneHot(first(i) as Tensor<readonly number[], "int64">, opt<number>(a, "numClasses")) as AnyTensor, differentiable: false },

  // conversion: differentiable between float dtypes; gradcheck runs in float64, so only a
  // conversion to float64 keeps the finite differences meaningful (float32 would round them).
  to: { run: (i, a) => first(i).to(a.dtype as DType) as AnyTensor, differentiable: (a) => a.dtype === "float64" },

  // creation (no inputs)
  arange: {
    run: (_i, a) => {
      const o = dtypeOpt(a);
      if ("step" in a) return torch.arange(num(a, "start"), num(a, "end"), num(a, "step"), o) as AnyTensor;
      if ("start" in a) return torch.arange(num(a, "start"), num(a, "end"), o) as AnyTensor;
      return torch.arange(num(a, "end"), o) as AnyTensor;
    },
    differentiable: false,
  },
  linspace: { run: (_i, a) => torch.linspace(num(a, "start"), num(a, "end"), num(a, "steps"), dtypeOpt(a)) as AnyTensor, differentiable: false },
  eye: { run: (_i, a) => ("m" in a ? torch.eye(num(a, "n"), num(a, "m"), dtypeOpt(a)) : torch.eye(num(a, "n"), dtypeOpt(a))) as AnyTensor, differentiable: false },
  full: { run: (_i, a) => torch.full(a.size as number[], a.fillValue as number | boolean, dtypeOpt(a)) as AnyTensor, differentiable: false },
  zeros: { run: (_i, a) => torch.zeros(a.size as number[], dtypeOpt(a)) as AnyTensor, differentiable: false },
  ones: { run: (_i, a) => torch.ones(a.size as number[], dtypeOpt(a)) as AnyTensor, differentiable: false },
} satisfies Record<string, OpEntry>;

/** The ops of the table (and of the fixtures). */
export type OpName = keyof typeof OPS;

/** The table entry of an op (throws for an op the table lacks, so a new fixture op is noticed). */
export function entry(op: string): OpEntry {
  const e = (OPS as Record<string, OpEntry>)[op];
  if (!e) throw new Error(`ops.cases.ts has no entry for fixture op "${op}"`);
  return e;
}

/** Runs `op` on already built inputs. */
export function runOp(op: string, inputs: AnyTensor[], args: Args): OpResult {
  return entry(op).run(inputs, args);
}

/** Builds a case's inputs from its JSON and runs it. */
export function runCase(c: Pick<OpCase, "op" | "inputs" | "args">, opts: InputOptions = {}): OpResult {
  return runOp(c.op, buildInputs(c, opts), c.args);
}

/**
 * True when gradcheck runs the case: the op is differentiable in this form, some input is a
 * float tensor, and the output (the values, for max/min with a dim) is floating point.
 */
export function isDifferentiableCase(c: OpCase): boolean {
  const d = entry(c.op).differentiable;
  if (!(typeof d === "function" ? d(c.args) : d)) return false;
  if (!c.inputs.some((t) => isFloatDType(t.dtype))) return false;
  const out = Array.isArray(c.out) ? c.out[0]! : c.out;
  return isFloatDType(out.dtype);
}

