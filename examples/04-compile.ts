/**
 * The build-step compiler: `typetorch compile` reads a model definition with the type checker and
 * writes fused kernels; importing them makes the model run on them; `compileStep` trains on them.
 * Run: `npx tsx examples/04-compile.ts`.
 *
 *   npx typetorch check examples/compile/          # shape errors as a list: file:line, layer, expected, got
 *   npx typetorch compile examples/compile/model.ts  # → examples/compile/model.kernels.generated.ts
 *
 * (or, while bundling: `import { typetorch } from "typetorch/esbuild"` as an esbuild plugin).
 */
import { compiled, compileStep, data, nn, optim, torch } from "typetorch";
import { compileFiles } from "../compiler/write.js";
import { Net } from "./compile/model.js";

const section = (title: string) => console.log(`\n=== ${title} ===`);

section("1. compile");
// What `npx typetorch compile examples/compile/model.ts` does (the file is checked in; this
// regenerates it, and it comes out unchanged).
const [result] = compileFiles([new URL("./compile/model.ts", import.meta.url).pathname]);
for (const p of result!.programs) {
  console.log(`${p.name}: input [${p.input.join(", ")}], ${p.forward.length} forward kernels, ${p.backward?.launches.length ?? 0} backward kernels`);
  for (const l of p.forward) console.log(`  ${l.kernel.padEnd(12)} ${l.covers}`);
}
console.log("generated file unchanged:", !result!.written);

section("2. run on the fused kernels");
await import("./compile/model.kernels.generated.js"); // registers the kernels on Net
torch.manualSeed(0);
const net = new Net();
const x = torch.randn(64, 784);
let before = compiled.stats.launches;
const yCompiled = torch.noGrad(() => net(x));
console.log(`compiled forward: ${compiled.stats.launches - before} kernel launches, output shape [${yCompiled.shape.join(", ")}]`);
const yEager = torch.noGrad(() => net.forward(x));
console.log("equals eager:", yCompiled.sub(yEager).abs().max().item() === 0);

section("3. train with compileStep");
const { train } = data.datasets.mnist({ trainSize: 2048, flat: true });
const [images, labels] = [train.tensors[0], train.tensors[1]];
const batch = 64;
const batches = Array.from({ length: 2048 / batch }, (_, i) => [images.index(`${i * batch}:${(i + 1) * batch}`), labels.index(`${i * batch}:${(i + 1) * batch}`)] as const);

function run(label: string, step: (x: (typeof batches)[number][0], y: (typeof batches)[number][1]) => number) {
  const t0 = performance.now();
  let loss = 0;
  for (let epoch = 0; epoch < 2; epoch++) for (const [bx, by] of batches) loss = step(bx, by);
  const ms = (performance.now() - t0) / (2 * batches.length);
  console.log(`${label.padEnd(9)} loss after 2 epochs ${loss.toFixed(4)}, ${ms.toFixed(2)} ms/step`);
  return loss;
}

torch.manualSeed(1);
const eagerNet = new Net();
eagerNet.useKernels(null); // op by op, for comparison
const compiledNet = new Net();
compiledNet.loadStateDict(eagerNet.stateDict());
const lossFn = nn.CrossEntropyLoss();
const optE = optim.SGD(eagerNet.parameters(), { lr: 0.05, momentum: 0.9 });
const optC = optim.SGD(compiledNet.parameters(), { lr: 0.05, momentum: 0.9 });
const lossE = run("eager", (bx, by) => {
  optE.zeroGrad();
  const loss = lossFn(eagerNet(bx), by);
  loss.backward();
  optE.step();
  return loss.item();
});
const step = compileStep(compiledNet, lossFn, optC);
before = compiled.stats.launches;
const lossC = run("compiled", step);
console.log(`compiled step: ${step.launchesPerStep} kernel launches per step (forward 3, loss 1, backward 5, SGD 1)`);
console.log("same loss as eager (float32 tolerance):", Math.abs(lossC - lossE) < 1e-3);
