/**
 * Shape rules of the losses (`nn.functional.mseLoss`, `crossEntropy`, ...): each a type-level twin
 * and a runtime twin that share one message writer.
 *
 * - Elementwise losses (mse, l1, smooth L1, Huber, BCE): input and target have the same shape.
 * - Classification losses (crossEntropy, nllLoss): input `[C]`, `[N, C]` or `[N, C, d1, ...]`;
 *   class-index targets drop the class dim (`[]`, `[N]`, `[N, d1, ...]`, int64); crossEntropy also
 *   takes class-probability targets of the input's own shape (floating point); a class weight is `[C]`.
 *
 * dtypes are plain strings here (`types/` knows nothing of the runtime): a dtype error is reported
 * through the same channel at compile time and thrown as a `DTypeError` at run time.
 */
import type { Err } from "./check.js";
import { DTypeError, ShapeError } from "./errors.js";
import { type Shape, type ShapeStr, shapeStr } from "./shape.js";
import type { DimsMayMatch } from "./util.js";

// ---------------------------------------------------------------------------------------------
// messages

/** Message of an elementwise loss given shapes that differ. */
export type SameShapeMsg<Op extends string, A extends string, B extends string> =
  `${Op}: input and target must have the same shape, got ${A} and ${B}`;
/** Runtime twin of {@link SameShapeMsg}. */
export function sameShapeMsg<Op extends string, A extends string, B extends string>(op: Op, a: A, b: B): SameShapeMsg<Op, A, B> {
  return `${op}: input and target must have the same shape, got ${a} and ${b}`;
}

/** Message of a class-index target whose shape does not fit the input (`Want` from {@link TargetWant}). */
export type ClassTargetMsg<Op extends string, Want extends string, In extends string, Got extends string> =
  `${Op}: target must be ${Want} for input ${In}, got ${Got}`;
/** Runtime twin of {@link ClassTargetMsg}. */
export function classTargetMsg<Op extends string, Want extends string, In extends string, Got extends string>(op: Op, want: Want, input: In, got: Got): ClassTargetMsg<Op, Want, In, Got> {
  return `${op}: target must be ${want} for input ${input}, got ${got}`;
}

/** Message of class-index targets that are not int64. */
export type IndexDTypeMsg<Op extends string, D extends string> = `${Op}: class-index targets must be int64, got ${D}`;
/** Runtime twin of {@link IndexDTypeMsg}. */
export function indexDTypeMsg<Op extends string, D extends string>(op: Op, d: D): IndexDTypeMsg<Op, D> {
  return `${op}: class-index targets must be int64, got ${d}`;
}

/** Message of class-probability targets (the input's shape) that are not floating point. */
export type ProbDTypeMsg<Op extends string, D extends string> =
  `${Op}: class-probability targets (the input's shape) must be floating point, got ${D}`;
/** Runtime twin of {@link ProbDTypeMsg}. */
export function probDTypeMsg<Op extends string, D extends string>(op: Op, d: D): ProbDTypeMsg<Op, D> {
  return `${op}: class-probability targets (the input's shape) must be floating point, got ${d}`;
}

/** Message of floating point targets of the input's rank but another shape. */
export type ProbShapeMsg<Op extends string, In extends string, Got extends string> =
  `${Op}: class-probability targets must have the input's shape ${In}, got ${Got}`;
/** Runtime twin of {@link ProbShapeMsg}. */
export function probShapeMsg<Op extends string, In extends string, Got extends string>(op: Op, input: In, got: Got): ProbShapeMsg<Op, In, Got> {
  return `${op}: class-probability targets must have the input's shape ${input}, got ${got}`;
}

/** Message of a classification input without a class dim. */
export type ClassInputMsg<Op extends string, In extends string> = `${Op}: input must be [C], [N, C] or [N, C, d1, ...], got ${In}`;
/** Runtime twin of {@link ClassInputMsg}. */
export function classInputMsg<Op extends string, In extends string>(op: Op, input: In): ClassInputMsg<Op, In> {
  return `${op}: input must be [C], [N, C] or [N, C, d1, ...], got ${input}`;
}

