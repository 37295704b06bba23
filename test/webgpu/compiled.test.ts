/**
 * Compiled programs on WebGPU (runtime/compiledGpu.ts, compileStepGpu.ts): the compiler fixtures
 * compiled in memory with `--target js,wgsl`; their WGSL forward on WebGPU equals the JS compiled
 * forward on the CPU (float32 tolerance) for the MLP Sequential, the `MLP` Module class, the
 * classifier head (elementwise chain + softmax) and the CNNs (conv im2col + GEMM, max/avg
 * pooling), in one submit per forward with one dispatch per launch (two per convolution).
 * Whatever doesn't fit falls back to eager with a one-time warning. Then the compiled training
 * step on WebGPU (forward, cross-entropy, backward, update in one command encoder) against the JS
 * compileStep: Linear chains and the CNNs (conv, max/avg pooling backward), SGD and Adam/AdamW;
 * a bad class index as an IndexError at readback; targets of the default ignoreIndex (-100)
 * skipped as eager skips them (all ignored: a NaN loss, zero gradients).
 */
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { compiled, compileStep, compileStepGpu, IndexError, nn, optim, torch } from "typetorch";
import { compileFiles } from "../../compiler/write.js";
import { webgpuBackend } from "../../runtime/backend/webgpu.js";
import type { ModelProgram } from "../../runtime/compiled.js";
import { forwardDispatches, gpuStats } from "../../runtime/compiledGpu.js";
import { backwardDispatches, stepDispatches } from "../../runtime/compileStepGpu.js";
import type { ModuleBase } from "../../runtime/nn/Module.js";
import type { AnyTensor } from "../../runtime/tensorTypes.js";
import * as cnnSrc from "../compiler/fixtures/cnn.js";
import * as mlpSrc from "../compiler/fixtures/mlp.js";
import { noGpu } from "./gpu.js";

type Model = ModuleBase & ((x: AnyTensor) => AnyTensor);
const call = (m: unknown, x: AnyTensor) => (m as (a: AnyTensor) => AnyTensor)(x);
const fixture = (f: string) => fileURLToPath(new URL(`../compiler/fixtures/${f}`, import.meta.url));

/** The fixtures' programs with WGSL, compiled in memory (nothing is written). */
function programs(): Map<string, ModelProgram> {
  const out = new Map<string, ModelProgram>();
  for (const r of compileFiles([fixture("mlp.ts"), fixture("cnn.ts"), fixture("chain.ts"), fixture("convnets.ts")], { targets: ["js", "wgsl"], write: false })) {
    for (const p of r.programs) out.set(p.name, p);
  }
  return out;
}

/** Counts queue submits (and pipelines / bind groups made) while `fn` runs (after the work queued before it is done). */
async function counting<T>(fn: () => T): Promise<{ value: T; submits: number; pipelines: number; bindGroups: number }> {
  await torch.webgpu.synchronize();
  const gpu = webgpuBackend().gpu;
  const q = gpu.queue;
  const [submit, pipe, bind] = [q.submit, gpu.createComputePipeline, gpu.createBindGroup];
  const n = { submits: 0, pipelines: 0, bindGroups: 0 };
  q.submit = (...a: Parameters<GPUQueue["submit"]>) => (n.submits++, submit.apply(q, a));
  gpu.createComputePipeline = (...a: Parameters<GPUDevice["createComputePipeline"]>) => (n.pipelines++, pipe.apply(gpu, a));
  gpu.createBindGroup = (...a: Parameters<GPUDevice["createBindGroup"]>) => (n.bindGroups++, bind.apply(gpu, a));
  try {
    return { value: fn(), ...n };
  } finally {
    q.submit = submit;
    gpu.createComputePipeline = pipe;
    gpu.createBindGroup = bind;
  }
}

/** Asserts `gpu` (webgpu) holds `cpu`'s values within float32 tolerance. */
async function close(cpu: AnyTensor, gpu: AnyTensor, tol = 1e-4): Promise<void> {
  expect(gpu.device).toBe("webgpu");
  expect(gpu.shape).toEqual(cpu.shape);
  const a = Array.from(cpu.data() as Float32Array);
  const b = Array.from((await gpu.dataAsync()) as Float32Array);
  const bad = a.findIndex((v, i) => !(Math.abs(v - b[i]!) <= tol * (1 + Math.abs(v))));
  expect(bad, `element ${bad}: js ${a[bad]}, wgsl ${b[bad]}`).toBe(-1);
}

