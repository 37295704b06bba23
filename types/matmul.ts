import { type Broadcast, broadcastShapes } from "./broadcast.js";
import type { Err } from "./check.js";
import { ShapeError } from "./errors.js";
import { type Shape, type ShapeStr, shapeStr } from "./shape.js";
import type { DimsMayMatch, Konst } from "./util.js";

/** Message of matmul-like ops whose inner dims differ. */
export type InnerDimMsg<Op extends string, A extends string, B extends string> =
  `${Op}: inner dims must match, got ${A} @ ${B}`;
/** Runtime twin of {@link InnerDimMsg}. */
export function innerDimMsg<Op extends string, A extends string, B extends string>(op: Op, a: A, b: B): InnerDimMsg<Op, A, B> {
  return `${op}: inner dims must match, got ${a} @ ${b}`;
}
/** Message of matmul-like ops given tensors of the wrong rank. */
export type RankMsg<Op extends string, Want extends string, A extends string, B extends string> =
  `${Op}: both arguments must be ${Want}, got ${A} @ ${B}`;
/** Runtime twin of {@link RankMsg}. */
export function rankMsg<Op extends string, Want extends string, A extends string, B extends string>(
  op: Op, want: Want, a: A, b: B,
): RankMsg<Op, Want, A, B> {
  return `${op}: both arguments must be ${want}, got ${a} @ ${b}`;
}
/** Message of batched matmul whose batch dims don't broadcast. */
export type BatchMsg<Op extends string, A extends string, B extends string> =
  `${Op}: batch dims must broadcast, got ${A} @ ${B}`;
/** Runtime twin of {@link BatchMsg}. */
export function batchMsg<Op extends string, A extends string, B extends string>(op: Op, a: A, b: B): BatchMsg<Op, A, B> {
  return `${op}: batch dims must broadcast, got ${a} @ ${b}`;
}

type Inner<Op extends string, A extends Shape, B extends Shape, K, K2, R, Kn extends Konst> = DimsMayMatch<K, K2, Kn> extends true
  ? R
  : Err<InnerDimMsg<Op, ShapeStr<A>, ShapeStr<B>>>;

type Batched<Op extends string, A extends Shape, B extends Shape, BA extends Shape, BB extends Shape, Tail extends number[], Kn extends Konst> =
  Broadcast<BA, BB, Op, Kn> extends infer R
    ? R extends number[]
      ? [...R, ...Tail]
      : Err<BatchMsg<Op, ShapeStr<A>, ShapeStr<B>>>
    : never;

/**
 * Shape of `torch.matmul(a, b)`: 1-D·1-D is a dot product (`[]`); a 1-D operand gets a dim
 * prepended (left) or appended (right) that is removed again; otherwise `[...batch, M, K] @
 * [...batch, K, N] → [...broadcast(batch), M, N]`.
 *
 * @example
 * type S = MatmulShape<[64, 784], [784, 256]>; // [64, 256]
 * type V = MatmulShape<[3], [2, 3, 4]>;        // [2, 4]
 */
export type MatmulShape<A extends Shape, B extends Shape, Op extends string = "matmul", Kn extends Konst = Konst> = number extends
  | A["length"]
  | B["length"]
  ? number[]
  : A extends readonly []
    ? Err<RankMsg<Op, "at least 1-D", ShapeStr<A>, ShapeStr<B>>>
    : B extends readonly []
      ? Err<RankMsg<Op, "at least 1-D", ShapeStr<A>, ShapeStr<B>>>
      : A extends readonly [infer K]
        ? B extends readonly [infer K2]
          ? Inner<Op, A, B, K, K2, [], Kn>
          : B extends readonly [...infer BB extends Shape, infer K2, infer N extends number]
            ? Inner<Op, A, B, K, K2, [...BB, N], Kn>
            : never
        : A extends readonly [...infer BA extends Shape, infer M extends number, infer K]
          ? B extends readonly [infer K2]
            ? Inner<Op, A, B, K, K2, [...BA, M], Kn>
            : B extends readonly [...infer BB extends Shape, infer K2, infer N extends number]
              ? Inner<Op, A, B, K, K2, Batched<Op, A, B, BA, BB, [M, N], Kn>, Kn>
              : never
          : never;

