/**
 * WGSL vs JS: every row of the op table (`runtime/ops/index.ts`) runs on WebGPU and on the CPU
 * from the same random inputs — odd sizes that don't divide the workgroup size, broadcasting,
 * strided views — forward and (where the op has one) backward; then every case of the shared
 * op-case table (`test/ops.cases.ts` + `test/fixtures/ops.json`) that WebGPU supports.
 */
import { describe, expect, it } from "vitest";
import { type DType, DTypeError, DeviceError, nn, type Tensor, torch } from "typetorch";
import type { OpName } from "../../runtime/ops/index.js";
import { buildInputs, fixtures, runOp } from "../ops.cases.js";
import { noGpu } from "./gpu.js";

type T = Tensor<readonly number[], DType>;
type Any = Tensor<number[], "float32">;
const gpu = (t: T): T => t.to("webgpu") as T;

/** Asserts a GPU tensor holds the CPU tensor's values (float tolerance 1e-4 relative). */
async function same(cpu: T, dev: T, what: string): Promise<void> {
  expect(dev.device, what).toBe("webgpu");
  expect(dev.shape, what).toEqual(cpu.shape);
  expect(dev.dtype, what).toBe(cpu.dtype);
  const a = Array.from(cpu.data() as ArrayLike<number>);
  const b = Array.from((await dev.dataAsync()) as ArrayLike<number>);
  const bad = a.findIndex((v, i) => !(v === b[i] || Math.abs(v - b[i]!) <= 1e-4 * (1 + Math.abs(v))));
  expect(bad, `${what}: element ${bad}: cpu ${a[bad]}, webgpu ${b[bad]}`).toBe(-1);
}

/** Runs `f` on CPU inputs and on their WebGPU copies and compares every output. */
async function agree(what: string, inputs: T[], f: (...xs: Any[]) => T | T[]): Promise<void> {
  const c = f(...(inputs as Any[]));
  const g = f(...(inputs.map(gpu) as Any[]));
  const cs = Array.isArray(c) ? c : [c];
  const gs = Array.isArray(g) ? g : [g];
  for (let k = 0; k < cs.length; k++) await same(cs[k]!, gs[k]!, `${what}[${k}]`);
}

/** Like {@link agree}, then backpropagates `Σ out·w` (fixed random w) and compares the input gradients. */
async function agreeGrad(what: string, inputs: T[], f: (...xs: Any[]) => T): Promise<void> {
  const cin = inputs.map((t) => t.detach().requiresGrad_() as T);
  const gin = inputs.map((t) => gpu(t).requiresGrad_() as T);
  const c = f(...(cin as Any[]));
  const g = f(...(gin as Any[]));
  await same(c, g, what);
  const w = torch.randn([...c.shape]) as T;
  (c as Any).mul(w as Any).sum().backward();
  (g as Any).mul(gpu(w) as Any).sum().backward();
  for (let k = 0; k < cin.length; k++) await same(cin[k]!.grad as T, gin[k]!.grad as T, `${what} ∂input${k}`);
}

const randn = (...s: number[]): T => torch.randn(s) as T;
const ints = (lo: number, hi: number, s: number[], dtype: DType = "int64"): T => torch.randint(lo, hi, s, { dtype: dtype as "int64" }) as T;

// Odd sizes (67, 130 don't divide 64), broadcasting over leading and inner dims.
const unaryIn = () => [randn(3, 67)];
const binIn = () => [randn(5, 1, 67), randn(3, 67)];

