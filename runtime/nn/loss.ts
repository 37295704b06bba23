/**
 * The losses of `nn.functional` (PyTorch's `torch.nn.functional`), as plain functions: each is a
 * composite of Tensor ops (autograd for free), computed stably, with PyTorch 1.13's semantics and
 * options. Shapes are checked in the signatures where they are literal (a mismatch reads as a
 * sentence in tsc's output) and at run time with the same message.
 *
 * | function | input · target | PyTorch |
 * |---|---|---|
 * | {@link mseLoss}, {@link l1Loss}, {@link smoothL1Loss}, {@link huberLoss} | same shape | `mse_loss`, `l1_loss`, `smooth_l1_loss`, `huber_loss` |
 * | {@link bceLoss} | probabilities · same shape | `binary_cross_entropy` |
 * | {@link bceWithLogits} | logits · same shape | `binary_cross_entropy_with_logits` |
 * | {@link nllLoss} | log-probabilities `[N, C, ...]` · int64 `[N, ...]` | `nll_loss` |
 * | {@link crossEntropy} | logits `[N, C, ...]` · int64 `[N, ...]` or probabilities `[N, C, ...]` | `cross_entropy` |
 *
 * Every loss takes `{ reduction: "mean" | "sum" | "none" }` (default `"mean"`).
 *
 * @example
 * import { nn, torch } from "typetorch";
 * const F = nn.functional;
 * const logits = torch.randn(64, 10, { requiresGrad: true });
 * const labels = torch.randint(0, 10, [64]);
 * const loss = F.crossEntropy(logits, labels); // Tensor<[], "float32">
 * loss.backward();
 */
export type { Reduction, ReductionOptions } from "./loss/common.js";
export { mseLoss, l1Loss, smoothL1Loss, huberLoss, type SmoothL1Options, type HuberOptions } from "./loss/regression.js";
export { bceLoss, bceWithLogits, type BCEOptions, type BCEWithLogitsOptions } from "./loss/binary.js";
export { nllLoss, crossEntropy, type NLLLossOptions, type CrossEntropyOptions, type ClassLossDType } from "./loss/classification.js";
export type { Reduced, LossDType } from "./loss/common.js";
