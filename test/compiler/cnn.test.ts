/**
 * Compiled convolution models (test/compiler/fixtures/cnn.ts and its generated baseline, and
 * fixtures/convnets.ts compiled here): the forward — Conv2d + ReLU in one launch (im2col + the
 * GEMM eager uses + bias/ReLU epilogue), pooling one launch each — and the backward that lets
 * `compileStep` train them — one launch per Conv2d (act backward, ∂b, ∂W, ∂X via col2im), one
 * per pooling layer (with the producer's activation backward fused in). Both equal eager bit for
 * bit (forward, every gradient, the parameters after 20 SGD steps), on the WASM GEMM and on the
 * JS GEMM, with far fewer kernel launches, and nothing is allocated per step.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { compiled, compileStep, nn, optim, Tensor, torch } from "typetorch";
import { createProject, extractModels } from "../../compiler/extract.js";
import { fuse } from "../../compiler/fuse.js";
import { planProgram } from "../../compiler/plan.js";
import { compileFiles } from "../../compiler/write.js";
import { cpu } from "../../runtime/backend/cpu.js";
import { wasm } from "../../runtime/backend/wasm.js";
import type { AnyTensor } from "../../runtime/tensorTypes.js";
import * as src from "./fixtures/cnn.js";
import * as gen from "./fixtures/cnn.kernels.generated.js";
import * as nets from "./fixtures/convnets.js";

type Model = nn.ModuleBase & ((x: AnyTensor) => AnyTensor);
const call = (m: unknown, x: AnyTensor) => (m as (a: AnyTensor) => AnyTensor)(x);
const maxDiff = (a: AnyTensor, b: AnyTensor) => a.sub(b).abs().max().item() as number;

/**
 * Counts eager kernel launches: every CPU kernel goes through `cpu.run`, and every (batched)
 * WASM GEMM call starts with one `wasm.reset()`. Returns [result, cpu.run calls, GEMM calls].
 */
function countEager<T>(fn: () => T): [T, number, number] {
  const orig = cpu.run;
  const origReset = wasm.reset;
  let n = 0;
  let g = 0;
  (cpu as { run: typeof cpu.run }).run = (k, s, a) => {
    n++;
    orig.call(cpu, k, s, a);
  };
  wasm.reset = () => {
    g++;
    origReset.call(wasm);
  };
  try {
    return [fn(), n, g];
  } finally {
    (cpu as { run: typeof cpu.run }).run = orig;
    delete (wasm as { reset?: unknown }).reset;
  }
}

afterEach(() => vi.restoreAllMocks());

const eagerForward = (m: unknown, x: AnyTensor) => torch.noGrad(() => (m as { forward(x: AnyTensor): AnyTensor }).forward(x));

// Eager twins of the fixtures' models (fresh Sequentials have no kernels).
const twins: Record<string, () => Model> = {
  cnn: () => nn.Sequential(nn.Conv2d(1, 16, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 10)) as unknown as Model,
  small: () => nn.Sequential(nn.Conv2d(3, 8, [3, 5], 2, 1), nn.Tanh(), nn.AvgPool2d(2, { padding: 1 }), nn.Conv2d(8, 4, 1, { bias: false }), nn.Flatten()) as unknown as Model,
  strided: () => nn.Sequential(nn.Conv2d(2, 6, 3, { stride: 2, padding: 2, dilation: 2 }), nn.Sigmoid(), nn.Conv2d(6, 5, [2, 3], { stride: [1, 2], padding: [1, 0] }), nn.ReLU(), nn.Flatten(), nn.Linear(80, 7)) as unknown as Model,
  pooled: () => nn.Sequential(nn.Conv2d(3, 4, 4, { padding: "same" }), nn.ReLU(), nn.MaxPool2d(3, 2, { padding: 1 }), nn.ReLU(), nn.Conv2d(4, 6, 3, { bias: false }), nn.Tanh(), nn.AvgPool2d(2, 1, { padding: 1, countIncludePad: false }), nn.Flatten()) as unknown as Model,
  tail: () => nn.Sequential(nn.MaxPool2d(2, 1, { dilation: 2 }), nn.Conv2d(1, 3, 3, { stride: 2 }), nn.ReLU(), nn.Flatten()) as unknown as Model,
};

