/**
 * A compiled program bound on WebGPU (what `compiledGpu.ts`'s forward and `compileStepGpu.ts`'s
 * training step record): the program's buffers as GPU buffers, made once per binding of its
 * dims, its launches lowered into dispatches (`lowerLaunch.ts`), the uniform parameter block of
 * every dispatch, the bind groups and the pipelines. Recording a plan is then one compute pass of
 * prebuilt dispatches; nothing is allocated per call. Plus the helpers both runners share.
 *
 * @example
 * const plan = new GpuPlan(be, program, env, [...params.values()].map((t) => () => t._gpu));
 * plan.add(program.forward, (_, i) => `g${i}`, resolver(plan, input, params, null));
 * plan.finish();
 * plan.record(encoder); // every dispatch, in order, in one compute pass
 */
import type { DeviceStorage } from "./backend/Backend.js";
import type { GpuStorage, WebGPUBackend } from "./backend/webgpu.js";
import { PARAM_WORDS } from "./codegen/wgsl.js";
import { type Launch, type LaunchArg, type ModelProgram, evalDim, stats } from "./compiled.js";
import { type Arg, type Dispatch, PlanError, lowerLaunch, storageBindings } from "./lowerLaunch.js";
import type { ParameterTensor } from "./nn/Parameter.js";
import { contiguousStrides } from "./ops/defineOp.js";
import { Tensor } from "./Tensor.js";
import type { AnyTensor } from "./tensorTypes.js";

// GPUBufferUsage as numbers: the globals only exist in browsers (see backend/webgpu.ts).
const COPY_SRC = 0x4, COPY_DST = 0x8, UNIFORM = 0x40, STORAGE = 0x80;
const SLOT_BYTES = PARAM_WORDS * 4; // one dispatch's parameter block; 256 is also the offset alignment

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
// a bound GPU program: buffers, uniforms, bind groups, made once per binding of the dims
// ---------------------------------------------------------------------------------------------

interface Bound {
  pipeline: GPUComputePipeline;
  bind: GPUBindGroup;
  groups: readonly [number, number, number];
}

/**
 * What a plan binds that lives outside it (parameters, gradients, optimizer state): checked
 * every call, so a moved parameter or a replaced state tensor rebuilds the plan.
 *
 * @example
 * const outside: Outside = [() => weight._gpu];
 */
export type Outside = readonly (() => DeviceStorage | null)[];

/**
 * A program's dispatches bound on one device at one binding of its dims (see the file's doc).
 *
 * @example
 * if (!plan.fresh(webgpuBackend())) plan.destroy(); // made anew on the next call
 */
export class GpuPlan {
  readonly buffers = new Map<string, GPUBuffer>();
  readonly owned: GPUBuffer[] = [];
  readonly dispatches: Dispatch[] = [];
  /** The geometry of the forward's max poolings by index buffer (their backward reads it). */
  readonly poolGeom = new Map<GPUBuffer, readonly number[]>();
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

  /** The program's buffer `id`, made on first use (arguments resolve lazily: the JS kernels' packing scratch is never made). */
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