/** Message of a class weight that is not `[C]`. */
export type ClassWeightMsg<Op extends string, C extends string, In extends string, Got extends string> =
  `${Op}: weight must be [C] = [${C}] for input ${In}, got ${Got}`;
/** Runtime twin of {@link ClassWeightMsg}. */
export function classWeightMsg<Op extends string, C extends string, In extends string, Got extends string>(op: Op, c: C, input: In, got: Got): ClassWeightMsg<Op, C, In, Got> {
  return `${op}: weight must be [C] = [${c}] for input ${input}, got ${got}`;
}

/** Message of an integer or bool tensor where a loss needs floating point (`What`: input, target). */
export type FloatTensorMsg<Op extends string, What extends string, D extends string> =
  `${Op}: ${What} must be a floating point tensor, got dtype ${D}`;
/** Runtime twin of {@link FloatTensorMsg}. */
export function floatTensorMsg<Op extends string, What extends string, D extends string>(op: Op, what: What, d: D): FloatTensorMsg<Op, What, D> {
  return `${op}: ${what} must be a floating point tensor, got dtype ${d}`;
}

/** Message of a tensor whose dtype must equal the input's (bceLoss's target, a class weight). */
export type SameDTypeMsg<Op extends string, What extends string, D extends string, Got extends string> =
  `${Op}: ${What} must have the input's dtype ${D}, got ${Got}`;
/** Runtime twin of {@link SameDTypeMsg}. */
export function sameDTypeMsg<Op extends string, What extends string, D extends string, Got extends string>(op: Op, what: What, d: D, got: Got): SameDTypeMsg<Op, What, D, Got> {
  return `${op}: ${what} must have the input's dtype ${d}, got ${got}`;
}

/** Message of a class index outside `[0, C-1]` (run time only: values are not in the type). */
export function classRangeMsg(op: string, hi: number, got: number): string {
  return `${op}: target class indices must be in [0, ${hi}], got ${got}`;
}

// ---------------------------------------------------------------------------------------------
// dtypes

/**
 * A loss's input (or target) must be floating point: an `Err` when `D` is known to be an integer
 * or bool dtype; a dtype union (unknown) passes to run time.
 *
 * @example
 * type E = FloatTensor<"int64", "mseLoss", "input">; // Err<"mseLoss: input must be a floating point tensor, got dtype int64">
 */
export type FloatTensor<D extends string, Op extends string, What extends string = "input"> = [D] extends [NonFloat] ? Err<FloatTensorMsg<Op, What, D>> : "ok";
/** Runtime twin of {@link FloatTensor}: throws `DTypeError` with the same message. */
export function floatTensor(op: string, what: string, d: string): void {
  if (d !== "float32" && d !== "float64") throw new DTypeError(floatTensorMsg(op, what, d));
}

/**
 * A tensor whose dtype must be the input's (bceLoss's target): an `Err` when both are known and differ.
 *
 * @example
 * type E = SameDType<"float32", "float64", "bceLoss", "target">; // Err<"bceLoss: target must have the input's dtype float32, got float64">
 */
export type SameDType<D extends string, Got extends string, Op extends string, What extends string> = [D] extends [Got]
  ? "ok"
  : IsOne<D> extends true
    ? IsOne<Got> extends true
      ? Err<SameDTypeMsg<Op, What, D, Got>>
      : "ok"
    : "ok";
/** Runtime twin of {@link SameDType}: throws `DTypeError` with the same message. */
export function sameDType(op: string, what: string, d: string, got: string): void {
  if (d !== got) throw new DTypeError(sameDTypeMsg(op, what, d, got));
}
// True for a single string literal (not a union, not `string`).
type IsOne<T> = string extends T ? false : [T] extends [infer U] ? (U extends unknown ? ([T] extends [U] ? true : false) : never) : false;

// ---------------------------------------------------------------------------------------------
// elementwise losses: same shape

// Same rank and every dim pair may match (equal literals, the same generic, or `number`).
type AllMayMatch<A extends Shape, B extends Shape> = A extends readonly [infer AH, ...infer AT extends Shape]
  ? B extends readonly [infer BH, ...infer BT extends Shape]
    ? DimsMayMatch<AH, BH> extends true
      ? AllMayMatch<AT, BT>
      : false
    : false
  : B extends readonly []
    ? true
    : false;

