/**
 * The data, one training epoch and the evaluation of the MNIST example.
 */
import { data, nn, type optim, type Tensor, torch } from "typetorch";
import type { Classifier, FlatBatch, ImageBatch, InputOf } from "./models.js";
import type { ModelName } from "./args.js";
import type { ProgressBar } from "./progress.js";

/** Labels of a batch: `[B]` int64 class indices. */
export type Labels = Tensor<[number], "int64">;
/** A split of the digits: features `X` and their labels. */
export type Split<X extends Input> = data.TensorDataset<[X, Labels]>;
/** A batch of inputs of either model. */
export type Input = FlatBatch | ImageBatch;

/**
 * The first `trainSize` training digits and the first `testSize` test digits of
 * `data.datasets.mnist()` (8000 / 2000, split by a fixed permutation), shaped for `model`.
 */
export function loadMnist<M extends ModelName>(model: M, trainSize: number, testSize: number): { train: Split<InputOf[M]>; test: Split<InputOf[M]> } {
  const flat = model === "mlp";
  const { train, test } = data.datasets.mnist({ flat });
  const take = (ds: { tensors: readonly [Tensor, Labels] }, n: number): Split<InputOf[M]> => {
    const [x, y] = ds.tensors;
    const idx = torch.arange(n, { dtype: "int64" });
    const xs = (flat ? (x as FlatBatch).indexSelect(0, idx) : (x as ImageBatch).indexSelect(0, idx)) as InputOf[M];
    return new data.TensorDataset(xs as FlatBatch, y.indexSelect(0, idx)) as unknown as Split<InputOf[M]>;
  };
  return { train: take(train, trainSize), test: take(test, testSize) };
}

/** What one epoch of training reports. */
export interface EpochStats {
  /** Mean of the batch losses, weighted by batch size. */
  loss: number;
  /** Percent of the training samples the model got right while training (before each step). */
  acc: number;
  samples: number;
  seconds: number;
}

/**
 * One pass over `loader`: forward, cross-entropy, backward, optimizer step, batch by batch.
 */
export function trainEpoch<X extends Input>(
  model: Classifier<X>,
  loader: Iterable<[X, Labels]> & { length: number },
  optimizer: optim.Optimizer,
  bar: ProgressBar,
): EpochStats {
  const lossFn = nn.CrossEntropyLoss();
  model.train();
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  let i = 0;
  const t0 = performance.now();
  for (const [x, y] of loader) {
    optimizer.zeroGrad();
    const logits = model(x);
    const loss = lossFn(logits, y);
    loss.backward();
    optimizer.step();
    const b = y.shape[0];
    lossSum += loss.item() * b;
    correct += logits.argmax(1).eq(y).sum().item();
    seen += b;
    i += 1;
    bar.update(i, lossSum / seen, seen);
  }
  bar.done();
  return { loss: lossSum / seen, acc: (100 * correct) / seen, samples: seen, seconds: (performance.now() - t0) / 1000 };
}

/** What an evaluation reports. */
export interface EvalStats {
  /** Mean cross-entropy over the samples. */
  loss: number;
  /** Percent right. */
  acc: number;
  correct: number;
  samples: number;
}

/**
 * Loss and accuracy of `model` on `ds`, in eval mode, without building a graph.
 */
export function evaluate<X extends Input>(model: Classifier<X>, ds: Split<X>, batchSize = 500): EvalStats {
  const lossFn = nn.CrossEntropyLoss({ reduction: "sum" });
  model.eval();
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  torch.noGrad(() => {
    for (const [x, y] of new data.DataLoader(ds, { batchSize }) as Iterable<[X, Labels]>) {
      const logits = model(x);
      lossSum += lossFn(logits, y).item();
      correct += logits.argmax(1).eq(y).sum().item();
      seen += y.shape[0];
    }
  });
  return { loss: lossSum / seen, acc: (100 * correct) / seen, correct, samples: seen };
}