/** One check per row of the op table: a missing row is a compile error (`satisfies`). */
const ROWS = {
  neg: () => agreeGrad("neg", unaryIn(), (x) => x.neg()),
  abs: () => agreeGrad("abs", unaryIn(), (x) => x.abs()),
  sign: () => agree("sign", [torch.tensor([-2, 0, 3.5, -0.1], { dtype: "float32" }) as T, ints(-3, 3, [9], "int32")], (x, i) => [x.sign(), (i as T as Any).sign()]),
  exp: () => agreeGrad("exp", unaryIn(), (x) => x.exp()),
  log: () => agreeGrad("log", unaryIn(), (x) => x.abs().add(0.1).log()),
  sqrt: () => agreeGrad("sqrt", unaryIn(), (x) => x.abs().add(0.1).sqrt()),
  relu: () => agreeGrad("relu", unaryIn(), (x) => x.relu()),
  sigmoid: () => agreeGrad("sigmoid", unaryIn(), (x) => x.sigmoid()),
  tanh: () => agreeGrad("tanh", unaryIn(), (x) => x.tanh()),
  clamp: () => agreeGrad("clamp", unaryIn(), (x) => x.clamp(-0.5, 0.7)),
  logicalNot: () => agree("logicalNot", [randn(3, 67).gt(0) as T, ints(-2, 2, [70])], (b, i) => [b.logicalNot(), i!.logicalNot()] as T[]),
  floor: () => agree("floor", [randn(3, 67).mul(3) as T, ints(-9, 9, [65], "int32")], (x, i) => [x.floor(), i!.floor()]),
  ceil: () => agree("ceil", [randn(3, 67).mul(3) as T], (x) => x.ceil()),
  round: () => agree("round", [torch.tensor([0.5, 1.5, 2.5, -0.5, -1.7, 2.2], { dtype: "float32" }) as T], (x) => x.round()),
  add: () => agreeGrad("add", binIn(), (a, b) => a.add(b!)),
  sub: () => agreeGrad("sub", binIn(), (a, b) => a.sub(b!)),
  mul: () => agreeGrad("mul", binIn(), (a, b) => a.mul(b!)),
  div: () => agreeGrad("div", binIn(), (a, b) => a.div(b!.abs().add(0.5))),
  divFloor: () => agree("divFloor", [ints(-20, 20, [5, 67]), ints(1, 7, [67]), randn(3, 67)], (a, b, x) => [(a as T as Any).div(b!.mul(b!.gt(3).mul(2).sub(1)), { roundingMode: "floor" }), x!.div(0.3, { roundingMode: "floor" })]),
  divTrunc: () => agree("divTrunc", [ints(-20, 20, [5, 67], "int32"), randn(3, 67)], (a, x) => [(a as T as Any).div(3, { roundingMode: "trunc" }), x!.div(-0.3, { roundingMode: "trunc" })]),
  pow: () => agreeGrad("pow", [randn(3, 67).abs().add(0.2) as T, randn(67)], (a, b) => a.pow(b!)).then(() =>
    agree("pow int", [ints(-3, 4, [66], "int32"), torch.tensor([-2, 1.5, 3], { dtype: "float32" }) as T], (i, f) => [(i as T as Any).pow(3), f!.pow(2), (i as T as Any).pow(0)])),
  maximum: () => agreeGrad("maximum", binIn(), (a, b) => a.maximum(b!)),
  minimum: () => agreeGrad("minimum", binIn(), (a, b) => a.minimum(b!)),
  eq: () => agree("eq", [ints(0, 3, [5, 1, 67]), ints(0, 3, [3, 67])], (a, b) => a.eq(b!) as T),
  ne: () => agree("ne", binIn(), (a, b) => a.ne(b!) as T),
  gt: () => agree("gt", binIn(), (a, b) => a.gt(b!) as T),
  ge: () => agree("ge", binIn(), (a, b) => a.ge(0.1) as T),
  lt: () => agree("lt", binIn(), (a, b) => a.lt(b!) as T),
  le: () => agree("le", binIn(), (a, b) => a.le(b!) as T),
  logicalAnd: () => agree("logicalAnd", binIn(), (a, b) => a.gt(0).logicalAnd(b!.gt(0)) as T),
  logicalOr: () => agree("logicalOr", binIn(), (a, b) => a.logicalOr(b!.gt(0)) as T),
  logicalXor: () => agree("logicalXor", binIn(), (a, b) => a.gt(0).logicalXor(b!) as T),
  where: () => agreeGrad("where", binIn(), (a, b) => torch.where(a.gt(b!), a, b!) as T),
  copy: () => agreeGrad("copy", [randn(67, 3)], (x) => x.t().contiguous().mul(1)),
  sum: () => agreeGrad("sum", [randn(7, 130)], (x) => x.sum(0).add(x.sum(1, true).sum()).add(x.t().sum(1).sum())),
  prod: () => agreeGrad("prod", [randn(7, 13).mul(0.1).add(1) as T], (x) => x.prod(1)),
  max: () => agreeGrad("max", [randn(7, 130)], (x) => x.max(1)[0].add(x.max())),
  min: () => agree("min", [randn(7, 130), ints(-50, 50, [3, 67], "int32")], (x, i) => [...x.min(0), i!.min()] as T[]),
  argmax: () => agree("argmax", [randn(7, 130), ints(0, 4, [5, 67])], (x, i) => [x.argmax(1), x.argmax(), i!.argmax(0, true)]),
  argmin: () => agree("argmin", [randn(7, 130)], (x) => [x.argmin(0), x.t().argmin(1)]),
  matmul: () =>
    agreeGrad("matmul", [randn(17, 33), randn(33, 19)], (a, b) => a.matmul(b!)).then(() =>
      agreeGrad("matmul batched, broadcast", [randn(2, 1, 5, 7), randn(3, 7, 4)], (a, b) => a.matmul(b!))).then(() =>
      agree("matmul int32, vector", [ints(-5, 5, [3, 20], "int32"), ints(-5, 5, [20], "int32")], (a, v) => a.matmul(v! as never))),
  indexSelect: () => agreeGrad("indexSelect", [randn(6, 5)], (x) => x.indexSelect(0, torch.tensor([4, 0, 5, 2, -1, 4]).to(x.device) as never).add(x.indexSelect(1, torch.tensor([1, 3]).to(x.device) as never).sum())),
  indexAdd: () => {
    const i = torch.randint(0, 70, [100]);
    return agreeGrad("indexAdd (indexSelect's backward)", [randn(70, 3)], (x) => x.indexSelect(0, i.to(x.device) as never));
  },
  gather: () => {
    const i = torch.randint(0, 6, [4, 3]);
    return agreeGrad("gather", [randn(4, 6)], (x) => x.gather(1, i.to(x.device) as never));
  },
  scatterAdd: () => agreeGrad("scatterAdd", [randn(5, 4), randn(3, 4)], (x, s) => x.scatterAdd(0, torch.tensor([[0, 4, 0, 1], [4, 4, 2, 0], [0, 1, 2, 3]]).to(x.device) as never, s!)),
  reshape: () => agreeGrad("reshape", [randn(6, 70)], (x) => x.t().reshape(35, 12).mul(2)),
  permute: () => agreeGrad("permute", [randn(2, 3, 67)], (x) => x.permute(2, 0, 1).contiguous()),
  expand: () => agreeGrad("expand", [randn(3, 1)], (x) => x.expand(2, 3, 67).mul(1)),
  select: () => agreeGrad("select", [randn(4, 67)], (x) => x.select(0, 2).mul(3)),
  slice: () => agreeGrad("slice", [randn(9, 67)], (x) => x.index("1:8:3", "::2").mul(3)),
  squeeze: () => agreeGrad("squeeze", [randn(3, 1, 67)], (x) => x.squeeze(1).mul(2)),
  unsqueeze: () => agreeGrad("unsqueeze", [randn(3, 67)], (x) => x.unsqueeze(1).expand(3, 2, 67).mul(2)),
  im2col: () => agreeGrad("im2col (conv2d's patches)", [randn(2, 4, 9, 11), randn(6, 2, 3, 3)], (x, w) => nn.functional.conv2d(x as never, w as never, null, { stride: 2, padding: 1, dilation: [1, 2], groups: 2 }) as T),
  col2im: () => agreeGrad("col2im (conv2d's ∂x)", [randn(2, 3, 8, 8), randn(5, 3, 3, 3)], (x, w) => nn.functional.conv2d(x as never, w as never, null, { padding: "same" }) as T),
  conv2d: () => agreeGrad("conv2d with bias", [randn(3, 3, 10, 7), randn(4, 3, 3, 2), randn(4)], (x, w, b) => nn.functional.conv2d(x as never, w as never, b as never, { stride: [2, 1] }) as T),
  maxPool2d: () => agreeGrad("maxPool2d", [randn(2, 3, 9, 11)], (x) => nn.functional.maxPool2d(x as never, 3, 2, { padding: 1 }) as T),
  maxUnpool2dAdd: () => agreeGrad("maxUnpool2dAdd (maxPool2d's backward)", [randn(2, 2, 12, 12)], (x) => nn.functional.maxPool2d(x as never, 2) as T),
  avgPool2d: () => agreeGrad("avgPool2d", [randn(2, 3, 9, 11)], (x) => nn.functional.avgPool2d(x as never, 3, 2, { padding: 1, ceilMode: true }) as T),
  avgPool2dAdjoint: () => agreeGrad("avgPool2dAdjoint (adaptive avg pool's backward)", [randn(2, 3, 9, 11)], (x) => nn.functional.adaptiveAvgPool2d(x as never, [4, 3]) as T),
} satisfies Record<OpName, () => Promise<void>>;

