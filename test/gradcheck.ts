/**
 * The float64 finite-difference gradient check the tests share: the loss is `Σ f(xs) · w` with
 * fixed pseudo-random weights `w` (so every output element's path counts with its own weight),
 * the analytic gradient comes from autograd, the numeric one from central differences.
 */
import { expect } from "vitest";
import { type DType, type Tensor, torch } from "typetorch";

type AnyTensor = Tensor<readonly number[], DType>;

/** Deterministic values in [-1, 1) (mulberry32), so a failure reproduces. */
export function mulberry(n: number, seed: number): Float64Array {
  let a = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** An element whose analytic and numeric gradients disagree. */
export interface Mismatch {
  input: number;
  element: number;
  analytic: number;
  numeric: number;
}

export interface GradcheckOptions {
  /** The inputs to differentiate (default: all). */
  readonly wrt?: readonly number[];
  /** Seed of the weights `w`. */
  readonly seed: number;
  /** Step of the central differences. */
  readonly eps: number;
  /** Whether an analytic/numeric pair agrees; `scale` is `max(1, |loss|)`. */
  readonly agree: (analytic: number, numeric: number, scale: number) => boolean;
}

/**
 * Checks the gradient of `Σ f(xs) · w` with respect to the inputs `wrt` (float64 tensors); returns
 * the elements where autograd and central differences disagree (empty: they agree).
 */
export function gradientMismatches(f: (xs: AnyTensor[]) => AnyTensor, xs: readonly AnyTensor[], o: GradcheckOptions): Mismatch[] {
  const wrt = o.wrt ?? xs.map((_, k) => k);
  const leaves = xs.map((x, k) => (wrt.includes(k) ? (x.detach().clone().requiresGrad_() as AnyTensor) : x));
  const out = f(leaves);
  expect(out.dtype, "gradcheck needs a float64 result").toBe("float64");
  expect(out.requiresGrad, "the result must be tracked by autograd").toBe(true);
  const w = mulberry(out.numel(), o.seed);
  out.mul(torch.tensor(w, { dtype: "float64" }).reshape(out.shape as number[]) as never).sum().backward();
  // Σ out·w in plain float64 JS arithmetic
  const loss = (ys: AnyTensor[]): number => {
    const d = torch.noGrad(() => f(ys)).data() as Float64Array;
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i]! * w[i]!;
    return s;
  };
  const base = xs.map((t) => Float64Array.from(t.data() as ArrayLike<number>));
  const at = (k: number, j: number, h: number): number => {
    const vals = Float64Array.from(base[k]!);
    vals[j] = vals[j]! + h;
    return loss(xs.map((t, i) => (i === k ? (torch.tensor(vals, { dtype: t.dtype }).reshape(t.shape as number[]) as AnyTensor) : t)));
  };
  const scale = Math.max(1, Math.abs(loss([...xs])));
  const bad: Mismatch[] = [];
  for (const k of wrt) {
    const g = leaves[k]!.grad;
    expect(g, `input ${k} got no gradient`).not.toBeNull();
    expect(g!.shape).toEqual(xs[k]!.shape);
    const ga = g!.data() as Float64Array;
    for (let j = 0; j < base[k]!.length; j++) {
      const numeric = (at(k, j, o.eps) - at(k, j, -o.eps)) / (2 * o.eps);
      if (!o.agree(ga[j]!, numeric, scale)) bad.push({ input: k, element: j, analytic: ga[j]!, numeric });
    }
  }
  return bad;
}