/**
 * Runs `model` compiled on the CPU (JS kernels), moves it to webgpu and runs it there (WGSL):
 * equal within tolerance, one submit, one dispatch per launch (two per conv); a second call makes
 * no pipeline or bind group and still submits once.
 */
async function agree(model: Model, p: ModelProgram, x: AnyTensor, tol = 1e-4): Promise<void> {
  const before = compiled.stats.launches;
  const cpuOut = torch.noGrad(() => call(model, x));
  expect(compiled.stats.launches - before, "the CPU run is the compiled JS program").toBe(p.forward.length);
  model.to("webgpu");
  const xg = x.to("webgpu") as AnyTensor;
  const s0 = { ...gpuStats };
  const l0 = compiled.stats.launches;
  const first = await counting(() => torch.noGrad(() => call(model, xg)));
  expect(gpuStats.forwards - s0.forwards).toBe(1);
  expect(first.submits).toBe(1);
  expect(gpuStats.dispatches - s0.dispatches).toBe(forwardDispatches(p));
  expect(compiled.stats.launches - l0).toBe(forwardDispatches(p));
  await close(cpuOut, first.value, tol);
  const again = await counting(() => torch.noGrad(() => call(model, xg)));
  expect(again.submits).toBe(1);
  expect(again.pipelines + again.bindGroups, "the plan is made once per binding").toBe(0);
  await close(cpuOut, again.value, tol);
}

afterEach(() => vi.restoreAllMocks());

