/**
 * The model of examples/04-compile.ts. `npx typetorch compile examples/compile/model.ts` reads it
 * and writes model.kernels.generated.ts next to it.
 */
import { nn, type Tensor } from "typetorch";

/** An MNIST MLP: 784 → 256 → 128 → 10, ReLU between. */
export class Net extends nn.Module {
  fc1 = nn.Linear(784, 256);
  fc2 = nn.Linear(256, 128);
  fc3 = nn.Linear(128, 10);
  forward<B extends number>(x: Tensor<[B, 784]>) {
    const h1 = this.fc1(x).relu();
    const h2 = this.fc2(h1).relu();
    return this.fc3(h2);
  }
}
