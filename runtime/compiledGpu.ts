/**
 * Compiled programs on WebGPU: the WGSL a program carries (`typetorch compile --target js,wgsl`,
 * `ModelProgram.wgsl`) run as one command encoder per call.
 *
 * - Forward ({@link gpuForward}, reached through `CompiledKernels.call` when a registered model is
 *   called without autograd on a float32 "webgpu" tensor): the program's buffers become GPU buffers
 *   once per binding of its dims, together with the uniform parameter block of every dispatch,
 *   the bind groups and the pipelines; parameters' device buffers are bound directly. A call then
 *   records the input copy, every launch and the output copy into one command encoder and submits
 *   it once. Whatever doesn't fit (shape, dtype, no WGSL) runs op by op, warning once.
 * - Training step ({@link compileStepGpu}, Linear chains): forward, cross-entropy fused with its
 *   gradient, the backward and the SGD update, all in one command encoder per step.
 *
 * Each WGSL kernel text names what it computes on its first line (`// typetorch:linear`, see
 * `CompiledWgslKind` in `codegen/wgsl.ts`); a launch's arguments are read by the signature of the
 * JS kernel of that kind (`codegen/fused.ts`, `codegen/jsConv.ts`), so the program needs no second
 * launch list for the GPU. Kernel text comes only from `runtime/codegen`.
 *
 * @example
 * import "./model.kernels.generated.js";           // compiled with --target js,wgsl
 * await torch.webgpu.init();
 * model.eval().to("webgpu");
 * const y = torch.noGrad(() => model(x.to("webgpu"))); // one submit, the program's WGSL kernels
 */
import type { DeviceStorage } from "./backend/Backend.js";
import { type GpuStorage, type WebGPUBackend, hasWebgpuBackend, webgpuBackend } from "./backend/webgpu.js";
import {
  PARAM_WORDS, WORKGROUP, compiledWgslKind, crossEntropyWgsl, paramWord, sgdStepWgsl,
} from "./codegen/wgsl.js";
import { type CompiledKernels, type DimExpr, type Launch, type LaunchArg, type ModelProgram, bindDims, evalDim, kernelsOf, stats } from "./compiled.js";
import type { ModuleBase } from "./nn/Module.js";
import type { ParameterTensor } from "./nn/Parameter.js";
import { CrossEntropyLoss } from "./nn/lossModules.js";
import { crossEntropy } from "./nn/loss.js";
import { contiguousStrides } from "./ops/defineOp.js";
import type { Optimizer } from "./optim/Optimizer.js";
import { SGDOptimizer } from "./optim/SGD.js";
import { Tensor } from "./Tensor.js";
import type { AnyTensor } from "./tensorTypes.js";

// GPUBufferUsage as numbers: the globals only exist in browsers (see backend/webgpu.ts).
const COPY_SRC = 0x4, COPY_DST = 0x8, UNIFORM = 0x40, STORAGE = 0x80;
const SLOT_BYTES = PARAM_WORDS * 4; // one dispatch's parameter block; 256 is also the offset alignment
const MAX_GROUPS = 65535;

/**
 * Counters of the WebGPU path: forwards and training steps run, command buffers submitted, and
 * kernel dispatches recorded (each also counts in `compiled.stats.launches`).
 *
 * @example
 * const before = gpuStats.submits;
 * torch.noGrad(() => model(x));
 * gpuStats.submits - before; // 1
 */
export const gpuStats = { forwards: 0, steps: 0, submits: 0, dispatches: 0 };

// ---------------------------------------------------------------------------------------------
// pipelines (once per kernel text and device)
// ---------------------------------------------------------------------------------------------

interface Pipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  /** Storage bindings after the uniform block: whether each is written. */
  writes: boolean[];
}

const pipelines = new WeakMap<GPUDevice, Map<string, Pipeline>>();

