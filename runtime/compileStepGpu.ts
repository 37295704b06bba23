/**
 * The compiled training step on WebGPU ({@link compileStepGpu}): a model's compiled program
 * (`--target js,wgsl`) — forward, cross-entropy fused with its gradient, the backward (Linear
 * chains and CNNs: Conv2d, MaxPool2d, AvgPool2d, activations) and the optimizer update (SGD,
 * Adam, AdamW) — recorded into one command encoder and submitted once per step, over a
 * `GpuPlan` (`GpuPlan.ts`) made once per binding of the program's dims.
 *
 * @example
 * model.to("webgpu");
 * const step = compileStepGpu(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), { lr: 0.1 }));
 * const loss = step(x.to("webgpu"), labels.to("webgpu")); // a 0-d webgpu tensor
 */
import { IndexError } from "../types/errors.js";
import { classRangeMsg } from "../types/loss.js";
import type { DeviceStorage } from "./backend/Backend.js";
import { type GpuStorage, type WebGPUBackend, hasWebgpuBackend, webgpuBackend } from "./backend/webgpu.js";
import { paramWord } from "./codegen/wgsl.js";
import { compiledWgslKind } from "./codegen/wgslFused.js";
import { adamStepWgsl, crossEntropyWgsl, sgdStepWgsl } from "./codegen/wgslStep.js";
import { type ModelProgram, bindDims, eagerStep, evalDim, kernelsOf } from "./compiled.js";
import { forwardDispatches } from "./compiledGpu.js";
import { GpuPlan, bindable, envKey, errorChannel, freshTensor, gpuBuffer, gpuStats, resolver, submit, warnOnce } from "./GpuPlan.js";
import { PlanError, grid1 } from "./lowerLaunch.js";
import type { ModuleBase } from "./nn/Module.js";
import type { ParameterTensor } from "./nn/Parameter.js";
import { CrossEntropyLoss, NLLLoss } from "./nn/lossModules.js";
import { crossEntropy, nllLoss } from "./nn/loss.js";
import { deferredIndexError } from "./ops/device.js";
import { AdamBase, type AdamState } from "./optim/Adam.js";
import { AdamWOptimizer } from "./optim/AdamW.js";
import type { Optimizer } from "./optim/Optimizer.js";
import { SGDOptimizer } from "./optim/SGD.js";
import { Tensor } from "./Tensor.js";
import type { AnyTensor } from "./tensorTypes.js";

/**
 * What {@link compileStepGpu} returns: call it with a batch on webgpu; it returns the loss as a
 * 0-d webgpu tensor (read it with `await loss.itemAsync()`).
 *
 * @example
 * const step: CompiledGpuStep = compileStepGpu(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), { lr: 0.1 }));
 * step.launchesPerStep; // 0 until the first step binds the program
 */
export interface CompiledGpuStep {
  (x: AnyTensor, target: AnyTensor): AnyTensor;
  /** Whether steps run on the program's WGSL (false: every step runs op by op; see `reason`). */
  readonly compiled: boolean;
  /** Why the step runs op by op (when it does). */
  readonly reason: string | undefined;
  /** Kernel dispatches per compiled step (forward, loss, backward, update). */
  readonly launchesPerStep: number;
}

/**
 * How many dispatches a program's backward makes on WebGPU: one per launch, except a Linear's
 * weight gradient with a bias (the GEMM, then column sums) and a Conv2d's backward (the
 * activation's backward when it applies it, the bias gradient, the per-sample weight GEMMs and
 * their sum, and with an input gradient the per-sample `Wᵀ·∂Y` GEMMs and col2im).
 *
 * @example
 * backwardDispatches(cnnProgram); // 16 for the seed's CNN (8 launches)
 */