describe.skipIf(noGpu)("WGSL vs JS, every row of the op table", () => {
  for (const [name, check] of Object.entries(ROWS)) {
    it(name, async () => {
      torch.manualSeed(name.length * 7 + name.charCodeAt(0));
      await check();
    });
  }
});

// Cases WebGPU can't run as the CPU does: float64 (no WGSL type), int64 beyond 32 bits, and
// oneHot (it reads the max class synchronously). Non-finite values (NaN, ±Inf) follow the GPU's
// float rules (SwiftShader's log(0) is −88, not −∞), so cases with them are left to the CPU tests.
const finite = (t: T) => Array.from(t.data() as ArrayLike<number>).every((v) => Number.isFinite(v) && Math.abs(v) < 2 ** 31);
const unsupportedOps = new Set(["oneHot"]);

describe.skipIf(noGpu)("the op-case table on WebGPU (fixtures of test/fixtures/ops.json)", () => {
  it("every supported case agrees with the CPU", async () => {
    let ran = 0;
    for (const c of fixtures.cases) {
      if (unsupportedOps.has(c.op)) continue;
      const ins = buildInputs(c) as T[];
      let cpu: T | T[];
      try {
        cpu = runOp(c.op, ins, c.args) as T | T[];
      } catch {
        continue; // a case PyTorch (and the CPU) reject
      }
      const outs = Array.isArray(cpu) ? cpu : [cpu];
      if ([...ins, ...outs].some((t) => t.dtype === "float64" || !finite(t))) continue;
      const dev = runOp(c.op, ins.map(gpu), c.args) as T | T[];
      const devs = Array.isArray(dev) ? dev : [dev];
      for (let k = 0; k < outs.length; k++) {
        if (devs[k]!.device !== "webgpu") expect(c.inputs.length, c.id).toBe(0); // creation ops stay on the CPU
        else await same(outs[k]!, devs[k]!, c.id);
      }
      ran++;
    }
    expect(ran).toBeGreaterThan(650);
  });
});

