/**
 * The schedulers against PyTorch 1.13 (test/fixtures/optim.json): the lr of every group after
 * construction and after each of 100 epochs of `optimizer.step(); scheduler.step()`, alone and
 * chained; plus initialLr, getLastLr, lastEpoch, stateDict/loadStateDict, resuming and errors.
 */
import { describe, expect, it } from "vitest";
import { torch, ValueError } from "../../runtime/index.js";
import * as optim from "../../runtime/optim/index.js";
import { fixtures, mismatch, type SchedulerSpec } from "./fixture.js";

const { StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR, ChainedScheduler, LRScheduler } = optim.lrScheduler;

/** The twins of gen_optim.py's LAMBDAS. */
const LAMBDAS: Record<string, optim.lrScheduler.LrLambda> = {
  "pow0.95": (e) => 0.95 ** e,
  floorDiv30: (e) => Math.floor(e / 30),
  warmup10: (e) => Math.min(1.0, (e + 1) / 10),
};

const LR_TOL = { rel: 1e-12, abs: 1e-15 };

/** A dummy SGD optimizer with one group per lr (params that never get a gradient). */
function dummy(lrs: readonly number[]) {
  const groups = lrs.map((lr) => ({ params: [torch.zeros(2).requiresGrad_()], lr }));
  return optim.SGD(groups, { lr: lrs[0]! });
}

function make(opt: optim.Optimizer, spec: SchedulerSpec): optim.lrScheduler.LRScheduler {
  const o = spec.options as never;
  switch (spec.type) {
    case "StepLR":
      return StepLR(opt, o);
    case "MultiStepLR":
      return MultiStepLR(opt, o);
    case "ExponentialLR":
      return ExponentialLR(opt, o);
    case "CosineAnnealingLR":
      return CosineAnnealingLR(opt, o);
    case "LambdaLR": {
      const f = (spec.options as { lrLambda: string | string[] }).lrLambda;
      return LambdaLR(opt, { lrLambda: Array.isArray(f) ? f.map((n) => LAMBDAS[n]!) : LAMBDAS[f]! });
    }
  }
}

describe("schedulers match PyTorch over 100 epochs", () => {
  it("the fixture covers every scheduler and a chained pair", () => {
    const types = new Set(fixtures.schedulers.flatMap((c) => c.schedulers.map((s) => s.type)));
    expect([...types].sort()).toEqual(["CosineAnnealingLR", "ExponentialLR", "LambdaLR", "MultiStepLR", "StepLR"]);
    expect(fixtures.schedulers.some((c) => c.schedulers.length > 1)).toBe(true);
    for (const c of fixtures.schedulers) expect(c.history.length).toBe(fixtures.epochs + 1);
  });

  it.each(fixtures.schedulers.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const opt = dummy(c.lrs);
    const scheds = c.schedulers.map((s) => make(opt, s));
    const check = (epoch: number, got: number[]) => {
      const bad = mismatch(got, c.history[epoch]!, LR_TOL);
      expect(bad, `epoch ${epoch}: ${bad}`).toBeUndefined();
    };
    check(0, opt.paramGroups.map((g) => g.lr));
    for (let e = 1; e <= fixtures.epochs; e++) {
      opt.step();
      for (const s of scheds) s.step();
      check(e, scheds.at(-1)!.getLastLr());
      check(e, opt.paramGroups.map((g) => g.lr));
    }
    expect(scheds.map((s) => s.lastEpoch)).toEqual(c.lastEpochs);
  });

  it("ChainedScheduler steps a chained pair as stepping each does", () => {
    const c = fixtures.schedulers.find((x) => x.schedulers.length === 2)!;
    const opt = dummy(c.lrs);
    const chained = ChainedScheduler(c.schedulers.map((s) => make(opt, s)));
    expect(chained).toBeInstanceOf(ChainedScheduler);
    for (let e = 1; e <= fixtures.epochs; e++) {
      opt.step();
      chained.step();
      expect(mismatch(chained.getLastLr(), c.history[e]!, LR_TOL)).toBeUndefined();
    }
  });
});