/** The storage bindings a kernel declares (bindings 1…, in order): whether each is read_write. */
function storageBindings(text: string): boolean[] {
  const out: boolean[] = [];
  for (const m of text.matchAll(/@group\(0\) @binding\((\d+)\) var<storage, (read_write|read)>/g)) out[Number(m[1]) - 1] = m[2] === "read_write";
  for (let i = 0; i < out.length; i++) if (out[i] === undefined) throw new PlanError(`kernel declares no binding ${i + 1}`);
  return out;
}

function pipelineOf(gpu: GPUDevice, text: string, label: string): Pipeline {
  let cache = pipelines.get(gpu);
  if (!cache) pipelines.set(gpu, (cache = new Map()));
  let p = cache.get(text);
  if (p) return p;
  const writes = storageBindings(text);
  const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: 4, buffer: { type: "uniform" } }];
  writes.forEach((w, i) => entries.push({ binding: i + 1, visibility: 4, buffer: { type: w ? "storage" : "read-only-storage" } }));
  const layout = gpu.createBindGroupLayout({ entries, label });
  // A shader that fails to compile surfaces as the device's uncaptured error, which the backend
  // turns into a DeviceError at the next op or readback (the label names the launch).
  const module = gpu.createShaderModule({ code: text, label });
  const pipeline = gpu.createComputePipeline({ layout: gpu.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: "main" }, label });
  p = { pipeline, layout, writes };
  cache.set(text, p);
  return p;
}

// ---------------------------------------------------------------------------------------------
// lowering: a launch (JS kernel arguments) → dispatches
// ---------------------------------------------------------------------------------------------

/** Why a program can't run on the GPU (the caller falls back to op by op). */
class PlanError extends Error {}

/** One dispatch before it is bound: kernel text, storages in binding order, parameter words, grid. */
interface Dispatch {
  readonly text: string;
  readonly label: string;
  readonly storages: readonly GPUBuffer[];
  readonly words: number[];
  readonly groups: readonly [number, number, number];
}

/** A resolved launch argument. */
type Arg = GPUBuffer | number | readonly number[] | readonly Arg[] | null;

/** A 1-D grid of WORKGROUP-wide groups covering n invocations, folded into 2-D past 65,535 (as `codegen/wgsl.ts` kernels unfold it). */
function grid1(n: number): [number, number, number] {
  const g = Math.max(1, Math.ceil(n / WORKGROUP));
  return g <= MAX_GROUPS ? [g, 1, 1] : [MAX_GROUPS, Math.ceil(g / MAX_GROUPS), 1];
}

/** The grid of a GEMM (one 16×16 tile per workgroup, z per batch matrix). */
function gridGemm(M: number, N: number, Z: number): [number, number, number] {
  const g: [number, number, number] = [Math.max(1, Math.ceil(N / 16)), Math.max(1, Math.ceil(M / 16)), Math.max(1, Z)];
  if (g.some((v) => v > MAX_GROUPS)) throw new PlanError(`a matrix product of ${M}×${N} (×${Z}) exceeds the ${MAX_GROUPS} workgroups per dimension`);
  return g;
}

function bufArg(a: Arg, what: string): GPUBuffer {
  if (a === null || typeof a === "number" || Array.isArray(a)) throw new PlanError(`${what}: expected a buffer argument`);
  return a as GPUBuffer;
}
function intArg(a: Arg, what: string): number {
  if (typeof a !== "number") throw new PlanError(`${what}: expected an integer argument`);
  return a;
}

/** The source of the kernel text of a launch: the text, and (conv) its im2col pass. */
interface LaunchText {
  readonly main: string;
  readonly pre?: string;
}

/**
 * The dispatches of one launch, its arguments read by the JS kernel signature its WGSL kind
 * names (see `CompiledWgslKind`). `constant` uploads a launch's constant arrays (pooling windows).
 */
