/**
 * Bad input at the public entry points that test/runtime/errors.test.ts (tensor ops) does not
 * cover: nn layers, loadStateDict, optimizers, DataLoader, losses, torch.load, devices, NaN/Inf
 * where an integer is required, negative sizes. Each is rejected with a typed error whose message
 * names the call, says what it expected and what it got (`call: expectation, got actual`); and a
 * failed loadStateDict or optimizer step changes nothing.
 *
 * Shapes only known at run time are passed `as never` (tsc would reject most of these calls).
 * Bugs found here were fixed; "fixed bugs stay fixed" keeps them so.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DeviceError, DTypeError, IndexError, nn, optim, ShapeError, type Tensor, torch, ValueError } from "typetorch";
import { DataLoader, TensorDataset } from "../../runtime/data/index.js";

type ErrorClass = typeof ShapeError | typeof DTypeError | typeof ValueError | typeof IndexError | typeof DeviceError;
type AnyTensor = Tensor<number[], "float32">;

/** A float32 tensor of run-time shape. */
const z = (...d: number[]): AnyTensor => torch.zeros(d as number[]) as AnyTensor;
const ints = (...v: number[]) => torch.tensor(v, { dtype: "int64" });
const floats = (...v: number[]) => torch.tensor(v, { dtype: "float32" });
/** Calls a module with an input its types would reject. */
const call = (m: unknown, ...args: unknown[]): unknown => (m as (...a: unknown[]) => unknown)(...args);
const param = () => torch.ones(2, { requiresGrad: true });

