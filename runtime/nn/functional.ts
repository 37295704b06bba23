/**
 * `nn.functional` (PyTorch's `torch.nn.functional`, usually imported as `F`): the stateless forms
 * of activations and friends. Each is a composite over Tensor ops.
 *
 * @example
 * import { nn } from "typetorch";
 * const F = nn.functional;
 * F.softmax(logits, 1);
 */
export { relu, sigmoid, tanh, softmax, logSoftmax, oneHot } from "../torch.js";
export * from "./loss.js";
export { conv2d, maxPool2d, avgPool2d, adaptiveAvgPool2d, batchNorm, dropout } from "./functionalConv.js";
