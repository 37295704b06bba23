/**
 * The models `npm run bench` trains, as the compiler reads them: the eager runs use these classes
 * op by op, the compiled runs use the kernels `typetorch compile` makes from this file (compiled in
 * memory when the bench starts, so they always match the compiler of this checkout).
 */
import { nn, type Tensor } from "../runtime/index.js";

/** MNIST MLP 784-256-128-10 with ReLU. */
export class BenchMLP extends nn.Module {
  fc1 = nn.Linear(784, 256);
  fc2 = nn.Linear(256, 128);
  fc3 = nn.Linear(128, 10);
  forward<B extends number>(x: Tensor<[B, 784]>) {
    return this.fc3(this.fc2(this.fc1(x).relu()).relu());
  }
}

/** MNIST CNN: conv16-pool-conv32-pool-fc128-fc10 (3×3 convs with padding 1, 2×2 max-pools). */
export class BenchCNN extends nn.Module {
  conv1 = nn.Conv2d(1, 16, 3, { padding: 1 });
  pool1 = nn.MaxPool2d(2);
  conv2 = nn.Conv2d(16, 32, 3, { padding: 1 });
  pool2 = nn.MaxPool2d(2);
  flatten = nn.Flatten();
  fc1 = nn.Linear(1568, 128);
  fc2 = nn.Linear(128, 10);
  forward<B extends number>(x: Tensor<[B, 1, 28, 28]>) {
    const h = this.pool2(this.conv2(this.pool1(this.conv1(x).relu())).relu());
    return this.fc2(this.fc1(this.flatten(h)).relu());
  }
}