const dir = mkdtempSync(path.join(tmpdir(), "typetorch-bad-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fileWith = (name: string, bytes: string | Uint8Array): string => {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

interface Bad {
  what: string;
  run: () => unknown;
  err: ErrorClass;
  /** The call the message names before its first colon (alternatives separated by `|`). */
  op: string;
  /** Text the message must contain (the bad value, usually). */
  has?: string;
}

const CATALOGUE: Bad[] = [
  // --- nn layers: sizes ---
  { what: "Linear(-1, 3)", run: () => nn.Linear(-1, 3), err: ValueError, op: "Linear", has: "got -1" },
  { what: "Linear(2.5, 3)", run: () => nn.Linear(2.5, 3), err: ValueError, op: "Linear", has: "got 2.5" },
  { what: "Linear(NaN, 3)", run: () => nn.Linear(NaN, 3), err: ValueError, op: "Linear", has: "got NaN" },
  { what: "Linear(3, Infinity)", run: () => nn.Linear(3, Infinity), err: ValueError, op: "Linear", has: "got Infinity" },
  { what: "LazyLinear(-1)", run: () => nn.LazyLinear(-1), err: ValueError, op: "LazyLinear", has: "got -1" },
  { what: "Conv2d(3, -4, 3)", run: () => nn.Conv2d(3, -4, 3), err: ValueError, op: "Conv2d", has: "got -4" },
  { what: "Conv2d(0, 4, 3)", run: () => nn.Conv2d(0, 4, 3), err: ValueError, op: "Conv2d", has: "got 0" },
  { what: "Conv2d kernel 0", run: () => nn.Conv2d(3, 4, 0), err: ValueError, op: "Conv2d", has: "got 0" },
  { what: "Conv2d kernel 2.5", run: () => nn.Conv2d(3, 4, 2.5), err: ValueError, op: "Conv2d", has: "got 2.5" },
  { what: "Conv2d groups not dividing the channels", run: () => nn.Conv2d(3, 4, 3, { groups: 2 }), err: ValueError, op: "Conv2d", has: "groups=2" },
  { what: "MaxPool2d kernel 2.5", run: () => nn.MaxPool2d(2.5), err: ValueError, op: "MaxPool2d", has: "got 2.5" },
  { what: "BatchNorm1d(0)", run: () => nn.BatchNorm1d(0), err: ValueError, op: "BatchNorm1d", has: "got 0" },
  { what: "BatchNorm1d(-3)", run: () => nn.BatchNorm1d(-3), err: ValueError, op: "BatchNorm1d", has: "got -3" },
  { what: "BatchNorm2d(2.5)", run: () => nn.BatchNorm2d(2.5), err: ValueError, op: "BatchNorm2d", has: "got 2.5" },
  { what: "BatchNorm1d eps -1", run: () => nn.BatchNorm1d(3, { eps: -1 }), err: ValueError, op: "BatchNorm1d", has: "got -1" },
  { what: "BatchNorm1d momentum 2", run: () => nn.BatchNorm1d(3, { momentum: 2 }), err: ValueError, op: "BatchNorm1d", has: "got 2" },
  { what: "Dropout(1.5)", run: () => nn.Dropout(1.5), err: ValueError, op: "Dropout", has: "got 1.5" },
  { what: "Dropout(-0.1)", run: () => nn.Dropout(-0.1), err: ValueError, op: "Dropout", has: "got -0.1" },
  { what: "Dropout(NaN)", run: () => nn.Dropout(NaN), err: ValueError, op: "Dropout", has: "got NaN" },
  { what: "LeakyReLU(NaN)", run: () => nn.LeakyReLU(NaN), err: ValueError, op: "LeakyReLU", has: "got NaN" },

  // --- nn layers: inputs of the wrong shape (dims known only at run time) ---
  { what: "Linear(4→3) on [2, 5]", run: () => call(nn.Linear(4, 3), z(2, 5)), err: ShapeError, op: "Linear(4→3)", has: "got 5 in [2, 5]" },
  { what: "Linear(4→3) on a 0-d tensor", run: () => call(nn.Linear(4, 3), z()), err: ShapeError, op: "Linear(4→3)", has: "got []" },
  { what: "Sequential: the second layer does not fit", run: () => call(nn.Sequential(nn.Linear(4, 3), nn.Linear(5, 2)), z(2, 4)), err: ShapeError, op: "Sequential[1] Linear(5→2)", has: "got 3 in [2, 3]" },
  { what: "Conv2d(3→4) on 2 channels", run: () => call(nn.Conv2d(3, 4, 3), z(1, 2, 5, 5)), err: ShapeError, op: "Conv2d(3→4, 3×3)", has: "got 2 in [1, 2, 5, 5]" },
  { what: "Conv2d on a 2-D input", run: () => call(nn.Conv2d(3, 4, 3), z(3, 5)), err: ShapeError, op: "Conv2d(3→4, 3×3)", has: "got [3, 5]" },
  { what: "Conv2d kernel larger than the input", run: () => call(nn.Conv2d(3, 4, 3), z(1, 3, 2, 2)), err: ShapeError, op: "Conv2d(3→4, 3×3)", has: "padded input 2" },
  { what: "Conv2d stride 0 (checked at the call)", run: () => call(nn.Conv2d(3, 4, 3, { stride: 0 }), z(1, 3, 5, 5)), err: ValueError, op: "Conv2d(3→4, 3×3)", has: "got 0" },
  { what: "Conv2d padding -1", run: () => call(nn.Conv2d(3, 4, 3, { padding: -1 }), z(1, 3, 5, 5)), err: ValueError, op: "Conv2d(3→4, 3×3)", has: "got -1" },
  { what: "MaxPool2d(0) called", run: () => call(nn.MaxPool2d(0), z(1, 1, 4, 4)), err: ValueError, op: "MaxPool2d", has: "got 0" },
  { what: "MaxPool2d(-2) called", run: () => call(nn.MaxPool2d(-2), z(1, 1, 4, 4)), err: ValueError, op: "MaxPool2d", has: "got -2" },
  { what: "MaxPool2d stride 0 called", run: () => call(nn.MaxPool2d(2, 0), z(1, 1, 4, 4)), err: ValueError, op: "MaxPool2d", has: "got 0" },
  { what: "MaxPool2d on a 2-D input", run: () => call(nn.MaxPool2d(2), z(4, 4)), err: ShapeError, op: "MaxPool2d", has: "got [4, 4]" },
  { what: "AvgPool2d(0) called", run: () => call(nn.AvgPool2d(0), z(1, 1, 4, 4)), err: ValueError, op: "AvgPool2d", has: "got 0" },
  { what: "BatchNorm1d(3) on 5 features", run: () => call(nn.BatchNorm1d(3), z(4, 5)), err: ShapeError, op: "BatchNorm1d(3)", has: "got 5 in [4, 5]" },
  { what: "BatchNorm2d(3) on 5 channels", run: () => call(nn.BatchNorm2d(3), z(4, 5, 2, 2)), err: ShapeError, op: "BatchNorm2d(3)", has: "got 5" },
  { what: "BatchNorm1d training on one sample", run: () => call(nn.BatchNorm1d(3), z(1, 3)), err: ValueError, op: "batchNorm", has: "got input size [1, 3]" },
  { what: "Softmax(5) on a 2-D input", run: () => call(nn.Softmax(5), z(2, 3)), err: ShapeError, op: "softmax", has: "got 5" },
  { what: "Flatten(3) on a 2-D input", run: () => call(nn.Flatten(3), z(2, 3)), err: ShapeError, op: "flatten", has: "got 3" },

  // --- losses ---
  { what: "crossEntropy: class 3 of 3", run: () => nn.functional.crossEntropy(z(2, 3), ints(0, 3) as never), err: IndexError, op: "crossEntropy", has: "got 3" },
  { what: "crossEntropy: class -1", run: () => nn.functional.crossEntropy(z(2, 3), ints(0, -1) as never), err: IndexError, op: "crossEntropy", has: "got -1" },
  { what: "crossEntropy: float labels", run: () => nn.functional.crossEntropy(z(2, 3), floats(0.5, 1) as never), err: DTypeError, op: "crossEntropy", has: "got float32" },
  { what: "crossEntropy: int32 labels", run: () => nn.functional.crossEntropy(z(2, 3), torch.tensor([0, 1], { dtype: "int32" }) as never), err: DTypeError, op: "crossEntropy", has: "got int32" },
  { what: "crossEntropy: 3 labels for 2 rows", run: () => nn.functional.crossEntropy(z(2, 3), ints(0, 1, 2) as never), err: ShapeError, op: "crossEntropy", has: "got [3]" },
  { what: "crossEntropy: probabilities of another shape", run: () => nn.functional.crossEntropy(z(2, 3), z(2, 4) as never), err: ShapeError, op: "crossEntropy", has: "got [2, 4]" },
  { what: "crossEntropy: a 0-d input", run: () => nn.functional.crossEntropy(z(), ints(0).reshape([]) as never), err: ShapeError, op: "crossEntropy", has: "got []" },
  { what: "crossEntropy: weight of the wrong size", run: () => nn.functional.crossEntropy(z(2, 3), ints(0, 1) as never, { weight: z(4) }), err: ShapeError, op: "crossEntropy", has: "got [4]" },
  { what: "crossEntropy: labelSmoothing 2", run: () => nn.functional.crossEntropy(z(2, 3), ints(0, 1) as never, { labelSmoothing: 2 }), err: ValueError, op: "crossEntropy", has: "got 2" },
  { what: "CrossEntropyLoss(): class out of range", run: () => call(nn.CrossEntropyLoss(), z(2, 3), ints(0, 3)), err: IndexError, op: "crossEntropy", has: "got 3" },
  { what: "nllLoss: class 5 of 3", run: () => nn.functional.nllLoss(z(2, 3), ints(0, 5) as never), err: IndexError, op: "nllLoss", has: "got 5" },
  { what: "nllLoss: float labels", run: () => nn.functional.nllLoss(z(2, 3), floats(0.5, 1) as never), err: DTypeError, op: "nllLoss", has: "got float32" },
  { what: "nllLoss: bool labels", run: () => nn.functional.nllLoss(z(2, 3), torch.tensor([true, false]) as never), err: DTypeError, op: "nllLoss", has: "got bool" },
  { what: "mseLoss: shapes differ", run: () => nn.functional.mseLoss(z(2, 3), z(3, 2) as never), err: ShapeError, op: "mseLoss", has: "got [2, 3] and [3, 2]" },
  { what: "bceWithLogits: shapes differ", run: () => nn.functional.bceWithLogits(z(2), z(3) as never), err: ShapeError, op: "bceWithLogits", has: "got [2] and [3]" },
  { what: "bceLoss: input 1.5 (not a probability)", run: () => nn.functional.bceLoss(floats(1.5, 0.5), floats(1, 0.5)), err: ValueError, op: "bceLoss", has: "got 1.5" },
  { what: "mseLoss: reduction 'avg'", run: () => nn.functional.mseLoss(z(2), z(2), { reduction: "avg" as never }), err: ValueError, op: "mseLoss", has: 'got "avg"' },

  // --- optimizers ---
  { what: "SGD lr NaN", run: () => optim.SGD([param()], { lr: NaN }), err: ValueError, op: "SGD", has: "got lr=NaN" },
  { what: "SGD lr Infinity", run: () => optim.SGD([param()], { lr: Infinity }), err: ValueError, op: "SGD", has: "got lr=Infinity" },
  { what: "SGD lr -1", run: () => optim.SGD([param()], { lr: -1 }), err: ValueError, op: "SGD", has: "got lr=-1" },
  { what: "SGD momentum NaN", run: () => optim.SGD([param()], { lr: 0.1, momentum: NaN }), err: ValueError, op: "SGD", has: "got momentum=NaN" },
  { what: "SGD with no parameters", run: () => optim.SGD([], { lr: 0.1 }), err: ValueError, op: "SGD", has: "got []" },
  { what: "SGD with a parameter twice", run: () => { const p = param(); return optim.SGD([p, p], { lr: 0.1 }); }, err: ValueError, op: "SGD", has: "twice" },
  { what: "Adam lr NaN", run: () => optim.Adam([param()], { lr: NaN }), err: ValueError, op: "Adam", has: "got lr=NaN" },
  { what: "Adam betas[0] 1.5", run: () => optim.Adam([param()], { lr: 0.1, betas: [1.5, 0.9] }), err: ValueError, op: "Adam", has: "got betas[0]=1.5" },
  { what: "Adam eps -1", run: () => optim.Adam([param()], { lr: 0.1, eps: -1 }), err: ValueError, op: "Adam", has: "got eps=-1" },
  { what: "AdamW weightDecay NaN", run: () => optim.AdamW([param()], { lr: 0.1, weightDecay: NaN }), err: ValueError, op: "AdamW", has: "got weightDecay=NaN" },
  { what: "StepLR stepSize 0", run: () => new optim.lrScheduler.StepLR(optim.SGD([param()], { lr: 0.1 }), { stepSize: 0 } as never), err: ValueError, op: "StepLR", has: "got stepSize=0" },

  // --- DataLoader, datasets ---
  { what: "DataLoader batchSize 0", run: () => new DataLoader(new TensorDataset(z(4, 2)), { batchSize: 0 }), err: ValueError, op: "DataLoader", has: "got 0" },
  { what: "DataLoader batchSize -1", run: () => new DataLoader(new TensorDataset(z(4, 2)), { batchSize: -1 }), err: ValueError, op: "DataLoader", has: "got -1" },
  { what: "DataLoader batchSize 1.5", run: () => new DataLoader(new TensorDataset(z(4, 2)), { batchSize: 1.5 }), err: ValueError, op: "DataLoader", has: "got 1.5" },
  { what: "DataLoader batchSize NaN", run: () => new DataLoader(new TensorDataset(z(4, 2)), { batchSize: NaN }), err: ValueError, op: "DataLoader", has: "got NaN" },
  { what: "DataLoader numWorkers -1", run: () => new DataLoader(new TensorDataset(z(4, 2)), { batchSize: 2, numWorkers: -1 }), err: ValueError, op: "DataLoader", has: "got -1" },
  { what: "DataLoader over an empty dataset", run: () => [...new DataLoader(new TensorDataset(z(0, 2)), { batchSize: 2 })], err: ValueError, op: "DataLoader", has: "got length 0" },
  { what: "DataLoader over an empty dataset, shuffled", run: () => [...new DataLoader(new TensorDataset(z(0, 2)), { batchSize: 2, shuffle: true })], err: ValueError, op: "DataLoader", has: "got length 0" },
  { what: "TensorDataset of 4 and 3 samples", run: () => new TensorDataset(z(4, 2), z(3)), err: ShapeError, op: "TensorDataset", has: "got [4, 2] and [3]" },
  { what: "TensorDataset of nothing", run: () => new (TensorDataset as unknown as new () => unknown)(), err: ValueError, op: "TensorDataset", has: "got none" },

  // --- loadStateDict (what it leaves behind: see below) ---
  { what: "loadStateDict(null)", run: () => nn.Linear(2, 2).loadStateDict(null as never), err: ValueError, op: "loadStateDict", has: "got null" },
  { what: "loadStateDict: a key missing", run: () => nn.Linear(2, 2).loadStateDict({ weight: z(2, 2) } as never), err: ValueError, op: "loadStateDict", has: 'missing ["bias"]' },
  { what: "loadStateDict: an unexpected key", run: () => nn.Linear(2, 2).loadStateDict({ weight: z(2, 2), bias: z(2), extra: z(1) } as never), err: ValueError, op: "loadStateDict", has: 'unexpected ["extra"]' },
  { what: "loadStateDict: a __proto__ key", run: () => nn.Linear(2, 2).loadStateDict(JSON.parse('{"__proto__": 1}') as never), err: ValueError, op: "loadStateDict", has: '"__proto__"' },
  { what: "loadStateDict: a mis-shaped tensor", run: () => nn.Linear(2, 2).loadStateDict({ weight: z(3, 2), bias: z(2) } as never), err: ShapeError, op: "loadStateDict", has: "got [3, 2]" },
  { what: "loadStateDict: not a tensor", run: () => nn.Linear(2, 2).loadStateDict({ weight: z(2, 2), bias: [0, 0] } as never), err: ValueError, op: "loadStateDict", has: "got object" },

  // --- files: torch.load of corrupt files ---
  { what: "torch.load of a text file", run: () => torch.load(fileWith("text.safetensors", "hello world, not a checkpoint")), err: ValueError, op: "load", has: "got " },
  { what: "torch.load of an empty file", run: () => torch.load(fileWith("empty.safetensors", "")), err: ValueError, op: "load", has: "got a file of 0 bytes" },
  { what: "torch.load of a truncated file", run: () => { const b = torch.saveBytes({ w: z(4, 4) }); return torch.load(fileWith("cut.safetensors", b.subarray(0, b.length - 5))); }, err: ValueError, op: "load", has: "truncated file?" },

  // --- devices ---
  // (WebGPU is not available, or not initialised, here: either way a DeviceError.)
  { what: "tensor to webgpu", run: () => z(2).to("webgpu" as never), err: DeviceError, op: "to|webgpu", has: '"webgpu"' },
  { what: "model to webgpu", run: () => nn.Linear(2, 2).to("webgpu" as never), err: DeviceError, op: "to|webgpu", has: '"webgpu"' },
  { what: "model to cuda", run: () => nn.Linear(2, 2).to("cuda" as never), err: DeviceError, op: "to", has: 'got "cuda"' },

  // --- NaN / Infinity / fractions where integers are required; negative sizes ---
  { what: "randn(NaN)", run: () => torch.randn(NaN), err: ValueError, op: "randn", has: "got [NaN]" },
  { what: "zeros(Infinity)", run: () => torch.zeros(Infinity), err: ValueError, op: "zeros", has: "got [Infinity]" },
  { what: "empty(-1)", run: () => torch.empty(-1), err: ValueError, op: "empty", has: "got [-1]" },
  { what: "reshape(NaN, 2)", run: () => z(2, 3).reshape(NaN as never, 2), err: ShapeError, op: "reshape", has: "got [NaN, 2]" },
  { what: "reshape(2.5, 2)", run: () => z(2, 3).reshape(2.5 as never, 2), err: ShapeError, op: "reshape", has: "got [2.5, 2]" },
  { what: "view(-2, 3)", run: () => z(6).view(-2 as never, 3), err: ShapeError, op: "view", has: "got [-2, 3]" },
  { what: "expand(-2, 3)", run: () => z(1, 3).expand(-2 as never, 3), err: ShapeError, op: "expand", has: "[-2, 3]" },
  { what: "sum(NaN)", run: () => z(2, 3).sum(NaN as never), err: ShapeError, op: "sum", has: "got NaN" },
  { what: "sum(0.5)", run: () => z(2, 3).sum(0.5 as never), err: ShapeError, op: "sum", has: "got 0.5" },
  { what: "index(0.5)", run: () => z(2, 3).index(0.5 as never), err: IndexError, op: "index", has: "got 0.5" },
  { what: "index(NaN)", run: () => z(2, 3).index(NaN as never), err: IndexError, op: "index", has: "got NaN" },
  { what: "select(0, NaN)", run: () => z(2, 3).select(0, NaN as never), err: ShapeError, op: "select", has: "got NaN" },
  { what: "transpose(NaN, 1)", run: () => z(2, 3).transpose(NaN as never, 1), err: ShapeError, op: "transpose", has: "got NaN" },
  { what: "unsqueeze(0.5)", run: () => z(2, 3).unsqueeze(0.5 as never), err: ShapeError, op: "unsqueeze", has: "got 0.5" },
  { what: "softmax(NaN)", run: () => z(2, 3).softmax(NaN as never), err: ShapeError, op: "softmax", has: "got NaN" },
  { what: "cat(…, NaN)", run: () => torch.cat([z(2), z(2)], NaN as never), err: ShapeError, op: "cat", has: "got NaN" },
  { what: "randint(0, NaN)", run: () => torch.randint(NaN, [2]), err: ValueError, op: "randint", has: "NaN" },
  { what: "randperm(2.5)", run: () => torch.randperm(2.5), err: ValueError, op: "randperm", has: "got 2.5" },
  { what: "linspace with NaN steps", run: () => torch.linspace(0, 1, NaN), err: ValueError, op: "linspace", has: "got NaN" },
  { what: "arange(NaN)", run: () => torch.arange(NaN), err: ValueError, op: "arange", has: "got NaN" },
  { what: "manualSeed(NaN)", run: () => torch.manualSeed(NaN), err: ValueError, op: "manualSeed", has: "got NaN" },
  { what: "manualSeed(1.5)", run: () => torch.manualSeed(1.5), err: ValueError, op: "manualSeed", has: "got 1.5" },
];

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    return e;
  }
  return undefined;
}

