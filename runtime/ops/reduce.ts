import type { AnyTensor } from "../tensorTypes.js";
import { reduceShape } from "../../types/reduce.js";
import { ValueError } from "../../types/errors.js";
import { needsGrad, record } from "../autograd.js";
import type { DType } from "../dtype.js";
import { Tensor } from "../Tensor.js";
import { whereOp } from "./binary.js";
import { type ReduceOpDef, reduceOp, runReduce } from "./defineOp.js";

const sumDtype = (d: DType): DType => (d === "float32" || d === "float64" ? d : "int64");
const noBool = (op: string) => (d: DType) => (d === "bool" ? `${op} is not supported for bool tensors, got dtype bool` : undefined);

/** Re-inserts reduced dims (as 1) so a reduced gradient broadcasts back over the input. */
export function keepDims(g: AnyTensor, shape: readonly number[], dims: readonly number[], keepdim: boolean): AnyTensor {
  if (keepdim || dims.length === 0) return g;
  const kept = shape.map((s, i) => (dims.includes(i) ? 1 : s));
  return g.reshape(kept);
}

/** Sum. Backward: the gradient broadcast back over the reduced dims. */
export const sum = reduceOp({
  name: "sum", gradName: "SumBackward1", dtype: sumDtype,
  js: () => ({ init: "0", update: "acc += a", final: "acc" }),
  wgsl: () => ({ init: "0", update: "acc = acc + a", final: "acc" }),
  backward: (g, [x]) => [g.expand(x!.shape)],
});

/** Product. Backward: product of the others (exact where some inputs are zero). */
export const prod = reduceOp({
  name: "prod", gradName: "ProdBackward1", dtype: sumDtype,
  js: () => ({ init: "1", update: "acc *= a", final: "acc" }),
  wgsl: () => ({ init: "1", update: "acc = acc * a", final: "acc" }),
  backward: null, // prodOp records its own backward: it needs the reduction dims.
});

const extreme = (name: string, cmp: ">" | "<", init: string, withIndex: boolean, final: string): ReduceOpDef =>
  reduceOp({
    name, gradName: name === "max" ? "MaxBackward0" : "MinBackward0",
    dtype: withIndex && final === "idx" ? () => "int64" : (d) => d,
    rejects: final === "idx" ? noBool(name) : undefined,
    // NaN wins and stays (PyTorch propagates NaN); ties keep the first index.
    js: () => ({ init, update: `if (acc === acc && (a ${cmp} acc || a !== a)) { acc = a; idx = k; }`, final, withIndex }),
    // MIN / MAX: the WGSL kernel's lowest / highest value of the element type.
    wgsl: (d) => ({
      init: init === "-Infinity" ? "MIN" : "MAX",
      update: d === "float32" ? `if (!tt_isnan(acc) && (a ${cmp} acc || tt_isnan(a))) { acc = a; idx = k; }` : `if (a ${cmp} acc) { acc = a; idx = k; }`,
      final, withIndex,
    }),
    backward: null, // recorded by maxOp/minOp, which hold the indices
  });

/** Max / min with their indices; argmax / argmin. */
export const max = extreme("max", ">", "-Infinity", true, "acc");
/** See {@link max}. */
export const min = extreme("min", "<", "Infinity", true, "acc");
/** See {@link max}. */
export const argmax = extreme("argmax", ">", "-Infinity", true, "idx");
/** See {@link max}. */
export const argmin = extreme("argmin", "<", "Infinity", true, "idx");

/** `x.sum(dims, keepdim)`. */
export function sumOp(x: AnyTensor, dims: number | readonly number[] | undefined, keepdim: boolean, op = "sum"): AnyTensor {
  const plan = reduceShape(op, x.shape, dims, keepdim);
  const [out] = runReduce(sum, x, plan.dims, plan.out);
  if (needsGrad([x])) record(out, sum.gradName, [x], (g) => [keepDims(g, x.shape, plan.dims, keepdim || dims === undefined).expand(x.shape)]);
  return out;
}

/** `x.prod(dim, keepdim)`. */
export function prodOp(x: AnyTensor, dim: number | undefined, keepdim: boolean): AnyTensor {
  const plan = reduceShape("prod", x.shape, dim, keepdim);
  const [out] = runReduce(prod, x, plan.dims, plan.out);
  if (needsGrad([x])) {
    record(out, prod.gradName, [x], (g) => {
      const zero = x.eq(0);
      const nz = whereOp(zero, 1, x);
      const prodNz = nz.prod(dim, true);
      const zeros = zero.sum(plan.dims, true);
      const o = keepDims(out, x.shape, plan.dims, keepdim || dim === undefined);
      const gk = keepDims(g, x.shape, plan.dims, keepdim || dim === undefined);
      // No zero: out / x. One zero: the product of the others at the zero, 0 elsewhere. More: 0.
      const noZero = o.div(nz).mul(zeros.eq(0));
      const oneZero = prodNz.mul(zero).mul(zeros.eq(1));
      return [gk.mul(noZero.add(oneZero))];
    });
  }
  return out;
}

/** Values and indices of `max(dim)` / `min(dim)`: a pair that also has `.values` and `.indices`. */
export type ValuesIndices<V, I> = [V, I] & { readonly values: V; readonly indices: I };

function emptyCheck(op: string, x: AnyTensor, dim: number | undefined): void {
  if (x.numel() === 0) throw new ValueError(`${op}: expected a non-empty tensor${dim === undefined ? "" : ` along dim ${dim}`}, got shape [${x.shape.join(", ")}]`);
}

/** `x.max()` / `x.max(dim, keepdim)` (and min). */
export function extremeOp(which: "max" | "min", x: AnyTensor, dim: number | undefined, keepdim: boolean): AnyTensor | ValuesIndices<AnyTensor, Tensor> {
  emptyCheck(which, x, dim);
  const def = which === "max" ? max : min;
  const plan = reduceShape(which, x.shape, dim, keepdim);
  const [values, indices] = runReduce(def, x, plan.dims, plan.out);
  if (dim === undefined) {
    if (needsGrad([x])) {
      record(values, def.gradName, [x], (g) => {
        const hit = x.eq(values);
        return [hit.mul(g).div(hit.sum())];
      });
    }
    return values;
  }
  if (needsGrad([x])) {
    record(values, def.gradName, [x], (g) => {
      const gi = keepDims(g, x.shape, plan.dims, keepdim);
      const ii = keepDims(indices!, x.shape, plan.dims, keepdim);
      return [Tensor._zeros([...x.shape], g.dtype, g.device).scatterAdd(plan.dims[0]!, ii as never, gi)];
    });
  }
  const pair = [values, indices!] as ValuesIndices<AnyTensor, Tensor>;
  Object.defineProperties(pair, { values: { value: values }, indices: { value: indices } });
  return pair;
}

/** `x.argmax(dim, keepdim)` / `x.argmin(...)`: int64 indices of the first extreme (of the flattened x without dim). */
export function argOp(which: "argmax" | "argmin", x: AnyTensor, dim: number | undefined, keepdim: boolean): AnyTensor {
  emptyCheck(which, x, dim);
  const def = which === "argmax" ? argmax : argmin;
  if (dim === undefined) {
    const [out] = runReduce(def, x.reshape([-1]), [0], keepdim ? x.shape.map(() => 1) : []);
    return out;
  }
  const plan = reduceShape(which, x.shape, dim, keepdim);
  return runReduce(def, x, plan.dims, plan.out)[0];
}
