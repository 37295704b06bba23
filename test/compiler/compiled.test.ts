/**
 * Compiled kernels at run time (the generated baselines of test/compiler/fixtures, imported as a
 * user imports them): forward equals eager, a compiled training step equals eager SGD after 20
 * steps (parameters and gradients), kernel launches are counted, nothing is allocated per step,
 * and whatever doesn't fit falls back to eager.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { compiled, compileStep, nn, optim, torch, Tensor } from "typetorch";
import { cpu } from "../../runtime/backend/cpu.js";
import type { AnyTensor } from "../../runtime/tensorTypes.js";
import * as chainSrc from "./fixtures/chain.js";
import * as chainGen from "./fixtures/chain.kernels.generated.js";
import * as src from "./fixtures/mlp.js";
import * as gen from "./fixtures/mlp.kernels.generated.js";

type Model = nn.ModuleBase & ((x: AnyTensor) => AnyTensor);
const call = (m: unknown, x: AnyTensor) => (m as (a: AnyTensor) => AnyTensor)(x);
const maxDiff = (a: AnyTensor, b: AnyTensor) => a.sub(b).abs().max().item() as number;

/** Counts the eager runtime's kernel launches (every CPU kernel goes through `cpu.run`). */
function countEager<T>(fn: () => T): [T, number] {
  const orig = cpu.run;
  let n = 0;
  (cpu as { run: typeof cpu.run }).run = (k, s, a) => {
    n++;
    orig.call(cpu, k, s, a);
  };
  try {
    return [fn(), n];
  } finally {
    (cpu as { run: typeof cpu.run }).run = orig;
  }
}

afterEach(() => vi.restoreAllMocks());

describe("compiled forward", () => {
  it("registers on import and equals eager (bitwise) with fewer launches", () => {
    torch.manualSeed(0);
    const x = torch.randn(64, 784);
    for (const [m, k] of [[src.mlp, gen.mlp], [new src.MLP(), gen.MLP]] as const) {
      const eager = torch.noGrad(() => (m as unknown as { forward(x: AnyTensor): AnyTensor }).forward(x));
      const before = compiled.stats.launches;
      const [out, eagerInside] = countEager(() => torch.noGrad(() => call(m, x)));
      expect(compiled.stats.launches - before).toBe(k.program.forward.length);
      expect(eagerInside).toBe(0);
      expect(out.shape).toEqual([64, 10]);
      // products go through the same GEMM as eager's (WASM SIMD or JS), epilogues round as eager rounds
      expect(maxDiff(out, eager)).toBe(0);
    }
  });

  it("named Sequential with Dropout runs compiled in eval mode only", () => {
    const x = torch.randn(16, 784);
    src.named.eval();
    const before = compiled.stats.launches;
    const out = torch.noGrad(() => call(src.named, x));
    expect(compiled.stats.launches - before).toBe(2);
    expect(maxDiff(out, torch.noGrad(() => src.named.forward(x as never) as AnyTensor))).toBe(0);
    src.named.train();
    const b2 = compiled.stats.launches;
    torch.noGrad(() => call(src.named, x));
    expect(compiled.stats.launches).toBe(b2);
  });

  it("fuses flatten + elementwise chain + softmax (3 launches) and matches eager", () => {
    const m = new src.Classifier();
    const x = torch.randn(32, 1, 28, 28);
    const before = compiled.stats.launches;
    const out = torch.noGrad(() => call(m, x));
    expect(compiled.stats.launches - before).toBe(3);
    expect(maxDiff(out, torch.noGrad(() => m.forward(x as never) as AnyTensor))).toBeLessThan(1e-7);
  });

  it("falls back to eager, warning once, when a literal dim doesn't fit; autograd runs eager", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const m = new src.Classifier();
    const x = torch.randn(16, 1, 28, 28); // compiled for [32, 1, 28, 28]
    const before = compiled.stats.launches;
    const a = torch.noGrad(() => call(m, x));
    const b = torch.noGrad(() => call(m, x));
    expect(compiled.stats.launches).toBe(before);
    expect(a.shape).toEqual([16, 10]);
    expect(maxDiff(a, b)).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain("don't fit this input: expected [32, 1, 28, 28], got [16, 1, 28, 28]");
    // With autograd on, the model runs op by op (the tape needs it).
    const y = call(src.mlp, torch.randn(4, 784));
    expect(y.gradFn).not.toBeNull();
  });

  it("useKernels(null) goes back to op by op; mismatched parameters fall back", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const m = new src.MLP();
    m.useKernels(null);
    const before = compiled.stats.launches;
    torch.noGrad(() => call(m, torch.randn(2, 784)));
    expect(compiled.stats.launches).toBe(before);
    const other = nn.Sequential(nn.Linear(784, 256, false), nn.ReLU(), nn.Linear(256, 10));
    other.useKernels(gen.mlp); // compiled with a bias in layer 0
    const out = torch.noGrad(() => call(other, torch.randn(2, 784)));
    expect(out.shape).toEqual([2, 10]);
    expect(compiled.stats.launches).toBe(before);
    expect(warn.mock.calls.some((c) => String(c[0]).includes("don't match the model's parameter 0.bias"))).toBe(true);
  });
});