function expectRejected(b: Bad): void {
  const err = caught(b.run);
  expect(err, "did not throw").toBeDefined();
  expect(err, String(err)).toBeInstanceOf(b.err);
  const msg = (err as Error).message;
  expect(b.op.split("|").some((op) => msg.startsWith(`${op}:`) || msg.startsWith(`${op}.`)), `names ${b.op}: ${msg}`).toBe(true);
  expect(msg, msg).toMatch(/^[^:]+: \S.*, got \S/s);
  if (b.has) expect(msg).toContain(b.has);
}

describe("bad input at the public entry points: typed error, `call: expectation, got actual`", () => {
  it.each(CATALOGUE.map((b) => [b.what, b] as const))("%s", (_what, b) => expectRejected(b));
});

// -------------------------------------------------------------------------------------------------
// nothing half-done
// -------------------------------------------------------------------------------------------------

/** Every value of a module's state dict, by key (a deep copy of the numbers). */
function snapshot(m: nn.Module | { stateDict(): Record<string, Tensor<number[], never>> }): Record<string, number[]> {
  const sd = (m as { stateDict(): Record<string, { contiguous(): { data(): ArrayLike<number> } }> }).stateDict();
  return Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, Array.from(v.contiguous().data())]));
}

/** A state dict with every value changed (+1), as fresh tensors. */
function shifted(m: { stateDict(): object }): Record<string, AnyTensor> {
  return Object.fromEntries(Object.entries(m.stateDict() as Record<string, AnyTensor>).map(([k, v]) => [k, v.clone().add(1) as AnyTensor]));
}

