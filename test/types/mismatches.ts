/**
 * The table of shape mismatches: every row is one failing shape rule with the message it must give.
 *
 * The same row is checked three ways, so the type level and the run time cannot drift apart:
 * - `fixtures/messages.generated.ts` (written from this table by {@link renderFixture}; a test in
 *   `messages.test.ts` fails when it is stale) asserts the rule's type-level twin is exactly
 *   `Err<message>`, and that the public API call is rejected by tsc with that message
 *   (`// @ts-expect-error <message>`), under TypeScript 7 and 6;
 * - `messages.test.ts` runs the rule's runtime twin on the same shapes (typed `number[]`, i.e.
 *   dynamic) and the same public API call, and expects a `ShapeError` with exactly that message.
 *
 * Add a row, run `UPDATE_FIXTURES=1 npx vitest run test/types/messages.test.ts`, then
 * `npx vitest run test/types`.
 */
import type { Shape } from "../../types/shape.js";

type Dims = readonly number[];
/** One index item that the table can write as code (tensors are written as `torch.tensor(...)`). */
type Item = number | string | null | Dims;

/**
 * One row: the rule, its operands, and the message both twins must give. The runtime throws a
 * `ShapeError` (an `IndexError` for indices), or the class named by `error` for a bad argument.
 */
