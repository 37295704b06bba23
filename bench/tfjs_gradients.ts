/**
 * Gradient registrations for TF.js, used by `npm run bench`.
 *
 * `@tensorflow/tfjs-core`'s Node entry (`dist/tf-core.node.js`, CJS, what `import "@tensorflow/tfjs-core"`
 * resolves to: the package has `main` but no `exports`) ships NO gradient configs — the
 * `@tensorflow/tfjs` union package registers them. The only place they exist is the per-file ESM
 * build (`dist/register_all_gradients.js`, `dist/gradients/*_grad.js`), whose extensionless
 * relative imports (`'./gradients/Add_grad'`) Node's ESM loader rejects; loading that tree anyway
 * (via a bundler or a resolve hook) would also load a second copy of tfjs-core next to the CJS one.
 *
 * So the configs the bench's models need are registered here by hand, transcribed from tfjs-core
 * 4.22.0 `dist/gradients/<Kernel>_grad.js`, written against the public API of the SAME module
 * instance the backends register their kernels into (`tf.engine().runKernel` for the backprop kernels
 * that have no public op). Covered: Add, Sub, Multiply, RealDiv, Neg, Cast, Sum, Reshape,
 * BatchMatMul, Relu, Conv2D, MaxPool — everything on the path from the variables to the loss of the
 * MLP/CNN in bench/training.ts (`tf.losses.softmaxCrossEntropy` itself is a `customGrad`).
 *
 * The gradient rules follow TensorFlow.js (Copyright Google LLC, Apache License 2.0); this file is
 * benchmark tooling only and is not part of the typetorch package.
 */
import * as tf from "@tensorflow/tfjs-core";

type T = tf.Tensor;
const { broadcast_util } = tf;

/** Sum `res` over the axes broadcasting added to `shape`, then reshape back to it. */
function unbroadcast(res: T, shape: number[], outShape: number[]): T {
  const axes = broadcast_util.getReductionAxes(shape, outShape);
  return tf.reshape(axes.length > 0 ? tf.sum(res, axes) : res, shape);
}

let done = false;

export function registerTfjsGradients(): void {
  if (done) return;
  done = true;
  const configs: tf.GradConfig[] = [
    {
      kernelName: tf.Add,
      inputsToSave: ["a", "b"],
      gradFunc: (dy, saved) => {
        const [a, b] = saved as [T, T];
        const out = broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
        return { a: () => unbroadcast(dy as T, a.shape, out), b: () => unbroadcast(dy as T, b.shape, out) };
      },
    },
    {
      kernelName: tf.Sub,
      inputsToSave: ["a", "b"],
      gradFunc: (dy, saved) => {
        const [a, b] = saved as [T, T];
        const out = broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
        return { a: () => unbroadcast(dy as T, a.shape, out), b: () => unbroadcast(tf.neg(dy as T), b.shape, out) };
      },
    },
    {
      kernelName: tf.Multiply,
      inputsToSave: ["a", "b"],
      gradFunc: (dy, saved) => {
        const [a, b] = saved as [T, T];
        const out = broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
        return {
          a: () => unbroadcast(tf.mul(dy as T, tf.cast(b, "float32")), a.shape, out),
          b: () => unbroadcast(tf.mul(dy as T, tf.cast(a, "float32")), b.shape, out),
        };
      },
    },
    {
      kernelName: tf.RealDiv,
      inputsToSave: ["a", "b"],
      gradFunc: (dy, saved) => {
        const [a, b] = saved as [T, T];
        const out = broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
        return {
          a: () => unbroadcast(tf.div(dy as T, tf.cast(b, "float32")), a.shape, out),
          b: () => tf.neg(tf.div(unbroadcast(tf.mul(dy as T, tf.cast(a, "float32")), b.shape, out), tf.cast(tf.square(b), "float32"))),
        };
      },
    },
    { kernelName: tf.Neg, gradFunc: (dy) => ({ x: () => tf.neg(dy as T) }) },
    { kernelName: tf.Cast, gradFunc: (dy) => ({ x: () => (dy as T).clone() }) },
    {
      kernelName: tf.Sum,
      inputsToSave: ["x"],
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved as [T];
        const expanded = x.shape.slice();
        for (const ax of tf.util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x.shape)) expanded[ax] = 1;
        return { x: () => tf.mul(tf.reshape(dy as T, expanded), tf.ones(x.shape, "float32")) };
      },
    },
    {
      kernelName: tf.Reshape,
      inputsToSave: ["x"],
      gradFunc: (dy, saved) => ({ x: () => tf.reshape(dy as T, (saved[0] as T).shape) }),
    },
    {
      kernelName: tf.BatchMatMul,
      inputsToSave: ["a", "b"],
      gradFunc: (dy, saved, attrs) => {
        const [a, b] = saved as [T, T];
        const g = dy as T;
        const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
        if (!transposeA && !transposeB) return { a: () => tf.matMul(g, b, false, true), b: () => tf.matMul(a, g, true, false) };
        if (!transposeA && transposeB) return { a: () => tf.matMul(g, b, false, false), b: () => tf.matMul(g, a, true, false) };
        if (transposeA && !transposeB) return { a: () => tf.matMul(b, g, false, true), b: () => tf.matMul(a, g, false, false) };
        return { a: () => tf.matMul(b, g, true, true), b: () => tf.matMul(g, a, true, true) };
      },
    },
    {
      kernelName: tf.Relu,
      inputsToSave: ["x"],
      gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as T, tf.cast(tf.step(saved[0] as T), "float32")) }),
    },
    {
      kernelName: tf.Conv2D,
      inputsToSave: ["x", "filter"],
      gradFunc: (dy, saved, attrs) => {
        const [x, filter] = saved as [T, T];
        const { dilations, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
        const d = typeof dilations === "number" ? [dilations] : dilations;
        tf.util.assert(d.every((v) => v === 1), () => `conv2D gradient: dilations > 1 unsupported (got ${dilations})`);
        const e = tf.engine();
        return {
          x: () => e.runKernel(tf.Conv2DBackpropInput, { dy, filter } as never, { strides, pad, dataFormat, dimRoundingMode, inputShape: x.shape } as never) as T,
          filter: () => e.runKernel(tf.Conv2DBackpropFilter, { x, dy } as never, { strides, pad, dataFormat, dimRoundingMode, filterShape: filter.shape } as never) as T,
        };
      },
    },
    {
      kernelName: tf.MaxPool,
      inputsToSave: ["x"],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [x, y] = saved as [T, T];
        const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolAttrs;
        return {
          x: () => tf.engine().runKernel(tf.MaxPoolGrad, { dy, input: x, output: y } as never, { filterSize, strides, pad, dimRoundingMode } as never) as T,
        };
      },
    },
  ];
  for (const c of configs) tf.registerGradient(c);
}

/** Kernels a training step of `model` needs that `backend` does not register (empty = can train). */
export function missingTrainingKernels(model: "mlp" | "cnn", backend: string): string[] {
  const need = [tf.BatchMatMul, tf.Add, tf.Relu, tf.Step, tf.Sum, tf.Multiply, tf.RealDiv, tf.Reshape];
  if (model === "cnn") need.push(tf.Conv2D, tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter, tf.MaxPool, tf.MaxPoolGrad);
  return need.filter((k) => tf.getKernel(k, backend) === undefined);
}
