/**
 * typetorch's public face: `import { torch, nn, Tensor } from "typetorch"`.
 *
 * @example
 * import { torch } from "typetorch";
 * const x = torch.randn(64, 784);
 * const w = torch.randn(784, 10);
 * x.matmul(w).softmax(1).shape; // [64, 10]
 */
export * as torch from "./torch.js";
export * as nn from "./nn.js";
export * as optim from "./optim/index.js";
export * as data from "./data/index.js";
export { Tensor } from "./Tensor.js";
export type { DType } from "./dtype.js";
export type { Device } from "./backend/Backend.js";
export type { Shape, Dim } from "../types/shape.js";
export { ShapeError, DTypeError, DeviceError, ValueError, IndexError } from "../types/errors.js";
export * from "../types/index.js";
export * as compiled from "./compiled.js";
export { compileStep, type CompiledStep } from "./compiled.js";
export { compileStepGpu, type CompiledGpuStep } from "./compileStepGpu.js";