describe.skipIf(noGpu)("compiled programs run their WGSL on WebGPU", () => {
  const progs = noGpu ? new Map<string, ModelProgram>() : programs();
  const prog = (name: string) => progs.get(name)!;

  it("every forward and backward launch has tagged WGSL (a conv backward: each pass it takes)", () => {
    const tag = /^\/\/ typetorch:\w+\n/;
    for (const p of progs.values()) {
      p.forward.forEach((l, i) => {
        const text = p.wgsl![`g${i}`]!;
        expect(text, `${p.name} g${i}`).toMatch(tag);
        if (l.kernel.startsWith("conv2d")) expect(p.wgsl![`g${i}.im2col`], `${p.name} g${i}.im2col`).toMatch(/^\/\/ typetorch:im2col\n/);
      });
      for (const l of p.backward?.launches ?? []) {
        expect(p.wgsl![l.kernel], `${p.name} ${l.kernel}`).toMatch(tag);
        if (!l.kernel.startsWith("conv2d")) continue;
        const has = (i: number) => !("none" in l.args[i]!);
        const parts = ["wsum", ...(has(4) ? ["act"] : []), ...(has(1) ? ["bias"] : []), ...(has(2) ? ["dx", "col2im"] : [])];
        for (const part of parts) expect(p.wgsl![`${l.kernel}.${part}`], `${p.name} ${l.kernel}.${part}`).toMatch(tag);
      }
    }
    // The seed's CNN: max pooling's backward with ReLU's folded in; a conv with and without ∂X.
    expect(progs.get("cnn")!.backward!.launches.map((l) => l.kernel)).toEqual([
      "linear_grad", "linear_input_grad_relu", "linear_grad", "linear_input_grad", "max_pool2d_backward_relu", "conv2d_backward_dx", "max_pool2d_backward_relu", "conv2d_backward",
    ]);
  });

  it("the MLP Sequential: WGSL forward equals the JS compiled forward, one submit", async () => {
    torch.manualSeed(0);
    const p = prog("mlp");
    const m = mlpSrc.mlp as unknown as Model;
    m.useKernels(compiled.defineKernels(p));
    expect(forwardDispatches(p)).toBe(2);
    await agree(m, p, torch.randn(5, 784) as AnyTensor);
  });

  it("the MLP Module class (batch bound at run time: a second batch size binds anew)", async () => {
    torch.manualSeed(1);
    const p = prog("MLP");
    compiled.register(mlpSrc.MLP, compiled.defineKernels(p));
    await agree(new mlpSrc.MLP() as unknown as Model, p, torch.randn(3, 784) as AnyTensor);
    await agree(new mlpSrc.MLP() as unknown as Model, p, torch.randn(7, 784) as AnyTensor);
  });

  it("the classifier head: flatten + Linear, an elementwise chain and softmax", async () => {
    torch.manualSeed(2);
    const p = prog("Classifier");
    const m = new mlpSrc.Classifier() as unknown as Model;
    m.useKernels(compiled.defineKernels(p));
    await agree(m, p, torch.randn(32, 1, 28, 28) as AnyTensor);
  });

  it("the seed's CNN (conv + ReLU as im2col + GEMM, max pooling, the MLP head), batch 2", async () => {
    torch.manualSeed(3);
    const p = prog("cnn");
    const m = cnnSrc.cnn as unknown as Model;
    m.useKernels(compiled.defineKernels(p));
    expect(p.forward.length).toBe(6);
    expect(forwardDispatches(p)).toBe(8);
    await agree(m, p, torch.randn(2, 1, 28, 28) as AnyTensor);
  });

  it("strided, padded convs with Tanh, AvgPool2d with padding, a bias-free 1×1 conv", async () => {
    torch.manualSeed(4);
    const p = prog("small");
    const m = cnnSrc.small as unknown as Model;
    m.useKernels(compiled.defineKernels(p));
    await agree(m, p, torch.randn(2, 3, 17, 16) as AnyTensor);
  });

  it("falls back to eager on webgpu (warning once) for a shape that doesn't fit or a program without WGSL", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    torch.manualSeed(5);
    const m = new mlpSrc.Classifier() as unknown as Model;
    m.useKernels(compiled.defineKernels(prog("Classifier")));
    const x = torch.randn(16, 1, 28, 28) as AnyTensor; // compiled for [32, 1, 28, 28]
    const eager = torch.noGrad(() => (m as unknown as { forward(x: AnyTensor): AnyTensor }).forward(x));
    m.to("webgpu");
    const s0 = gpuStats.forwards;
    const a = torch.noGrad(() => call(m, x.to("webgpu") as AnyTensor));
    torch.noGrad(() => call(m, x.to("webgpu") as AnyTensor));
    expect(gpuStats.forwards).toBe(s0);
    await close(eager, a);
    expect(warn.mock.calls.filter((c) => String(c[0]).includes("don't fit this input")).length).toBe(1);

    const { wgsl: _, ...jsOnly } = prog("mlp");
    const m2 = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)) as unknown as Model;
    m2.useKernels(compiled.defineKernels(jsOnly));
    const x2 = torch.randn(4, 784) as AnyTensor;
    const cpuOut = torch.noGrad(() => call(m2, x2));
    m2.to("webgpu");
    const b = torch.noGrad(() => call(m2, x2.to("webgpu") as AnyTensor));
    torch.noGrad(() => call(m2, x2.to("webgpu") as AnyTensor));
    expect(gpuStats.forwards).toBe(s0);
    await close(cpuOut, b);
    expect(warn.mock.calls.filter((c) => String(c[0]).includes("have no WGSL")).length).toBe(1);
  });

  it("with autograd recording (or in training mode with Dropout) the model runs eager", async () => {
    const p = prog("mlp");
    const m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)) as unknown as Model;
    m.useKernels(compiled.defineKernels(p)).to("webgpu");
    const s0 = gpuStats.forwards;
    const y = call(m, torch.randn(2, 784).to("webgpu") as AnyTensor);
    expect(y.requiresGrad).toBe(true);
    expect(gpuStats.forwards).toBe(s0);
  });
});

type Opt = (params: Iterable<AnyTensor>) => Parameters<typeof compileStep>[2];

