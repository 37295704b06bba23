/**
 * Training, as in PyTorch: losses, optimizers (SGD with and without momentum, weight decay,
 * Nesterov, parameter groups), a learning-rate schedule, and the TensorDataset/DataLoader loop.
 * Every problem here is tiny: the whole file runs in a few seconds.
 * Run: `npx tsx examples/03-training.ts` (the MNIST job is `npm start`).
 */
import { data, nn, optim, type Tensor, torch } from "typetorch";

const section = (title: string) => console.log(`\n=== ${title} ===`);
const f4 = (v: number) => v.toFixed(4);

section("CrossEntropyLoss");
// Four samples, three classes: raw scores (logits), and the true class of each sample.
const logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.2, 3.1], [0.3, 0.1, 2.2]]);
const labels = torch.tensor([0, 1, 2, 2]); // int64
const ce = nn.CrossEntropyLoss();
// PyTorch 1.13: nn.CrossEntropyLoss()(logits, labels) = tensor(0.2660)  (0.2659575939178467)
console.log("CrossEntropyLoss()(logits, labels) =", ce(logits, labels).toString());
console.log("the same by hand: -logSoftmax(logits)[i, y_i] averaged =", f4(logits.logSoftmax(1).index([0, 1, 2, 3], labels).neg().mean().item()));
console.log("predicted classes:", logits.argmax(1).toString());

section("Linear regression with plain SGD");
// y = 2·x₀ − 3.4·x₁ + 4.2 + noise; nn.Linear(2, 1) should recover the weights and the bias.
// The random streams are PyTorch's, so PyTorch 1.13 prints the same losses after the same seed:
// mse 2.779e+01 (epoch 1), 5.269e-01, 8.083e-03, 2.878e-04 (epoch 30); weight [[1.9891, -3.3949]], bias [4.1984].
torch.manualSeed(0);
const X = torch.randn(200, 2);
const trueW = torch.tensor([[2.0], [-3.4]]);
const Y = X.matmul(trueW).add(4.2).add(torch.randn(200, 1).mul(0.01)); // Tensor<[200, 1]>
const reg = nn.Linear(2, 1);
const mse = nn.MSELoss();
const sgd = optim.SGD(reg.parameters(), { lr: 0.1 });
for (let epoch = 1; epoch <= 30; epoch++) {
  sgd.zeroGrad();
  const loss = mse(reg(X), Y);
  loss.backward();
  sgd.step();
  if (epoch === 1 || epoch % 10 === 0) console.log(`epoch ${String(epoch).padStart(2)}: mse ${loss.item().toExponential(3)}`);
}
console.log("learned weight", reg.weight.detach().toString(), "bias", reg.bias!.detach().toString(), "(true: [[2, -3.4]], 4.2)");

section("Classification: one model, four SGD variants");
// Three Gaussian blobs in 2-D; a 2-16-3 MLP. Same data, same initial weights for every optimizer.
function blobs(n: number): [Tensor<[number, 2]>, Tensor<[number], "int64">] {
  const centers = [[-2, 0], [2, 0], [0, 2.5]] as const;
  const y = torch.randint(0, 3, [n]); // Tensor<[number], "int64">
  const c = torch.tensor(centers.map((p) => [...p])).indexSelect(0, y); // the center of each sample's class
  return [torch.randn(n, 2).mul(0.9).add(c) as Tensor<[number, 2]>, y];
}
torch.manualSeed(1);
const [xTrain, yTrain] = blobs(300);
const [xTest, yTest] = blobs(300);
const makeNet = () => nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3));
torch.manualSeed(2);
const initial = makeNet().stateDict();

function accuracy(net: ReturnType<typeof makeNet>, x: Tensor<[number, 2]>, y: Tensor<[number], "int64">): number {
  return torch.noGrad(() => net(x).argmax(1).eq(y).float().mean().item() * 100);
}