export type Mismatch = MismatchRule & { error?: "ValueError" };
type MismatchRule =
  | { rule: "broadcast"; op: "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "eq" | "gt" | "le" | "logicalAnd"; a: Shape; b: Shape; message: string }
  | { rule: "where"; cond: Shape; a: Shape; b: Shape; failsOn: "x" | "y"; message: string }
  | { rule: "matmul" | "mm" | "bmm"; a: Shape; b: Shape; message: string }
  | { rule: "reduce"; op: "sum" | "mean" | "amax" | "logsumexp" | "var" | "std" | "max" | "min" | "argmax" | "prod"; shape: Shape; dim: number | Dims; keepdim?: boolean; message: string }
  | { rule: "dim"; op: "softmax" | "logSoftmax" | "size"; shape: Shape; dim: number; message: string }
  | { rule: "reshape" | "view"; shape: Shape; to: Dims; message: string }
  | { rule: "flatten"; shape: Shape; start: number; end: number; message: string }
  | { rule: "transpose"; shape: Shape; d0: number; d1: number; message: string }
  | { rule: "permute"; shape: Shape; dims: Dims; message: string }
  | { rule: "t"; shape: Shape; message: string }
  | { rule: "squeeze" | "unsqueeze"; shape: Shape; dim: number; message: string }
  | { rule: "expand"; shape: Shape; to: Dims; message: string }
  | { rule: "cat" | "stack"; shapes: readonly Shape[]; dim: number; message: string }
  | { rule: "index"; shape: Shape; items: readonly Item[]; message: string }
  | { rule: "select"; shape: Shape; dim: number; index: number; message: string }
  | { rule: "conv"; h: number; k: number; s: number; p: number; d: number; message: string }
  | { rule: "pool"; h: number; k: number; s: number; p: number; d: number; ceil: boolean; message: string };

const B = "shapes must broadcast (each dim equal, or 1)";

/** The mismatches. Messages are the rules' own text; the fixture proves the type level agrees. */
export const MISMATCHES = [
  // broadcast (NumPy rules: align right; equal or 1)
  { rule: "broadcast", op: "add", a: [2, 3], b: [4, 5], message: `add: ${B}, got [2, 3] and [4, 5]` },
  { rule: "broadcast", op: "add", a: [2, 3, 4], b: [3, 5], message: `add: ${B}, got [2, 3, 4] and [3, 5]` },
  { rule: "broadcast", op: "sub", a: [3], b: [4], message: `sub: ${B}, got [3] and [4]` },
  { rule: "broadcast", op: "mul", a: [2, 1, 3], b: [4, 2], message: `mul: ${B}, got [2, 1, 3] and [4, 2]` },
  { rule: "broadcast", op: "div", a: [8, 1, 6, 1], b: [7, 2, 5], message: `div: ${B}, got [8, 1, 6, 1] and [7, 2, 5]` },
  { rule: "broadcast", op: "pow", a: [5, 4], b: [1, 5], message: `pow: ${B}, got [5, 4] and [1, 5]` },
  { rule: "broadcast", op: "maximum", a: [2, 3], b: [2], message: `maximum: ${B}, got [2, 3] and [2]` },
  { rule: "broadcast", op: "minimum", a: [0], b: [2], message: `minimum: ${B}, got [0] and [2]` },
  { rule: "broadcast", op: "eq", a: [64, 10], b: [64], message: `eq: ${B}, got [64, 10] and [64]` },
  { rule: "broadcast", op: "gt", a: [1, 3], b: [3, 1, 2], message: `gt: ${B}, got [1, 3] and [3, 1, 2]` },
  { rule: "broadcast", op: "le", a: [4, 4], b: [4, 3], message: `le: ${B}, got [4, 4] and [4, 3]` },
  { rule: "broadcast", op: "sub", a: [2, 3], b: [2], message: `sub: ${B}, got [2, 3] and [2]` },
  { rule: "broadcast", op: "mul", a: [2, 3], b: [3, 2], message: `mul: ${B}, got [2, 3] and [3, 2]` },
  { rule: "broadcast", op: "eq", a: [2, 3], b: [4], message: `eq: ${B}, got [2, 3] and [4]` },
  { rule: "broadcast", op: "add", a: [2, 1, 3, 1, 4, 1, 5, 6], b: [1, 1, 1, 1, 1, 7, 2, 6], message: `add: ${B}, got [2, 1, 3, 1, 4, 1, 5, 6] and [1, 1, 1, 1, 1, 7, 2, 6]` },
  { rule: "where", cond: [2, 3], a: [4, 5], b: [], failsOn: "x", message: `where: ${B}, got [2, 3] and [4, 5]` },
  { rule: "where", cond: [2, 3], a: [3], b: [2], failsOn: "y", message: `where: ${B}, got [2, 3] and [2]` },
  { rule: "where", cond: [2, 3], a: [2, 3], b: [3, 3], failsOn: "y", message: `where: ${B}, got [2, 3] and [3, 3]` },
  // matmul, incl. 1-D operands and batch broadcasting
  { rule: "matmul", a: [64, 784], b: [783, 256], message: "matmul: inner dims must match, got [64, 784] @ [783, 256]" },
  { rule: "matmul", a: [3], b: [4], message: "matmul: inner dims must match, got [3] @ [4]" },
  { rule: "matmul", a: [2, 3], b: [4], message: "matmul: inner dims must match, got [2, 3] @ [4]" },
  { rule: "matmul", a: [4], b: [2, 3, 5], message: "matmul: inner dims must match, got [4] @ [2, 3, 5]" },
  { rule: "matmul", a: [5, 2, 2, 3], b: [4, 3, 6], message: "matmul: batch dims must broadcast, got [5, 2, 2, 3] @ [4, 3, 6]" },
  { rule: "matmul", a: [], b: [3], message: "matmul: both arguments must be at least 1-D, got [] @ [3]" },
  { rule: "matmul", a: [3, 4], b: [], message: "matmul: both arguments must be at least 1-D, got [3, 4] @ []" },
  { rule: "mm", a: [2, 3], b: [4, 3], message: "mm: inner dims must match, got [2, 3] @ [4, 3]" },
  { rule: "mm", a: [2, 3, 3], b: [3, 4], message: "mm: both arguments must be 2-D, got [2, 3, 3] @ [3, 4]" },
  { rule: "mm", a: [3], b: [3, 4], message: "mm: both arguments must be 2-D, got [3] @ [3, 4]" },
  { rule: "mm", a: [64, 784], b: [256], message: "mm: both arguments must be 2-D, got [64, 784] @ [256]" },
  { rule: "bmm", a: [2, 2, 3], b: [3, 3, 4], message: "bmm: batch dims must broadcast, got [2, 2, 3] @ [3, 3, 4]" },
  { rule: "bmm", a: [8, 2, 3], b: [8, 4, 4], message: "bmm: inner dims must match, got [8, 2, 3] @ [8, 4, 4]" },
  { rule: "bmm", a: [8, 2, 3], b: [7, 4, 4], message: "bmm: inner dims must match, got [8, 2, 3] @ [7, 4, 4]" },
  { rule: "bmm", a: [2, 3], b: [3, 4], message: "bmm: both arguments must be 3-D, got [2, 3] @ [3, 4]" },
  // reductions: dim out of range (negative too), duplicate dims
  { rule: "reduce", op: "sum", shape: [2, 3], dim: 2, message: "sum: dim must be in [-2, 1], got 2" },
  { rule: "reduce", op: "sum", shape: [2, 3], dim: -3, message: "sum: dim must be in [-2, 1], got -3" },
  { rule: "reduce", op: "sum", shape: [2, 3, 4], dim: [0, 0], message: "sum: dims must be distinct, got [0, 0]" },
  { rule: "reduce", op: "mean", shape: [2, 3, 4], dim: [0, -3], message: "mean: dims must be distinct, got [0, -3]" },
  { rule: "reduce", op: "mean", shape: [2, 3, 4], dim: [1, 3], keepdim: true, message: "mean: dim must be in [-3, 2], got 3" },
  { rule: "reduce", op: "amax", shape: [5], dim: [-1, 0], message: "amax: dims must be distinct, got [-1, 0]" },
  { rule: "reduce", op: "logsumexp", shape: [2, 3], dim: 5, message: "logsumexp: dim must be in [-2, 1], got 5" },
  { rule: "reduce", op: "var", shape: [2, 3], dim: [1, -1], message: "var: dims must be distinct, got [1, -1]" },
  { rule: "reduce", op: "std", shape: [4], dim: 1, message: "std: dim must be in [-1, 0], got 1" },
  { rule: "reduce", op: "max", shape: [2, 3], dim: 2, message: "max: dim must be in [-2, 1], got 2" },
  { rule: "reduce", op: "min", shape: [2, 3], dim: -3, keepdim: true, message: "min: dim must be in [-2, 1], got -3" },
  { rule: "reduce", op: "argmax", shape: [2, 3], dim: 2, message: "argmax: dim must be in [-2, 1], got 2" },
  { rule: "reduce", op: "prod", shape: [], dim: 1, message: "prod: dim must be in [-1, 0], got 1" },
  { rule: "reduce", op: "sum", shape: [2, 3, 4], dim: 3, message: "sum: dim must be in [-3, 2], got 3" },
  { rule: "reduce", op: "sum", shape: [2, 3, 4], dim: [0, -3], message: "sum: dims must be distinct, got [0, -3]" },
  { rule: "reduce", op: "mean", shape: [2, 3, 4], dim: -4, keepdim: true, message: "mean: dim must be in [-3, 2], got -4" },
  { rule: "reduce", op: "max", shape: [2, 3, 4], dim: 3, message: "max: dim must be in [-3, 2], got 3" },
  { rule: "reduce", op: "argmax", shape: [2, 3, 4], dim: 5, message: "argmax: dim must be in [-3, 2], got 5" },
  { rule: "reduce", op: "var", shape: [2, 3, 4], dim: [1, 1], message: "var: dims must be distinct, got [1, 1]" },
  { rule: "dim", op: "softmax", shape: [2, 3], dim: 2, message: "softmax: dim must be in [-2, 1], got 2" },
  { rule: "dim", op: "logSoftmax", shape: [64, 10], dim: -3, message: "logSoftmax: dim must be in [-2, 1], got -3" },
  { rule: "dim", op: "softmax", shape: [2, 3, 4], dim: 3, message: "softmax: dim must be in [-3, 2], got 3" },
  { rule: "dim", op: "logSoftmax", shape: [2, 3, 4], dim: -4, message: "logSoftmax: dim must be in [-3, 2], got -4" },
  { rule: "dim", op: "size", shape: [2, 3], dim: 2, message: "size: dim must be in [-2, 1], got 2" },
  // reshape / view: element count, -1
  { rule: "reshape", shape: [2, 3], to: [5, -1], message: "reshape: shape must have 6 elements, got [5, -1]" },
  { rule: "reshape", shape: [4, 6], to: [5, 5], message: "reshape: shape must have 24 elements, got [5, 5]" },
  { rule: "reshape", shape: [4, 6], to: [0, -1], message: "reshape: shape must have 24 elements, got [0, -1]" },
  { rule: "reshape", shape: [4, 6], to: [-1, -1], message: "reshape: dims must be >= 0 with at most one -1, got [-1, -1]" },
  { rule: "reshape", shape: [4, 6], to: [-2, -12], message: "reshape: dims must be >= 0 with at most one -1, got [-2, -12]" },
  { rule: "view", shape: [2, 3], to: [7], message: "view: shape must have 6 elements, got [7]" },
  { rule: "view", shape: [64, 1, 28, 28], to: [64, 748], message: "view: shape must have 50176 elements, got [64, 748]" },
  { rule: "view", shape: [512, 7, 7], to: [-1, 25089], message: "view: shape must have 25088 elements, got [-1, 25089]" },
  { rule: "reshape", shape: [64, 1, 28, 28], to: [64, 748], message: "reshape: shape must have 50176 elements, got [64, 748]" },
  { rule: "view", shape: [64, 1, 28, 28], to: [-1, 785], message: "view: shape must have 50176 elements, got [-1, 785]" },
  { rule: "reshape", shape: [64, 1, 28, 28], to: [-1, -1], message: "reshape: dims must be >= 0 with at most one -1, got [-1, -1]" },
  { rule: "view", shape: [16, 5, 5], to: [3, -1], message: "view: shape must have 400 elements, got [3, -1]" },
  // flatten
  { rule: "flatten", shape: [2, 3], start: 1, end: 0, message: "flatten: startDim must be <= endDim, got startDim=1, endDim=0" },
  { rule: "flatten", shape: [4, 3, 10, 10], start: -1, end: 1, message: "flatten: startDim must be <= endDim, got startDim=-1, endDim=1" },
  { rule: "flatten", shape: [2, 3, 4], start: 3, end: -1, message: "flatten: dim must be in [-3, 2], got 3" },
  { rule: "flatten", shape: [2, 3, 4], start: 0, end: -4, message: "flatten: dim must be in [-3, 2], got -4" },
  { rule: "flatten", shape: [4, 16, 5, 5], start: 4, end: -1, message: "flatten: dim must be in [-4, 3], got 4" },
  // transpose / permute / t
  { rule: "transpose", shape: [2, 3], d0: 0, d1: 2, message: "transpose: dim must be in [-2, 1], got 2" },
  { rule: "transpose", shape: [2, 3, 4], d0: -4, d1: 0, message: "transpose: dim must be in [-3, 2], got -4" },
  { rule: "transpose", shape: [2, 3, 4], d0: 0, d1: 3, message: "transpose: dim must be in [-3, 2], got 3" },
  { rule: "permute", shape: [2, 3, 4], dims: [0, 1], message: "permute: dims must be a permutation of the 3 dims, got [0, 1]" },
  { rule: "permute", shape: [2, 3, 4], dims: [2, 0, 0], message: "permute: dims must be a permutation of the 3 dims, got [2, 0, 0]" },
  { rule: "permute", shape: [2, 3], dims: [0], message: "permute: dims must be a permutation of the 2 dims, got [0]" },
  { rule: "permute", shape: [2, 3], dims: [0, 2], message: "permute: dims must be a permutation of the 2 dims, got [0, 2]" },
  { rule: "permute", shape: [2, 3], dims: [1, -1], message: "permute: dims must be a permutation of the 2 dims, got [1, -1]" },
  { rule: "t", shape: [2, 3, 4], message: "t: expects a tensor with <= 2 dims, got [2, 3, 4]" },
  // squeeze / unsqueeze / expand
  { rule: "squeeze", shape: [2, 3], dim: 2, message: "squeeze: dim must be in [-2, 1], got 2" },
  { rule: "unsqueeze", shape: [2, 3], dim: 3, message: "unsqueeze: dim must be in [-3, 2], got 3" },
  { rule: "unsqueeze", shape: [2, 3], dim: -4, message: "unsqueeze: dim must be in [-3, 2], got -4" },
  { rule: "squeeze", shape: [3, 1], dim: 2, message: "squeeze: dim must be in [-2, 1], got 2" },
  { rule: "unsqueeze", shape: [3, 1], dim: 3, message: "unsqueeze: dim must be in [-3, 2], got 3" },
  { rule: "expand", shape: [2, 3], to: [3, 3], message: "expand: each dim must match or expand a 1, got [2, 3] to [3, 3]" },
  { rule: "expand", shape: [3, 2], to: [2, 3, 4], message: "expand: each dim must match or expand a 1, got [3, 2] to [2, 3, 4]" },
  { rule: "expand", shape: [3, 1], to: [-1, 3, 4], message: "expand: each dim must match or expand a 1, got [3, 1] to [-1, 3, 4]" },
  { rule: "expand", shape: [2, 3], to: [3], message: "expand: each dim must match or expand a 1, got [2, 3] to [3]" },
  { rule: "expand", shape: [2, 1], to: [2, -2], message: "expand: each dim must match or expand a 1, got [2, 1] to [2, -2]" },
  { rule: "expand", shape: [3, 1], to: [4, 4], message: "expand: each dim must match or expand a 1, got [3, 1] to [4, 4]" },
  { rule: "expand", shape: [3, 1], to: [2, 3], message: "expand: each dim must match or expand a 1, got [3, 1] to [2, 3]" },
  // cat / stack
  { rule: "cat", shapes: [[2, 3], [4, 4]], dim: 0, message: "cat: tensors must match except in dim 0, got [2, 3] and [4, 4]" },
  { rule: "cat", shapes: [[2, 3], [3, 4]], dim: -1, message: "cat: tensors must match except in dim 1, got [2, 3] and [3, 4]" },
  { rule: "cat", shapes: [[2, 3], [1, 3], [2, 2]], dim: 0, message: "cat: tensors must match except in dim 0, got [3, 3] and [2, 2]" },
  { rule: "cat", shapes: [[2, 3], [2, 3, 1]], dim: 0, message: "cat: tensors must match except in dim 0, got [2, 3] and [2, 3, 1]" },
  { rule: "cat", shapes: [[2, 3], [2, 3]], dim: 2, message: "cat: dim must be in [-2, 1], got 2" },
  { rule: "cat", shapes: [], dim: 0, message: "cat: expected a non-empty list of tensors, got []" },
  { rule: "cat", shapes: [[2, 3], [4, 3]], dim: 1, message: "cat: tensors must match except in dim 1, got [2, 3] and [4, 3]" },
  { rule: "cat", shapes: [[2, 3], [4, 3]], dim: -3, message: "cat: dim must be in [-2, 1], got -3" },
  { rule: "stack", shapes: [[2, 3], [2, 4]], dim: 0, message: "stack: tensors must have the same shape, got [2, 3] and [2, 4]" },
  { rule: "stack", shapes: [[2, 3], [2, 3], [3, 2]], dim: 1, message: "stack: tensors must have the same shape, got [2, 3] and [3, 2]" },
  { rule: "stack", shapes: [[2, 3], [2, 3]], dim: 3, message: "stack: dim must be in [-3, 2], got 3" },
  { rule: "stack", shapes: [], dim: 0, message: "stack: expected a non-empty list of tensors, got []" },
  { rule: "stack", shapes: [[2, 3], [4, 3]], dim: 0, message: "stack: tensors must have the same shape, got [2, 3] and [4, 3]" },
  // index / select / slice
  { rule: "index", shape: [2, 3], items: [5], message: "index: index must be in [-2, 1] for dim 0 of size 2, got 5" },
  { rule: "index", shape: [2, 3], items: [":", 3], message: "index: index must be in [-3, 2] for dim 1 of size 3, got 3" },
  { rule: "index", shape: [2, 3], items: ["...", -4], message: "index: index must be in [-3, 2] for dim 1 of size 3, got -4" },
  { rule: "index", shape: [2, 3], items: [null, 2], message: "index: index must be in [-2, 1] for dim 0 of size 2, got 2" },
  { rule: "index", shape: [2, 3], items: [0, 0, 0], message: "index: too many indices for a tensor of rank 2, got 3" },
  { rule: "index", shape: [2, 3], items: [[0, 5]], message: "index: index must be in [-2, 1] for dim 0 of size 2, got 5" },
  { rule: "index", shape: [2, 3], items: [[0, 1], [0, 3]], message: "index: index must be in [-3, 2] for dim 1 of size 3, got 3" },
  { rule: "index", shape: [2, 3], items: [[-3, 1]], message: "index: index must be in [-2, 1] for dim 0 of size 2, got -3" },
  { rule: "index", shape: [2, 3], items: [2], message: "index: index must be in [-2, 1] for dim 0 of size 2, got 2" },
  { rule: "index", shape: [2, 10], items: [":", 10], message: "index: index must be in [-10, 9] for dim 1 of size 10, got 10" },
  { rule: "index", shape: [5, 6], items: [":", "1-3"], error: "ValueError", message: 'index: a string index must be a slice like ":", "1:3", "::2" or "...", got "1-3"' },
  { rule: "index", shape: [5, 6], items: ["1.5:"], error: "ValueError", message: 'index: a string index must be a slice like ":", "1:3", "::2" or "...", got "1.5:"' },
  { rule: "index", shape: [5, 6], items: ["::0"], error: "ValueError", message: "index: slice step must be a positive integer, got 0" },
  { rule: "index", shape: [5, 6], items: [":", "::-1"], error: "ValueError", message: "index: slice step must be a positive integer, got -1" },
  { rule: "select", shape: [2, 3, 4], dim: 1, index: 3, message: "select: index must be in [-3, 2] for dim 1 of size 3, got 3" },
  { rule: "select", shape: [2, 3, 4], dim: -1, index: -5, message: "select: index must be in [-4, 3] for dim 2 of size 4, got -5" },
  { rule: "select", shape: [2, 3, 4], dim: 3, index: 0, message: "select: dim must be in [-3, 2], got 3" },
  // conv / pool output sizes
  { rule: "conv", h: 3, k: 5, s: 1, p: 0, d: 1, message: "conv2d: kernel (with dilation) must fit the padded input, got kernel 5 and padded input 3" },
  { rule: "conv", h: 5, k: 3, s: 1, p: 0, d: 3, message: "conv2d: kernel (with dilation) must fit the padded input, got kernel 7 and padded input 5" },
  { rule: "conv", h: 32, k: 3, s: 0, p: 1, d: 1, error: "ValueError", message: "conv2d: stride must be >= 1, got 0" },
  { rule: "pool", h: 1, k: 2, s: 2, p: 0, d: 1, ceil: false, message: "max_pool2d: kernel (with dilation) must fit the padded input, got kernel 2 and padded input 1" },
  { rule: "pool", h: 4, k: 3, s: 1, p: -1, d: 1, ceil: true, error: "ValueError", message: "max_pool2d: padding must be >= 0, got -1" },
] as const satisfies readonly Mismatch[];

// ---------------------------------------------------------------------------------------------
// Rendering: the type expression of the rule, and the public API call, as code text.
// ---------------------------------------------------------------------------------------------

const lit = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? `[${v.map(lit).join(", ")}]` : typeof v === "string" ? JSON.stringify(v) : String(v));
const zeros = (s: Shape): string => `torch.zeros(${lit(s)})`;
/** An index item as code: arrays stay arrays (advanced indexing by a list). */
const item = (v: Item): string => lit(v);