describe.skipIf(noGpu)("compiled training step on WebGPU", () => {
  const progs = noGpu ? new Map<string, ModelProgram>() : programs();

  /**
   * `steps` compiled steps of a fresh model on the CPU (JS kernels) and of its copy on webgpu
   * (WGSL): one submit and `stepDispatches(p)` dispatches per GPU step; losses, then every
   * parameter and gradient, within float32 tolerance; the loss goes down. Returns the GPU step.
   */
  async function run(make: () => Model, p: ModelProgram, x: AnyTensor, y: AnyTensor, steps: number, opt: Opt, tol = 2e-5, loss: () => unknown = () => nn.CrossEntropyLoss()) {
    torch.manualSeed(7);
    const cpuM = make();
    const gpuM = make();
    gpuM.loadStateDict(cpuM.stateDict());
    const k = compiled.defineKernels(p);
    cpuM.useKernels(k);
    gpuM.useKernels(k).to("webgpu");
    const cpuStep = compileStep(cpuM, loss(), opt(cpuM.parameters() as Iterable<AnyTensor>));
    const gpuOpt = opt(gpuM.parameters() as Iterable<AnyTensor>);
    const gpuStep = compileStepGpu(gpuM, loss(), gpuOpt);
    expect(cpuStep.compiled).toBe(true);
    expect(gpuStep.compiled, gpuStep.reason).toBe(true);
    const xg = x.to("webgpu") as AnyTensor;
    const yg = y.to("webgpu") as AnyTensor;
    const cpuLoss: number[] = [];
    const gpuLoss: number[] = [];
    for (let s = 0; s < steps; s++) {
      cpuLoss.push(cpuStep(x, y));
      const d0 = gpuStats.dispatches;
      const c = await counting(() => gpuStep(xg, yg));
      expect(c.submits, "one command encoder, one submit per step").toBe(1);
      expect(gpuStats.dispatches - d0).toBe(gpuStep.launchesPerStep);
      gpuLoss.push((await c.value.itemAsync()) as number);
    }
    // forward, the loss, the backward (see backwardDispatches), one update per parameter
    const nParams = [...gpuM.parameters()].length;
    expect(gpuStep.launchesPerStep).toBe(stepDispatches(p, nParams));
    expect(gpuStep.launchesPerStep).toBe(forwardDispatches(p) + 1 + backwardDispatches(p) + nParams);
    for (let s = 0; s < steps; s++) expect(Math.abs(gpuLoss[s]! - cpuLoss[s]!), `step ${s}: js ${cpuLoss[s]}, wgsl ${gpuLoss[s]}`).toBeLessThan(1e-4 * (1 + Math.abs(cpuLoss[s]!)));
    expect(gpuLoss[steps - 1]!).toBeLessThan(gpuLoss[0]!);
    const cp = [...cpuM.namedParameters()];
    const gp = new Map(gpuM.namedParameters());
    for (const [key, t] of cp) {
      await close(t as AnyTensor, gp.get(key)! as AnyTensor, tol);
      await close(t.grad as AnyTensor, gp.get(key)!.grad as AnyTensor, tol);
    }
    return { step: gpuStep, opt: gpuOpt, model: gpuM };
  }

  const sgd = (o: { momentum?: number; weightDecay?: number; nesterov?: boolean; lr?: number }): Opt => (ps) => optim.SGD(ps, { lr: 0.05, ...o });

  it("the MLP class: 5 SGD steps with momentum equal the JS compileStep", async () => {
    torch.manualSeed(8);
    await run(() => new mlpSrc.MLP() as unknown as Model, progs.get("MLP")!, torch.randn(8, 784) as AnyTensor, torch.randint(0, 10, [8]) as AnyTensor, 5, sgd({ momentum: 0.9 }));
  });

  it("the 20-layer chain (ReLU / Tanh / Sigmoid backwards), Nesterov and weight decay", async () => {
    torch.manualSeed(9);
    await run(() => chainClone(), progs.get("chain")!, torch.randn(16, 32) as AnyTensor, torch.randint(0, 8, [16]) as AnyTensor, 4, sgd({ momentum: 0.9, nesterov: true, weightDecay: 1e-3 }));
  });

  it("a model ending in logSoftmax trains with nn.NLLLoss (the loss kernel reads its logits)", async () => {
    torch.manualSeed(10);
    await run(() => new mlpSrc.LogProbs() as unknown as Model, progs.get("LogProbs")!, torch.randn(6, 784) as AnyTensor, torch.randint(0, 10, [6]) as AnyTensor, 3, sgd({ momentum: 0.9 }), 2e-5, () => nn.NLLLoss());
  });

  it("the seed's CNN (conv, max-pool and ReLU backwards), batch 2: 3 SGD steps with momentum, 33 dispatches a step", async () => {
    torch.manualSeed(12);
    const p = progs.get("cnn")!;
    // forward 8 (two per conv), the loss 1, the backward 16, one SGD update per parameter 8
    expect(backwardDispatches(p)).toBe(16);
    const { step } = await run(cnnClone, p, torch.randn(2, 1, 28, 28) as AnyTensor, torch.randint(0, 10, [2]) as AnyTensor, 3, sgd({ momentum: 0.9 }));
    expect(step.launchesPerStep).toBe(33);
  });

  it("the strided CNN (Tanh through AvgPool2d, a bias-free 1×1 conv), batch 2: 3 SGD steps, 17 dispatches a step", async () => {
    torch.manualSeed(13);
    const p = progs.get("small")!;
    expect(backwardDispatches(p)).toBe(8);
    const { step } = await run(smallClone, p, torch.randn(2, 3, 17, 16) as AnyTensor, torch.randint(0, 80, [2]) as AnyTensor, 3, sgd({ momentum: 0.5, weightDecay: 1e-2, lr: 0.2 }));
    expect(step.launchesPerStep).toBe(17);
  });

  it("every case the CNN backward planner distinguishes (fixtures/convnets.ts), batch 3: 3 SGD steps each", async () => {
    // strided: ∂X through the previous conv's Sigmoid (col2im's epilogue), ReLU into the Linear;
    // pooled: overlapping padded max-pool windows, a lone ReLU after the pool, a bias-free conv + Tanh
    // into AvgPool2d without the padding in the divisor; tail: a pool on the input (no backward) and
    // the output's ReLU applied in place inside the conv's launch.
    const cases: [string, () => Model, AnyTensor, number][] = [
      ["strided", stridedClone, torch.randn(3, 2, 13, 11) as AnyTensor, 7],
      ["pooled", pooledClone, torch.randn(3, 3, 10, 9) as AnyTensor, 96],
      ["tail", tailClone, torch.randn(3, 1, 12, 12) as AnyTensor, 48],
    ];
    expect(progs.get("tail")!.backward!.launches.map((l) => l.kernel)).toEqual(["conv2d_relu_backward"]);
    expect(progs.get("tail")!.wgsl!["conv2d_relu_backward.act"]).toMatch(/^\/\/ typetorch:act_backward\n/);
    torch.manualSeed(17);
    for (const [name, make, x, classes] of cases) {
      await run(make, progs.get(name)!, x, torch.randint(0, classes, [3]) as AnyTensor, 3, sgd({ momentum: 0.9, lr: 0.1 }));
    }
  });

  it("Adam and AdamW (amsgrad, weight decay) equal the JS compileStep; the step counts stay on the CPU", async () => {
    torch.manualSeed(14);
    const x = torch.randn(8, 784) as AnyTensor;
    const y = torch.randint(0, 10, [8]) as AnyTensor;
    const adam = await run(() => new mlpSrc.MLP() as unknown as Model, progs.get("MLP")!, x, y, 4, (ps) => optim.Adam(ps, { lr: 1e-3, amsgrad: true, weightDecay: 1e-2 }));
    const st = adam.opt.state.get([...adam.model.parameters()][0]! as never) as { step: AnyTensor; expAvg: AnyTensor };
    expect(st.step.device).toBe("cpu");
    expect(st.step.item()).toBe(4);
    expect(st.expAvg.device).toBe("webgpu");
    torch.manualSeed(15);
    await run(smallClone, progs.get("small")!, torch.randn(2, 3, 17, 16) as AnyTensor, torch.randint(0, 80, [2]) as AnyTensor, 3, (ps) => optim.AdamW(ps, { lr: 1e-2, weightDecay: 0.1 }));
  });
});