/**
 * Input and target of an elementwise loss (mse, l1, smooth L1, Huber, BCE) must have one shape
 * (PyTorch only warns and broadcasts for some of them; typetorch rejects). `number` dims and
 * unknown ranks pass to the run-time check.
 *
 * @example
 * type A = SameShape<[4, 3], [4, 3], "mseLoss">; // [4, 3]
 * type E = SameShape<[4, 3], [4, 1], "mseLoss">; // Err<"mseLoss: input and target must have the same shape, got [4, 3] and [4, 1]">
 */
export type SameShape<A extends Shape, B extends Shape, Op extends string> = number extends A["length"] | B["length"]
  ? A
  : AllMayMatch<A, B> extends true
    ? A
    : Err<SameShapeMsg<Op, ShapeStr<A>, ShapeStr<B>>>;

/**
 * Runtime twin of {@link SameShape}: returns the shape, or throws `ShapeError` with the same message.
 *
 * @example
 * sameShape("mseLoss", [4, 3], [4, 1]); // ShapeError: mseLoss: input and target must have the same shape, got [4, 3] and [4, 1]
 */
export function sameShape(op: string, a: readonly number[], b: readonly number[]): readonly number[] {
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) throw new ShapeError(sameShapeMsg(op, shapeStr(a), shapeStr(b)));
  return a;
}

// ---------------------------------------------------------------------------------------------
// classification losses

/**
 * The shape of class-index targets (and of the unreduced loss) for an input: `[C] → []`,
 * `[N, C] → [N]`, `[N, C, d1, ...] → [N, d1, ...]`.
 *
 * @example
 * type T = ClassTargetShape<[4, 3, 5]>; // [4, 5]
 */
export type ClassTargetShape<S extends Shape> = S extends readonly [number]
  ? []
  : S extends readonly [infer N extends number, number, ...infer R extends Shape]
    ? [N, ...R]
    : number[];

/** Runtime twin of {@link ClassTargetShape} (throws for a 0-d input). */
export function classTargetShape(op: string, s: readonly number[]): number[] {
  if (s.length === 0) throw new ShapeError(classInputMsg(op, shapeStr(s)));
  return s.length === 1 ? [] : [s[0]!, ...s.slice(2)];
}

type Pattern<K extends number> = K extends 0 ? "[N]" : K extends 1 ? "[N, d1]" : K extends 2 ? "[N, d1, d2]" : `[N, d1, ..., d${K}]`;

/** How a message names the target an input wants: `[N] = [4] class indices`, or `a 0-d class index`. */
export type TargetWant<S extends Shape> = S extends readonly [number]
  ? "a 0-d class index"
  : S extends readonly [number, number, ...infer R extends Shape]
    ? `${Pattern<R["length"]>} = ${ShapeStr<ClassTargetShape<S>>} class indices`
    : "class indices";
/** Runtime twin of {@link TargetWant}. */
export function targetWant(s: readonly number[]): string {
  if (s.length === 1) return "a 0-d class index";
  const k = s.length - 2;
  const pattern = k === 0 ? "[N]" : k === 1 ? "[N, d1]" : k === 2 ? "[N, d1, d2]" : `[N, d1, ..., d${k}]`;
  return `${pattern} = ${shapeStr([s[0]!, ...s.slice(2)])} class indices`;
}

type FloatName = "float32" | "float64";
type NonInt64 = "float32" | "float64" | "int32" | "bool";
type NonFloat = "int32" | "int64" | "bool";

// The class-index form: shape first, then the dtype (only a dtype known to be wrong fails).
type IndexForm<SI extends Shape, ST extends Shape, DT extends string, Op extends string> =
  AllMayMatch<ST, ClassTargetShape<SI>> extends true
    ? [DT] extends [NonInt64]
      ? Err<IndexDTypeMsg<Op, DT>>
      : "index"
    : Err<ClassTargetMsg<Op, TargetWant<SI>, ShapeStr<SI>, ShapeStr<ST>>>;