type MakeOpt = (ps: Iterable<AnyTensor>) => optim.Optimizer<{ lr: number }, object>;

function trainPair(make: () => Model, lossFn: unknown, opts: Parameters<typeof optim.SGD>[1] | MakeOpt, data: () => [AnyTensor, AnyTensor], steps = 20, mix?: (i: number) => boolean) {
  torch.manualSeed(7);
  const a = make();
  const b = make();
  b.loadStateDict(a.stateDict());
  const mk: MakeOpt = typeof opts === "function" ? opts : (ps) => optim.SGD(ps, opts as never) as never;
  const optA = mk(a.parameters());
  const optB = mk(b.parameters());
  const step = compileStep(b, lossFn, optB);
  expect(a).not.toBe(b);
  expect(compiled.kernelsOf(a) === undefined || a instanceof src.MLP).toBe(true);
  const batches = Array.from({ length: steps }, data);
  let eagerLaunches = 0;
  let compiledLaunches = 0;
  const lossesA: number[] = [];
  const lossesB: number[] = [];
  for (const [bi, [x, y]] of batches.entries()) {
    const [l, n] = countEager(() => {
      optA.zeroGrad();
      const loss = (lossFn as (p: AnyTensor, q: AnyTensor) => AnyTensor)(call(a, x), y);
      loss.backward();
      optA.step();
      return loss.item() as number;
    });
    lossesA.push(l);
    eagerLaunches = n;
    if (mix?.(bi)) {
      // an eager step on the compiled model in between: the optimizer state is shared
      optB.zeroGrad();
      const loss = (lossFn as (p: AnyTensor, q: AnyTensor) => AnyTensor)(call(b, x), y);
      loss.backward();
      optB.step();
      lossesB.push(loss.item() as number);
      continue;
    }
    const before = compiled.stats.launches;
    const [lb, inside] = countEager(() => step(x, y));
    expect(inside).toBe(0);
    compiledLaunches = compiled.stats.launches - before;
    lossesB.push(lb);
  }
  let pd = 0;
  let gd = 0;
  const pb = new Map(b.namedParameters());
  for (const [k, p] of a.namedParameters()) {
    pd = Math.max(pd, maxDiff(p, pb.get(k)!));
    gd = Math.max(gd, maxDiff(p.grad!, pb.get(k)!.grad!));
  }
  return { step, pd, gd, lossesA, lossesB, eagerLaunches, compiledLaunches, optA, optB };
}

