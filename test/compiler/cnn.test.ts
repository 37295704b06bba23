/**
 * The compiled CNN forward (test/compiler/fixtures/cnn.ts and its generated baseline): Conv2d +
 * ReLU in one launch (im2col + the GEMM eager uses + bias/ReLU epilogue), pooling one launch each;
 * equals eager bit for bit, with fewer kernel launches. compileStep runs the CNN op by op.
 */
import { describe, expect, it } from "vitest";
import { compiled, compileStep, nn, optim, torch } from "typetorch";
import { cpu } from "../../runtime/backend/cpu.js";
import type { AnyTensor } from "../../runtime/tensorTypes.js";
import * as src from "./fixtures/cnn.js";
import * as gen from "./fixtures/cnn.kernels.generated.js";

const call = (m: unknown, x: AnyTensor) => (m as (a: AnyTensor) => AnyTensor)(x);
const maxDiff = (a: AnyTensor, b: AnyTensor) => a.sub(b).abs().max().item() as number;

function countEager<T>(fn: () => T): [T, number] {
  const orig = cpu.run;
  let n = 0;
  (cpu as { run: typeof cpu.run }).run = (k, s, a) => {
    n++;
    orig.call(cpu, k, s, a);
  };
  try {
    return [fn(), n];
  } finally {
    (cpu as { run: typeof cpu.run }).run = orig;
  }
}

const eagerForward = (m: unknown, x: AnyTensor) => torch.noGrad(() => (m as { forward(x: AnyTensor): AnyTensor }).forward(x));

describe("compiled CNN forward", () => {
  it("the seed's MNIST CNN: equals eager bit for bit in 6 launches", () => {
    torch.manualSeed(0);
    for (const B of [64, 3]) {
      const x = torch.randn(B, 1, 28, 28);
      const [eager, eagerLaunches] = countEager(() => eagerForward(src.cnn, x));
      const before = compiled.stats.launches;
      const [out, eagerInside] = countEager(() => torch.noGrad(() => call(src.cnn, x)));
      expect(compiled.stats.launches - before).toBe(gen.cnn.program.forward.length);
      expect(gen.cnn.program.forward.length).toBe(6);
      expect(eagerInside).toBe(0);
      expect(out.shape).toEqual([B, 10]);
      expect(maxDiff(out, eager)).toBe(0);
      expect(eagerLaunches).toBeGreaterThan(6);
      console.log(`CNN forward, batch ${B}: eager ${eagerLaunches} kernel launches, compiled ${gen.cnn.program.forward.length}`);
    }
  });

  it("positional stride/padding, kernel pairs, AvgPool2d with padding, a bias-free 1×1 conv: equal eager", () => {
    torch.manualSeed(1);
    const x = torch.randn(2, 3, 17, 16);
    const eager = eagerForward(src.small, x);
    const before = compiled.stats.launches;
    const out = torch.noGrad(() => call(src.small, x));
    expect(compiled.stats.launches - before).toBe(3);
    expect(out.shape).toEqual([2, 4 * 5 * 4]);
    expect(maxDiff(out, eager)).toBe(0);
  });

  it("compileStep falls back to eager for the CNN, saying why", () => {
    const step = compileStep(src.cnn, nn.CrossEntropyLoss(), optim.SGD(src.cnn.parameters(), { lr: 0.1 }));
    expect(step.compiled).toBe(false);
    expect(step.reason).toContain("has no backward");
    const loss = step(torch.randn(4, 1, 28, 28), torch.tensor([1, 2, 3, 4], { dtype: "int64" }));
    expect(Number.isFinite(loss)).toBe(true);
  });
});
