/**
 * The optimizer API around the update rules: construction (iterables, generators, param groups,
 * `new` or not, instanceof), PyTorch's errors, zeroGrad in both modes, `paramGroups[i].lr`
 * writes, stateDict / loadStateDict (a loaded fresh optimizer continues PyTorch's trajectory),
 * addParamGroup, closures, and "a failed step changes no weight".
 */
import { describe, expect, it } from "vitest";
import { torch, ValueError } from "../../runtime/index.js";
import * as optim from "../../runtime/optim/index.js";
import { type AnyTensor, build, fixtures, problem, runAndCheck } from "./fixture.js";

const f32 = (v: number[]) => torch.tensor(v, { dtype: "float32" }).requiresGrad_() as AnyTensor;
const snapshot = (ts: AnyTensor[]) => ts.map((t) => Array.from(t.data() as Float32Array));

describe("construction", () => {
  it("takes an array, a generator (model.parameters()) or param groups, with or without new", () => {
    const a = f32([1, 2]);
    const b = f32([3]);
    function* parameters() {
      yield a;
      yield b;
    }
    const s1 = optim.SGD(parameters(), { lr: 0.1 });
    const s2 = new optim.SGD([a, b], 0.1); // lr given positionally, as PyTorch's SGD(params, 0.1)
    const s3 = optim.SGD([{ params: [a] }, { params: b, lr: 0.01 }], { lr: 0.1, momentum: 0.9 });
    for (const s of [s1, s2, s3]) {
      expect(s).toBeInstanceOf(optim.SGD);
      expect(s).toBeInstanceOf(optim.SGDOptimizer);
      expect(s).toBeInstanceOf(optim.Optimizer);
      expect(s instanceof optim.Adam).toBe(false);
    }
    expect(s1.paramGroups[0]!.params).toEqual([a, b]);
    expect(s3.paramGroups.map((g) => [g.lr, g.momentum, g.params.length])).toEqual([
      [0.1, 0.9, 1],
      [0.01, 0.9, 1],
    ]);
    expect(s1.paramGroups[0]).toMatchObject({ lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false });
    const adam = optim.Adam([a]);
    const adamw = new optim.AdamW([b]);
    expect(adam).toBeInstanceOf(optim.Adam);
    expect(adam instanceof optim.AdamW).toBe(false);
    expect(adamw).toBeInstanceOf(optim.AdamW);
    expect(adam.paramGroups[0]).toMatchObject({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false });
    expect(adamw.paramGroups[0]!.weightDecay).toBe(1e-2);
  });

  it("is typed: shaped tensors are accepted, lr is required for SGD over bare tensors", () => {
    const w = torch.zeros(2, 3).requiresGrad_();
    const b = torch.zeros(3, { dtype: "float64" }).requiresGrad_();
    const s: optim.SGD = optim.SGD([w, b], { lr: 0.1 });
    const a: optim.Adam = optim.Adam([w]);
    const m: optim.AdamW = optim.AdamW([{ params: [w], weightDecay: 0.1 }], { lr: 1e-2 });
    const g: optim.SGD = optim.SGD([{ params: [w], lr: 0.1 }]); // every group has an lr
    // @ts-expect-error SGD needs an lr when given bare tensors
    expect(() => optim.SGD([w], {})).toThrow(/lr is required/);
    // @ts-expect-error options are camelCase
    expect(() => optim.Adam([w], { weight_decay: 0 })).toThrow(/unknown option/);
    // @ts-expect-error a single tensor is not an iterable of tensors
    expect(() => optim.SGD(w, { lr: 0.1 })).toThrow(/single Tensor/);
    expect([s, a, m, g].every((o) => o instanceof optim.Optimizer)).toBe(true);
  });

  it("can be subclassed", () => {
    class Mine extends optim.SGD {}
    const m = new Mine([f32([1])], { lr: 1 });
    expect(m).toBeInstanceOf(optim.SGD);
    expect(m).toBeInstanceOf(Mine);
  });

  it("prints as PyTorch", () => {
    const s = optim.SGD([f32([1])], { lr: 0.1, momentum: 0.9 });
    expect(String(s)).toBe("SGD (\nParameter Group 0\n    dampening: 0\n    lr: 0.1\n    maximize: false\n    momentum: 0.9\n    nesterov: false\n    weightDecay: 0\n)");
  });
});