const model = () => nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2));

describe("a failed loadStateDict changes nothing", () => {
  const failures: [string, (sd: Record<string, AnyTensor>) => void][] = [
    ["a key missing", (sd) => delete sd["2.bias"]],
    ["an unexpected key", (sd) => (sd["3.weight"] = z(1))],
    ["the last tensor mis-shaped", (sd) => (sd["2.bias"] = z(3))],
    ["the last tensor not a tensor", (sd) => (sd["2.bias"] = [1, 2] as never)],
  ];
  it.each(failures)("%s", (_what, spoil) => {
    const m = model();
    const before = snapshot(m as never);
    const sd = shifted(m);
    spoil(sd);
    expect(() => m.loadStateDict(sd as never)).toThrow(/^loadStateDict: /);
    expect(snapshot(m as never)).toEqual(before);
  });

  it("strict: false loads what fits and reports the rest", () => {
    const m = model();
    const sd = shifted(m);
    delete sd["2.bias"];
    sd["extra"] = z(1);
    const want = snapshot(m as never)["2.bias"];
    expect(m.loadStateDict(sd as never, { strict: false })).toEqual({ missingKeys: ["2.bias"], unexpectedKeys: ["extra"] });
    expect(snapshot(m as never)["2.bias"]).toEqual(want);
    expect(snapshot(m as never)["0.weight"]).toEqual(Array.from(sd["0.weight"]!.data() as Float32Array));
  });
});

