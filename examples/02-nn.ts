/**
 * Layers and models, as in PyTorch, with every layer boundary checked by tsc.
 * Run: `npx tsx examples/02-nn.ts`.
 */
import { nn, torch, type Tensor } from "typetorch";

const section = (title: string) => console.log(`\n=== ${title} ===`);

section("nn.Linear is x·Wᵀ + b");
torch.manualSeed(0);
const fc = nn.Linear(4, 3);
const x = torch.randn(2, 4);
const manual = x.matmul(fc.weight.t()).add(fc.bias!);
console.log("fc(x) =", fc(x).toString());
console.log("allclose(fc(x), x @ W.T + b):", torch.allclose(fc(x), manual));
console.log(fc.toString());

section("nn.Flatten");
const t = torch.zeros(4, 3, 10);
console.log("Flatten()(zeros(4, 3, 10)).shape            =", nn.Flatten()(t).shape); // [4, 30]
console.log("Flatten(0, -1)(zeros(4, 3, 10)).shape       =", nn.Flatten(0, -1)(t).shape); // [120]
console.log("Flatten({ startDim: 2 })(zeros(4, 3, 10))   =", nn.Flatten({ startDim: 2 })(t).shape); // [4, 3, 10]
console.log("Flatten({ startDim: 2 })(zeros(5, 2, 3, 4)) =", nn.Flatten({ startDim: 2 })(torch.zeros(5, 2, 3, 4)).shape); // [5, 2, 12]

section("A CNN from two Sequentials");
class CNN extends nn.Module {
  features = nn.Sequential(
    nn.Conv2d(3, 16, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2, 2),
    nn.Conv2d(16, 32, 3, { padding: 1 }), nn.ReLU(), nn.MaxPool2d(2, 2),
  );
  classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, 10));
  forward(x: Tensor<[4, 3, 32, 32]>) {
    return this.classifier(this.features(x));
  }
}
const cnn = new CNN();
const images = torch.randn(4, 3, 32, 32);
const logits: Tensor<[4, 10]> = cnn(images); // the output shape is checked by tsc
console.log("CNN output shape:", logits.shape);
console.log(cnn.toString());

section("MyCNN with Linear(32 * 6 * 6, 128) — and LazyLinear, which needs no arithmetic");
class MyCNN extends nn.Module {
  conv1 = nn.Conv2d(3, 16, 3);
  pool = nn.MaxPool2d(2, 2);
  conv2 = nn.Conv2d(16, 32, 3);
  // tsc sees `32 * 6 * 6` as `number` (arithmetic widens literals): this dim is checked at run time.
  fc1 = nn.Linear(32 * 6 * 6, 128);
  fc2 = nn.Linear(128, 10);
  forward(x: Tensor<[4, 3, 32, 32]>) {
    const a = this.pool(this.conv1(x).relu()); // Tensor<[4, 16, 15, 15]>
    const b = this.pool(this.conv2(a).relu()); // Tensor<[4, 32, 6, 6]>: the 6 × 6 PyTorch users print x.shape for
    return this.fc2(this.fc1(b.flatten(1)).relu());
  }
}
console.log("MyCNN output shape:", new MyCNN()(images).shape);
const lazy = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(), nn.LazyLinear(128));
console.log("LazyLinear infers its in-dim:", lazy(images).shape, "in_features =", lazy.at(7).inFeatures);

section("init_weights through apply");
const initWeights = (m: nn.ModuleBase) => {
  if (m instanceof nn.Linear) {
    nn.init.xavierUniform_(m.weight);
    if (m.bias) nn.init.zeros_(m.bias);
  } else if (m instanceof nn.Conv2d) {
    nn.init.kaimingNormal_(m.weight, { mode: "fan_out", nonlinearity: "relu" });
  }
};
cnn.apply(initWeights);
console.log("classifier.1 bias after init:", cnn.classifier.at(1).bias!.abs().sum().item());

section("Parameters must be nn.Parameter");
class GoodLinearLayer extends nn.Module {
  weight = nn.Parameter(torch.randn(3, 2));
  bias = nn.Parameter(torch.zeros(3));
  forward(x: Tensor<[5, 2]>) {
    return x.matmul(this.weight.t()).add(this.bias);
  }
}
class BadLinearLayer extends nn.Module {
  weight = torch.randn(3, 2); // a plain tensor: not registered, not trained
  bias = torch.zeros(3);
  forward(x: Tensor<[5, 2]>) {
    return x.matmul(this.weight.t()).add(this.bias);
  }
}
console.log("GoodLinearLayer parameters:", [...new GoodLinearLayer().namedParameters()].map(([n, p]) => `${n} ${JSON.stringify(p.shape)}`));
console.log("BadLinearLayer parameters: ", [...new BadLinearLayer().namedParameters()].length, "(none: the optimizer would never update them)");

section("Shape errors name the layer");
const mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10));
// @ts-expect-error Sequential[0] Linear(784→256): input last dim must be 784, got 783 in [64, 783]
void (() => mlp(torch.randn(64, 783)));
try {
  mlp(torch.randn([64, Number("783")] as number[]));
} catch (e) {
  console.log(String(e));
}