/**
 * Trains `model` (compiled, through compileStep) and its eager twin side by side with SGD
 * (momentum 0.9) from the same weights on the same batches; checks every gradient after every
 * step and returns the largest parameter difference at the end, and the launch counts of a step.
 */
function trainPair(name: string, model: Model, lossFn: unknown, data: () => [AnyTensor, AnyTensor], steps = 20) {
  torch.manualSeed(11);
  const eager = twins[name]!();
  eager.loadStateDict(model.stateDict());
  const optA = optim.SGD(eager.parameters(), { lr: 0.05, momentum: 0.9 });
  const optB = optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const step = compileStep(model, lossFn, optB);
  expect(step.compiled, step.reason).toBe(true);
  const loss = lossFn as (p: AnyTensor, q: AnyTensor) => AnyTensor;
  let gd = 0;
  const counts = { eagerRun: 0, eagerGemm: 0, compiled: 0, compiledInside: 0 };
  for (let i = 0; i < steps; i++) {
    const [x, y] = data();
    const [la, nRun, nGemm] = countEager(() => {
      optA.zeroGrad();
      const l = loss(call(eager, x), y);
      l.backward();
      return l.item() as number;
    });
    const ga = new Map([...eager.namedParameters()].map(([k, p]) => [k, p.grad!.clone()]));
    const [, nStep, nStepGemm] = countEager(() => optA.step());
    const before = compiled.stats.launches;
    const [lb, inside] = countEager(() => step(x, y));
    counts.compiled = compiled.stats.launches - before;
    counts.compiledInside = inside;
    counts.eagerRun = nRun + nStep;
    counts.eagerGemm = nGemm + nStepGemm;
    expect(lb).toBe(la);
    for (const [k, p] of model.namedParameters()) gd = Math.max(gd, maxDiff(ga.get(k)!, p.grad!));
  }
  let pd = 0;
  const pb = new Map(model.namedParameters());
  for (const [k, p] of eager.namedParameters()) pd = Math.max(pd, maxDiff(p, pb.get(k)!));
  return { step, gd, pd, counts };
}

describe("compiled CNN forward", () => {
  it("the seed's MNIST CNN: equals eager bit for bit in 6 launches", () => {
    torch.manualSeed(0);
    for (const B of [64, 3]) {
      const x = torch.randn(B, 1, 28, 28);
      const [eager, eagerLaunches] = countEager(() => eagerForward(src.cnn, x));
      const before = compiled.stats.launches;
      const [out, eagerInside] = countEager(() => torch.noGrad(() => call(src.cnn, x)));
      expect(compiled.stats.launches - before).toBe(gen.cnn.program.forward.length);
      expect(gen.cnn.program.forward.length).toBe(6);
      expect(eagerInside).toBe(0);
      expect(out.shape).toEqual([B, 10]);
      expect(maxDiff(out, eager)).toBe(0);
      expect(eagerLaunches).toBeGreaterThan(6);
      console.log(`CNN forward, batch ${B}: eager ${eagerLaunches} kernel launches, compiled ${gen.cnn.program.forward.length}`);
    }
  });

  it("positional stride/padding, kernel pairs, AvgPool2d with padding, a bias-free 1×1 conv: equal eager", () => {
    torch.manualSeed(1);
    const x = torch.randn(2, 3, 17, 16);
    const eager = eagerForward(src.small, x);
    const before = compiled.stats.launches;
    const out = torch.noGrad(() => call(src.small, x));
    expect(compiled.stats.launches - before).toBe(3);
    expect(out.shape).toEqual([2, 4 * 5 * 4]);
    expect(maxDiff(out, eager)).toBe(0);
  });
});