describe("a failed optimizer step changes no weight", () => {
  const setup = (make: (groups: { params: AnyTensor[] }[]) => optim.Optimizer) => {
    torch.manualSeed(0);
    const a = torch.randn(3, { requiresGrad: true }) as AnyTensor;
    const b = torch.randn(3, { requiresGrad: true }) as AnyTensor;
    const opt = make([{ params: [a] }, { params: [b] }]);
    const step = () => {
      opt.zeroGrad();
      a.mul(b).sum().backward();
      opt.step();
    };
    step(); // some optimizer state (momentum, Adam moments) exists
    a.mul(b).sum().backward();
    return { a, b, opt, values: () => [Array.from(a.data() as Float32Array), Array.from(b.data() as Float32Array)] };
  };
  const makers: [string, (g: { params: AnyTensor[] }[]) => optim.Optimizer][] = [
    ["SGD with momentum", (g) => optim.SGD(g, { lr: 0.1, momentum: 0.9 })],
    ["Adam", (g) => optim.Adam(g, { lr: 0.1 })],
    ["AdamW", (g) => optim.AdamW(g, { lr: 0.1 })],
  ];
  for (const [name, make] of makers) {
    it(`${name}: lr set to NaN in the second param group`, () => {
      const { opt, values } = setup(make);
      const before = values();
      opt.paramGroups[1]!.lr = NaN;
      expect(() => opt.step()).toThrow(ValueError);
      expect(() => opt.step()).toThrow(/\.step: lr must be a finite number >= 0, got lr=NaN \(param group 1\)$/);
      expect(values()).toEqual(before);
      opt.paramGroups[1]!.lr = 0.1; // fixed, the step goes through
      opt.step();
      expect(values()).not.toEqual(before);
    });
    it(`${name}: a gradient of the wrong shape on the second parameter`, () => {
      const { b, opt, values } = setup(make);
      const before = values();
      b.grad = torch.ones(4) as never;
      expect(() => opt.step()).toThrow(/\.step: a gradient must have its parameter's shape \[3\], got \[4\]/);
      expect(values()).toEqual(before);
    });
  }
});

describe("corrupt checkpoints never reach the model", () => {
  it("loadStateDict(torch.load(corrupt)) fails in load, the model unchanged", () => {
    const m = model();
    const before = snapshot(m as never);
    const bytes = torch.saveBytes(shifted(m)).slice();
    // The top byte of num_batches_tracked's int64 (little-endian): a value beyond ±2^53.
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
    bytes[8 + n + header["1.num_batches_tracked"]!.data_offsets[1] - 1] = 0x7f;
    const p = fileWith("spoiled.safetensors", bytes);
    expect(() => m.loadStateDict(torch.load(p) as never)).toThrow(/^load: .*spoiled\.safetensors: /);
    expect(snapshot(m as never)).toEqual(before);
  });
});

// -------------------------------------------------------------------------------------------------
// bugs this file found, fixed: each stays fixed
// -------------------------------------------------------------------------------------------------

describe("fixed bugs stay fixed", () => {
  it("loadStateDict with a non-finite value for an int64 buffer leaves the model half-loaded (runtime/nn/Module.ts loadStateDict copies one by one)", () => {
    const m = model();
    const before = snapshot(m as never);
    const sd = shifted(m);
    sd["1.num_batches_tracked"] = floats(NaN).reshape([]) as AnyTensor; // right shape, not an integer
    expect(() => m.loadStateDict(sd as never)).toThrow(/^loadStateDict: /);
    expect(snapshot(m as never)).toEqual(before);
  });

  it("oneHot with numClasses NaN / 2.5 / -2 makes a tensor of shape [1, NaN] (runtime/ops/composite.ts oneHotOp)", () => {
    for (const n of [NaN, 2.5, -2]) expectRejected({ what: `oneHot(x, ${n})`, run: () => torch.oneHot(ints(1), n), err: ValueError, op: "oneHot", has: `got ${n}` });
  });

  it("a NaN stride or padding reads `got null` in Conv2d's and MaxPool2d's message (JSON.stringify of NaN)", () => {
    expectRejected({ what: "Conv2d stride NaN", run: () => nn.Conv2d(3, 4, 3, { stride: NaN }), err: ValueError, op: "Conv2d", has: "got NaN" });
    expectRejected({ what: "MaxPool2d stride NaN", run: () => call(nn.MaxPool2d(2, NaN), z(1, 1, 4, 4)), err: ValueError, op: "MaxPool2d", has: "got NaN" });
  });

  it("x.to('cuda') is a ValueError about dtypes; model.to('cuda') is a DeviceError", () => {
    expectRejected({ what: "tensor to cuda", run: () => z(2).to("cuda" as never), err: DeviceError, op: "to", has: 'got "cuda"' });
  });

  it("LazyLinear on a 0-d input is a ValueError; Linear's is a ShapeError", () => {
    expectRejected({ what: "LazyLinear on a 0-d tensor", run: () => call(nn.LazyLinear(3), z()), err: ShapeError, op: "LazyLinear(?→3)", has: "got []" });
  });

  it("an integer beyond ±2^53 becomes an int64 tensor that is not exact (torch.tensor([1e20]), torch.full)", () => {
    for (const make of [() => torch.tensor([1e20]), () => torch.full([2], 2 ** 60)]) {
      const t = caught(make) === undefined ? make() : undefined;
      // Either refused (ValueError) or not an inexact int64.
      expect(t === undefined || t.dtype !== "int64").toBe(true);
    }
  });
});
