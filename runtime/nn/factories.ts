/**
 * The layer constructors of `nn`, callable without `new` as in PyTorch (`nn.Linear(784, 256)`),
 * while `m instanceof nn.Linear` still works and narrows (the seed's `init_weights` relies on it).
 */
import { factory } from "./Module.js";
import * as L from "./Linear.js";
import * as A from "./activation.js";
import * as Q from "./Sequential.js";
import * as C from "./Conv2d.js";
import * as P from "./pooling.js";
import * as N from "./BatchNorm.js";
import * as LM from "./lossModules.js";
import type { Reduction } from "./loss.js";

/** A layer class usable with or without `new`. */
export interface Factory<T, A extends unknown[]> {
  (...args: A): T;
  new (...args: A): T;
  readonly prototype: T;
}

/** `nn.Linear(inFeatures, outFeatures, bias = true)`: see {@link L.Linear}. */
export const Linear = factory(L.Linear) as unknown as L.LinearFactory;
/** `nn.LazyLinear(outFeatures, bias = true)`: see {@link L.LazyLinear}. */
export const LazyLinear = factory(L.LazyLinear) as unknown as L.LazyLinearFactory;
/** `nn.ReLU()`: see {@link A.ReLU}. */
export const ReLU = factory(A.ReLU) as unknown as Factory<A.ReLU, [opts?: { inplace?: boolean }]>;
/** `nn.LeakyReLU(negativeSlope = 0.01)`: see {@link A.LeakyReLU}. */
export const LeakyReLU = factory(A.LeakyReLU) as unknown as Factory<A.LeakyReLU, [negativeSlope?: number | { negativeSlope?: number }]>;
/** `nn.Sigmoid()`: see {@link A.Sigmoid}. */
export const Sigmoid = factory(A.Sigmoid) as unknown as Factory<A.Sigmoid, []>;
/** `nn.Tanh()`: see {@link A.Tanh}. */
export const Tanh = factory(A.Tanh) as unknown as Factory<A.Tanh, []>;
/** `nn.Identity()`: see {@link A.Identity}. */
export const Identity = factory(A.Identity) as unknown as Factory<A.Identity, unknown[]>;

/** `nn.Softmax(dim)`: see {@link A.Softmax}. */
export const Softmax = factory(A.Softmax) as unknown as {
  <const Dm extends number>(dim: Dm | { dim: Dm }): A.Softmax<Dm>;
  new <const Dm extends number>(dim: Dm | { dim: Dm }): A.Softmax<Dm>;
  readonly prototype: A.Softmax;
};
/** `nn.LogSoftmax(dim)`: see {@link A.LogSoftmax}. */
export const LogSoftmax = factory(A.LogSoftmax) as unknown as {
  <const Dm extends number>(dim: Dm | { dim: Dm }): A.LogSoftmax<Dm>;
  new <const Dm extends number>(dim: Dm | { dim: Dm }): A.LogSoftmax<Dm>;
  readonly prototype: A.LogSoftmax;
};
/** `nn.Flatten(startDim = 1, endDim = -1)` or `nn.Flatten({ startDim, endDim })`: see {@link A.Flatten}. */
export const Flatten = factory(A.Flatten) as unknown as {
  <const A extends number = 1, const E extends number = -1>(startDim?: A | { startDim?: A; endDim?: E }, endDim?: E): A.Flatten<A, E>;
  new <const A extends number = 1, const E extends number = -1>(startDim?: A | { startDim?: A; endDim?: E }, endDim?: E): A.Flatten<A, E>;
  readonly prototype: A.Flatten<number, number>;
};
/** `nn.Sequential(...layers)` or `nn.Sequential({ name: layer, ... })`: see {@link Q.Sequential}. */
export const Sequential = factory(Q.Sequential) as unknown as Q.SequentialFactory;
/** `nn.Conv2d(in, out, kernelSize, { stride, padding, dilation, groups, bias })`: see {@link C.Conv2d}. */
export const Conv2d = factory(C.Conv2d) as unknown as C.Conv2dFactory;
/** `nn.LazyConv2d(out, kernelSize, opts)`: see {@link C.LazyConv2d}. */
export const LazyConv2d = factory(C.LazyConv2d) as unknown as C.LazyConv2dFactory;
/** `nn.MaxPool2d(kernelSize, stride?, opts)`: see {@link P.MaxPool2d}. */
export const MaxPool2d = factory(P.MaxPool2d) as unknown as P.MaxPool2dFactory;
/** `nn.AvgPool2d(kernelSize, stride?, opts)`: see {@link P.AvgPool2d}. */
export const AvgPool2d = factory(P.AvgPool2d) as unknown as P.AvgPool2dFactory;
/** `nn.BatchNorm1d(numFeatures, opts)`: see {@link N.BatchNorm1d}. */
export const BatchNorm1d = factory(N.BatchNorm1d) as unknown as { <const Ch extends number>(numFeatures: Ch, opts?: N.BatchNormLayerOptions): N.BatchNorm1d<Ch>; readonly prototype: N.BatchNorm1d };
/** `nn.BatchNorm2d(numFeatures, opts)`: see {@link N.BatchNorm2d}. */
export const BatchNorm2d = factory(N.BatchNorm2d) as unknown as { <const Ch extends number>(numFeatures: Ch, opts?: N.BatchNormLayerOptions): N.BatchNorm2d<Ch>; readonly prototype: N.BatchNorm2d };
/** `nn.Dropout(p = 0.5)`: see {@link N.Dropout}. */
export const Dropout = factory(N.Dropout) as unknown as Factory<N.Dropout, [p?: number | { p?: number }]>;

