/**
 * The layer constructors of `nn`, callable without `new` as in PyTorch (`nn.Linear(784, 256)`),
 * while `m instanceof nn.Linear` still works and narrows (the seed's `init_weights` relies on it).
 */
import { factory } from "./Module.js";
import * as L from "./Linear.js";
import * as A from "./activation.js";
import * as Q from "./Sequential.js";

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
