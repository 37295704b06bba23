/**
 * `optim`: optimizers and learning-rate schedulers, as `torch.optim` (PyTorch 1.13).
 *
 * @example
 * import { optim } from "typetorch";
 * const optimizer = optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * const scheduler = optim.lrScheduler.StepLR(optimizer, { stepSize: 30 });
 * for (let epoch = 0; epoch < 90; epoch++) {
 *   optimizer.zeroGrad();
 *   lossFn(model(input), target).backward();
 *   optimizer.step();
 *   scheduler.step();
 * }
 */
export { Optimizer, type GroupOptions, type OptimizerStateDict, type ParamGroup, type ParamGroupInput, type Params } from "./Optimizer.js";
export { SGD, SGDOptimizer, type SGDConstructor, type SGDOptions, type SGDState } from "./SGD.js";
export { Adam, AdamOptimizer, type AdamConstructor, type AdamOptions, type AdamState } from "./Adam.js";
export { AdamW, AdamWOptimizer, type AdamWConstructor } from "./AdamW.js";
export * as lrScheduler from "./lrScheduler.js";
