import type { DType, StorageOf } from "../dtype.js";

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