function lower(t: LaunchText, args: readonly Arg[], label: string, constant: (words: Int32Array | Float32Array) => GPUBuffer, colSum: string | undefined): Dispatch[] {
  const kind = compiledWgslKind(t.main);
  const a = (i: number) => args[i] ?? null;
  const b = (i: number) => bufArg(a(i), `${label} argument ${i}`);
  const n = (i: number) => intArg(a(i), `${label} argument ${i}`);
  const withBias = (text: string, list: GPUBuffer[], bias: Arg) => {
    const want = storageBindings(text).length;
    if (want === list.length + 1) {
      if (bias === null) throw new PlanError(`${label}: the kernel reads a bias the launch doesn't pass`);
      list.push(bufArg(bias, `${label} bias`));
    } else if (want !== list.length) throw new PlanError(`${label}: the kernel binds ${want} buffers, the launch passes ${list.length}`);
    return list;
  };
  switch (kind) {
    case "linear": {
      // gemm(C, co, A, ao, B, bo, M, K, N, P, bias, E, D), B stored N×K (the weight)
      const [M, K, N] = [n(6), n(7), n(8)];
      return [{ text: t.main, label, storages: withBias(t.main, [b(0), b(2), b(4)], a(10)), words: [M, K, N, n(3), 0, n(5), 0, n(1), 0, 0], groups: gridGemm(M, N, 1) }];
    }
    case "conv2d": {
      // conv(O, X, Wt, bias, cols, P, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Oc): im2col, then W · cols[n] per sample
      if (!t.pre || compiledWgslKind(t.pre) !== "im2col") throw new PlanError(`${label}: the convolution has no im2col kernel`);
      const N = n(6), C = n(7), H = n(8), W = n(9), kh = n(10), kw = n(11), sh = n(12), sw = n(13);
      const ph = n(14), pw = n(15), dh = n(16), dw = n(17), Ho = n(18), Wo = n(19), Oc = n(20);
      const K = C * kh * kw, L = Ho * Wo;
      const cols = b(4);
      const im2col: Dispatch = { text: t.pre, label: `${label} (im2col)`, storages: [cols, b(1)], words: [N * K * L, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, 0, C * H * W, H * W, W, 1], groups: grid1(N * K * L) };
      const gemm: Dispatch = { text: t.main, label, storages: withBias(t.main, [b(0), b(2), cols], a(3)), words: [Oc, K, L, 0, 0, 0, K * L, 0, Oc * L, 0], groups: gridGemm(Oc, L, N) };
      return [im2col, gemm];
    }
    case "max_pool2d": {
      // maxpool(O, I, X, xo, xsN, xsC, xsH, xsW, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)
      const g = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21].map(n);
      const total = g[0]! * g[1]! * g[12]! * g[13]!;
      return [{ text: t.main, label, storages: [b(0), b(1), b(2)], words: [total, ...g, n(3), n(4), n(5), n(6), n(7)], groups: grid1(total) }];
    }
    case "avg_pool2d": {
      // avgpool(O, X, xo, xsN, xsC, xsH, xsW, N, C, Ho, Wo, hs, he, ws, we, dv): the windows become constant buffers
      const [N, C, Ho, Wo] = [n(7), n(8), n(9), n(10)];
      const xsC = n(4), xsH = n(5);
      const win = [11, 12, 13, 14].map((i) => a(i));
      const dv = a(15);
      if (!win.every(Array.isArray) || !Array.isArray(dv)) throw new PlanError(`${label}: expected the pooling windows as constants`);
      const total = N * C * Ho * Wo;
      // H and W (words 3, 4) only label the geometry: the kernel reads the image through its strides and windows.
      const words = [total, N, C, xsH > 0 ? xsC / xsH : 0, xsH, Ho, Wo, n(2), n(3), xsC, xsH, n(6)];
      const storages = [b(0), b(1), constant(Int32Array.from((win as number[][]).flat())), constant(Float32Array.from(dv as number[]))];
      return [{ text: t.main, label, storages, words, groups: grid1(total) }];
    }
    case "ew":
    case "act_backward": {
      // ewc(O, X, n, p)
      const list = a(1);
      if (!Array.isArray(list)) throw new PlanError(`${label}: expected the inputs as a list`);
      const total = n(2);
      return [{ text: t.main, label, storages: [b(0), ...(list as Arg[]).map((x, i) => bufArg(x, `${label} input ${i}`))], words: [total], groups: grid1(total) }];
    }
    case "softmax":
      // sm(O, X, rows, cols)
      return [{ text: t.main, label, storages: [b(0), b(1)], words: [n(2), n(3)], groups: grid1(n(2)) }];
    case "linear_grad": {
      // gemm(C = ∂W, co, A = ∂Z (stored K×M), ao, B = X, bo, M, K, N, P, bias, E, D = ∂b) with aT: ∂W = ∂Zᵀ·X, ∂b = column sums of ∂Z
      const [M, K, N] = [n(6), n(7), n(8)];
      const out: Dispatch[] = [{ text: t.main, label, storages: [b(0), b(2), b(4)], words: [M, K, N, n(3), 0, n(5), 0, n(1), 0, 0], groups: gridGemm(M, N, 1) }];
      if (a(12) !== null) {
        if (!colSum) throw new PlanError(`${label}: the program has no col_sum kernel for the bias gradient`);
        out.push({ text: colSum, label: `${label} (bias)`, storages: [b(12), b(2)], words: [K, M, n(3)], groups: grid1(M) });
      }
      return out;
    }
    case "linear_input_grad": {
      // gemm(C = ∂X, co, A = ∂Z, ao, B = W, bo, M, K, N, P, bias, E = the activation's output, D)
      const [M, K, N] = [n(6), n(7), n(8)];
      const storages = [b(0), b(2), b(4)];
      if (storageBindings(t.main).length === 4) storages.push(b(11));
      return [{ text: t.main, label, storages, words: [M, K, N, n(3), 0, n(5), 0, n(1), 0, 0], groups: gridGemm(M, N, 1) }];
    }
    default:
      throw new PlanError(kind === null ? `${label}: the WGSL kernel doesn't say what it computes (compiled by an older typetorch: compile again)` : `${label}: no GPU launch for WGSL kernels of kind "${kind}"`);
  }
}