/** `nn.MSELoss({ reduction })`: see {@link LM.MSELoss}. */
export const MSELoss = factory(LM.MSELoss) as unknown as { <const R extends Reduction = "mean">(opts?: { reduction?: R }): LM.MSELoss<R>; readonly prototype: LM.MSELoss };
/** `nn.L1Loss({ reduction })`: see {@link LM.L1Loss}. */
export const L1Loss = factory(LM.L1Loss) as unknown as { <const R extends Reduction = "mean">(opts?: { reduction?: R }): LM.L1Loss<R>; readonly prototype: LM.L1Loss };
/** `nn.SmoothL1Loss({ reduction, beta })`: see {@link LM.SmoothL1Loss}. */
export const SmoothL1Loss = factory(LM.SmoothL1Loss) as unknown as { <const R extends Reduction = "mean">(opts?: { reduction?: R; beta?: number }): LM.SmoothL1Loss<R>; readonly prototype: LM.SmoothL1Loss };
/** `nn.HuberLoss({ reduction, delta })`: see {@link LM.HuberLoss}. */
export const HuberLoss = factory(LM.HuberLoss) as unknown as { <const R extends Reduction = "mean">(opts?: { reduction?: R; delta?: number }): LM.HuberLoss<R>; readonly prototype: LM.HuberLoss };
/** `nn.BCELoss({ weight, reduction })`: see {@link LM.BCELoss}. */
export const BCELoss = factory(LM.BCELoss) as unknown as { <const R extends Reduction = "mean">(opts?: ConstructorParameters<typeof LM.BCELoss>[0] & { reduction?: R }): LM.BCELoss<R>; readonly prototype: LM.BCELoss };
/** `nn.BCEWithLogitsLoss({ weight, posWeight, reduction })`: see {@link LM.BCEWithLogitsLoss}. */
export const BCEWithLogitsLoss = factory(LM.BCEWithLogitsLoss) as unknown as { <const R extends Reduction = "mean">(opts?: ConstructorParameters<typeof LM.BCEWithLogitsLoss>[0] & { reduction?: R }): LM.BCEWithLogitsLoss<R>; readonly prototype: LM.BCEWithLogitsLoss };
/** `nn.NLLLoss({ weight, ignoreIndex, reduction })`: see {@link LM.NLLLoss}. */
export const NLLLoss = factory(LM.NLLLoss) as unknown as { <const R extends Reduction = "mean">(opts?: ConstructorParameters<typeof LM.NLLLoss>[0] & { reduction?: R }): LM.NLLLoss<R>; readonly prototype: LM.NLLLoss };
/** `nn.CrossEntropyLoss({ weight, ignoreIndex, reduction, labelSmoothing })`: see {@link LM.CrossEntropyLoss}. */
export const CrossEntropyLoss = factory(LM.CrossEntropyLoss) as unknown as { <const R extends Reduction = "mean">(opts?: ConstructorParameters<typeof LM.CrossEntropyLoss>[0] & { reduction?: R }): LM.CrossEntropyLoss<R>; readonly prototype: LM.CrossEntropyLoss };