/** The rule's type-level twin applied to the row's operands, as a type expression. */
export function typeText(c: Mismatch): string {
  switch (c.rule) {
    case "broadcast": return `Broadcast<${lit(c.a)}, ${lit(c.b)}, "${c.op}">`;
    case "where": return c.failsOn === "x" ? `Broadcast<${lit(c.cond)}, ${lit(c.a)}, "where">` : `Broadcast<Ok<Broadcast<${lit(c.cond)}, ${lit(c.a)}, "where">>, ${lit(c.b)}, "where">`;
    case "matmul": return `MatmulShape<${lit(c.a)}, ${lit(c.b)}>`;
    case "mm": return `MmShape<${lit(c.a)}, ${lit(c.b)}>`;
    case "bmm": return `BmmShape<${lit(c.a)}, ${lit(c.b)}>`;
    case "reduce": return `ReduceShape<${lit(c.shape)}, ${lit(c.dim)}, ${c.keepdim ?? false}, "${c.op}">`;
    case "dim": return `NormDim<${c.dim}, ${c.shape.length}, "${c.op}">`;
    case "reshape": case "view": return `ReshapeShape<${lit(c.shape)}, ${lit(c.to)}, "${c.rule}">`;
    case "flatten": return `FlattenShape<${lit(c.shape)}, ${c.start}, ${c.end}>`;
    case "transpose": return `TransposeShape<${lit(c.shape)}, ${c.d0}, ${c.d1}>`;
    case "permute": return `PermuteShape<${lit(c.shape)}, ${lit(c.dims)}>`;
    case "t": return `TShape<${lit(c.shape)}>`;
    case "squeeze": return `SqueezeShape<${lit(c.shape)}, ${c.dim}>`;
    case "unsqueeze": return `UnsqueezeShape<${lit(c.shape)}, ${c.dim}>`;
    case "expand": return `ExpandShape<${lit(c.shape)}, ${lit(c.to)}>`;
    case "cat": return `CatShape<${lit(c.shapes)}, ${c.dim}>`;
    case "stack": return `StackShape<${lit(c.shapes)}, ${c.dim}>`;
    case "index": return `IndexShape<${lit(c.shape)}, ${lit(c.items)}>`;
    case "select": return `SelectShape<${lit(c.shape)}, ${c.dim}, ${c.index}>`;
    case "conv": return `ConvOutSize<${c.h}, ${c.k}, ${c.s}, ${c.p}, ${c.d}>`;
    case "pool": return `PoolOutSize<${c.h}, ${c.k}, ${c.s}, ${c.p}, ${c.d}, ${c.ceil}>`;
  }
}

