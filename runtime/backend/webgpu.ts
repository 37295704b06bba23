/**
 * The WebGPU backend: device storage in GPU buffers (pooled by size class and reused once a
 * tensor's storage is garbage collected), one command encoder and compute pass per batch of
 * work, parameter words packed into 256-byte slots of one uniform buffer per batch, pipelines
 * compiled once per kernel text. It knows no ops: WGSL comes from `runtime/codegen/wgsl.ts`.
 *
 * Errors: a kernel that fails to compile, a validation error or a lost device become a
 * `DeviceError` naming the op (and showing the kernel text), thrown by the next op or readback;
 * a bad index a kernel reports becomes the op's `IndexError` at the next readback.
 */
import { DeviceError, DTypeError } from "../../types/errors.js";
import { PARAM_WORDS } from "../codegen/wgsl.js";
import type { DType, TypedArray } from "../dtype.js";
import type { DeviceBackend, DeviceKernel, DeviceStorage } from "./Backend.js";

// GPUBufferUsage / GPUMapMode as numbers: the globals only exist in browsers (and Node after
// installing the `webgpu` package's globals, which typetorch does not do for you).
const MAP_READ = 0x1, COPY_SRC = 0x4, COPY_DST = 0x8, UNIFORM = 0x40, STORAGE = 0x80;
const MODE_READ = 0x1;
const SLOT_BYTES = PARAM_WORDS * 4; // one kernel's parameters; 256 is also the offset alignment
const SLOTS = 256; // per batch (64 KiB, the default maxUniformBufferBindingSize)
const MAX_DISPATCHES = 256;

/** A WebGPU buffer holding a tensor's elements. */
export interface GpuStorage extends DeviceStorage {
  readonly device: "webgpu";
  readonly buffer: GPUBuffer;
  /** Bytes of the buffer (its pool size class). */
  readonly bytes: number;
}

interface Compiled {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

// Size classes: powers of two from 256 bytes, so freed buffers fit later requests.
function sizeClass(bytes: number): number {
  let c = 256;
  while (c < bytes) c *= 2;
  return c;
}

function noFloat64(op: string, dtype: DType): void {
  if (dtype === "float64") throw new DTypeError(`${op}: dtype must be float32, int32, int64 or bool on webgpu, got float64 (convert with x.float() first)`);
}

function numbered(src: string): string {
  return src.split("\n").map((l, i) => `${String(i + 1).padStart(4)}  ${l}`).join("\n");
}

/**
 * The backend over one `GPUDevice`. Made by `torch.webgpu.init()`; ops reach it through
 * {@link webgpuBackend}.
 *
 * @example
 * const be = webgpuBackend();
 * const s = be.upload("float32", new Float32Array([1, 2, 3]));
 * await be.read(s, 0, 3); // Float32Array [1, 2, 3]
 */
export class WebGPUBackend implements DeviceBackend {
  readonly device = "webgpu" as const;
  /** Statistics: buffers created, buffers reused from the pool, kernels compiled, batches submitted. */
  readonly stats = { created: 0, reused: 0, compiled: 0, submitted: 0, dispatched: 0 };
  private readonly pool = new Map<number, GPUBuffer[]>();
  private readonly freed = new FinalizationRegistry<{ buffer: GPUBuffer; bytes: number }>((h) => this.release(h.buffer, h.bytes));
  private readonly pipelines = new Map<string, Compiled>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly staging = new Uint32Array((SLOTS * SLOT_BYTES) / 4);
  private slots = 0;
  private dispatches = 0;
  private uniforms: GPUBuffer;
  private readonly errBuffer: GPUBuffer;
  private readonly reporters = new Map<number, (v: number) => Error>();
  private nextReporter = 1;
  private pending: Promise<void>[] = [];
  private failure: Error | null = null;
  private lost: Error | null = null;

  /**
   * @param gpu the device
   * @param keepAlive what must stay referenced while the device lives (Node's `create()` result)
   */
  constructor(readonly gpu: GPUDevice, readonly keepAlive: unknown = null) {
    this.uniforms = gpu.createBuffer({ size: SLOTS * SLOT_BYTES, usage: UNIFORM | COPY_DST, label: "typetorch params" });
    this.errBuffer = gpu.createBuffer({ size: 8, usage: STORAGE | COPY_SRC | COPY_DST, label: "typetorch errors" });
    gpu.lost.then((info) => {
      if (info.reason === "destroyed" && this.lost) return;
      this.lost = new DeviceError(`webgpu: the device was lost (${info.reason || "unknown"}: ${info.message || "no message"}), got an op after that (call await torch.webgpu.init() again and move tensors anew)`);
    });
    gpu.addEventListener?.("uncapturederror", (e) => {
      const err = (e as GPUUncapturedErrorEvent).error;
      this.failure ??= new DeviceError(`webgpu: the device reported an error, got: ${err.message}`);
    });
  }

  /** Throws an error the device reported since the last call (compile error, lost device). */
  check(): void {
    if (this.lost) throw this.lost;
    const f = this.failure;
    if (f) {
      this.failure = null;
      throw f;
    }
  }