// ---------------------------------------------------------------------------------------------
// a bound GPU program: buffers, uniforms, bind groups, made once per binding of the dims
// ---------------------------------------------------------------------------------------------

interface Bound {
  pipeline: GPUComputePipeline;
  bind: GPUBindGroup;
  groups: readonly [number, number, number];
}

/** What a plan binds that lives outside it (parameters, gradients, optimizer state): checked every call. */
type Outside = readonly (() => DeviceStorage | null)[];

class GpuPlan {
  readonly buffers = new Map<string, GPUBuffer>();
  readonly owned: GPUBuffer[] = [];
  readonly dispatches: Dispatch[] = [];
  bound: Bound[] = [];
  uniforms: GPUBuffer | null = null;
  /** The outside storages the bind groups were made with (a moved parameter rebuilds the plan). */
  seen: (DeviceStorage | null)[] = [];

  constructor(
    readonly be: WebGPUBackend,
    readonly program: ModelProgram,
    readonly env: ReadonlyMap<string, number>,
    readonly outside: Outside,
  ) {
    this.seen = outside.map((f) => f());
  }

  /** Still valid: the same device and the same outside storages. */
  fresh(be: WebGPUBackend): boolean {
    if (be !== this.be) return false;
    for (let i = 0; i < this.outside.length; i++) if (this.outside[i]!() !== this.seen[i]) return false;
    return true;
  }

  buffer(bytes: number, label: string): GPUBuffer {
    const max = this.be.gpu.limits.maxStorageBufferBindingSize;
    if (bytes > max) throw new PlanError(`${label} needs ${bytes} bytes, more than a storage binding holds here (${max})`);
    const b = this.be.gpu.createBuffer({ size: Math.max(4, Math.ceil(bytes / 4) * 4), usage: STORAGE | COPY_SRC | COPY_DST, label });
    this.owned.push(b);
    return b;
  }

