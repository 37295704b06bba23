/**
 * The kernels of the eager ops in one namespace: `./wgsl.ts` (shared pieces, elementwise,
 * reductions, matmul), `./wgslIndex.ts` and `./wgslConv.ts`. The kernel text lives in those
 * files, split by concern; `runtime/ops/device.ts` reads it as `W.<kernel>` through this module,
 * so the split left the device side of the ops untouched.
 *
 * @example
 * import * as W from "../codegen/wgslOps.js";
 * W.gatherWgsl("f32");
 */
export * from "./wgsl.js";
export * from "./wgslIndex.js";
export * from "./wgslConv.js";