describe.skipIf(noGpu)("compileStepGpu reports a bad class index", () => {
  it("as an IndexError at the next readback (eager's form on webgpu), not a NaN loss; the update stays finite", async () => {
    const progs = programs();
    torch.manualSeed(16);
    const m = new mlpSrc.MLP() as unknown as Model;
    m.useKernels(compiled.defineKernels(progs.get("MLP")!)).to("webgpu");
    const step = compileStepGpu(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), { lr: 0.1 }));
    const x = torch.randn(4, 784).to("webgpu") as AnyTensor;
    const s0 = gpuStats.steps;
    for (const bad of [12, -1]) {
      const y = torch.tensor([1, bad, 3, 0]).to("webgpu") as AnyTensor;
      const loss = step(x, y);
      expect(gpuStats.steps, "the compiled step ran").toBe(s0 + (bad === 12 ? 1 : 2));
      const err = await loss.itemAsync().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(IndexError);
      expect((err as Error).message).toBe(`crossEntropy: target class indices must be in [0, 9], got ${bad} (reported by the webgpu kernel at readback)`);
    }
    // Eager crossEntropy on webgpu reports its bad index the same way (through its gather).
    const eager = await (nn.functional.crossEntropy(torch.randn(2, 10).to("webgpu") as never, torch.tensor([0, 12]).to("webgpu") as never) as AnyTensor).itemAsync().then(() => null, (e: unknown) => e);
    expect(eager).toBeInstanceOf(IndexError);
    expect((eager as Error).message).toMatch(/, got 12 \(reported by the webgpu kernel at readback\)$/);
    // The bad rows added no gradient: the parameters are finite; the next good step reads back cleanly.
    for (const q of m.parameters()) expect(Array.from((await (q as AnyTensor).dataAsync()) as Float32Array).every(Number.isFinite)).toBe(true);
    const ok = await step(x, torch.tensor([1, 2, 3, 0]).to("webgpu") as AnyTensor).itemAsync();
    expect(Number.isFinite(ok)).toBe(true);
  });
});