  /** The program's buffer `id` (made on first use: the JS kernels' packing scratch is never made). */
  named(id: string): GPUBuffer {
    let b = this.buffers.get(id);
    if (!b) {
      const spec = this.program.buffers.find((x) => x.id === id);
      if (!spec) throw new PlanError(`program ${this.program.name} has no buffer "${id}"`);
      b = this.buffer(evalDim(spec.size, this.env) * 4, `${this.program.name} ${id}`);
      this.buffers.set(id, b);
    }
    return b;
  }

  constant(words: Int32Array | Float32Array): GPUBuffer {
    const b = this.buffer(words.byteLength, `${this.program.name} constant`);
    this.be.gpu.queue.writeBuffer(b, 0, words.length > 0 ? words : new Int32Array(1));
    return b;
  }

  /** Lowers launches (their WGSL by `textOf`) into dispatches. */
  add(launches: readonly Launch[], textOf: (l: Launch, i: number) => LaunchText, resolve: (a: LaunchArg) => Arg): void {
    const colSum = this.program.wgsl?.["col_sum"];
    launches.forEach((l, i) => {
      const args = l.args.map(resolve);
      this.dispatches.push(...lower(textOf(l, i), args, `compiled ${this.program.name} ${l.kernel} (${l.covers})`, (w) => this.constant(w), colSum));
    });
  }

  /** Makes the pipelines, the uniform block (every dispatch's words in its 256-byte slot) and the bind groups. */
  finish(): void {
    const gpu = this.be.gpu;
    const n = this.dispatches.length;
    this.uniforms = gpu.createBuffer({ size: Math.max(1, n) * SLOT_BYTES, usage: UNIFORM | COPY_DST, label: `${this.program.name} params` });
    this.owned.push(this.uniforms);
    const staging = new Uint32Array(Math.max(1, n) * PARAM_WORDS);
    this.bound = this.dispatches.map((d, i) => {
      if (d.words.length > PARAM_WORDS) throw new PlanError(`${d.label}: more than ${PARAM_WORDS} parameter words`);
      staging.set(d.words.map((w) => w >>> 0), i * PARAM_WORDS);
      const p = pipelineOf(gpu, d.text, d.label);
      if (p.writes.length !== d.storages.length) throw new PlanError(`${d.label}: the kernel binds ${p.writes.length} buffers, the launch passes ${d.storages.length}`);
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniforms!, offset: i * SLOT_BYTES, size: SLOT_BYTES } }];
      d.storages.forEach((s, k) => entries.push({ binding: k + 1, resource: { buffer: s } }));
      return { pipeline: p.pipeline, bind: gpu.createBindGroup({ layout: p.layout, entries, label: d.label }), groups: d.groups };
    });
    gpu.queue.writeBuffer(this.uniforms, 0, staging);
  }

  /** Rewrites one dispatch's parameter words (per-step hyper-parameters); queued before the next submit. */
  setWords(i: number, words: readonly number[]): void {
    this.be.gpu.queue.writeBuffer(this.uniforms!, i * SLOT_BYTES, Uint32Array.from(words, (w) => w >>> 0));
  }

  /** Records every dispatch into one compute pass of `enc`. */
  record(enc: GPUCommandEncoder): void {
    const pass = enc.beginComputePass();
    for (const d of this.bound) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bind);
      pass.dispatchWorkgroups(d.groups[0], d.groups[1], d.groups[2]);
    }
    pass.end();
    gpuStats.dispatches += this.bound.length;
    stats.launches += this.bound.length;
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
  }
}

/** The WGSL of forward launch `i` (`g<i>`, and `g<i>.im2col` for a convolution). */
function forwardText(p: ModelProgram, i: number): LaunchText {
  const main = p.wgsl?.[`g${i}`];
  if (main === undefined) throw new PlanError(`program ${p.name} has no WGSL for forward launch ${i} (g${i})`);
  const pre = p.wgsl?.[`g${i}.im2col`];
  return pre === undefined ? { main } : { main, pre };
}