// The types of the layers, under the same names as their constructors.
/** A Linear layer (see {@link L.Linear}). */
export type Linear<I extends number = number, O extends number = number> = L.Linear<I, O>;
/** See {@link L.LazyLinear}. */
export type LazyLinear<O extends number = number> = L.LazyLinear<O>;
/** See {@link A.ReLU}. */
export type ReLU = A.ReLU;
/** See {@link A.LeakyReLU}. */
export type LeakyReLU = A.LeakyReLU;
/** See {@link A.Sigmoid}. */
export type Sigmoid = A.Sigmoid;
/** See {@link A.Tanh}. */
export type Tanh = A.Tanh;
/** See {@link A.Identity}. */
export type Identity = A.Identity;
/** See {@link A.Softmax}. */
export type Softmax<Dm extends number = number> = A.Softmax<Dm>;
/** See {@link A.LogSoftmax}. */
export type LogSoftmax<Dm extends number = number> = A.LogSoftmax<Dm>;
/** See {@link A.Flatten}. */
export type Flatten<St extends number = 1, En extends number = -1> = A.Flatten<St, En>;
/** See {@link Q.Sequential}. */
export type Sequential<Ls extends readonly unknown[] = readonly unknown[]> = Q.Sequential<Ls>;
/** See {@link C.Conv2d}. */
export type Conv2d<I extends number = number, O extends number = number, W extends import("../../types/layers.js").Window2d = import("../../types/layers.js").Window2d> = C.Conv2d<I, O, W>;
/** See {@link C.LazyConv2d}. */
export type LazyConv2d = C.LazyConv2d;
/** See {@link P.MaxPool2d}. */
export type MaxPool2d = P.MaxPool2d;
/** See {@link P.AvgPool2d}. */
export type AvgPool2d = P.AvgPool2d;
/** See {@link N.BatchNorm1d}. */
export type BatchNorm1d<Ch extends number = number> = N.BatchNorm1d<Ch>;
/** See {@link N.BatchNorm2d}. */
export type BatchNorm2d<Ch extends number = number> = N.BatchNorm2d<Ch>;
/** See {@link N.Dropout}. */
export type Dropout = N.Dropout;
/** See {@link LM.MSELoss}. */
export type MSELoss<R extends Reduction = Reduction> = LM.MSELoss<R>;
/** See {@link LM.CrossEntropyLoss}. */
export type CrossEntropyLoss<R extends Reduction = Reduction> = LM.CrossEntropyLoss<R>;
/** See {@link LM.NLLLoss}. */
export type NLLLoss<R extends Reduction = Reduction> = LM.NLLLoss<R>;
/** See {@link LM.L1Loss}. */
export type L1Loss<R extends Reduction = Reduction> = LM.L1Loss<R>;
/** See {@link LM.BCELoss}. */
export type BCELoss<R extends Reduction = Reduction> = LM.BCELoss<R>;
/** See {@link LM.BCEWithLogitsLoss}. */
export type BCEWithLogitsLoss<R extends Reduction = Reduction> = LM.BCEWithLogitsLoss<R>;
/** See {@link LM.SmoothL1Loss}. */
export type SmoothL1Loss<R extends Reduction = Reduction> = LM.SmoothL1Loss<R>;
/** See {@link LM.HuberLoss}. */
export type HuberLoss<R extends Reduction = Reduction> = LM.HuberLoss<R>;