  /** Ends the device's life: later ops throw a DeviceError. */
  destroy(): void {
    this.lost ??= new DeviceError("webgpu: the device was destroyed, got an op after that (call await torch.webgpu.init() again)");
    this.gpu.destroy();
  }

  private release(buffer: GPUBuffer, bytes: number): void {
    if (this.lost) return;
    let list = this.pool.get(bytes);
    if (!list) this.pool.set(bytes, (list = []));
    // Keep the pool bounded; the rest go back to the driver.
    if (list.length < 64) list.push(buffer);
    else buffer.destroy();
  }

  private storage(dtype: DType, length: number, buffer: GPUBuffer, bytes: number): GpuStorage {
    const s: GpuStorage = { device: "webgpu", dtype, length, buffer, bytes };
    this.freed.register(s, { buffer, bytes });
    return s;
  }

  alloc(dtype: DType, n: number, zero = false): GpuStorage {
    this.check();
    noFloat64("alloc", dtype);
    const bytes = sizeClass(n * 4);
    const reused = this.pool.get(bytes)?.pop();
    if (reused) {
      this.stats.reused++;
      if (zero) {
        this.endPass();
        this.enc().clearBuffer(reused);
      }
      return this.storage(dtype, n, reused, bytes);
    }
    this.stats.created++;
    // New buffers start zeroed (WebGPU guarantees it).
    const buffer = this.gpu.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST });
    return this.storage(dtype, n, buffer, bytes);
  }

  upload(dtype: DType, data: TypedArray): GpuStorage {
    this.check();
    noFloat64("to", dtype);
    const n = data.length;
    const bytes = sizeClass(n * 4);
    // A fresh buffer mapped at creation: no queue write, so nothing queued can see it early.
    const buffer = this.gpu.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST, mappedAtCreation: true });
    this.stats.created++;
    const range = buffer.getMappedRange(0, bytes);
    if (dtype === "float32") new Float32Array(range).set(data);
    else if (dtype === "bool") new Uint32Array(range).set(data);
    else {
      const out = new Int32Array(range);
      for (let i = 0; i < n; i++) {
        const v = data[i]!;
        if (!(v >= -2147483648 && v <= 2147483647)) {
          buffer.unmap();
          buffer.destroy();
          throw new DeviceError(`to: ${dtype} values on webgpu must lie in the 32-bit range [-2147483648, 2147483647], got ${v}`);
        }
        out[i] = v;
      }
    }
    buffer.unmap();
    return this.storage(dtype, n, buffer, bytes);
  }

  private enc(): GPUCommandEncoder {
    return (this.encoder ??= this.gpu.createCommandEncoder());
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  private compile(k: DeviceKernel): Compiled {
    let c = this.pipelines.get(k.source);
    if (c) return c;
    const gpu = this.gpu;
    const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: 4, buffer: { type: "uniform" } }];
    k.writes.forEach((w, i) => entries.push({ binding: i + 1, visibility: 4, buffer: { type: w ? "storage" : "read-only-storage" } }));
    if (k.err) entries.push({ binding: k.writes.length + 1, visibility: 4, buffer: { type: "storage" } });
    gpu.pushErrorScope("validation");
    const module = gpu.createShaderModule({ code: k.source, label: k.label });
    const layout = gpu.createBindGroupLayout({ entries });
    const pipeline = gpu.createComputePipeline({ layout: gpu.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: "main" }, label: k.label });
    const scope = gpu.popErrorScope();
    this.pending.push(
      scope.then(async (err) => {
        if (!err) return;
        let detail = err.message;
        try {
          const info = await module.getCompilationInfo();
          const msgs = info.messages.filter((m) => m.type === "error").map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message}`);
          if (msgs.length > 0) detail = msgs.join("\n");
        } catch {
          // keep the scope's message
        }
        this.pipelines.delete(k.source);
        // Wins over the "invalid pipeline" errors that follow from it.
        this.failure = new DeviceError(`${k.label}: the WebGPU kernel must compile, got:\n${detail}\n--- kernel ---\n${numbered(k.source)}`);
      }),
    );
    this.stats.compiled++;
    c = { pipeline, layout };
    this.pipelines.set(k.source, c);
    return c;
  }

  run(kernel: DeviceKernel, storages: readonly DeviceStorage[], params: ArrayLike<number>, groups: readonly [number, number, number], report?: (v: number) => Error): void {
    this.check();
    if (groups[0] === 0 || groups[1] === 0 || groups[2] === 0) return;
    if (params.length > PARAM_WORDS - 1) throw new DeviceError(`${kernel.label}: a kernel takes at most ${PARAM_WORDS - 1} parameter words, got ${params.length} (too many dims)`);
    const c = this.compile(kernel);
    if (this.slots === SLOTS || this.dispatches >= MAX_DISPATCHES) this.flush();
    const slot = this.slots++;
    const words = [...Array.from(params)];
    if (kernel.err) {
      const id = this.nextReporter++;
      if (report) this.reporters.set(id, report);
      words.push(id);
    }
    this.staging.set(words, slot * PARAM_WORDS);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniforms, offset: slot * SLOT_BYTES, size: SLOT_BYTES } }];
    storages.forEach((s, i) => entries.push({ binding: i + 1, resource: { buffer: s.buffer as GPUBuffer } }));
    if (kernel.err) entries.push({ binding: storages.length + 1, resource: { buffer: this.errBuffer } });
    const bind = this.gpu.createBindGroup({ layout: c.layout, entries });
    const pass = (this.pass ??= this.enc().beginComputePass());
    pass.setPipeline(c.pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    this.dispatches++;
    this.stats.dispatched++;
  }

  /**
   * The error channel for a kernel recorded outside this backend's batches (a compiled program's
   * `GpuPlan`, submitted in its own command encoder): the error buffer to bind as the kernel's
   * `ERR`, and the reporter id the kernel stores with a bad value (`tt_bad` of
   * `codegen/wgsl.ts`), so the next readback throws `report(value)` as it does for the backend's
   * own index kernels. Reporters last until the next readback (which forgets them all); `keep`,
   * an id an earlier call returned, is returned again while it still names `report`, so a
   * recorded kernel's parameter words need rewriting only after a readback.
   *
   * @internal for `runtime/GpuPlan.ts` (`errorChannel`)
   * @example
   * const ch = be.bindErrorReporter((v) => new IndexError(`bad class ${v}`));
   * // bind ch.buffer as the kernel's last storage, write ch.id into its error-id word; before a later submit:
   * if (be.bindErrorReporter(report, ch.id).id !== ch.id) rewriteWords();
   */
  bindErrorReporter(report: (v: number) => Error, keep?: number): { buffer: GPUBuffer; id: number } {
    if (keep !== undefined && this.reporters.get(keep) === report) return { buffer: this.errBuffer, id: keep };
    const id = this.nextReporter++;
    this.reporters.set(id, report);
    return { buffer: this.errBuffer, id };
  }

  /** Submits the queued batch (parameters first, then the commands). */
  flush(): void {
    this.endPass();
    if (!this.encoder) return;
    if (this.slots > 0) this.gpu.queue.writeBuffer(this.uniforms, 0, this.staging, 0, this.slots * PARAM_WORDS);
    this.gpu.queue.submit([this.encoder.finish()]);
    this.stats.submitted++;
    this.encoder = null;
    this.slots = 0;
    this.dispatches = 0;
  }

  async sync(): Promise<void> {
    await this.readWords(null, 0, 0);
  }

  // Copies words of `buffer` (and the error words) to a mappable buffer, submits, waits.
  private async readWords(buffer: GPUBuffer | null, offset: number, n: number): Promise<ArrayBuffer> {
    this.check();
    const bytes = Math.max(4, n * 4);
    const staging = this.gpu.createBuffer({ size: bytes + 8, usage: MAP_READ | COPY_DST });
    const enc = (this.endPass(), this.enc());
    if (buffer && n > 0) enc.copyBufferToBuffer(buffer, offset * 4, staging, 0, n * 4);
    enc.copyBufferToBuffer(this.errBuffer, 0, staging, bytes, 8);
    this.flush();
    const pending = this.pending;
    this.pending = [];
    await Promise.all(pending);
    try {
      await staging.mapAsync(MODE_READ);
    } catch (e) {
      this.check();
      throw new DeviceError(`webgpu: reading back failed, got ${(e as Error).message}`);
    }
    const out = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    this.check();
    const err = new Uint32Array(out, bytes, 2);
    if (err[0] !== 0) {
      const id = err[0]!;
      const v = new Int32Array(out, bytes + 4, 1)[0]!;
      this.gpu.queue.writeBuffer(this.errBuffer, 0, new Uint32Array(2));
      const rep = this.reporters.get(id);
      this.reporters.clear();
      throw rep ? rep(v) : new DeviceError(`webgpu: a kernel reported a bad index, got ${v}`);
    }
    this.reporters.clear();
    return out;
  }

  async read(storage: DeviceStorage, offset: number, n: number): Promise<TypedArray> {
    const words = await this.readWords((storage as GpuStorage).buffer, offset, n);
    const dt = storage.dtype;
    if (dt === "float32") return new Float32Array(words, 0, n);
    if (dt === "int32") return new Int32Array(words, 0, n);
    if (dt === "bool") return Uint8Array.from(new Uint32Array(words, 0, n), (v) => (v !== 0 ? 1 : 0));
    return Float64Array.from(new Int32Array(words, 0, n));
  }
}

let current: WebGPUBackend | null = null;

/**
 * The WebGPU backend ops run on; a DeviceError when `torch.webgpu.init()` has not made one.
 *
 * @example
 * await torch.webgpu.init();
 * webgpuBackend().stats.compiled; // 0
 */
export function webgpuBackend(): WebGPUBackend {
  if (!current) throw new DeviceError('webgpu: the device must be initialised first (await torch.webgpu.init()), got an op on "webgpu" before that');
  return current;
}

/** Installs (or, with null, removes) the backend `torch.webgpu.init()` made. */
export function setWebgpuBackend(b: WebGPUBackend | null): void {
  current = b;
}

/** Whether a WebGPU backend is installed. */
export function hasWebgpuBackend(): boolean {
  return current !== null;
}