describe.skipIf(noGpu)("compileStepGpu skips targets of the default ignoreIndex (-100)", () => {
  it("as eager on webgpu: the mean over kept targets, zero gradient rows; all ignored: NaN loss, zero gradients, parameters unchanged", async () => {
    const progs = programs();
    torch.manualSeed(18);
    const gpuM = new mlpSrc.MLP() as unknown as Model;
    const eagerM = new mlpSrc.MLP() as unknown as Model;
    eagerM.loadStateDict(gpuM.stateDict());
    gpuM.useKernels(compiled.defineKernels(progs.get("MLP")!)).to("webgpu");
    eagerM.to("webgpu");
    // plain SGD without momentum: a zero gradient leaves a parameter exactly as it was
    const step = compileStepGpu(gpuM, nn.CrossEntropyLoss(), optim.SGD(gpuM.parameters(), { lr: 0.1 }));
    const eagerOpt = optim.SGD(eagerM.parameters(), { lr: 0.1 });
    const eagerStep = (x: AnyTensor, y: AnyTensor): AnyTensor => {
      eagerOpt.zeroGrad();
      const loss = (nn.CrossEntropyLoss() as unknown as (a: AnyTensor, b: AnyTensor) => AnyTensor)(call(eagerM, x), y);
      loss.backward();
      eagerOpt.step();
      return loss;
    };
    const x = torch.randn(6, 784).to("webgpu") as AnyTensor;
    const s0 = gpuStats.steps;
    for (const targets of [[1, -100, 3, -100, 9, 0], [-100, 4, 4, 2, -100, -100]]) {
      const y = torch.tensor(targets).to("webgpu") as AnyTensor;
      const got = (await step(x, y).itemAsync()) as number;
      const want = (await eagerStep(x, y).itemAsync()) as number;
      expect(Math.abs(got - want), `wgsl ${got}, eager ${want}`).toBeLessThan(1e-4 * (1 + Math.abs(want)));
    }
    expect(gpuStats.steps - s0, "both steps ran compiled").toBe(2);
    const eagerParams = new Map(eagerM.namedParameters());
    for (const [key, q] of gpuM.namedParameters()) {
      const e = eagerParams.get(key)!;
      await close((await (e as AnyTensor).cpuAsync()) as AnyTensor, q as AnyTensor, 2e-5);
      await close((await (e.grad as AnyTensor).cpuAsync()) as AnyTensor, q.grad as AnyTensor, 2e-5);
    }

    const before = await Promise.all([...gpuM.parameters()].map(async (q) => Array.from((await (q as AnyTensor).dataAsync()) as Float32Array)));
    const loss = (await step(x, torch.tensor([-100, -100, -100, -100, -100, -100]).to("webgpu") as AnyTensor).itemAsync()) as number;
    expect(gpuStats.steps - s0).toBe(3);
    expect(loss).toBeNaN();
    const params = [...gpuM.parameters()];
    for (let i = 0; i < params.length; i++) {
      expect(Array.from((await (params[i] as AnyTensor).dataAsync()) as Float32Array)).toEqual(before[i]);
      expect(Array.from((await (params[i]!.grad as AnyTensor).dataAsync()) as Float32Array).every((v) => v === 0)).toBe(true);
    }
  });
});

