/**
 * The op table: every primitive op, by name, with its facts in one entry (DESIGN.md §3) — its
 * result dtype and shape rule, JS kernel (text from `runtime/codegen/js.ts`), WGSL template and
 * backward in Tensor ops. Composites (softmax, losses, mean, var, ...) are plain functions over
 * these and have no entry.
 *
 * @example
 * import { OPS } from "./ops/index.js";
 * OPS.relu.backward; // (g, inputs, out) => [g · (out > 0)]
 */
import * as B from "./binary.js";
import * as Cv from "./conv.js";
import type { OpDef } from "./defineOp.js";
import { indexOps } from "./indexing.js";
import * as Mm from "./matmul.js";
import * as Mv from "./movement.js";
import * as P from "./pool.js";
import * as R from "./reduce.js";
import * as U from "./unary.js";

/** The names of the primitive ops. */
export type OpName =
  | "neg" | "abs" | "sign" | "exp" | "log" | "sqrt" | "relu" | "sigmoid" | "tanh" | "clamp" | "logicalNot" | "floor" | "ceil" | "round"
  | "add" | "sub" | "mul" | "div" | "divFloor" | "divTrunc" | "pow" | "maximum" | "minimum"
  | "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "logicalAnd" | "logicalOr" | "logicalXor" | "where"
  | "copy" | "sum" | "prod" | "max" | "min" | "argmax" | "argmin"
  | "matmul" | "indexSelect" | "indexAdd" | "gather" | "scatterAdd"
  | "reshape" | "permute" | "expand" | "select" | "slice" | "squeeze" | "unsqueeze"
  | "im2col" | "col2im" | "conv2d" | "maxPool2d" | "maxUnpool2dAdd" | "avgPool2d" | "avgPool2dAdjoint";

const byName = <T extends { name: string }>(defs: readonly T[], name: string): T => {
  const d = defs.find((x) => x.name === name);
  if (!d) throw new Error(`op table: no entry named ${name}`);
  return d;
};

/** Every primitive, one entry each. A missing name or facet is a compile error. */
export const OPS = {
  neg: U.neg, abs: U.abs, sign: U.sign, exp: U.exp, log: U.log, sqrt: U.sqrt, relu: U.relu, sigmoid: U.sigmoid, tanh: U.tanh,
  clamp: U.clamp, logicalNot: U.logicalNot, floor: U.floor, ceil: U.ceil, round: U.round,
  add: B.add, sub: B.sub, mul: B.mul, div: B.div, divFloor: B.divFloor, divTrunc: B.divTrunc, pow: B.pow, maximum: B.maximum, minimum: B.minimum,
  eq: B.eq, ne: B.ne, gt: B.gt, ge: B.ge, lt: B.lt, le: B.le, logicalAnd: B.logicalAnd, logicalOr: B.logicalOr, logicalXor: B.logicalXor, where: B.where,
  copy: Mv.copy,
  sum: R.sum, prod: R.prod, max: R.max, min: R.min, argmax: R.argmax, argmin: R.argmin,
  matmul: Mm.matmul,
  indexSelect: byName(indexOps, "indexSelect"), indexAdd: byName(indexOps, "indexAdd"), gather: byName(indexOps, "gather"), scatterAdd: byName(indexOps, "scatterAdd"),
  reshape: Mv.views.reshape, permute: Mv.views.permute, expand: Mv.views.expand, select: Mv.views.select, slice: Mv.views.slice, squeeze: Mv.views.squeeze, unsqueeze: Mv.views.unsqueeze,
  im2col: Cv.im2col, col2im: Cv.col2im, conv2d: Cv.conv2d,
  maxPool2d: P.maxPool2d, maxUnpool2dAdd: P.maxUnpool2dAdd, avgPool2d: P.avgPool2d, avgPool2dAdjoint: P.avgPool2dAdjoint,
} as const satisfies Record<OpName, OpDef>;

export type { OpDef } from "./defineOp.js";