/**
 * The public API call that hits the rule, as code that is both TypeScript (checked in the fixture)
 * and JavaScript (run by the runtime test); `undefined` where the rule has no tensor op of its own
 * (conv/pool sizes are checked by the nn layers).
 */
export function apiCode(c: Mismatch): string | undefined {
  switch (c.rule) {
    case "broadcast": return `${zeros(c.a)}.${c.op}(${zeros(c.b)})`;
    case "where": return `torch.where(${zeros(c.cond)}.gt(0), ${zeros(c.a)}, ${zeros(c.b)})`;
    case "matmul": case "mm": case "bmm": return `${zeros(c.a)}.${c.rule}(${zeros(c.b)})`;
    case "reduce": return `${zeros(c.shape)}.${c.op}(${lit(c.dim)}${c.keepdim ? ", true" : ""})`;
    case "dim": return `${zeros(c.shape)}.${c.op}(${c.dim})`;
    case "reshape": case "view": return `${zeros(c.shape)}.${c.rule}(${c.to.map(lit).join(", ")})`;
    case "flatten": return `${zeros(c.shape)}.flatten(${c.start}, ${c.end})`;
    case "transpose": return `${zeros(c.shape)}.transpose(${c.d0}, ${c.d1})`;
    case "permute": return `${zeros(c.shape)}.permute(${c.dims.map(lit).join(", ")})`;
    case "t": return `${zeros(c.shape)}.t()`;
    case "squeeze": case "unsqueeze": return `${zeros(c.shape)}.${c.rule}(${c.dim})`;
    case "expand": return `${zeros(c.shape)}.expand(${c.to.map(lit).join(", ")})`;
    case "cat": case "stack": return `torch.${c.rule}([${c.shapes.map(zeros).join(", ")}], ${c.dim})`;
    case "index": return `${zeros(c.shape)}.index(${c.items.map(item).join(", ")})`;
    case "select": return `${zeros(c.shape)}.select(${c.dim}, ${c.index})`;
    case "conv": case "pool": return undefined;
  }
}