describe("compileStep", () => {
  it("MNIST-size MLP: 20 SGD steps (momentum, weight decay) equal eager; launches counted", () => {
    const r = trainPair(() => new src.MLP() as unknown as Model, nn.CrossEntropyLoss(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }, () => [torch.randn(64, 784), torch.randint(0, 10, [64])]);
    expect(r.step.compiled).toBe(true);
    expect(r.pd).toBe(0);
    expect(r.gd).toBe(0);
    for (let i = 0; i < 20; i++) expect(r.lossesB[i]).toBeCloseTo(r.lossesA[i]!, 5);
    // forward 3 + loss 1 + backward 5 + update 1
    expect(r.compiledLaunches).toBe(10);
    expect(r.step.launchesPerStep).toBe(10);
    expect(r.eagerLaunches).toBeGreaterThan(5 * r.compiledLaunches);
    console.log(`MLP 784-256-64-10 training step: ${r.eagerLaunches} eager kernel launches, ${r.compiledLaunches} compiled`);
  });

  it("20-layer chain with MSE, nesterov: equal eager after 20 steps", () => {
    // The eager twin: the same layers (a fresh Sequential has no kernels); the compiled one is the fixture's.
    const twin = () => nn.Sequential(...[...chainSrc.chain.children()].map((m) => (m instanceof nn.Linear ? nn.Linear(m.inFeatures, m.outFeatures) : new (m.constructor as new () => nn.ModuleBase)()))) as unknown as Model;
    let made = 0;
    const r = trainPair(() => (made++ === 0 ? twin() : (chainSrc.chain as unknown as Model)), nn.MSELoss(), { lr: 0.05, momentum: 0.5, nesterov: true }, () => [torch.randn(16, 32), torch.randn(16, 8)]);
    expect(chainGen.chain.program.forward).toHaveLength(20);
    expect(r.step.compiled).toBe(true);
    expect(r.pd).toBe(0);
    expect(r.gd).toBe(0);
    expect(r.compiledLaunches).toBe(20 + 1 + 39 + 1);
    console.log(`20-layer chain training step: ${r.eagerLaunches} eager kernel launches, ${r.compiledLaunches} compiled`);
  });

  it("plain SGD, maximize, the functional loss; with a positional Sequential and a symbolic batch", () => {
    let made = 0;
    const r = trainPair(() => nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).useKernels(made++ === 0 ? null : gen.mlp) as unknown as Model, nn.functional.crossEntropy, { lr: 0.01, maximize: true }, () => [torch.randn(10, 784), torch.randint(0, 10, [10])], 5);
    expect(r.step.compiled).toBe(true);
    expect(r.pd).toBe(0);
  });

  it("Adam: 20 steps (weight decay) equal eager bit for bit, one update launch per group", () => {
    const r = trainPair(() => new src.MLP() as unknown as Model, nn.CrossEntropyLoss(), (ps) => optim.Adam(ps, { lr: 1e-3, weightDecay: 1e-4 }) as never, () => [torch.randn(64, 784), torch.randint(0, 10, [64])]);
    expect(r.step.compiled).toBe(true);
    expect(r.pd).toBe(0);
    expect(r.gd).toBe(0);
    expect(r.compiledLaunches).toBe(10);
    for (let i = 0; i < 20; i++) expect(r.lossesB[i]).toBeCloseTo(r.lossesA[i]!, 5);
    // the state is the optimizer's, as eager's: step counts and moments equal
    const sa = [...r.optA.state.values()] as unknown as optim.AdamState[];
    const sb = [...r.optB.state.values()] as unknown as optim.AdamState[];
    expect(sb).toHaveLength(sa.length);
    sa.forEach((s, i) => {
      expect(sb[i]!.step.item()).toBe(20);
      expect(maxDiff(s.expAvg, sb[i]!.expAvg)).toBe(0);
      expect(maxDiff(s.expAvgSq, sb[i]!.expAvgSq)).toBe(0);
    });
  });

  it("AdamW with amsgrad and maximize, param groups, eager steps mixed in: equal eager bit for bit", () => {
    let made = 0;
    const r = trainPair(
      () => nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).useKernels(made++ === 0 ? null : gen.mlp) as unknown as Model,
      nn.CrossEntropyLoss(),
      (ps) => {
        const all = [...ps];
        return optim.AdamW([{ params: all.slice(0, 2) }, { params: all.slice(2), lr: 3e-3, betas: [0.8, 0.99] }], { lr: 1e-3, weightDecay: 0.05, amsgrad: true, maximize: true }) as never;
      },
      () => [torch.randn(16, 784), torch.randint(0, 10, [16])],
      20,
      (i) => i === 0 || i === 7 || i === 8,
    );
    expect(r.step.compiled).toBe(true);
    expect(r.pd).toBe(0);
    expect(r.gd).toBe(0);
    expect(r.compiledLaunches).toBe(r.step.launchesPerStep);
  });

  it("Adam amsgrad with the MSE chain: equal eager", () => {
    const twin = () => nn.Sequential(...[...chainSrc.chain.children()].map((m) => (m instanceof nn.Linear ? nn.Linear(m.inFeatures, m.outFeatures) : new (m.constructor as new () => nn.ModuleBase)()))) as unknown as Model;
    let made = 0;
    const r = trainPair(() => (made++ === 0 ? twin() : (chainSrc.chain as unknown as Model)), nn.MSELoss(), (ps) => optim.Adam(ps, { lr: 1e-2, amsgrad: true, eps: 1e-6 }) as never, () => [torch.randn(16, 32), torch.randn(16, 8)]);
    expect(r.step.compiled).toBe(true);
    expect(r.pd).toBe(0);
  });

  it("Adam allocates nothing per step", () => {
    torch.manualSeed(3);
    const m = new src.MLP();
    const opt = optim.AdamW(m.parameters(), { lr: 1e-3, amsgrad: true });
    const step = compileStep(m, nn.CrossEntropyLoss(), opt);
    const x = torch.randn(32, 784);
    const y = torch.randint(0, 10, [32]);
    step(x, y);
    const st = [...opt.state.values()];
    const empty = vi.spyOn(Tensor, "_empty");
    const f32 = vi.spyOn(globalThis, "Float32Array");
    for (let i = 0; i < 10; i++) step(x, y);
    expect(empty).not.toHaveBeenCalled();
    expect(f32).not.toHaveBeenCalled();
    f32.mockRestore();
    expect([...opt.state.values()].every((s, i) => s === st[i])).toBe(true);
    expect(st[0]!.step.item()).toBe(11);
  });

  it("allocates nothing per step: the same buffers, no new tensors", () => {
    torch.manualSeed(3);
    const m = new src.MLP();
    const opt = optim.SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
    const step = compileStep(m, nn.CrossEntropyLoss(), opt);
    const x = torch.randn(32, 784);
    const y = torch.randint(0, 10, [32]);
    step(x, y);
    const bufs = new Map(step.buffers());
    const grads = [...m.parameters()].map((p) => p.grad);
    const data = [...m.parameters()].map((p) => p._data);
    const empty = vi.spyOn(Tensor, "_empty");
    const f32 = vi.spyOn(globalThis, "Float32Array");
    for (let i = 0; i < 10; i++) step(x, y);
    expect(empty).not.toHaveBeenCalled();
    expect(f32).not.toHaveBeenCalled();
    f32.mockRestore();
    expect([...step.buffers()].every(([k, v]) => bufs.get(k) === v)).toBe(true);
    expect([...m.parameters()].map((p) => p.grad)).toEqual(grads);
    expect([...m.parameters()].every((p, i) => p._data === data[i])).toBe(true);
  });

  it("falls back to the eager step (same numbers) for what isn't compiled", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const m = new src.MLP();
    class Halve extends optim.Optimizer<{ lr: number }, object> {
      protected override updateGroup(g: { lr: number }, ps: AnyTensor[]): void {
        for (const p of ps) p.sub_(p.grad!.mul(g.lr));
      }
    }
    const opt = new Halve(m.parameters(), { lr: 1e-3 });
    const step = compileStep(m, nn.CrossEntropyLoss(), opt);
    expect(step.compiled).toBe(false);
    expect(step.reason).toContain("only optim.SGD, optim.Adam and optim.AdamW");
    expect(Number.isFinite(step(torch.randn(4, 784), torch.randint(0, 10, [4])))).toBe(true);
    const c = new src.Classifier();
    const s2 = compileStep(c, nn.CrossEntropyLoss(), optim.SGD(c.parameters(), { lr: 0.1 }));
    expect(s2.reason).toContain("has no backward");
    const s3 = compileStep(m, nn.CrossEntropyLoss({ labelSmoothing: 0.1 }), optim.SGD(m.parameters(), { lr: 0.1 }));
    expect(s3.reason).toContain("labelSmoothing=0.1");
    expect(warn).toHaveBeenCalled();
  });

  it("cross-entropy targets: -100 is ignored as eager ignores it; a bad class index throws eager's IndexError and changes nothing", () => {
    torch.manualSeed(9);
    const a = new src.MLP();
    const b = new src.MLP();
    b.loadStateDict(a.stateDict());
    a.useKernels(null);
    const optA = optim.SGD(a.parameters(), { lr: 0.1, momentum: 0.9 });
    const optB = optim.SGD(b.parameters(), { lr: 0.1, momentum: 0.9 });
    const ce = nn.CrossEntropyLoss();
    const step = compileStep(b, ce, optB);
    for (const t of [[3, -100, 7, 1, -100, 0], [2, 2, 9, 0, 5, 4], [-100, -100, -100, -100, -100, -100]]) {
      const x = torch.randn(6, 784);
      const y = torch.tensor(t, { dtype: "int64" });
      optA.zeroGrad();
      const l = ce(a(x), y);
      l.backward();
      optA.step();
      const got = step(x, y);
      if (Number.isNaN(l.item())) expect(got).toBeNaN();
      else expect(got).toBe(l.item());
      const pa = [...a.parameters()];
      [...b.parameters()].forEach((p, i) => expect(p.data()).toEqual(pa[i]!.data()));
    }
    const before = [...b.parameters()].map((p) => p.data().slice());
    const x = torch.randn(6, 784);
    const y = torch.tensor([1, 2, 10, 0, 0, 0], { dtype: "int64" });
    const eagerMsg = (() => {
      try {
        ce(a(x), y);
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    })();
    expect(eagerMsg).toBe("crossEntropy: target class indices must be in [0, 9], got 10");
    expect(() => step(x, y)).toThrow(eagerMsg);
    [...b.parameters()].forEach((p, i) => expect(p.data()).toEqual(before[i]));
  });

  it("a logSoftmax head trains with nn.NLLLoss in one fused cross-entropy kernel, equal to eager bit for bit", () => {
    torch.manualSeed(5);
    const a = new src.LogProbs();
    const b = new src.LogProbs();
    b.loadStateDict(a.stateDict());
    a.useKernels(null);
    const program = gen.LogProbs.program;
    expect(program.backward?.head?.logSoftmax).toBeTruthy();
    // no launch of the backward computes the logSoftmax's backward: the loss kernel gives ∂logits
    expect(program.backward!.launches.some((l) => l.kernel.includes("softmax"))).toBe(false);
    const optA = optim.SGD(a.parameters(), { lr: 0.1, momentum: 0.9 });
    const optB = optim.SGD(b.parameters(), { lr: 0.1, momentum: 0.9 });
    const nll = nn.NLLLoss();
    const step = compileStep(b, nll, optB);
    expect(step.compiled).toBe(true);
    for (let i = 0; i < 10; i++) {
      const x = torch.randn(8, 784);
      const y = torch.randint(0, 10, [8]);
      optA.zeroGrad();
      const l = nll(a(x), y);
      l.backward();
      optA.step();
      expect(step(x, y)).toBe(l.item());
    }
    expect(step.launchesPerStep).toBe(program.forward.length + 1 + program.backward!.launches.length + 1);
    const pa = [...a.parameters()];
    [...b.parameters()].forEach((p, i) => expect(p.data()).toEqual(pa[i]!.data()));
    // other losses on log-probabilities run op by op (and say why); NLLLoss on logits too
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const ce = compileStep(b, nn.CrossEntropyLoss(), optim.SGD(b.parameters(), { lr: 0.1 }));
    expect(ce.reason).toContain("ends in logSoftmax: its compiled step takes nn.NLLLoss");
    const m = new src.MLP();
    const n2 = compileStep(m, nn.NLLLoss(), optim.SGD(m.parameters(), { lr: 0.1 }));
    expect(n2.reason).toContain("nn.NLLLoss is compiled for models that end in logSoftmax");
    expect(warn).toHaveBeenCalled();
  });
});