const variants: [string, (params: Iterable<Tensor>) => optim.SGD][] = [
  ["SGD                          ", (p) => optim.SGD(p, { lr: 0.05 })],
  ["SGD momentum 0.9             ", (p) => optim.SGD(p, { lr: 0.05, momentum: 0.9 })],
  ["SGD momentum + weightDecay   ", (p) => optim.SGD(p, { lr: 0.05, momentum: 0.9, weightDecay: 1e-2 })],
  ["SGD momentum 0.9, nesterov   ", (p) => optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true })],
];
for (const [name, make] of variants) {
  const net = makeNet();
  net.loadStateDict(initial);
  const opt = make(net.parameters());
  const losses: number[] = [];
  for (let epoch = 1; epoch <= 40; epoch++) {
    opt.zeroGrad();
    const loss = ce(net(xTrain), yTrain);
    loss.backward();
    opt.step();
    if (epoch % 10 === 0) losses.push(loss.item());
  }
  const w2 = [...net.parameters()].reduce((a, p) => a + p.pow(2).sum().item(), 0);
  console.log(`${name} loss at epochs 10/20/30/40: ${losses.map(f4).join(" ")}  test acc ${accuracy(net, xTest, yTest).toFixed(1)}%  Σw² ${w2.toFixed(2)}`);
}
console.log("(momentum gets there sooner; weight decay keeps the weights smaller)");

section("StepLR: the lr × 0.1 every 2 epochs");
{
  const net = makeNet();
  const opt = optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
  const scheduler = optim.lrScheduler.StepLR(opt, { stepSize: 2, gamma: 0.1 });
  for (let epoch = 0; epoch < 6; epoch++) {
    const lr = scheduler.getLastLr()[0]!;
    opt.zeroGrad();
    const loss = ce(net(xTrain), yTrain);
    loss.backward();
    opt.step();
    scheduler.step(); // after optimizer.step(), once per epoch
    console.log(`epoch ${epoch}: lr ${Number(lr.toPrecision(6))}, loss ${f4(loss.item())}`);
  }
}

section("Parameter groups: a different lr per layer");
{
  const net = makeNet();
  net.loadStateDict(initial);
  // PyTorch: optim.SGD([{'params': model[0].parameters(), 'lr': 0.01}, {'params': model[2].parameters(), 'lr': 0.001}], momentum=0.9)
  const opt = optim.SGD([{ params: net.at(0).parameters(), lr: 0.01 }, { params: net.at(2).parameters(), lr: 0.001 }], { momentum: 0.9 });
  opt.paramGroups.forEach((g, i) => console.log(`group ${i}: ${g.params.length} tensors, lr ${g.lr}, momentum ${g.momentum}`));
  const before = net.at(0).weight.clone();
  const before2 = net.at(2).weight.clone();
  opt.zeroGrad();
  ce(net(xTrain), yTrain).backward();
  opt.step();
  const moved = (a: Tensor, b: Tensor) => a.sub(b).abs().max().item();
  console.log(`largest change after one step: layer 0 ${moved(net.at(0).weight, before).toExponential(2)}, layer 2 ${moved(net.at(2).weight, before2).toExponential(2)}`);
}

section("TensorDataset and DataLoader: mini-batches");
{
  const ds = new data.TensorDataset(xTrain, yTrain);
  const loader = new data.DataLoader(ds, { batchSize: 32, shuffle: true, generator: new torch.Generator().manualSeed(0) });
  console.log(`${ds.length} samples, ${loader.length} batches of ≤ 32 per epoch`);
  const net = makeNet();
  net.loadStateDict(initial);
  const opt = optim.SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
  for (let epoch = 1; epoch <= 5; epoch++) {
    let total = 0;
    for (const [x, y] of loader) {
      opt.zeroGrad();
      const loss = ce(net(x), y);
      loss.backward();
      opt.step();
      total += loss.item() * y.shape[0];
    }
    console.log(`epoch ${epoch}: mean loss ${f4(total / ds.length)}, test acc ${accuracy(net, xTest, yTest).toFixed(1)}%`);
  }
  const [xb, yb] = loader[Symbol.iterator]().next().value!;
  console.log(`a batch: x ${JSON.stringify(xb.shape)}, y ${JSON.stringify(yb.shape)} ${yb.dtype}`);
}
