import type { DType, StorageOf, TypedArray } from "../dtype.js";

/** Where a tensor lives. `cpu` everywhere; `webgpu` where the platform has it. */
export type Device = "cpu" | "webgpu";

/**
 * What a backend does: allocate storage, copy data in and out, and run kernel text it is given.
 * It knows no ops: kernel text comes from `runtime/codegen`.
 */
export interface Backend {
  readonly device: Device;
  /** Zeroed storage for `n` elements of `dtype`. */
  alloc<D extends DType>(dtype: D, n: number): StorageOf[D];
  /** Compiles (once per key) and runs a kernel with the given arguments. */
  run(key: string, source: () => string, args: readonly unknown[]): void;
}

/**
 * Storage that lives on a device (a WebGPU buffer): `length` elements of `dtype`, 32 bits each
 * (int64 as 32-bit ints, bool as 0/1 words). Views share one storage object.
 */
export interface DeviceStorage {
  readonly device: Exclude<Device, "cpu">;
  readonly dtype: DType;
  readonly length: number;
  /** The backend's handle (a GPUBuffer for WebGPU). */
  readonly buffer: unknown;
}

/** A kernel to run on a device backend: its text, what it is called in messages, and its bindings. */
export interface DeviceKernel {
  /** The op (or op family) the kernel belongs to, for error messages: `"gather"`, `"add"`. */
  readonly label: string;
  /** The kernel text (WGSL), from `runtime/codegen/wgsl.ts`. */
  readonly source: string;
  /** Per storage binding (after the parameter block): whether the kernel writes it. */
  readonly writes: readonly boolean[];
  /** The kernel reports bad indices through the backend's error buffer (bound last). */
  readonly err?: boolean;
}

/**
 * A backend whose storage lives on a device: like {@link Backend}, but storage is a handle,
 * work is queued (run in order), and reading back is asynchronous.
 */
export interface DeviceBackend {
  readonly device: Exclude<Device, "cpu">;
  /** Storage for `n` elements of `dtype`, zero-filled when `zero` (else its contents are undefined). */
  alloc(dtype: DType, n: number, zero?: boolean): DeviceStorage;
  /** Copies host values (a dtype's typed array) into fresh device storage. */
  upload(dtype: DType, data: TypedArray): DeviceStorage;
  /** Reads `n` elements from `offset` back into a fresh typed array of the dtype's CPU storage. */
  read(storage: DeviceStorage, offset: number, n: number): Promise<TypedArray>;
  /**
   * Queues a kernel over `storages` (in binding order) with packed parameter words and a
   * workgroup grid. `report(v)` builds the error for a bad index `v` the kernel reports.
   */
  run(kernel: DeviceKernel, storages: readonly DeviceStorage[], params: ArrayLike<number>, groups: readonly [number, number, number], report?: (v: number) => Error): void;
  /** Submits queued work and resolves once the device has done it (and any error surfaced). */
  sync(): Promise<void>;
}

export type { TypedArray };