describe("errors (as PyTorch 1.13)", () => {
  const p = () => [f32([1, 2])];
  it("SGD", () => {
    expect(() => optim.SGD(p(), { lr: -1 })).toThrow("SGD: lr must be a finite number >= 0, got lr=-1");
    expect(() => optim.SGD(p(), { lr: Number.NaN })).toThrow("SGD: lr must be a finite number >= 0, got lr=NaN");
    expect(() => optim.SGD(p(), { lr: Infinity })).toThrow(ValueError);
    expect(() => optim.SGD(p(), { lr: 0.1, momentum: -0.5 })).toThrow("SGD: momentum must be a finite number >= 0, got momentum=-0.5");
    expect(() => optim.SGD(p(), { lr: 0.1, weightDecay: -1 })).toThrow("SGD: weightDecay must be a finite number >= 0, got weightDecay=-1");
    expect(() => optim.SGD(p(), { lr: 0.1, nesterov: true })).toThrow("SGD: nesterov requires momentum > 0 and dampening = 0, got momentum=0, dampening=0");
    expect(() => optim.SGD(p(), { lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(
      "SGD: nesterov requires momentum > 0 and dampening = 0, got momentum=0.9, dampening=0.1",
    );
    expect(() => optim.SGD(p(), {} as never)).toThrow("SGD: lr is required (in the options or in every param group), got none (param group 0)");
    expect(() => optim.SGD(p(), { lr: 0.1, weight_decay: 1 } as never)).toThrow(/SGD: unknown option "weight_decay"/);
    // A group's own options are validated too.
    expect(() => optim.SGD([{ params: p(), lr: -1 }], { lr: 0.1 })).toThrow("SGD: lr must be a finite number >= 0, got lr=-1 (param group 0)");
  });

  it("Adam / AdamW", () => {
    expect(() => optim.Adam(p(), { lr: -1 })).toThrow("Adam: lr must be a finite number >= 0, got lr=-1");
    expect(() => optim.Adam(p(), { eps: -1 })).toThrow("Adam: eps must be a finite number >= 0, got eps=-1");
    expect(() => optim.Adam(p(), { betas: [1, 0.999] })).toThrow("Adam: betas[0] must be in [0, 1), got betas[0]=1");
    expect(() => optim.Adam(p(), { betas: [0.9, -0.1] })).toThrow("Adam: betas[1] must be in [0, 1), got betas[1]=-0.1");
    expect(() => optim.AdamW(p(), { weightDecay: -1 })).toThrow("AdamW: weightDecay must be a finite number >= 0, got weightDecay=-1");
    expect(() => optim.AdamW(p(), { amsgrad: 1 as never })).toThrow("AdamW: amsgrad must be true or false, got amsgrad=1");
  });

  it("params", () => {
    const a = f32([1]);
    expect(() => optim.SGD([], { lr: 0.1 })).toThrow("SGD: the optimizer got an empty parameter list, got []");
    expect(() => optim.SGD(a as never, { lr: 0.1 })).toThrow(/got a single Tensor/);
    expect(() => optim.SGD([a, a], { lr: 0.1 })).toThrow("SGD: a parameter may appear only once, got the tensor at index 1 twice (param group 0)");
    expect(() => optim.SGD([{ params: [a] }, { params: [a] }], { lr: 0.1 })).toThrow(/may belong to one param group only/);
    expect(() => optim.SGD([a.mul(2)], { lr: 0.1 })).toThrow(/can't optimize a non-leaf tensor, got a tensor made by MulBackward0/);
    expect(() => optim.SGD([1, 2] as never, { lr: 0.1 })).toThrow(ValueError);
  });
});

describe("zeroGrad", () => {
  function withGrads() {
    const w = f32([1, 2]);
    const b = f32([3]);
    w.mul(b).sum().backward();
    return { w, b, opt: optim.SGD([w, b], { lr: 0.1 }) };
  }
  it("zeroes the gradients in place by default (PyTorch 1.13)", () => {
    const { w, b, opt } = withGrads();
    const gw = w.grad!;
    opt.zeroGrad();
    expect(w.grad).toBe(gw);
    expect(w.grad!.toArray()).toEqual([0, 0]);
    expect(b.grad!.toArray()).toEqual([0]);
    expect(w.grad!.requiresGrad).toBe(false);
  });
  it("sets them to null with setToNone (also positional)", () => {
    const { w, b, opt } = withGrads();
    opt.zeroGrad({ setToNone: true });
    expect(w.grad).toBeNull();
    expect(b.grad).toBeNull();
    const again = withGrads();
    again.opt.zeroGrad(true);
    expect(again.w.grad).toBeNull();
  });
  it("a zero grad still moves weights through weight decay; a null grad skips the param", () => {
    const w = f32([1]);
    const opt = optim.SGD([w], { lr: 0.5, weightDecay: 1 });
    opt.step(); // grad null: skipped
    expect(w.item()).toBe(1);
    expect(opt.state.size).toBe(0);
    w.mul(0).sum().backward(); // grad 0
    opt.step();
    expect(w.item()).toBe(0.5);
  });
});

describe("step", () => {
  it("paramGroups[i].lr = ... takes effect at the next step", () => {
    const w = f32([1]);
    const opt = optim.SGD([w], { lr: 0.5 });
    w.mul(1).sum().backward();
    opt.step();
    expect(w.item()).toBe(0.5);
    opt.paramGroups[0]!.lr = 0.25;
    opt.step();
    expect(w.item()).toBe(0.25);
  });

  it("runs a closure with grad enabled and returns its loss", () => {
    const w = f32([2]);
    const opt = optim.SGD([w], { lr: 0.1 });
    const loss = torch.noGrad(() =>
      opt.step(() => {
        opt.zeroGrad();
        const l = w.mul(w).sum();
        l.backward();
        return l;
      }),
    );
    expect(loss!.item()).toBe(4);
    expect(w.item()).toBeCloseTo(2 - 0.1 * 4, 6);
  });

  it("a failed step changes no weight and no state", () => {
    const c = fixtures.optimizers.find((x) => x.optimizer === "Adam" && x.dtype === "float32" && x.options.amsgrad)!;
    const { prob, opt } = build(c);
    runAndCheck(c, prob, opt, 0, 2);
    prob.loss().backward();
    const before = snapshot(prob.list);
    const stateBefore = [...opt.state.values()].map((s) => Object.values(s).map((t) => Array.from((t as AnyTensor).data() as Float32Array)));
    // An invalid lr in the second group is found before anything moves.
    const bad = optim.Adam([{ params: [prob.params.w!] }, { params: [prob.params.b!], lr: 0.1 }]);
    prob.params.w!.grad = torch.ones(2, 3) as AnyTensor;
    prob.params.b!.grad = torch.ones(3) as AnyTensor;
    bad.paramGroups[1]!.lr = Number.NaN;
    expect(() => bad.step()).toThrow("Adam.step: lr must be a finite number >= 0, got lr=NaN (param group 1)");
    expect(bad.state.size).toBe(0);
    // A gradient of the wrong shape (b's) is found before w is updated.
    prob.params.b!.grad = torch.ones(2) as AnyTensor;
    expect(() => opt.step()).toThrow("Adam.step: a gradient must have its parameter's shape [3], got [2] for the parameter at index 1 of param group 0");
    prob.params.b!.grad = torch.ones(3, { dtype: "float64" }) as AnyTensor;
    expect(() => opt.step()).toThrow(/a gradient must have its parameter's floating point dtype float32, got float64/);
    (opt as optim.AdamOptimizer).paramGroups[0]!.betas = [0.9, 1];
    prob.params.b!.grad = torch.ones(3) as AnyTensor;
    expect(() => opt.step()).toThrow("Adam.step: betas[1] must be in [0, 1), got betas[1]=1 (param group 0)");
    expect(snapshot(prob.list)).toEqual(before);
    expect([...opt.state.values()].map((s) => Object.values(s).map((t) => Array.from((t as AnyTensor).data() as Float32Array)))).toEqual(stateBefore);
  });

  it("SGD keeps a momentum buffer per param (null without momentum), Adam its moments", () => {
    const { prob, opt } = build(fixtures.optimizers.find((x) => x.optimizer === "SGD" && x.options.momentum && !x.groups)!);
    prob.loss().backward();
    opt.step();
    const s = opt.state.get(prob.params.w!) as optim.SGDState;
    expect(s.momentumBuffer!.shape).toEqual([2, 3]);
    const plain = optim.SGD([prob.params.w!], { lr: 0.1 });
    plain.step();
    expect(plain.state.get(prob.params.w!)).toEqual({ momentumBuffer: null });
    const adam = optim.Adam([prob.params.w!], { amsgrad: true });
    adam.step();
    adam.step();
    const st = adam.state.get(prob.params.w!)!;
    expect(st.step.item()).toBe(2);
    expect(st.step.dtype).toBe("float32");
    expect(Object.keys(st).sort()).toEqual(["expAvg", "expAvgSq", "maxExpAvgSq", "step"]);
  });
});

describe("stateDict / loadStateDict", () => {
  const pick = (o: string, pred: (c: (typeof fixtures.optimizers)[number]) => boolean) => fixtures.optimizers.find((c) => c.optimizer === o && pred(c))!;
  const cases = [
    pick("SGD", (c) => c.dtype === "float32" && !!c.options.nesterov && !!c.options.weightDecay),
    pick("SGD", (c) => c.dtype === "float64" && !!c.groups),
    pick("Adam", (c) => c.dtype === "float32" && !!c.groups),
    pick("Adam", (c) => c.dtype === "float64" && !!c.options.amsgrad && !!c.options.maximize),
    pick("AdamW", (c) => c.dtype === "float32" && !!c.options.amsgrad),
  ];

  it.each(cases.map((c) => [c.id, c] as const))("a fresh optimizer loaded after 3 steps continues PyTorch's trajectory: %s", (_id, c) => {
    const { prob, opt } = build(c);
    runAndCheck(c, prob, opt, 0, 3);
    const saved = opt.stateDict();
    // PyTorch's structure: state by parameter index, groups with indices instead of tensors.
    expect(Object.keys(saved).sort()).toEqual(["paramGroups", "state"]);
    expect(saved.paramGroups.flatMap((g) => g.params)).toEqual([0, 1, 2].slice(0, saved.paramGroups.flatMap((g) => g.params).length));
    expect(Object.keys(saved.state).length).toBe(2); // w and b; u never had a grad
    // The same weights in a fresh problem, and a fresh optimizer (other options) loaded with the state.
    const fresh = problem(c.dtype);
    for (const k of fresh.order) torch.noGrad(() => fresh.params[k]!.copy_(prob.params[k]!));
    const groups = c.groups ? c.groups.map(({ params }) => ({ params: params.map((k) => fresh.params[k]!) })) : fresh.list;
    const ctor = { SGD: optim.SGD, Adam: optim.Adam, AdamW: optim.AdamW }[c.optimizer] as (p: unknown, o: unknown) => optim.Optimizer;
    const opt2 = ctor(groups, { lr: 123 });
    opt2.loadStateDict(saved as never);
    expect(opt2.paramGroups.map((g) => g.lr)).toEqual(opt.paramGroups.map((g) => g.lr));
    runAndCheck(c, fresh, opt2, 3, fixtures.steps);
    // The loaded state was copied: the first optimizer's state is untouched by the second's steps.
    runAndCheck(c, prob, opt, 3, fixtures.steps);
  });

  it("casts loaded floating state to the parameter's dtype (not step), accepts a numeric step", () => {
    const w = torch.tensor([1, 2], { dtype: "float64" }).requiresGrad_() as AnyTensor;
    const opt = optim.Adam([w]);
    opt.loadStateDict({
      state: { 0: { step: 3 as never, expAvg: torch.ones(2), expAvgSq: torch.ones(2) } },
      paramGroups: [{ ...opt.stateDict().paramGroups[0]!, lr: 0.5 }],
    });
    const s = opt.state.get(w)!;
    expect(s.expAvg.dtype).toBe("float64");
    expect(s.step.dtype).toBe("float32");
    expect(s.step.item()).toBe(3);
    expect(opt.paramGroups[0]!.lr).toBe(0.5);
    expect(opt.paramGroups[0]!.params[0]).toBe(w);
  });

  it("rejects a state dict that does not fit, changing nothing", () => {
    const a = f32([1, 2]);
    const b = f32([3]);
    const opt = optim.SGD([a, b], { lr: 0.1, momentum: 0.9 });
    a.mul(b).sum().backward();
    opt.step();
    const saved = opt.stateDict();
    const other = optim.SGD([{ params: [a] }, { params: [b] }], { lr: 0.1 });
    expect(() => other.loadStateDict(saved)).toThrow("SGD.loadStateDict: the state dict must have as many param groups as the optimizer (2), got 1");
    const small = optim.SGD([a], { lr: 0.1 });
    expect(() => small.loadStateDict(saved)).toThrow("SGD.loadStateDict: param group 0 must have 1 params as in the optimizer, got 2");
    const swapped = optim.SGD([b, a], { lr: 0.1 });
    expect(() => swapped.loadStateDict(saved)).toThrow("SGD.loadStateDict: momentumBuffer must have its parameter's shape [1], got [2] (state of parameter 0)");
    expect(swapped.state.size).toBe(0);
    const bad = { ...saved, paramGroups: [{ ...saved.paramGroups[0]!, lr: -1 }] };
    const target = optim.SGD([a, b], { lr: 0.1 });
    expect(() => target.loadStateDict(bad)).toThrow("SGD.loadStateDict: lr must be a finite number >= 0, got lr=-1 (param group 0)");
    expect(target.paramGroups[0]!.lr).toBe(0.1);
  });

  it("stateDict shares the state tensors (as PyTorch); loadStateDict copies them", () => {
    const a = f32([1, 2]);
    const opt = optim.SGD([a], { lr: 0.1, momentum: 0.9 });
    a.mul(2).sum().backward();
    opt.step();
    const saved = opt.stateDict();
    expect(saved.state[0]!.momentumBuffer).toBe(opt.state.get(a)!.momentumBuffer);
    const opt2 = optim.SGD([a], { lr: 0.1, momentum: 0.9 });
    opt2.loadStateDict(saved);
    expect(opt2.state.get(a)!.momentumBuffer).not.toBe(saved.state[0]!.momentumBuffer);
    expect(opt2.state.get(a)!.momentumBuffer!.toArray()).toEqual([2, 2]);
  });
});

describe("addParamGroup", () => {
  it("adds a group with the optimizer's options as defaults; its params are then updated", () => {
    const a = f32([1]);
    const b = f32([1]);
    const opt = optim.SGD([a], { lr: 0.5, momentum: 0.5 });
    opt.addParamGroup({ params: [b], lr: 0.25 });
    expect(opt.paramGroups[1]).toMatchObject({ lr: 0.25, momentum: 0.5 });
    a.add(b).sum().backward();
    opt.step();
    expect([a.item(), b.item()]).toEqual([0.5, 0.75]);
    expect(() => opt.addParamGroup({ params: [a] })).toThrow(/may belong to one param group only/);
    expect(() => opt.addParamGroup({ params: [f32([1])], momentum: -1 })).toThrow("SGD: momentum must be a finite number >= 0, got momentum=-1 (param group 2)");
  });
});