/** The generated fixture: one rule-level and one API-level assertion per row. */
export function renderFixture(): string {
  const lines = [
    "// Generated from test/types/mismatches.ts by renderFixture() — do not edit.",
    "// Regenerate: UPDATE_FIXTURES=1 npx vitest run test/types/messages.test.ts",
    "// Each row: the rule's type-level twin is exactly Err<message>, and the public API call is rejected",
    "// by tsc with that message; messages.test.ts expects the same text from the runtime.",
    `import { torch } from "../../../runtime/index.js";`,
    `import type { Broadcast, BmmShape, CatShape, ConvOutSize, Err, ExpandShape, FlattenShape, IndexShape, MatmulShape, MmShape, NormDim, Ok, PermuteShape, PoolOutSize, ReduceShape, ReshapeShape, SelectShape, SqueezeShape, StackShape, TShape, TransposeShape, UnsqueezeShape } from "../../../types/index.js";`,
    `import type { Equal, Expect } from "./util.js";`,
    "",
  ];
  MISMATCHES.forEach((c: Mismatch, i) => {
    const m = JSON.stringify(c.message);
    lines.push(`type _${i} = Expect<Equal<${typeText(c)}, Err<${m}>>>;`);
    const code = apiCode(c);
    if (code !== undefined) {
      // tsc prints the message inside a string literal type, with `"` escaped.
      lines.push(`// @ts-expect-error ${c.message.replace(/"/g, '\\"')}`);
      lines.push(`export const api${i} = ${code};`);
    }
  });
  return lines.join("\n") + "\n";
}
