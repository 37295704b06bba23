/**
 * `data.datasets`: ready-made datasets.
 *
 * @example
 * const { train, test } = data.datasets.mnist({ flat: false }); // [8000, 1, 28, 28] and [2000, 1, 28, 28]
 */
export { mnist, MNIST_SIZE, type MnistOptions, type MnistSplit } from "./mnist.js";