describe("scheduler API", () => {
  it("sets initialLr in every group (once) and takes baseLrs from it", () => {
    const opt = dummy([0.1, 0.03]);
    const s = StepLR(opt, { stepSize: 2 });
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual([0.1, 0.03]);
    expect(s.baseLrs).toEqual([0.1, 0.03]);
    expect(s.lastEpoch).toBe(0);
    expect(s.getLastLr()).toEqual([0.1, 0.03]);
    opt.paramGroups[0]!.lr = 0.5; // a second scheduler keeps the first initialLr
    const s2 = ExponentialLR(opt, { gamma: 0.5 });
    expect(s2.baseLrs).toEqual([0.1, 0.03]);
  });

  it("works with and without new, and instanceof", () => {
    const opt = dummy([0.1]);
    const a = new StepLR(opt, { stepSize: 3 });
    const b = CosineAnnealingLR(opt, { tMax: 10 });
    expect(a).toBeInstanceOf(StepLR);
    expect(b).toBeInstanceOf(CosineAnnealingLR);
    expect(b).toBeInstanceOf(LRScheduler);
    expect(b instanceof StepLR).toBe(false);
  });

  it("carries an lr set by hand between steps (chainable form)", () => {
    const opt = dummy([0.1]);
    const s = ExponentialLR(opt, { gamma: 0.5 });
    opt.paramGroups[0]!.lr = 1;
    s.step();
    expect(opt.paramGroups[0]!.lr).toBe(0.5);
    expect(s.getLastLr()).toEqual([0.5]);
  });

  it("drives the optimizer's updates", () => {
    const w = torch.tensor([1.0], { requiresGrad: true, dtype: "float64" });
    const opt = optim.SGD([w], { lr: 1 });
    const s = StepLR(opt, { stepSize: 1, gamma: 0.5 });
    const seen: number[] = [];
    for (let e = 0; e < 3; e++) {
      const before = w.item();
      opt.zeroGrad();
      w.mul(1).sum().backward(); // grad 1
      opt.step();
      seen.push(before - w.item());
      s.step();
    }
    expect(seen).toEqual([1, 0.5, 0.25]);
  });

  it("stateDict / loadStateDict: a restored scheduler continues the same schedule", () => {
    const c = fixtures.schedulers.find((x) => x.id.startsWith("CosineAnnealingLR") && x.lrs.length === 2)!;
    const opt = dummy(c.lrs);
    const s = make(opt, c.schedulers[0]!);
    for (let e = 1; e <= 37; e++) {
      opt.step();
      s.step();
    }
    const saved = s.stateDict();
    expect(saved.lastEpoch).toBe(37);
    expect(saved._stepCount).toBe(38);
    expect(saved.tMax).toBe(10);
    expect("optimizer" in saved).toBe(false);
    expect(JSON.parse(JSON.stringify(saved))).toEqual(saved);
    // A fresh optimizer + scheduler, loaded with both state dicts.
    const opt2 = dummy(c.lrs);
    opt2.loadStateDict(opt.stateDict());
    const s2 = make(opt2, c.schedulers[0]!);
    s2.loadStateDict(saved);
    expect(s2.lastEpoch).toBe(37);
    expect(s2.getLastLr()).toEqual(s.getLastLr());
    for (let e = 38; e <= fixtures.epochs; e++) {
      opt2.step();
      s2.step();
      expect(mismatch(s2.getLastLr(), c.history[e]!, LR_TOL)).toBeUndefined();
    }
  });

  it("LambdaLR saves its functions as nulls and keeps them on load", () => {
    const opt = dummy([0.1, 0.03]);
    const f = (e: number) => 1 / (e + 1);
    const s = LambdaLR(opt, { lrLambda: [f, f] });
    s.step();
    const saved = s.stateDict();
    expect(saved.lrLambdas).toEqual([null, null]);
    const s2 = LambdaLR(dummy([0.1, 0.03]), { lrLambda: (e) => e });
    s2.loadStateDict(saved);
    s2.step();
    expect(s2.getLastLr()).toEqual([0.1 * 2, 0.03 * 2]); // its own lambda, epoch 2
  });

  it("MultiStepLR counts repeated milestones and keeps them sorted", () => {
    const opt = dummy([1]);
    const s = MultiStepLR(opt, { milestones: [3, 1, 1], gamma: 0.5 });
    expect(s.milestones).toEqual([1, 1, 3]);
    const lrs = [1, 2, 3].map(() => (s.step(), s.getLastLr()[0]));
    expect(lrs).toEqual([0.25, 0.25, 0.125]);
  });

  it("resumes with lastEpoch when the groups have initialLr", () => {
    const opt = dummy([0.1]);
    expect(() => CosineAnnealingLR(opt, { tMax: 10, lastEpoch: 4 })).toThrow(/initialLr/);
    opt.paramGroups[0]!.initialLr = 0.1;
    const s = CosineAnnealingLR(opt, { tMax: 10, lastEpoch: 4 });
    expect(s.lastEpoch).toBe(5);
    // Resuming takes the closed form at the first step, as PyTorch.
    expect(s.getLastLr()[0]).toBeCloseTo((0.1 * (1 + Math.cos((5 * Math.PI) / 10))) / 2, 15);
  });

  it("rejects bad arguments", () => {
    const opt = dummy([0.1, 0.03]);
    expect(() => StepLR({} as never, { stepSize: 1 })).toThrow(ValueError);
    expect(() => StepLR(opt, { stepSize: 0 })).toThrow("StepLR: stepSize must be a positive integer, got stepSize=0");
    expect(() => StepLR(opt, { stepSize: 2, gamma: Number.NaN })).toThrow("StepLR: gamma must be a finite number, got gamma=NaN");
    expect(() => StepLR(opt, { step_size: 2 } as never)).toThrow(/unknown option "step_size"/);
    expect(() => MultiStepLR(opt, { milestones: [1.5] })).toThrow(/milestones must be an array of integers/);
    expect(() => CosineAnnealingLR(opt, { tMax: 0 })).toThrow("CosineAnnealingLR: tMax must be a finite number > 0, got tMax=0");
    expect(() => LambdaLR(opt, { lrLambda: [(e) => e] })).toThrow("LambdaLR: lrLambda must be one function or one per param group (2), got 1 functions");
    expect(() => LambdaLR(opt, { lrLambda: 3 as never })).toThrow(/must be a function/);
    expect(() => StepLR(opt, { stepSize: 2, lastEpoch: -2 })).toThrow(/lastEpoch must be an integer >= -1/);
    const s = StepLR(opt, { stepSize: 2 });
    expect(() => s.loadStateDict({ ...s.stateDict(), bogus: 1 })).toThrow(/unknown key "bogus"/);
    expect(() => ChainedScheduler([])).toThrow(ValueError);
    expect(() => ChainedScheduler([s, StepLR(dummy([1]), { stepSize: 1 })])).toThrow(/one optimizer/);
  });
});