describe.skipIf(noGpu)("compileStepGpu falls back to eager", () => {
  it("for a program whose WGSL has no backward (compiled before it had one) and for a loss it doesn't compile, warning once", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const progs = programs();
    torch.manualSeed(11);
    const full = progs.get("small")!;
    const forwardOnly: ModelProgram = { ...full, wgsl: Object.fromEntries(Object.entries(full.wgsl!).filter(([k]) => /^g\d+/.test(k))) };
    const m = smallClone();
    m.useKernels(compiled.defineKernels(forwardOnly)).to("webgpu");
    const step = compileStepGpu(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), { lr: 0.01 }));
    const x = torch.randn(2, 3, 17, 16).to("webgpu") as AnyTensor;
    const y = torch.randint(0, 80, [2]).to("webgpu") as AnyTensor;
    const s0 = gpuStats.steps;
    const losses = [await step(x, y).itemAsync(), await step(x, y).itemAsync()] as number[];
    expect(gpuStats.steps).toBe(s0);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(warn.mock.calls.filter((c) => String(c[0]).includes("compileStepGpu runs op by op")).length).toBe(1);
    expect(warn.mock.calls.find((c) => String(c[0]).includes("compileStepGpu runs op by op"))![0]).toContain("has no WGSL for conv2d_backward_nobias_dx");

    const mlp = new mlpSrc.MLP() as unknown as Model;
    mlp.useKernels(compiled.defineKernels(progs.get("MLP")!)).to("webgpu");
    const mse = compileStepGpu(mlp, nn.MSELoss(), optim.SGD(mlp.parameters(), { lr: 0.01 }));
    expect(mse.compiled).toBe(false);
    expect(mse.reason).toContain("CrossEntropyLoss");
  });
});

/** A fresh model shaped as the seed's CNN fixture (test/compiler/fixtures/cnn.ts `cnn`). */
function cnnClone(): Model {
  return nn.Sequential(
    nn.Conv2d(1, 16, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 10),
  ) as unknown as Model;
}

/** Fresh models shaped as the fixtures of test/compiler/fixtures/convnets.ts. */
function stridedClone(): Model {
  return nn.Sequential(
    nn.Conv2d(2, 6, 3, { stride: 2, padding: 2, dilation: 2 }), nn.Sigmoid(),
    nn.Conv2d(6, 5, [2, 3], { stride: [1, 2], padding: [1, 0] }), nn.ReLU(), nn.Flatten(), nn.Linear(80, 7),
  ) as unknown as Model;
}
function pooledClone(): Model {
  return nn.Sequential(
    nn.Conv2d(3, 4, 4, { padding: "same" }), nn.ReLU(), nn.MaxPool2d(3, 2, { padding: 1 }), nn.ReLU(),
    nn.Conv2d(4, 6, 3, { bias: false }), nn.Tanh(), nn.AvgPool2d(2, 1, { padding: 1, countIncludePad: false }), nn.Flatten(),
  ) as unknown as Model;
}
function tailClone(): Model {
  return nn.Sequential(nn.MaxPool2d(2, 1, { dilation: 2 }), nn.Conv2d(1, 3, 3, { stride: 2 }), nn.ReLU(), nn.Flatten()) as unknown as Model;
}

/** A fresh model shaped as the fixture's `small` CNN. */
function smallClone(): Model {
  return nn.Sequential(nn.Conv2d(3, 8, [3, 5], 2, 1), nn.Tanh(), nn.AvgPool2d(2, { padding: 1 }), nn.Conv2d(8, 4, 1, { bias: false }), nn.Flatten()) as unknown as Model;
}

/** A fresh model shaped as the chain fixture (test/compiler/fixtures/chain.ts): 20 Linear layers, alternating ReLU / Tanh / Sigmoid. */
function chainClone(): Model {
  const acts = [() => nn.ReLU(), () => nn.Tanh(), () => nn.Sigmoid()];
  const layers: ModuleBase[] = [];
  for (let i = 0; i < 20; i++) {
    layers.push(nn.Linear(i === 0 ? 32 : 48, i === 19 ? 8 : 48) as unknown as ModuleBase);
    if (i < 19) layers.push(acts[i % 3]!() as unknown as ModuleBase);
  }
  return nn.Sequential(...(layers as never[])) as unknown as Model;
}
