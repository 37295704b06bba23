/**
 * `nn`: layers, containers and the module base class, as PyTorch's `torch.nn`.
 *
 * @example
 * import { nn, torch } from "typetorch";
 * const model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10));
 * model(torch.randn(64, 784)).shape; // [64, 10]
 */
export { Module, ModuleBase, type StateDict, type LoadResult } from "./nn/Module.js";
export { Parameter, ParameterTensor } from "./nn/Parameter.js";
export * from "./nn/factories.js";
export * as functional from "./nn/functional.js";
export * as init from "./nn/init.js";
