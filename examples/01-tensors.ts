/**
 * A tour of typed tensors: the PyTorch tensor basics, in TypeScript, with shapes checked by tsc.
 * Run: `npm start` (or `npx tsx examples/01-tensors.ts`).
 */
import { torch, ShapeError } from "typetorch";

const section = (title: string) => console.log(`\n=== ${title} ===`);

section("Creating tensors");
const yHat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]]); // Tensor<[2, 3], "float32">
console.log("yHat =", yHat.toString());
console.log("shape:", yHat.shape, "dtype:", yHat.dtype, "type():", yHat.type());
const y = torch.tensor([0, 2]); // Tensor<[2], "int64">: all-integer data infers int64
console.log("y =", y.toString(), "dtype:", y.dtype);
console.log("zeros(2, 3) =", torch.zeros(2, 3).toString());
console.log("ones([2, 2], { dtype: 'int32' }) =", torch.ones([2, 2], { dtype: "int32" }).toString());
console.log("full([2, 2], 7) =", torch.full([2, 2], 7).toString());
console.log("eye(3) =", torch.eye(3).toString());
console.log("linspace(0, 1, 5) =", torch.linspace(0, 1, 5).toString());

section("arange");
console.log("arange(5)           =", torch.arange(5).toString());
console.log("arange(1, 4)        =", torch.arange(1, 4).toString());
console.log("arange(1, 2.5, 0.5) =", torch.arange(1, 2.5, 0.5).toString());
console.log("arange(10, 0, -3)   =", torch.arange(10, 0, -3).toString());
console.log("arange(0, -1, -0.25) =", torch.arange(0, -1, -0.25).toString());
const grid = torch.arange(24, { dtype: "float32" }).reshape(2, 3, 4); // Tensor<[2, 3, 4], "float32">
console.log("arange(24, { dtype: 'float32' }).reshape(2, 3, 4).shape =", grid.shape);

section("Random numbers (the same as PyTorch after the same seed)");
torch.manualSeed(0);
console.log("rand(3)  =", torch.rand(3).toString());
console.log("randn(2, 3).shape =", torch.randn(2, 3).shape);
console.log("randint(0, 10, [5]) =", torch.randint(0, 10, [5]).toString());
console.log("randperm(5) =", torch.randperm(5).toString());
const w = torch.randn(53, 7, { requiresGrad: true });
console.log("randn(53, 7, { requiresGrad: true }).shape =", w.shape, "requiresGrad:", w.requiresGrad);

section("Indexing");
console.log("yHat.index([0, 1], y) =", yHat.index([0, 1], y).toString(), "(PyTorch: y_hat[[0, 1], y])");
console.log("yHat.index(':', 1)    =", yHat.index(":", 1).toString(), "(PyTorch: y_hat[:, 1])");
console.log("grid.index('...', -1).shape =", grid.index("...", -1).shape);
console.log("grid.index(0, '1:3', '::2') =", grid.index(0, "1:3", "::2").toString());

section("Reductions");
const m = torch.tensor([[0.1, 0.2, 0.3, 0.8], [0.9, 0.1, 0.5, 0.1], [0.3, 0.9, 0.2, 0.3]]);
console.log("m.argmax(0) =", m.argmax(0).toString());
console.log("m.sum(1)    =", m.sum(1).toString());
console.log("m.mean(0, true).shape =", m.mean(0, true).shape);
const [values, indices] = m.max(1);
console.log("m.max(1) → values", values.toString(), "indices", indices.toString());
console.log("m.softmax(1).sum(1) =", m.softmax(1).sum(1).toString());

section("Types and conversions");
const f = torch.tensor([-2.7, -0.5, 0.5, 2.7]);
console.log("f.type('torch.LongTensor') =", f.type("torch.LongTensor").toString(), "(truncates toward zero)");
console.log("f.to('int32').type() =", f.to("int32").type());
console.log("f.double() =", f.double().toString());
console.log("f.gt(0) =", f.gt(0).toString());

section("Matrix products and broadcasting");
const x = torch.randn(64, 784);
const weight = torch.randn(784, 256);
const bias = torch.zeros(256);
const h = x.matmul(weight).add(bias).relu(); // Tensor<[64, 256], "float32">
console.log("relu(x @ W + b).shape =", h.shape);
console.log("ones(2, 1, 3) + ones(4, 3) →", torch.ones(2, 1, 3).add(torch.ones(4, 3)).shape);

section("Autograd");
const a = torch.tensor([2, 3], { dtype: "float32", requiresGrad: true });
a.mul(a).sum().backward();
console.log("d/da sum(a²) at a = [2, 3] =", a.grad?.toString());

section("Shape errors");
// A literal mismatch never compiles:
// @ts-expect-error matmul: inner dims must match, got [64, 784] @ [783, 256]
void (() => x.matmul(torch.randn(783, 256)));
// A dim only known at run time is checked then, with the same message:
const rows = Number("783");
try {
  x.matmul(torch.randn([rows, 256] as number[]));
} catch (e) {
  console.log(e instanceof ShapeError ? `ShapeError: ${e.message}` : e);
}