export function backwardDispatches(p: ModelProgram): number {
  const has = (a: ModelProgram["forward"][number]["args"][number] | undefined) => a !== undefined && !("none" in a);
  return (p.backward?.launches ?? []).reduce((s, l) => {
    const kind = compiledWgslKind(p.wgsl?.[l.kernel] ?? "");
    if (kind === "linear_grad") return s + 1 + (has(l.args[12]) ? 1 : 0);
    if (kind === "conv2d_backward") return s + 2 + (has(l.args[4]) ? 1 : 0) + (has(l.args[1]) ? 1 : 0) + (has(l.args[2]) ? 2 : 0);
    return s + 1;
  }, 0);
}

/** One parameter's update dispatch: its slot in the plan, the parameter, its group. */
interface Update {
  slot: number;
  p: ParameterTensor;
  group: number;
  n: number;
}

interface StepPlan {
  plan: GpuPlan;
  input: GPUBuffer;
  inputLen: number;
  target: GPUBuffer;
  rows: number;
  cols: number;
  loss: GPUBuffer;
  ceSlot: number;
  /** The IndexError of a bad class index (the message eager's CPU check writes), and its reporter id. */
  report: (v: number) => Error;
  reportId: number;
  updates: Update[];
}

const f32 = (v: number) => paramWord(v, "f32");

/**
 * A training step — `optimizer.zeroGrad(); crossEntropy(model(x), y).backward(); optimizer.step()` —
 * on WebGPU from the model's compiled program (`--target js,wgsl`): the forward, cross-entropy fused
 * with its gradient, the backward (Linear chains: `∂W = ∂Zᵀ·X` with the bias gradient, `∂X = ∂Z·W`
 * with the previous activation's backward in the epilogue; CNNs: a Conv2d's `∂b`, `∂W` from the
 * im2col buffer the forward kept and `∂X` through col2im, max pooling's adjoint at the argmax the
 * forward recorded, average pooling's over its windows, each with the producer's activation
 * backward folded in) and the update of every parameter (`optim.SGD`, `optim.Adam`,
 * `optim.AdamW`, any options), all recorded into one command encoder and submitted once per step.
 * After a step each parameter's `.grad` holds its gradient and the optimizer's state (momentum
 * buffers; Adam's moments on webgpu and its step counts on the CPU, as eager keeps them) is its
 * own, so eager and compiled steps mix. The loss: `nn.CrossEntropyLoss()` (mean, default
 * options) or `crossEntropy`; for a model that ends in `logSoftmax(-1)`, `nn.NLLLoss()` or
 * `nllLoss`, fused with that logSoftmax (as `compileStep`). A target equal to the default
 * `ignoreIndex` −100 is skipped as eager skips it: the mean is over the kept targets, an ignored
 * row gets a zero gradient, and a batch with every target ignored gives a NaN loss and zero
 * gradients. Any other class index outside `[0, classes)` is an `IndexError` at the next
 * readback, as eager's on webgpu, and its row adds nothing to the update. Runs op by op (warning
 * once) for anything else: other losses or optimizers, a program without a compiled backward or
 * WGSL, inputs that don't fit.
 *
 * @example
 * model.to("webgpu");
 * const step = compileStepGpu(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }));
 * const loss = step(x.to("webgpu"), labels.to("webgpu"));
 * await loss.itemAsync();
 */