function gpuBuffer(t: AnyTensor): GPUBuffer {
  return (t._gpu as GpuStorage).buffer;
}

/** A float32, contiguous, offset-0 tensor on webgpu (what kernels bind whole). */
function bindable(t: AnyTensor | null | undefined): t is AnyTensor {
  return !!t && t.device === "webgpu" && t.dtype === "float32" && t._offset === 0 && t.isContiguous() && t._gpu !== null;
}

/** Resolves the program's arguments against a plan (the input is the plan's own input buffer). */
function resolver(plan: GpuPlan, input: GPUBuffer, params: ReadonlyMap<string, ParameterTensor>, grads: ReadonlyMap<string, AnyTensor> | null): (a: LaunchArg) => Arg {
  const r = (a: LaunchArg): Arg => {
    if ("buf" in a) return plan.named(a.buf);
    if ("input" in a) return input;
    if ("param" in a) return gpuBuffer(params.get(a.param)!);
    if ("grad" in a) {
      const g = grads?.get(a.grad);
      if (!g) throw new PlanError(`no gradient for ${a.grad}`);
      return gpuBuffer(g);
    }
    if ("int" in a) return evalDim(a.int, plan.env);
    if ("f64" in a) return a.f64;
    if ("list" in a) return a.list.map(r);
    return null;
  };
  return r;
}

function submit(be: WebGPUBackend, enc: GPUCommandEncoder): void {
  be.gpu.queue.submit([enc.finish()]);
  gpuStats.submits++;
}

/** A fresh contiguous float32 webgpu tensor (its contents are written before anything reads it). */
function freshTensor(be: WebGPUBackend, shape: readonly number[]): AnyTensor {
  const n = shape.reduce((x, y) => x * y, 1);
  return new Tensor(null as never, shape, contiguousStrides(shape), 0, "float32", be.alloc("float32", n)) as unknown as AnyTensor;
}

// ---------------------------------------------------------------------------------------------
// the forward
// ---------------------------------------------------------------------------------------------

const warned = new Set<string>();
function warnOnce(key: string, msg: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`typetorch: ${msg}`);
}

interface ForwardPlan {
  plan: GpuPlan;
  input: GPUBuffer;
  inputLen: number;
  out: GPUBuffer;
  outShape: number[];
}

/** Forward plans per kernels, model and binding (null: the program can't run on the GPU at that binding). */
const forwardPlans = new WeakMap<CompiledKernels, WeakMap<ModuleBase, Map<string, ForwardPlan | null>>>();

function envKey(env: ReadonlyMap<string, number>): string {
  let s = "";
  for (const [k, v] of env) s += `${k}=${v};`;
  return s;
}