  /**
   * Lowers launches into dispatches; `keyOf` names where each launch's WGSL is (`g<i>` for the
   * forward, the kernel name for the backward; further passes under `<key>.<part>`).
   */
  add(launches: readonly Launch[], keyOf: (l: Launch, i: number) => string, resolve: (a: LaunchArg) => Arg): void {
    const wgsl = this.program.wgsl ?? {};
    launches.forEach((l, i) => {
      const key = keyOf(l, i);
      const main = wgsl[key];
      if (main === undefined) throw new PlanError(`program ${this.program.name} has no WGSL for ${l.kernel} (${key})`);
      this.dispatches.push(...lowerLaunch({
        kernel: l.kernel,
        label: `compiled ${this.program.name} ${l.kernel} (${l.covers})`,
        main,
        part: (name) => wgsl[`${key}.${name}`],
        arg: (k) => (k < l.args.length ? resolve(l.args[k]!) : null),
        constant: (w) => this.constant(w),
        colSum: wgsl["col_sum"],
        poolGeom: this.poolGeom,
      }));
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

// ---------------------------------------------------------------------------------------------
// helpers of both runners
// ---------------------------------------------------------------------------------------------

/**
 * The GPU buffer of a webgpu tensor.
 *
 * @example
 * enc.copyBufferToBuffer(gpuBuffer(x), 0, input, 0, bytes);
 */
export function gpuBuffer(t: AnyTensor): GPUBuffer {
  return (t._gpu as GpuStorage).buffer;
}

/**
 * Whether `t` is a float32, contiguous, offset-0 tensor on webgpu (what kernels bind whole).
 *
 * @example
 * if (!bindable(weight)) return undefined; // op by op
 */
export function bindable(t: AnyTensor | null | undefined): t is AnyTensor {
  return !!t && t.device === "webgpu" && t.dtype === "float32" && t._offset === 0 && t.isContiguous() && t._gpu !== null;
}

/**
 * Resolves the program's arguments against a plan (the input is the plan's own input buffer).
 *
 * @example
 * plan.add(program.forward, (_, i) => `g${i}`, resolver(plan, input, params, null));
 */
export function resolver(plan: GpuPlan, input: GPUBuffer, params: ReadonlyMap<string, ParameterTensor>, grads: ReadonlyMap<string, AnyTensor> | null): (a: LaunchArg) => Arg {
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

/**
 * Submits one command encoder (and counts it).
 *
 * @example
 * submit(be, enc);
 */
export function submit(be: WebGPUBackend, enc: GPUCommandEncoder): void {
  be.gpu.queue.submit([enc.finish()]);
  gpuStats.submits++;
}

/**
 * A fresh contiguous float32 webgpu tensor (a pooled buffer may hold old values: the caller
 * writes it before anything reads it).
 *
 * @example
 * const loss = freshTensor(be, []);
 */
export function freshTensor(be: WebGPUBackend, shape: readonly number[]): AnyTensor {
  const n = shape.reduce((x, y) => x * y, 1);
  return new Tensor(null as never, shape, contiguousStrides(shape), 0, "float32", be.alloc("float32", n)) as unknown as AnyTensor;
}

/**
 * Where a kernel a plan records reports a bad index (see {@link errorChannel}).
 *
 * @example
 * const ch: ErrorChannel = errorChannel(be, report);
 * plan.dispatches.push({ ..., storages: [...buffers, ch.buffer], words: [...words, ch.id] });
 */
export interface ErrorChannel {
  /** The backend's error buffer: the kernel's `ERR` binding. */
  readonly buffer: GPUBuffer;
  /** The reporter id the kernel stores with a bad value (its error-id parameter word). */
  readonly id: number;
}

/**
 * The eager index kernels' error channel for a kernel recorded in a plan (outside the backend's
 * own batches), through the backend's `bindErrorReporter`: the kernel binds `buffer` and stores
 * `id` with the bad value (`tt_bad` of `codegen/wgsl.ts`); the next readback throws
 * `report(value)`. The backend forgets its reporters at every readback: call this again before
 * each submit with the id in use as `keep`, and rewrite the kernel's words when the id changed.
 *
 * @example
 * let ch = errorChannel(be, report);               // when the plan is built
 * ch = errorChannel(be, report, ch.id);            // before each submit
 */
export function errorChannel(be: WebGPUBackend, report: (v: number) => Error, keep?: number): ErrorChannel {
  return be.bindErrorReporter(report, keep);
}

const warned = new Set<string>();

/**
 * Warns once per key (`typetorch: ...`).
 *
 * @example
 * warnOnce(`wgsl:${p.name}`, `compiled kernels of ${p.name} have no WGSL; running op by op`);
 */
export function warnOnce(key: string, msg: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`typetorch: ${msg}`);
}

/**
 * A binding of a program's dims as a map key.
 *
 * @example
 * envKey(new Map([["B", 2]])); // "B=2;"
 */
export function envKey(env: ReadonlyMap<string, number>): string {
  let s = "";
  for (const [k, v] of env) s += `${k}=${v};`;
  return s;
}