export function compileStepGpu(model: ModuleBase, lossFn: unknown, optimizer: Optimizer<{ lr: number }, object>): CompiledGpuStep {
  const eager = (x: AnyTensor, y: AnyTensor): AnyTensor => eagerStep(model, lossFn, optimizer, x, y).detach() as AnyTensor;
  const kernels = kernelsOf(model);
  const p = kernels?.program;
  const isAdam = optimizer instanceof AdamBase;
  const defaults = (fn: unknown) => Object.entries((fn as { _opts: Record<string, unknown> })._opts).every(([key, v]) => v === undefined || v === null || (key === "reduction" && v === "mean") || (key === "ignoreIndex" && v === -100) || (key === "labelSmoothing" && v === 0));
  const ceOk = lossFn === crossEntropy || (lossFn instanceof CrossEntropyLoss && defaults(lossFn));
  const nllOk = lossFn === nllLoss || (lossFn instanceof NLLLoss && defaults(lossFn));
  // As compileStep: a model that ends in logSoftmax trains with nn.NLLLoss, fused with that
  // logSoftmax into the one cross-entropy kernel (reading the logits); other models with cross-entropy.
  const head = p?.backward?.head;
  let reason: string | undefined =
    !p ? "the model has no compiled kernels (import its .kernels.generated module or call model.useKernels)"
    : !p.backward ? `the compiled program of ${p.name} has no backward`
    : !p.wgsl ? `the compiled program of ${p.name} has no WGSL (compile with --target js,wgsl)`
    : !(optimizer instanceof SGDOptimizer || isAdam) ? "only optim.SGD, optim.Adam and optim.AdamW updates are compiled for webgpu"
    : head && !nllOk ? `${p.name} ends in logSoftmax: its compiled step takes nn.NLLLoss (mean reduction, default options) or nn.functional.nllLoss`
    : !head && !ceOk ? "only nn.CrossEntropyLoss (mean reduction, default options) or nn.functional.crossEntropy is compiled for webgpu"
    : undefined;
  const attached = reason === undefined ? kernels!._attach(model) : null;
  if (reason === undefined && !attached) reason = "the compiled kernels don't match the model's parameters";
  const params = attached?.params ?? new Map<string, ParameterTensor>();
  if (reason === undefined) {
    const mine = new Set<AnyTensor>(params.values());
    for (const g of optimizer.paramGroups) for (const q of g.params) if (!mine.has(q)) reason = "the optimizer updates tensors the compiled kernels don't compute gradients for";
  }
  if (reason !== undefined) warnOnce(`gpustep:${reason}`, `compileStepGpu runs op by op: ${reason}`);

  const grads = new Map<string, AnyTensor>();
  const keyOf = new Map<ParameterTensor, string>();
  for (const [k, q] of params) keyOf.set(q, k);
  const plans = new Map<string, StepPlan | null>();
  let launches = 0;
  const sgd = optimizer as unknown as SGDOptimizer;
  const adam = optimizer as unknown as AdamBase;
  /** SGD momentum buffers this step made: their first update copies the gradient in (PyTorch's `buf = d.clone()`). */
  const firstMomentum = new Set<ParameterTensor>();
  /**
   * State made for the next step: tensors its encoder zeroes first (a pooled buffer holds old
   * values; clearing it in the step's own encoder keeps one submit a step and orders the clear
   * after the backend's queued work), and how to undo it if the step runs op by op after all.
   */
  const made = { zero: [] as AnyTensor[], undo: [] as (() => void)[] };

  const prepareGrads = (be: WebGPUBackend) => {
    for (const [key, q] of params) {
      let g = grads.get(key);
      if (!g) {
        g = bindable(q.grad) && q.grad!.shape.every((s, i) => s === q.shape[i]) ? (q.grad as AnyTensor) : freshTensor(be, q.shape);
        grads.set(key, g);
      }
      if (q.grad !== g) q.grad = g as never;
    }
  };

  // A state tensor the kernels can bind: `t` itself, or a float32 contiguous webgpu copy of it (zeros without one).
  const own = (be: WebGPUBackend, t: AnyTensor | null | undefined, shape: readonly number[]): AnyTensor => {
    if (!t) {
      const z = freshTensor(be, shape);
      made.zero.push(z);
      return z;
    }
    // `ok` rather than `bindable` in the conditions: its type guard would leave the tensor as never past them.
    const ok = (u: AnyTensor) => bindable(u);
    if (ok(t)) return t;
    let c = t.dtype === "float32" ? t : (t.to("float32") as AnyTensor);
    if (c.device !== "webgpu") c = c.to("webgpu") as AnyTensor;
    c = c.contiguous() as AnyTensor;
    return ok(c) ? c : (c.mul(1) as AnyTensor); // a view at an offset: a fresh copy
  };

  // The optimizer state every update binds, made (or moved to webgpu) before the plan is checked:
  // state made or replaced since the plan was bound is an outside storage that changed, so the plan is made anew.
  const prepareState = (be: WebGPUBackend) => {
    if (!isAdam) {
      for (const g of sgd.paramGroups) {
        for (const q of g.params as ParameterTensor[]) {
          if (g.momentum === 0) continue;
          const st = sgd.state.get(q as never) as { momentumBuffer: AnyTensor | null } | undefined;
          if (st?.momentumBuffer && bindable(st.momentumBuffer)) continue;
          // PyTorch starts a momentum buffer as the first step's d; an existing one moves to webgpu.
          if (st?.momentumBuffer) sgd.state.set(q as never, { momentumBuffer: own(be, st.momentumBuffer, q.shape) } as never);
          else {
            sgd.state.set(q as never, { momentumBuffer: freshTensor(be, q.shape) } as never);
            firstMomentum.add(q);
            // op by op, the buffer starts as eager starts it (a clone of the first d)
            made.undo.push(() => (firstMomentum.delete(q), sgd.state.set(q as never, { momentumBuffer: null } as never)));
          }
        }
      }
      return;
    }
    for (const g of adam.paramGroups) {
      for (const q of g.params as ParameterTensor[]) {
        const st = adam.state.get(q as never) as AdamState | undefined;
        const step = st?.step;
        if (step && (step.device !== "cpu" || step.dtype !== "float32")) throw new PlanError("Adam's step counts must be float32 CPU tensors (as eager makes them)");
        const next: AdamState = {
          step: step ?? (Tensor._zeros([], "float32", "cpu") as unknown as AdamState["step"]),
          expAvg: own(be, st?.expAvg, q.shape),
          expAvgSq: own(be, st?.expAvgSq, q.shape),
        };
        if (g.amsgrad || st?.maxExpAvgSq) next.maxExpAvgSq = own(be, st?.maxExpAvgSq, q.shape);
        if (!st || next.step !== st.step || next.expAvg !== st.expAvg || next.expAvgSq !== st.expAvgSq || next.maxExpAvgSq !== st.maxExpAvgSq) {
          adam.state.set(q as never, next);
          // op by op, eager makes what it misses itself (zeros); what was moved to webgpu stays
          if (!st) made.undo.push(() => adam.state.delete(q as never));
          else if (!st.maxExpAvgSq && next.maxExpAvgSq) made.undo.push(() => delete (adam.state.get(q as never) as AdamState).maxExpAvgSq);
        }
      }
    }
  };

  // The storages of the optimizer state a parameter's update binds, as the plan checks them.
  const stateStorages = (q: ParameterTensor): (() => DeviceStorage | null)[] => {
    if (!isAdam) return [() => (sgd.state.get(q as never) as { momentumBuffer: AnyTensor | null } | undefined)?.momentumBuffer?._gpu ?? null];
    const st = () => adam.state.get(q as never) as AdamState | undefined;
    return [() => st()?.expAvg._gpu ?? null, () => st()?.expAvgSq._gpu ?? null, () => st()?.maxExpAvgSq?._gpu ?? null];
  };

  const build = (be: WebGPUBackend, env: Map<string, number>, outShape: number[]): StepPlan => {
    const prog = p!;
    const outside: (() => DeviceStorage | null)[] = [...params.values()].map((t) => () => t._gpu);
    for (const g of grads.values()) outside.push(() => g._gpu);
    for (const q of params.values()) outside.push(...stateStorages(q));
    const plan = new GpuPlan(be, prog, env, outside);
    const [rows, cols] = outShape as [number, number];
    try {
      // The IndexError a bad class index becomes at the next readback (the message eager's CPU check writes).
      const report = deferredIndexError((v) => {
        throw new IndexError(classRangeMsg(head ? "nllLoss" : "crossEntropy", cols - 1, v));
      });
      const err = errorChannel(be, report);
      const inputLen = prog.input.reduce<number>((x, d) => x * evalDim(d, env), 1);
      const input = plan.buffer(inputLen * 4, `${prog.name} input`);
      const resolve = resolver(plan, input, params, grads);
      plan.add(prog.forward, (_, i) => `g${i}`, resolve);
      const target = plan.buffer(rows * 4, `${prog.name} target`);
      const loss = plan.buffer(4, `${prog.name} loss`);
      const ceSlot = plan.dispatches.length;
      plan.dispatches.push({ text: crossEntropyWgsl(), label: `compiled ${prog.name} cross-entropy`, storages: [loss, plan.named(prog.backward!.grad), plan.named(head ? head.logSoftmax : prog.output.buf), target, err.buffer], words: [rows, cols, err.id], groups: [1, 1, 1] });
      plan.add(prog.backward!.launches, (l) => l.kernel, resolve);
      const dummy = plan.buffer(4, `${prog.name} no optimizer state`);
      const updates: Update[] = [];
      optimizer.paramGroups.forEach((g, gi) => {
        for (const q of g.params as ParameterTensor[]) {
          const n = q.numel();
          const key = keyOf.get(q)!;
          updates.push({ slot: plan.dispatches.length, p: q, group: gi, n });
          const G = gpuBuffer(grads.get(key)!);
          if (isAdam) {
            const st = adam.state.get(q as never) as AdamState;
            const X = st.maxExpAvgSq ? gpuBuffer(st.maxExpAvgSq) : dummy;
            plan.dispatches.push({ text: adamStepWgsl(), label: `compiled ${prog.name} ${optimizer instanceof AdamWOptimizer ? "AdamW" : "Adam"} ${key}`, storages: [gpuBuffer(q), G, gpuBuffer(st.expAvg), gpuBuffer(st.expAvgSq), X], words: [n], groups: grid1(n) });
          } else {
            const b = (sgd.state.get(q as never) as { momentumBuffer: AnyTensor | null } | undefined)?.momentumBuffer;
            plan.dispatches.push({ text: sgdStepWgsl(), label: `compiled ${prog.name} SGD ${key}`, storages: [gpuBuffer(q), G, b && sgd.paramGroups[gi]!.momentum !== 0 ? gpuBuffer(b) : dummy], words: [n], groups: grid1(n) });
          }
        }
      });
      plan.finish();
      return { plan, input, inputLen, target, rows, cols, loss, ceSlot, report, reportId: err.id, updates };
    } catch (e) {
      plan.destroy();
      throw e;
    }
  };

  // This step's words of every update: the hyper-parameters (a scheduler may have changed lr),
  // SGD's `first` (momentum starts now), Adam's step count and bias corrections (in doubles from
  // the float32 step, as eager and `adamSource` compute them).
  const setUpdateWords = (sp: StepPlan) => {
    for (const u of sp.updates) {
      if (!isAdam) {
        const g = sgd.paramGroups[u.group]!;
        const first = firstMomentum.delete(u.p);
        sp.plan.setWords(u.slot, [u.n, f32(-g.lr), f32(g.momentum), f32(1 - g.dampening), f32(g.weightDecay), g.nesterov ? 1 : 0, g.maximize ? 1 : 0, first ? 1 : 0]);
        continue;
      }
      const g = adam.paramGroups[u.group]!;
      const st = adam.state.get(u.p as never) as AdamState;
      const s = st.step._data as Float32Array;
      s[st.step._offset] = Math.fround(s[st.step._offset]! + 1);
      const step = s[st.step._offset]!;
      const [b1, b2] = g.betas;
      const decoupled = optimizer instanceof AdamWOptimizer;
      const stepSize = g.lr / (1 - b1 ** step);
      sp.plan.setWords(u.slot, [
        u.n, f32(Math.fround(-stepSize)), f32(Math.fround(Math.sqrt(1 - b2 ** step))), f32(b1), f32(1 - b1), f32(b2), f32(1 - b2), f32(g.eps), f32(g.weightDecay),
        f32(1 - g.lr * g.weightDecay), !decoupled && g.weightDecay !== 0 ? 1 : 0, g.amsgrad ? 1 : 0, g.maximize ? 1 : 0, decoupled ? 1 : 0,
      ]);
    }
  };

  const step = ((x: AnyTensor, y: AnyTensor): AnyTensor => {
    if (reason !== undefined || !(x instanceof Tensor) || !(y instanceof Tensor) || x.device !== "webgpu" || !hasWebgpuBackend()) return eager(x, y);
    const prog = p!;
    if (model.training && prog.evalOnly) {
      warnOnce(`gpustep-train:${prog.name}`, `compileStepGpu runs op by op: ${prog.name} has Dropout, whose training mode is not compiled`);
      return eager(x, y);
    }
    for (const t of params.values()) if (!bindable(t)) return eager(x, y);
    if (x.dtype !== "float32") return eager(x, y);
    const env = bindDims(prog.input, x.shape);
    if (typeof env === "string") {
      warnOnce(`gpustep-shape:${prog.name}`, `compileStepGpu runs op by op: the compiled kernels of ${prog.name} don't fit this input: ${env}`);
      return eager(x, y);
    }
    const outShape = prog.output.shape.map((d) => evalDim(d, env));
    if (outShape.length !== 2 || y.ndim !== 1 || y.shape[0] !== outShape[0] || (y.dtype !== "int64" && y.dtype !== "int32") || y.device !== "webgpu") return eager(x, y);
    const be = webgpuBackend();
    const key = envKey(env);
    let sp = plans.get(key);
    if (sp === null) return eager(x, y);
    try {
      prepareGrads(be);
      prepareState(be);
      if (sp && !sp.plan.fresh(be)) {
        sp.plan.destroy();
        sp = undefined;
      }
      if (!sp) {
        sp = build(be, env, outShape);
        plans.set(key, sp);
        launches = sp.plan.dispatches.length;
      }
    } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      warnOnce(`gpustep:${prog.name}:${e.message}`, `compileStepGpu runs op by op: ${e.message}`);
      plans.set(key, null);
      for (const u of made.undo) u();
      made.undo.length = made.zero.length = 0;
      return eager(x, y);
    }
    be.check();
    setUpdateWords(sp);
    // A bad class index is reported through the backend's error buffer, as eager's crossEntropy
    // on webgpu reports its (gather's): an IndexError at the next readback. The backend forgets its
    // reporters at every readback: the id is registered anew (and the loss kernel's words rewritten) only then.
    const id = errorChannel(be, sp.report, sp.reportId).id;
    if (id !== sp.reportId) {
      sp.reportId = id;
      sp.plan.setWords(sp.ceSlot, [sp.rows, sp.cols, id]);
    }
    const xc = x.contiguous();
    const yc = y.contiguous();
    be.flush();
    const enc = be.gpu.createCommandEncoder({ label: `${prog.name} step` });
    enc.copyBufferToBuffer(gpuBuffer(xc), xc._offset * 4, sp.input, 0, sp.inputLen * 4);
    enc.copyBufferToBuffer((yc._gpu as GpuStorage).buffer, yc._offset * 4, sp.target, 0, sp.rows * 4);
    for (const t of made.zero) enc.clearBuffer(gpuBuffer(t));
    made.undo.length = made.zero.length = 0;
    sp.plan.record(enc);
    const loss = freshTensor(be, []);
    enc.copyBufferToBuffer(sp.loss, 0, gpuBuffer(loss), 0, 4);
    submit(be, enc);
    gpuStats.steps++;
    return loss;
  }) as CompiledGpuStep;
  Object.defineProperties(step, {
    compiled: { get: () => reason === undefined },
    reason: { get: () => reason },
    launchesPerStep: { get: () => launches },
  });
  return step;
}

/**
 * Dispatches of one compiled step of `p` on WebGPU with `nParams` parameters: the forward, the
 * loss, the backward and one update per parameter.
 *
 * @example
 * stepDispatches(cnnProgram, 8); // 8 + 1 + 16 + 8 = 33 for the seed's CNN
 */
export function stepDispatches(p: ModelProgram, nParams: number): number {
  return forwardDispatches(p) + 1 + backwardDispatches(p) + nParams;
}