/**
 * Shape of `torch.mm(a, b)`: `[M, K] @ [K, N] → [M, N]`, both exactly 2-D.
 *
 * @example
 * type S = MmShape<[2, 3], [3, 4]>; // [2, 4]
 */
export type MmShape<A extends Shape, B extends Shape, Kn extends Konst = Konst> = number extends A["length"] | B["length"]
  ? number[]
  : A extends readonly [infer M extends number, infer K]
    ? B extends readonly [infer K2, infer N extends number]
      ? Inner<"mm", A, B, K, K2, [M, N], Kn>
      : Err<RankMsg<"mm", "2-D", ShapeStr<A>, ShapeStr<B>>>
    : Err<RankMsg<"mm", "2-D", ShapeStr<A>, ShapeStr<B>>>;

/**
 * Shape of `torch.bmm(a, b)`: `[B, M, K] @ [B, K, N] → [B, M, N]`, both exactly 3-D, the batch
 * sizes equal (no broadcasting). Inner dims are checked before batch sizes, as at run time.
 *
 * @example
 * type S = BmmShape<[8, 2, 3], [8, 3, 4]>; // [8, 2, 4]
 */
export type BmmShape<A extends Shape, B extends Shape, Kn extends Konst = Konst> = number extends A["length"] | B["length"]
  ? number[]
  : A extends readonly [infer BA extends number, infer M extends number, infer K]
    ? B extends readonly [infer BB extends number, infer K2, infer N extends number]
      ? Inner<"bmm", A, B, K, K2, DimsMayMatch<BA, BB, Kn> extends true ? [BA, M, N] : Err<BatchMsg<"bmm", ShapeStr<A>, ShapeStr<B>>>, Kn>
      : Err<RankMsg<"bmm", "3-D", ShapeStr<A>, ShapeStr<B>>>
    : Err<RankMsg<"bmm", "3-D", ShapeStr<A>, ShapeStr<B>>>;

/** Result of the runtime matmul rule: output shape plus how to run it as a batch of 2-D products. */
export interface MatmulPlan {
  out: number[];
  batch: number[];
  m: number;
  k: number;
  n: number;
  /** A's and B's shapes viewed as [...batch', M, K] and [...batch', K, N] (1-D operands padded). */
  a: number[];
  b: number[];
}

/**
 * Runtime twin of {@link MatmulShape} (and, with `op` = "mm" / "bmm", of MmShape / BmmShape).
 *
 * @example
 * matmulShapes("matmul", [64, 784], [784, 256]).out; // [64, 256]
 */
export function matmulShapes(op: "matmul" | "mm" | "bmm", a: readonly number[], b: readonly number[]): MatmulPlan {
  const sa = shapeStr(a);
  const sb = shapeStr(b);
  if (op === "mm" && (a.length !== 2 || b.length !== 2)) throw new ShapeError(rankMsg(op, "2-D", sa, sb));
  if (op === "bmm" && (a.length !== 3 || b.length !== 3)) throw new ShapeError(rankMsg(op, "3-D", sa, sb));
  if (a.length === 0 || b.length === 0) throw new ShapeError(rankMsg(op, "at least 1-D", sa, sb));
  const a2 = a.length === 1 ? [1, a[0]!] : [...a];
  const b2 = b.length === 1 ? [b[0]!, 1] : [...b];
  const m = a2[a2.length - 2]!;
  const k = a2[a2.length - 1]!;
  const k2 = b2[b2.length - 2]!;
  const n = b2[b2.length - 1]!;
  if (k !== k2) throw new ShapeError(innerDimMsg(op, sa, sb));
  const ba = a2.slice(0, -2);
  const bb = b2.slice(0, -2);
  if (op === "bmm" && ba[0] !== bb[0]) throw new ShapeError(batchMsg(op, sa, sb));
  let batch: number[];
  try {
    batch = broadcastShapes(op, ba, bb);
  } catch {
    throw new ShapeError(batchMsg(op, sa, sb));
  }
  const out = [...batch];
  if (a.length > 1) out.push(m);
  if (b.length > 1) out.push(n);
  return { out, batch, m, k, n, a: a2, b: b2 };
}
