/**
 * The two networks of the MNIST example. Every layer boundary is checked by `tsc`: change
 * `nn.Linear(1568, 128)` to `nn.Linear(1567, 128)` and `cnn()(x)` stops compiling.
 */
import { nn, type Tensor } from "typetorch";
import type { ModelName } from "./args.js";

/** A batch of flat digits `[B, 784]` or of images `[B, 1, 28, 28]`; B is known at run time. */
export type FlatBatch = Tensor<[number, 784]>;
export type ImageBatch = Tensor<[number, 1, 28, 28]>;

/**
 * A classifier of MNIST digits: a module whose call maps a batch of inputs `X` to `[B, 10]`
 * logits.
 */
export type Classifier<X> = nn.ModuleBase & ((x: X) => Tensor<[number, 10]>);

/** 784-256-128-10 with ReLU. */
export function mlp() {
  return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10));
}

/** Two 3×3 conv blocks (28 → 14 → 7 after the pools), then 32·7·7 = 1568 → 128 → 10. */
export function cnn() {
  return nn.Sequential(
    nn.Conv2d(1, 16, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(1568, 128), nn.ReLU(),
    nn.Linear(128, 10),
  );
}

/** The input each model takes. */
export interface InputOf {
  mlp: FlatBatch;
  cnn: ImageBatch;
}

/** Builds a fresh model by name (its weights come from the global generator: seed first). */
export function buildModel<M extends ModelName>(name: M): Classifier<InputOf[M]> {
  // The annotations make tsc check that each Sequential accepts its input and returns [B, 10].
  const make: { [K in ModelName]: () => Classifier<InputOf[K]> } = { mlp, cnn };
  return make[name]() as Classifier<InputOf[M]>;
}