describe("compiled CNN backward", () => {
  it("plans one launch per conv and pooling layer; activations fused; the first conv skips ∂X", () => {
    expect(gen.cnn.program.backward!.launches.map((l) => l.kernel)).toEqual([
      "linear_grad", "linear_input_grad_relu", "linear_grad", "linear_input_grad",
      "max_pool2d_backward_relu", "conv2d_backward_dx", "max_pool2d_backward_relu", "conv2d_backward",
    ]);
    expect(gen.cnn.program.backward!.launches.at(-1)!.args[2]).toEqual({ none: true });
    expect(gen.small.program.backward!.launches.map((l) => l.kernel)).toEqual(["conv2d_backward_nobias_dx", "avg_pool2d_backward_tanh", "conv2d_backward"]);
  });

  it("the seed's MNIST CNN trains with compileStep: 20 SGD steps equal eager bit for bit, 16 launches a step", () => {
    const r = trainPair("cnn", src.cnn as unknown as Model, nn.CrossEntropyLoss(), () => [torch.randn(32, 1, 28, 28), torch.randint(0, 10, [32])]);
    expect(r.gd).toBe(0);
    expect(r.pd).toBe(0);
    // forward 6 + loss 1 + backward 8 + update 1
    expect(r.counts.compiled).toBe(16);
    expect(r.step.launchesPerStep).toBe(16);
    expect(r.counts.compiledInside).toBe(0);
    expect(r.counts.eagerRun).toBeGreaterThan(3 * r.counts.compiled);
    console.log(`CNN training step, batch 32: eager ${r.counts.eagerRun} cpu kernel launches + ${r.counts.eagerGemm} WASM GEMM calls, compiled ${r.counts.compiled} launches`);
  });

  it("small (strided conv + Tanh, padded AvgPool2d, bias-free 1×1 conv): 20 steps equal eager bit for bit", () => {
    const r = trainPair("small", src.small as unknown as Model, nn.CrossEntropyLoss(), () => [torch.randn(2, 3, 17, 16), torch.randint(0, 80, [2])]);
    expect(r.gd).toBe(0);
    expect(r.pd).toBe(0);
    expect(r.counts.compiled).toBe(3 + 1 + 3 + 1);
  });

  it("allocates nothing per step", () => {
    torch.manualSeed(3);
    const m = src.cnn;
    const step = compileStep(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), { lr: 0.01, momentum: 0.9 }));
    const x = torch.randn(8, 1, 28, 28);
    const y = torch.randint(0, 10, [8]);
    step(x, y);
    const bufs = new Map(step.buffers());
    const empty = vi.spyOn(Tensor, "_empty");
    const f32 = vi.spyOn(globalThis, "Float32Array");
    for (let i = 0; i < 3; i++) step(x, y);
    expect(empty).not.toHaveBeenCalled();
    expect(f32).not.toHaveBeenCalled();
    f32.mockRestore();
    expect([...step.buffers()].every(([k, v]) => bufs.get(k) === v)).toBe(true);
  });

  describe("every case the planner distinguishes (fixtures/convnets.ts, compiled here)", () => {
    const [r] = compileFiles([new URL("./fixtures/convnets.ts", import.meta.url).pathname], { write: false });
    const programs = new Map(r!.programs.map((p) => [p.name, p]));
    for (const [name, model] of [["strided", nets.strided], ["pooled", nets.pooled], ["tail", nets.tail], ["probs", nets.probs]] as const) model.useKernels(compiled.defineKernels(programs.get(name)!));
    const cases = [
      ["strided", nets.strided, nn.CrossEntropyLoss(), (B: number): [AnyTensor, AnyTensor] => [torch.randn(B, 2, 13, 11), torch.randint(0, 7, [B])]],
      ["pooled", nets.pooled, nn.MSELoss(), (B: number): [AnyTensor, AnyTensor] => [torch.randn(B, 3, 10, 9), torch.randn(B, 96)]],
      ["tail", nets.tail, nn.MSELoss(), (B: number): [AnyTensor, AnyTensor] => [torch.randn(B, 1, 12, 12), torch.randn(B, 48)]],
    ] as const;

    it("compiles every model's backward (but the one with a softmax inside)", () => {
      expect(r!.diagnostics.map((d) => [d.code, d.model])).toEqual([["TT1010", "probs"]]);
      expect(r!.diagnostics[0]!.message).toContain("softmax inside the model has no compiled backward");
      expect(programs.get("strided")!.backward!.launches.map((l) => l.kernel)).toEqual(["linear_grad", "linear_input_grad_relu", "conv2d_backward_dx_sigmoid", "conv2d_backward"]);
      expect(programs.get("pooled")!.backward!.launches.map((l) => l.kernel)).toEqual(["avg_pool2d_backward_tanh", "conv2d_backward_nobias_dx_relu", "max_pool2d_backward_relu", "conv2d_backward"]);
      // the pool on the input needs no backward; the output's ReLU is applied inside the conv's launch
      expect(programs.get("tail")!.backward!.launches.map((l) => l.kernel)).toEqual(["conv2d_relu_backward"]);
    });

    for (const wasmOn of [true, false]) {
      it.each(cases)(`%s: 20 SGD steps equal eager bit for bit (batch 5 and 1, ${wasmOn ? "WASM" : "JS"} GEMM)`, (name, model, lossFn, data) => {
        const was = wasm.available;
        wasm.available = wasmOn && was;
        try {
          for (const B of [5, 1]) {
            const t = trainPair(name, model as unknown as Model, lossFn, () => data(B), B === 1 ? 5 : 20);
            expect(t.gd).toBe(0);
            expect(t.pd).toBe(0);
            expect(t.counts.compiled).toBe(programs.get(name)!.forward.length + 1 + programs.get(name)!.backward!.launches.length + 1);
          }
        } finally {
          wasm.available = was;
        }
      });
    }
  });
});