function buildForward(be: WebGPUBackend, p: ModelProgram, env: ReadonlyMap<string, number>, params: ReadonlyMap<string, ParameterTensor>): ForwardPlan {
  if (p.output.buf === "") throw new PlanError(`${p.name}'s output is its input`);
  const plan = new GpuPlan(be, p, env, [...params.values()].map((t) => () => t._gpu));
  try {
    const inputLen = p.input.reduce<number>((x, d) => x * evalDim(d, env), 1);
    const input = plan.buffer(inputLen * 4, `${p.name} input`);
    plan.add(p.forward, (_, i) => forwardText(p, i), resolver(plan, input, params, null));
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

// ---------------------------------------------------------------------------------------------
// the training step (Linear chains): forward, cross-entropy, backward, SGD — one encoder per step
// ---------------------------------------------------------------------------------------------

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

interface StepPlan {
  plan: GpuPlan;
  input: GPUBuffer;
  inputLen: number;
  target: GPUBuffer;
  rows: number;
  loss: GPUBuffer;
  /** Slot of each SGD dispatch, with its parameter, group, size and whether its momentum buffer starts now. */
  updates: { slot: number; p: ParameterTensor; group: number; n: number; first: boolean }[];
}

/**
 * A training step — `optimizer.zeroGrad(); crossEntropy(model(x), y).backward(); optimizer.step()` —
 * on WebGPU from the model's compiled program (`--target js,wgsl`): the forward, cross-entropy fused
 * with its gradient, the backward (Linear chains: `∂W = ∂Zᵀ·X` with the bias gradient, `∂X = ∂Z·W`
 * with the previous activation's backward in the epilogue) and the SGD update of every parameter,
 * all recorded into one command encoder and submitted once per step. After a step each parameter's
 * `.grad` holds its gradient and the optimizer's momentum buffers are its own, so eager and compiled
 * steps mix. Runs op by op (warning once) for anything else: other losses or optimizers, a program
 * without a compiled backward or WGSL, inputs that don't fit.
 *
 * @example
 * model.to("webgpu");
 * const step = compileStepGpu(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }));
 * const loss = step(x.to("webgpu"), labels.to("webgpu"));
 * await loss.itemAsync();
 */
export function compileStepGpu(model: ModuleBase, lossFn: unknown, optimizer: Optimizer<{ lr: number }, object>): CompiledGpuStep {
  const eager = (x: AnyTensor, y: AnyTensor): AnyTensor => {
    optimizer.zeroGrad();
    const out = (model as unknown as (a: AnyTensor) => AnyTensor)(x);
    const loss = (lossFn as (a: AnyTensor, b: AnyTensor) => AnyTensor)(out, y);
    loss.backward();
    optimizer.step();
    return loss.detach() as AnyTensor;
  };
  const kernels = kernelsOf(model);
  const p = kernels?.program;
  const ceOk = lossFn === crossEntropy || (lossFn instanceof CrossEntropyLoss && Object.entries((lossFn as unknown as { _opts: Record<string, unknown> })._opts).every(([key, v]) => v === undefined || v === null || (key === "reduction" && v === "mean") || (key === "ignoreIndex" && v === -100) || (key === "labelSmoothing" && v === 0)));
  let reason: string | undefined =
    !p ? "the model has no compiled kernels (import its .kernels.generated module or call model.useKernels)"
    : !p.backward ? `the compiled program of ${p.name} has no backward`
    : !p.wgsl ? `the compiled program of ${p.name} has no WGSL (compile with --target js,wgsl)`
    : !(optimizer instanceof SGDOptimizer) ? "only optim.SGD updates are compiled for webgpu"
    : !ceOk ? "only nn.CrossEntropyLoss (mean reduction, default options) or nn.functional.crossEntropy is compiled for webgpu"
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
  const plans = new Map<string, StepPlan | null>();
  let launches = 0;
  const sgd = optimizer as unknown as SGDOptimizer;

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

  // The momentum buffer each parameter's update binds (made here, and flagged `first`, when the optimizer has none).
  const momentum = (q: ParameterTensor, be: WebGPUBackend): { buf: AnyTensor | null; first: boolean } => {
    const group = sgd.paramGroups.find((g) => g.params.includes(q as never))!;
    if (group.momentum === 0) return { buf: null, first: false };
    const st = sgd.state.get(q as never) as { momentumBuffer: AnyTensor | null } | undefined;
    if (st && bindable(st.momentumBuffer)) return { buf: st.momentumBuffer, first: false };
    const buf = freshTensor(be, q.shape);
    sgd.state.set(q as never, { momentumBuffer: buf } as never);
    return { buf, first: true };
  };

  const build = (be: WebGPUBackend, env: Map<string, number>, outShape: number[]): StepPlan => {
    const prog = p!;
    const outside: (() => DeviceStorage | null)[] = [...params.values()].map((t) => () => t._gpu);
    for (const g of grads.values()) outside.push(() => g._gpu);
    const moms = new Map<ParameterTensor, { buf: AnyTensor | null; first: boolean }>();
    for (const q of params.values()) {
      const m = momentum(q, be);
      moms.set(q, m);
      if (m.buf) outside.push(() => (sgd.state.get(q as never) as { momentumBuffer: AnyTensor | null } | undefined)?.momentumBuffer?._gpu ?? null);
    }
    const plan = new GpuPlan(be, prog, env, outside);
    try {
      const inputLen = prog.input.reduce<number>((x, d) => x * evalDim(d, env), 1);
      const input = plan.buffer(inputLen * 4, `${prog.name} input`);
      const resolve = resolver(plan, input, params, grads);
      plan.add(prog.forward, (_, i) => forwardText(prog, i), resolve);
      const [rows, cols] = outShape as [number, number];
      const target = plan.buffer(rows * 4, `${prog.name} target`);
      const loss = plan.buffer(4, `${prog.name} loss`);
      plan.dispatches.push({ text: crossEntropyWgsl(), label: `compiled ${prog.name} cross-entropy`, storages: [loss, plan.named(prog.backward!.grad), plan.named(prog.output.buf), target], words: [rows, cols], groups: [1, 1, 1] });
      plan.add(prog.backward!.launches, (l) => {
        const main = prog.wgsl![l.kernel];
        if (main === undefined) throw new PlanError(`program ${prog.name} has no WGSL for the backward kernel ${l.kernel}`);
        return { main };
      }, resolve);
      const dummy = plan.buffer(4, `${prog.name} no momentum`);
      const updates: StepPlan["updates"] = [];
      sgd.paramGroups.forEach((g, gi) => {
        for (const q of g.params as ParameterTensor[]) {
          const m = moms.get(q)!;
          const n = q.numel();
          updates.push({ slot: plan.dispatches.length, p: q, group: gi, n, first: m.first });
          const key = [...params].find(([, t]) => t === q)![0];
          plan.dispatches.push({ text: sgdStepWgsl(), label: `compiled ${prog.name} SGD ${key}`, storages: [gpuBuffer(q), gpuBuffer(grads.get(key)!), m.buf ? gpuBuffer(m.buf) : dummy], words: [n], groups: grid1(n) });
        }
      });
      plan.finish();
      return { plan, input, inputLen, target, rows, loss, updates };
    } catch (e) {
      plan.destroy();
      throw e;
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
    prepareGrads(be);
    const key = envKey(env);
    let sp = plans.get(key);
    if (sp === null) return eager(x, y);
    if (sp && !sp.plan.fresh(be)) {
      sp.plan.destroy();
      sp = undefined;
    }
    if (!sp) {
      try {
        sp = build(be, env, outShape);
      } catch (e) {
        if (!(e instanceof PlanError)) throw e;
        warnOnce(`gpustep:${prog.name}:${e.message}`, `compileStepGpu runs op by op: ${e.message}`);
        plans.set(key, null);
        return eager(x, y);
      }
      plans.set(key, sp);
      launches = sp.plan.dispatches.length;
    }
    // This step's hyper-parameters (a scheduler may have changed lr) and whether momentum starts now.
    for (const u of sp.updates) {
      const g = sgd.paramGroups[u.group]!;
      sp.plan.setWords(u.slot, [u.n, paramWord(-g.lr, "f32"), paramWord(g.momentum, "f32"), paramWord(1 - g.dampening, "f32"), paramWord(g.weightDecay, "f32"), g.nesterov ? 1 : 0, g.maximize ? 1 : 0, u.first ? 1 : 0]);
      u.first = false;
    }
    be.check();
    const xc = x.contiguous();
    const yc = y.contiguous();
    be.flush();
    const enc = be.gpu.createCommandEncoder({ label: `${prog.name} step` });
    enc.copyBufferToBuffer(gpuBuffer(xc), xc._offset * 4, sp.input, 0, sp.inputLen * 4);
    enc.copyBufferToBuffer((yc._gpu as GpuStorage).buffer, yc._offset * 4, sp.target, 0, sp.rows * 4);
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
