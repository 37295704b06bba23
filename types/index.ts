/**
 * The shape algebra, at the type level and at run time: each rule's type-level twin and runtime
 * twin share one message writer, so `tsc` and the runtime report the same text.
 *
 * @example
 * import type { MatmulShape } from "typetorch";
 * type S = MatmulShape<[64, 784], [784, 256]>; // [64, 256]
 */
export type { Add, Sub, Mul, Div, Mod, Lt, Le, Gt, Ge, Eq, Max, Min, Neg, Abs, Product, Sum } from "./arith.js";
export * from "./broadcast.js";
export * from "./check.js";
export * from "./conv.js";
export * from "./dims.js";
export * from "./indexing.js";
export * from "./join.js";
export * from "./layers.js";
export * from "./loss.js";
export * from "./matmul.js";
export * from "./movement.js";
export * from "./reduce.js";
export * from "./shape.js";
export type { ShapeErrorBrand } from "./errors.js";