describe("buffer reuse by liveness", () => {
  const file = new URL("./fixtures/convnets.ts", import.meta.url).pathname;
  const { graphs } = extractModels(createProject([file]).getSourceFileOrThrow(file));
  const plan = (name: string, reuse: boolean) => planProgram(fuse(graphs.find((g) => g.name === name)!), { source: "convnets.ts", reuse }).program;
  const floats = (p: ReturnType<typeof plan>, B: number) => p.buffers.reduce((s, b) => s + compiled.evalDim(b.size, new Map([["B", B]])), 0);

  it("a forward-only program: 8 value buffers in 3 (21% less memory for values), the same results", () => {
    const shared = plan("probs", true);
    const own = plan("probs", false);
    expect(shared.backward).toBeNull();
    // conv → pool → conv → pool → linear → softmax: values (and pool indices) whose lifetimes don't overlap share
    expect(own.buffers.map((b) => b.id)).toEqual(["v2", "cols2", "v3", "idx3", "v5", "cols5", "v6", "idx6", "v8", "v9", "packW", "packC"]);
    expect(shared.buffers.map((b) => b.id)).toEqual(["s0", "cols2", "s1", "s2", "cols5", "packW", "packC"]);
    // per sample: 2180 floats of values (v2 1152, v3/idx3/v5 288 each, v6/idx6 72 each, v8/v9 10 each) → 1152 + 288 + 288
    expect(floats(own, 16) - floats(shared, 16)).toBe(16 * (2180 - 1728));
    torch.manualSeed(5);
    const x = torch.randn(16, 1, 12, 12);
    const eager = eagerForward(nets.probs, x);
    for (const p of [own, shared, own, shared]) {
      nets.probs.useKernels(compiled.defineKernels(p));
      const before = compiled.stats.launches;
      const out = torch.noGrad(() => call(nets.probs, x));
      expect(compiled.stats.launches - before).toBe(6);
      expect(maxDiff(out, eager)).toBe(0);
    }
  });

  it("never shares the im2col buffers or what the backward reads", () => {
    const p = plan("pooled", true);
    const bw = new Set(p.backward!.launches.flatMap((l) => l.args.flatMap((a) => ("buf" in a ? [a.buf] : []))));
    const own = plan("pooled", false);
    for (const b of own.buffers) if (b.id.startsWith("cols") || bw.has(b.id)) expect(p.buffers).toContainEqual(b);
  });
});
