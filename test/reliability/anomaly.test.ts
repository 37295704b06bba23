/**
 * Anomaly detection (runtime/anomaly.ts, PyTorch's `torch.autograd.detect_anomaly`): NaN/Inf in
 * forward and in backward is reported at the first op that made it, naming the op; off, nothing
 * is checked. And the log-sum-exp based losses stay finite for large logits, so they never trip it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { nn, optim, type Tensor, torch, ValueError } from "typetorch";
import { detectAnomaly, forwardName, isAnomalyEnabled, setDetectAnomaly } from "../../runtime/anomaly.js";

type T = Tensor<number[], "float32">;
const t = (v: number[]) => torch.tensor(v, { dtype: "float32" }) as unknown as T;

/** The error `fn` throws (fails when it does not throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw");
}

afterEach(() => setDetectAnomaly(false));

describe("detectAnomaly in forward", () => {
  it("is off by default: NaN flows through unreported", () => {
    expect(isAnomalyEnabled()).toBe(false);
    const z = torch.zeros(4, 5);
    expect(Number.isNaN(z.div(z).sum().item())).toBe(true);
  });

  it("names the elementwise op that made NaN, with the count and the shape", () => {
    const z = torch.zeros(4, 5);
    const e = thrown(() => detectAnomaly(() => z.div(z)));
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toBe("detectAnomaly: div produced NaN in forward, got 20 NaN values in shape [4, 5]");
  });

  it("says when an input already held the NaN/Inf (the op only passed it on)", () => {
    const x = torch.zeros(4, 5);
    x.index(0, "0:3").fill_(Infinity);
    const e = thrown(() => detectAnomaly(() => x.mul(0)));
    expect(e.message).toBe("detectAnomaly: mul produced NaN in forward, got 3 NaN values in shape [4, 5] (input 0 already had 3 Inf values)");
  });

  it("Inf from overflow, in elementwise ops and reductions", () => {
    expect(thrown(() => detectAnomaly(() => t([1e30, 1]).mul(t([1e30, 1])))).message).toBe("detectAnomaly: mul produced Inf in forward, got 1 Inf value in shape [2]");
    expect(thrown(() => detectAnomaly(() => torch.full([4], 3e38, { dtype: "float32" }).sum())).message).toBe("detectAnomaly: sum produced Inf in forward, got 1 Inf value in shape []");
  });

  it("kernel ops recorded on the tape (matmul, conv) are checked by their record", () => {
    const a = torch.full([2, 3], 1e20, { dtype: "float32", requiresGrad: true });
    const b = torch.full([3, 2], 1e20, { dtype: "float32" });
    expect(thrown(() => detectAnomaly(() => a.matmul(b))).message).toBe("detectAnomaly: mm produced Inf in forward, got 4 Inf values in shape [2, 2]");
    const conv = nn.Conv2d(1, 1, 2);
    torch.noGrad(() => conv.weight.fill_(1e30));
    expect(thrown(() => detectAnomaly(() => conv(torch.full([1, 1, 3, 3], 1e30, { dtype: "float32" })))).message).toBe("detectAnomaly: convolution produced Inf in forward, got 4 Inf values in shape [1, 1, 2, 2]");
    expect(forwardName("MmBackward0")).toBe("mm");
  });

  it("finite work is untouched and in-place ops are checked each time", () => {
    const p = torch.ones(3);
    detectAnomaly(() => {
      for (let i = 0; i < 3; i++) p.add_(1);
    });
    expect(p.toArray()).toEqual([4, 4, 4]);
    expect(thrown(() => detectAnomaly(() => p.mul_(Infinity))).message).toBe("detectAnomaly: mul produced Inf in forward, got 3 Inf values in shape [3]");
  });

  it("restores the previous setting, also when fn throws; setDetectAnomaly switches it", () => {
    expect(() => detectAnomaly(() => torch.zeros(1).div(0))).toThrow(ValueError);
    expect(isAnomalyEnabled()).toBe(false);
    setDetectAnomaly(true);
    detectAnomaly(() => torch.ones(1));
    expect(isAnomalyEnabled()).toBe(true);
    expect(() => torch.zeros(1).log()).toThrow("detectAnomaly: log produced Inf in forward, got 1 Inf value in shape [1]");
    setDetectAnomaly(false);
    expect(torch.zeros(1).log().item()).toBe(-Infinity);
    expect(() => setDetectAnomaly(1 as never)).toThrow(ValueError);
  });

  it("with an async fn, stays on until the promise settles", async () => {
    const p = detectAnomaly(async () => {
      await Promise.resolve();
      expect(isAnomalyEnabled()).toBe(true);
      return 7;
    });
    expect(isAnomalyEnabled()).toBe(true);
    expect(await p).toBe(7);
    expect(isAnomalyEnabled()).toBe(false);
  });
});

describe("detectAnomaly in backward", () => {
  it("names the backward node whose gradient is Inf, and the input it is for", () => {
    const x = torch.tensor([0, 1, 4], { dtype: "float32", requiresGrad: true });
    const e = thrown(() => detectAnomaly(() => x.sqrt().sum().backward()));
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toBe("detectAnomaly: SqrtBackward0 produced Inf in backward, got 1 Inf value in shape [3] (the gradient of its input 0)");
    // The forward call that recorded the node, as PyTorch's anomaly mode prints it.
    expect(e.cause).toBeInstanceOf(Error);
    expect((e.cause as Error).stack).toContain("anomaly.test.ts");
    expect(x.grad).toBeNull();
  });

  it("NaN made inside a backward function is the node's, not a forward op's", () => {
    const x = torch.zeros(4, 5, { requiresGrad: true });
    const y = x.sqrt().mul(0).sum(); // forward is finite; backward computes 0 / (2·√0)
    expect(thrown(() => detectAnomaly(() => y.backward())).message).toBe(
      "detectAnomaly: SqrtBackward0 produced NaN in backward, got 20 NaN values in shape [4, 5] (the gradient of its input 0)",
    );
  });

  it("a training step with finite numbers passes untouched, with the same result as without", () => {
    const run = (anomaly: boolean): number[] => {
      torch.manualSeed(3);
      const model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3));
      const opt = optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      const x = torch.randn(5, 6);
      const y = torch.tensor([0, 1, 2, 1, 0]);
      const step = (): void => {
        opt.zeroGrad();
        nn.functional.crossEntropy(model(x), y).backward();
        opt.step();
      };
      for (let i = 0; i < 3; i++) (anomaly ? detectAnomaly(step) : step());
      return [...model.parameters()].flatMap((p) => Array.from(p.data() as Float32Array));
    };
    expect(run(true)).toEqual(run(false));
  });
});

describe("log-sum-exp losses stay finite for large logits", () => {
  it("crossEntropy with logits ±1e4: finite loss and gradient, also under detectAnomaly", () => {
    const logits = torch.tensor([[1e4, -1e4, 0], [-1e4, 1e4, 1e4], [5e3, 5e3, -1e4]], { dtype: "float32", requiresGrad: true });
    const target = torch.tensor([0, 2, 1]);
    const loss = detectAnomaly(() => {
      const l = nn.functional.crossEntropy(logits, target);
      l.backward();
      return l;
    });
    // Row losses: 0; log 2 (two equal maxima); log 2.
    expect(loss.item()).toBeCloseTo((2 * Math.log(2)) / 3, 5);
    const g = Array.from(logits.grad!.data() as Float32Array);
    expect(g.every(Number.isFinite)).toBe(true);
    expect(g.map((v) => Math.round(v * 600) / 600)).toEqual([0, 0, 0, 0, 1 / 6, -1 / 6, 1 / 6, -1 / 6, 0].map((v) => Math.round(v * 600) / 600));
  });

  it("logSoftmax, logsumexp, nllLoss and bceWithLogits at ±1e4", () => {
    detectAnomaly(() => {
      const x = t([1e4, -1e4, 0]);
      expect(Array.from(x.logSoftmax(0).data() as Float32Array)).toEqual([0, -2e4, -1e4]);
      expect(x.logsumexp(0).item()).toBe(1e4);
      expect(nn.functional.nllLoss(x.reshape(1, 3).logSoftmax(1), torch.tensor([1])).item()).toBe(2e4);
      const b = nn.functional.bceWithLogits(t([1e4, -1e4]), t([0, 1]));
      expect(b.item()).toBe(1e4);
    });
  });
});
