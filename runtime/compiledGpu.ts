/**
 * Compiled programs on WebGPU: the WGSL a program carries (`typetorch compile --target js,wgsl`,
 * `ModelProgram.wgsl`) run as one command encoder per call.
 *
 * - Forward ({@link gpuForward}, reached through `CompiledKernels.call` when a registered model is
 *   called without autograd on a float32 "webgpu" tensor): the program bound as a `GpuPlan`
 *   (`GpuPlan.ts`: its buffers, the uniform parameter block of every dispatch, the bind groups and
 *   the pipelines, made once per binding of its dims; parameters' device buffers are bound
 *   directly). A call then records the input copy, every launch and the output copy into one
 *   command encoder and submits it once. Whatever doesn't fit (shape, dtype, no WGSL) runs op by
 *   op, warning once.
 * - Training step: `compileStepGpu` (`compileStepGpu.ts`).
 *
 * Each WGSL kernel text names what it computes on its first line (`// typetorch:linear`); how a
 * launch becomes dispatches is `lowerLaunch.ts`'s. Kernel text comes only from `runtime/codegen`.
 *
 * @example
 * import "./model.kernels.generated.js";           // compiled with --target js,wgsl
 * await torch.webgpu.init();
 * model.eval().to("webgpu");
 * const y = torch.noGrad(() => model(x.to("webgpu"))); // one submit, the program's WGSL kernels
 */
import { type WebGPUBackend, hasWebgpuBackend, webgpuBackend } from "./backend/webgpu.js";
import { type CompiledKernels, type DimExpr, type ModelProgram, bindDims, evalDim } from "./compiled.js";
import { GpuPlan, bindable, envKey, freshTensor, gpuBuffer, gpuStats, resolver, submit, warnOnce } from "./GpuPlan.js";
import { PlanError } from "./lowerLaunch.js";
import type { ModuleBase } from "./nn/Module.js";
import type { ParameterTensor } from "./nn/Parameter.js";
import type { AnyTensor } from "./tensorTypes.js";

export { gpuStats };

interface ForwardPlan {
  plan: GpuPlan;
  input: GPUBuffer;
  inputLen: number;
  out: GPUBuffer;
  outShape: number[];
}

/** Forward plans per kernels, model and binding (null: the program can't run on the GPU at that binding). */
const forwardPlans = new WeakMap<CompiledKernels, WeakMap<ModuleBase, Map<string, ForwardPlan | null>>>();

function buildForward(be: WebGPUBackend, p: ModelProgram, env: ReadonlyMap<string, number>, params: ReadonlyMap<string, ParameterTensor>): ForwardPlan {
  if (p.output.buf === "") throw new PlanError(`${p.name}'s output is its input`);
  const plan = new GpuPlan(be, p, env, [...params.values()].map((t) => () => t._gpu));
  try {
    const inputLen = p.input.reduce<number>((x, d) => x * evalDim(d, env), 1);
    const input = plan.buffer(inputLen * 4, `${p.name} input`);
    plan.add(p.forward, (_, i) => `g${i}`, resolver(plan, input, params, null));
    plan.finish();
    return { plan, input, inputLen, out: plan.named(p.output.buf), outShape: p.output.shape.map((d: DimExpr) => evalDim(d, env)) };
  } catch (e) {
    plan.destroy();
    throw e;
  }
}

/**
 * The forward of a compiled program on WebGPU, or undefined to run op by op. `CompiledKernels.call`
 * calls it for a "webgpu" input once it has checked the model's parameters match the program and
 * that no gradient is recorded. Runs when the program has WGSL (`--target js,wgsl`), the input is
 * float32 and fits the program's input shape, and every parameter is float32 on webgpu; a shape
 * that doesn't fit or a program without WGSL warns once. One command encoder, one submit.
 *
 * @example
 * const y = gpuForward(kernels, model, params, x.to("webgpu")); // a webgpu tensor, or undefined
 */
export function gpuForward(k: CompiledKernels, m: ModuleBase, params: ReadonlyMap<string, ParameterTensor>, x: AnyTensor): AnyTensor | undefined {
  const p = k.program;
  if (x.device !== "webgpu" || x.dtype !== "float32" || !hasWebgpuBackend()) return undefined;
  for (const t of params.values()) if (!bindable(t)) return undefined; // eager reports mixed devices
  if (!p.wgsl) {
    warnOnce(`wgsl:${p.name}`, `compiled kernels of ${p.name} (${p.source}:${p.line}) have no WGSL (compile with --target js,wgsl to run them on webgpu); running op by op`);
    return undefined;
  }
  const env = bindDims(p.input, x.shape);
  if (typeof env === "string") {
    warnOnce(`shape:${p.name}`, `compiled kernels of ${p.name} (${p.source}:${p.line}) don't fit this input: ${env}; running op by op`);
    return undefined;
  }
  const be = webgpuBackend();
  let perModel = forwardPlans.get(k);
  if (!perModel) forwardPlans.set(k, (perModel = new WeakMap()));
  let plans = perModel.get(m);
  if (!plans) perModel.set(m, (plans = new Map()));
  const key = envKey(env);
  let fp = plans.get(key);
  if (fp === null) return undefined;
  if (fp && !fp.plan.fresh(be)) {
    fp.plan.destroy();
    fp = undefined;
  }
  if (!fp) {
    try {
      fp = buildForward(be, p, env, params);
    } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      warnOnce(`gpu:${p.name}:${e.message}`, `compiled kernels of ${p.name} (${p.source}:${p.line}) can't run on webgpu: ${e.message}; running op by op`);
      plans.set(key, null);
      return undefined;
    }
    plans.set(key, fp);
  }
  be.check();
  const xc = x.contiguous();
  // Work queued by eager ops (the input's, say) goes first, in its own submit, as it would anyway.
  be.flush();
  const enc = be.gpu.createCommandEncoder({ label: `${p.name} forward` });
  enc.copyBufferToBuffer(gpuBuffer(xc), xc._offset * 4, fp.input, 0, fp.inputLen * 4);
  fp.plan.record(enc);
  const out = freshTensor(be, fp.outShape);
  const n = out.numel();
  if (n > 0) enc.copyBufferToBuffer(fp.out, 0, gpuBuffer(out), 0, n * 4);
  submit(be, enc);
  gpuStats.forwards++;
  return out;
}

/**
 * How many kernel dispatches a program's forward makes on WebGPU (a convolution is two: im2col,
 * then the GEMM with its epilogue; everything else one per launch).
 *
 * @example
 * forwardDispatches(kernels.program); // 2 for Linear+ReLU, Linear; 8 for the seed's CNN (6 launches)
 */
export function forwardDispatches(p: ModelProgram): number {
  return p.forward.reduce((s, _, i) => s + (p.wgsl?.[`g${i}.im2col`] !== undefined ? 2 : 1), 0);
}