describe.skipIf(noGpu)("device rules", () => {
  it("sync reads of a webgpu tensor throw a DeviceError naming the async form", () => {
    const x = gpu(torch.ones(2, 2) as T);
    expect(() => x.item()).toThrow(/await x\.itemAsync\(\)/);
    expect(() => x.toArray()).toThrow(/await x\.toArrayAsync\(\)/);
    expect(() => x.data()).toThrow(DeviceError);
    expect(String(x)).toContain("device='webgpu'");
  });
  it("ops across devices name both; a 0-d CPU tensor may join (as PyTorch's CPU scalars)", async () => {
    const a = gpu(torch.ones(3) as T) as Any;
    expect(() => a.add(torch.ones(3))).toThrow(/add: tensors must be on the same device, got webgpu and cpu/);
    expect(() => a.matmul(torch.ones(3) as never)).toThrow(DeviceError);
    expect(await a.add(torch.tensor(2, { dtype: "float32" })).toArrayAsync()).toEqual([3, 3, 3]);
  });
  it("float64 is rejected clearly; int64 lives in 32 bits", async () => {
    expect(() => torch.ones(2, { dtype: "float64" }).to("webgpu")).toThrow(DTypeError);
    expect(() => (gpu(torch.ones(2) as T) as Any).double()).toThrow(/to: dtype must be float32, int32, int64 or bool on webgpu, got float64/);
    expect(() => torch.tensor([2 ** 40]).to("webgpu")).toThrow(/32-bit range/);
    expect(await torch.tensor([-5, 7]).to("webgpu").mul(3).toArrayAsync()).toEqual([-15, 21]);
  });
  it("async readback works for CPU tensors too, and cpuAsync moves back", async () => {
    const x = torch.tensor([[1, 2]], { dtype: "float32" });
    expect(await x.toArrayAsync()).toEqual([[1, 2]]);
    const back = await x.to("webgpu").mul(2).cpuAsync();
    expect(back.device).toBe("cpu");
    expect(back.toArray()).toEqual([[2, 4]]);
    expect(await x.to("webgpu").sum().itemAsync()).toBe(3);
  });
  it("a bad index is reported as the op's IndexError at the next readback", async () => {
    const x = gpu(torch.ones(3, 4) as T);
    const y = x.gather(1, torch.tensor([[0, 9], [1, 1], [0, 0]]).to("webgpu") as never);
    await expect(y.toArrayAsync()).rejects.toThrow(/gather: index must be in \[0, 3\] for dim 1 of size 4, got 9/);
    expect(await x.sum().itemAsync()).toBe(12); // the error was reported once
  });
  it("a WGSL compile error names the op and shows the kernel", async () => {
    const be = (await import("../../runtime/backend/webgpu.js")).webgpuBackend();
    const s = be.alloc("float32", 4);
    be.run({ label: "brokenOp", source: "@compute @workgroup_size(1) fn main() { let x: f32 = nope; }", writes: [true] }, [s], [], [1, 1, 1]);
    await expect(be.sync()).rejects.toThrow(/brokenOp: the WebGPU kernel must compile, got:[\s\S]*nope[\s\S]*--- kernel ---/);
  });
  it("buffers are pooled and reused; a batch of ops is one submission", async () => {
    const before = torch.webgpu.stats();
    let x = gpu(torch.ones(1000) as T) as Any;
    for (let i = 0; i < 20; i++) x = x.add(1);
    expect(await x.sum().itemAsync()).toBe(21000);
    const after = torch.webgpu.stats();
    expect(after.dispatched - before.dispatched).toBeGreaterThanOrEqual(21);
    expect(after.submitted - before.submitted).toBeLessThanOrEqual(2);
  });
});
