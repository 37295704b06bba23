/**
 * test/fixtures/optim.json (written by test/fixtures/gen_optim.py from PyTorch 1.13) and the
 * problem its optimizer trajectories were computed on, rebuilt with typetorch.
 */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { type DType, Tensor, torch } from "../../runtime/index.js";
import * as optim from "../../runtime/optim/index.js";

export type AnyTensor = Tensor<readonly number[], DType>;
export type FloatDType = "float32" | "float64";

export interface TensorJSON {
  shape: number[];
  dtype: FloatDType;
  data: number[];
}

export interface OptimizerCase {
  id: string;
  optimizer: "SGD" | "Adam" | "AdamW";
  dtype: FloatDType;
  options: Record<string, unknown>;
  groups?: ({ params: string[] } & Record<string, unknown>)[];
  losses: number[];
  trajectory: Record<string, number[]>[];
}

export interface SchedulerSpec {
  type: "StepLR" | "MultiStepLR" | "ExponentialLR" | "CosineAnnealingLR" | "LambdaLR";
  options: Record<string, unknown>;
}

export interface SchedulerCase {
  id: string;
  schedulers: SchedulerSpec[];
  lrs: number[];
  lastEpochs: number[];
  history: number[][];
}

export const fixtures = JSON.parse(readFileSync(new URL("../fixtures/optim.json", import.meta.url), "utf8")) as {
  generator: string;
  torch: string;
  steps: number;
  epochs: number;
  problem: Record<FloatDType, { params: Record<string, TensorJSON>; paramOrder: string[]; x: TensorJSON; y: TensorJSON }>;
  optimizers: OptimizerCase[];
  schedulers: SchedulerCase[];
};

/** A tensor from its JSON form. */
export function fromJSON(t: TensorJSON, requiresGrad = false): AnyTensor {
  const data = t.dtype === "float64" ? Float64Array.from(t.data) : Float32Array.from(t.data);
  const out = torch.tensor(data, { dtype: t.dtype }).reshape(t.shape) as AnyTensor;
  return requiresGrad ? out.requiresGrad_() : out;
}

/** The fixture's problem: fresh leaf parameters w, b, u (u never gets a gradient), and the loss. */
export function problem(dtype: FloatDType) {
  const p = fixtures.problem[dtype];
  const params: Record<string, AnyTensor> = {};
  for (const k of p.paramOrder) params[k] = fromJSON(p.params[k]!, true);
  const x = fromJSON(p.x);
  const y = fromJSON(p.y);
  /** `sum((w * x - y) ** 2) + sum(b ** 3)`, as gen_optim.py's loss_fn. */
  const loss = (): AnyTensor => {
    const w = params.w!;
    const b = params.b!;
    return (w.mul(x).sub(y).pow(2).sum() as AnyTensor).add(b.pow(3).sum()) as AnyTensor;
  };
  return { params, order: p.paramOrder, list: p.paramOrder.map((k) => params[k]!), loss };
}

/** Relative + absolute tolerance per dtype for trajectories (see the README section). */
export const TOL: Record<FloatDType, { rel: number; abs: number }> = {
  float32: { rel: 1e-6, abs: 1e-7 },
  float64: { rel: 1e-12, abs: 1e-14 },
};

/** The first element where `got` and `want` differ beyond `tol`, described; undefined if none. */
export function mismatch(got: ArrayLike<number>, want: readonly number[], tol: { rel: number; abs: number }): string | undefined {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!(Math.abs(g - w) <= tol.abs + tol.rel * Math.abs(w))) return `element ${i}: got ${g}, want ${w} (rel err ${(Math.abs(g - w) / Math.abs(w)).toExponential(2)})`;
  }
  return undefined;
}

/** Builds the case's optimizer over a fresh problem. */
export function build(c: OptimizerCase) {
  const prob = problem(c.dtype);
  const params: Iterable<AnyTensor> | optim.ParamGroupInput[] = c.groups
    ? c.groups.map(({ params, ...rest }) => ({ params: params.map((k) => prob.params[k]!), ...rest }))
    : prob.list;
  const ctor = { SGD: optim.SGD, Adam: optim.Adam, AdamW: optim.AdamW }[c.optimizer] as (p: unknown, o: unknown) => optim.Optimizer;
  return { prob, opt: ctor(params, c.options) };
}

/** Runs `steps` steps from `from` (0-based) and checks each against the fixture. */
export function runAndCheck(c: OptimizerCase, prob: ReturnType<typeof problem>, opt: optim.Optimizer, from: number, to: number): void {
  for (let s = from; s < to; s++) {
    opt.zeroGrad();
    prob.loss().backward();
    opt.step();
    for (const k of prob.order) {
      const bad = mismatch(prob.params[k]!.data() as Float32Array, c.trajectory[s]![k]!, TOL[c.dtype]);
      expect(bad, `${c.id}: step ${s + 1}, param ${k}: ${bad}`).toBeUndefined();
    }
  }
}
