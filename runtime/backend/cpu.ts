import { compileKernel } from "../codegen/js.js";
import { allocStorage } from "../dtype.js";
import type { Backend } from "./Backend.js";

/**
 * The CPU backend: typed arrays for storage, JavaScript kernels from `runtime/codegen/js.ts`
 * compiled once per key with `new Function` and cached.
 *
 * @example
 * cpu.run("mm", matmulSource, [C, 0, A, 0, B, 0, M, K, N]);
 */
export const cpu: Backend = {
  device: "cpu",
  alloc: allocStorage,
  run(key, source, args) {
    (compileKernel(key, source) as (...a: readonly unknown[]) => void)(...args);
  },
};