/**
 * Which target a classification loss got: `"index"` (class indices, int64, the input's shape
 * without the class dim) or `"prob"` (class probabilities, floating point, the input's shape;
 * only where `Probs` is true, as crossEntropy), else an `Err` with the message. As PyTorch, a
 * target of the input's own shape means probabilities. Unknown ranks and dtypes pass to run time.
 *
 * @example
 * type A = ClassTarget<[4, 3], [4], "int64", "crossEntropy">;   // "index"
 * type B = ClassTarget<[4, 3], [4, 3], "float32", "crossEntropy">; // "prob"
 * type E = ClassTarget<[4, 3], [5], "int64", "crossEntropy">;
 * // Err<"crossEntropy: target must be [N] = [4] class indices for input [4, 3], got [5]">
 */
export type ClassTarget<SI extends Shape, ST extends Shape, DT extends string, Op extends string, Probs extends boolean = true> =
  SI extends readonly []
    ? Err<ClassInputMsg<Op, "[]">>
    : number extends SI["length"] | ST["length"]
      ? "index" | "prob"
      : Probs extends true
        ? SI["length"] extends ST["length"]
          ? AllMayMatch<SI, ST> extends true
            ? [DT] extends [NonFloat]
              ? Err<ProbDTypeMsg<Op, DT>>
              : "prob"
            : [DT] extends [FloatName]
              ? Err<ProbShapeMsg<Op, ShapeStr<SI>, ShapeStr<ST>>>
              : IndexForm<SI, ST, DT, Op>
          : IndexForm<SI, ST, DT, Op>
        : IndexForm<SI, ST, DT, Op>;

/**
 * Runtime twin of {@link ClassTarget}: `"index"` or `"prob"`, or throws `ShapeError`/`DTypeError`
 * with the same message.
 *
 * @example
 * classTarget("crossEntropy", [4, 3], [4], "int64", true); // "index"
 */
export function classTarget(op: string, input: readonly number[], target: readonly number[], targetDType: string, probs: boolean): "index" | "prob" {
  const want = classTargetShape(op, input);
  const isFloat = targetDType === "float32" || targetDType === "float64";
  if (probs && input.length === target.length) {
    if (input.every((d, i) => d === target[i])) {
      if (!isFloat) throw new DTypeError(probDTypeMsg(op, targetDType));
      return "prob";
    }
    if (isFloat) throw new ShapeError(probShapeMsg(op, shapeStr(input), shapeStr(target)));
  }
  if (want.length !== target.length || want.some((d, i) => d !== target[i])) {
    throw new ShapeError(classTargetMsg(op, targetWant(input), shapeStr(input), shapeStr(target)));
  }
  if (targetDType !== "int64") throw new DTypeError(indexDTypeMsg(op, targetDType));
  return "index";
}

/** The number of classes of a classification input: dim 0 of `[C]`, else dim 1. */
export type NumClasses<S extends Shape> = S extends readonly [infer C extends number] ? C : S extends readonly [number, infer C extends number, ...Shape] ? C : number;

/**
 * A class weight must be `[C]` for an input `[N, C, ...]` (or `[C]`).
 *
 * @example
 * type E = ClassWeight<[4, 3], [2], "crossEntropy">; // Err<"crossEntropy: weight must be [C] = [3] for input [4, 3], got [2]">
 */
export type ClassWeight<SI extends Shape, SW extends Shape, Op extends string> = number extends SI["length"] | SW["length"]
  ? SW
  : SI extends readonly []
    ? SW
    : AllMayMatch<SW, [NumClasses<SI>]> extends true
      ? SW
      : Err<ClassWeightMsg<Op, ShapeStr<[NumClasses<SI>]> extends `[${infer C}]` ? C : string, ShapeStr<SI>, ShapeStr<SW>>>;

/** Runtime twin of {@link ClassWeight}: throws `ShapeError` unless `weight` is `[C]`. */
export function classWeight(op: string, input: readonly number[], weight: readonly number[]): void {
  const c = input.length === 1 ? input[0]! : input[1]!;
  if (weight.length !== 1 || weight[0] !== c) throw new ShapeError(classWeightMsg(op, `${c}`, shapeStr(input), shapeStr(weight)));
}
