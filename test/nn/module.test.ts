import { describe, expect, it } from "vitest";
import { nn, torch, type Tensor } from "../../runtime/index.js";
import { DeviceError, ShapeError, ValueError } from "../../types/errors.js";

class MLP extends nn.Module {
  fc1 = nn.Linear(4, 3);
  act = nn.ReLU();
  fc2 = nn.Linear(3, 2);
  scale = nn.Parameter(torch.ones(2));
  plain = torch.ones(2); // a plain tensor: not a parameter
  forward(x: Tensor<[5, 4]>) {
    return this.fc2(this.act(this.fc1(x))).mul(this.scale);
  }
}

describe("nn.Module", () => {
  it("is callable, and registers Parameters and submodules assigned to fields, in order", () => {
    const m = new MLP();
    const y: Tensor<[5, 2]> = m(torch.randn(5, 4));
    expect(y.shape).toEqual([5, 2]);
    expect([...m.namedParameters()].map(([k]) => k)).toEqual(["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
    expect([...m.parameters()].every((p) => p.requiresGrad)).toBe(true);
    expect([...m.namedChildren()].map(([k]) => k)).toEqual(["fc1", "act", "fc2"]);
    expect([...m.namedModules()].map(([k]) => k)).toEqual(["", "fc1", "act", "fc2"]);
    expect([...m.modules()].length).toBe(4);
    expect([...m.children()][0]).toBe(m.fc1);
  });

  it("stateDict has PyTorch's keys and shares storage; loadStateDict checks everything before copying", () => {
    const m = new MLP();
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual(["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
    const other = new MLP();
    other.loadStateDict(m.stateDict());
    expect(torch.equal(other.fc1.weight, m.fc1.weight)).toBe(true);
    const before = other.fc2.weight.clone();
    // A mis-shaped key: nothing is copied, not even the keys before it.
    const bad = { ...m.stateDict(), "fc1.weight": torch.zeros(3, 4), "fc2.weight": torch.zeros(2, 4) };
    expect(() => other.loadStateDict(bad)).toThrow(ShapeError);
    expect(() => other.loadStateDict(bad)).toThrow("loadStateDict: fc2.weight must have shape [2, 3], got [2, 4]");
    expect(torch.equal(other.fc2.weight, before)).toBe(true);
    expect(other.fc1.weight.sum().item()).not.toBe(0);
    const missing: Record<string, Tensor<number[], "float32">> = { ...m.stateDict() } as never;
    delete missing["fc2.bias"];
    expect(() => other.loadStateDict({ ...missing, extra: torch.zeros(1) })).toThrow('loadStateDict: keys must match the model\'s, got missing ["fc2.bias"] and unexpected ["extra"]');
    expect(other.loadStateDict({ ...missing, extra: torch.zeros(1) }, { strict: false })).toEqual({ missingKeys: ["fc2.bias"], unexpectedKeys: ["extra"] });
  });

  it("buffers are saved but not trained; BatchNorm uses PyTorch's buffer names", () => {
    const bn = nn.BatchNorm2d(3);
    expect(Object.keys(bn.stateDict())).toEqual(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
    expect([...bn.parameters()].length).toBe(2);
    expect([...bn.buffers()].length).toBe(3);
    bn(torch.randn(2, 3, 4, 4));
    expect(bn.numBatchesTracked!.item()).toBe(1);
    class WithBuf extends nn.Module {
      counter = this.registerBuffer("counter", torch.zeros(1));
      temp = this.registerBuffer("temp", torch.zeros(1), { persistent: false });
      forward(x: Tensor<[1]>) {
        return x;
      }
    }
    const w = new WithBuf();
    expect(Object.keys(w.stateDict())).toEqual(["counter"]);
    expect([...w.namedBuffers()].map(([k]) => k)).toEqual(["counter", "temp"]);
  });

  it("train/eval, zeroGrad, apply, to", () => {
    const m = new MLP();
    expect(m.training).toBe(true);
    m.eval();
    expect([...m.modules()].every((x) => !x.training)).toBe(true);
    m.train();
    expect(m.fc1.training).toBe(true);
    m(torch.randn(5, 4)).sum().backward();
    expect(m.fc1.weight.grad).not.toBeNull();
    m.zeroGrad();
    expect(m.fc1.weight.grad!.abs().sum().item()).toBe(0);
    m.zeroGrad({ setToNone: true });
    expect(m.fc1.weight.grad).toBeNull();
    const seen: string[] = [];
    m.apply((x) => seen.push(x.constructor.name));
    expect(seen).toEqual(["Linear", "ReLU", "Linear", "MLP"]);
    expect(m.to("cpu")).toBe(m);
    expect(() => m.to("webgpu")).toThrow(DeviceError);
  });

  it("instanceof works for factories made without new, and every layer is an nn.Module", () => {
    const l = nn.Linear(2, 3);
    expect(l instanceof nn.Linear).toBe(true);
    expect(l instanceof nn.Module).toBe(true);
    expect(new MLP() instanceof nn.Module).toBe(true);
    expect(new MLP() instanceof MLP).toBe(true);
    expect(l instanceof MLP).toBe(false);
    expect(nn.ReLU() instanceof nn.Linear).toBe(false);
    expect(nn.Parameter(torch.ones(2)) instanceof nn.Parameter).toBe(true);
    expect(torch.ones(2) instanceof nn.Parameter).toBe(false);
  });

  it("prints the module tree as PyTorch", () => {
    expect(new MLP().toString()).toBe(
      "MLP(\n  (fc1): Linear(in_features=4, out_features=3, bias=True)\n  (act): ReLU()\n  (fc2): Linear(in_features=3, out_features=2, bias=True)\n)",
    );
    expect(nn.Parameter(torch.tensor([1.5])).toString()).toBe("Parameter containing:\ntensor([1.5000], requires_grad=True)");
  });
});

describe("nn.Sequential", () => {
  it("positional: at, length, iteration, append, and a checked chain", () => {
    const s = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2));
    expect(s.length).toBe(3);
    expect(s.at(0).outFeatures).toBe(3);
    expect(s.at(-1) instanceof nn.Linear).toBe(true);
    expect([...s].length).toBe(3);
    expect(s.get("1") instanceof nn.ReLU).toBe(true);
    expect(torch.len(s)).toBe(3);
    expect(s(torch.randn(7, 4)).shape).toEqual([7, 2]);
    expect(() => s(torch.randn([7, 5] as number[]) as never)).toThrow("Sequential[0] Linear(4→3): input last dim must be 4, got 5 in [7, 5]");
    expect(() => s.at(5)).toThrow(ValueError);
    s.append(nn.Softmax(1));
    expect(s.length).toBe(4);
    expect(Object.keys(s.stateDict())).toEqual(["0.weight", "0.bias", "2.weight", "2.bias"]);
  });

  it("named (OrderedDict form): names in keys, attribute access, errors name the layer", () => {
    const s = nn.Sequential({ fc1: nn.Linear(4, 3), relu1: nn.ReLU(), fc2: nn.Linear(3, 2) });
    expect(Object.keys(s.stateDict())).toEqual(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
    expect(s.fc1.inFeatures).toBe(4);
    expect(s.get("fc2")).toBe(s.fc2);
    expect(s(torch.randn(2, 4)).shape).toEqual([2, 2]);
    expect(() => s(torch.randn(2, 5))).toThrow("Sequential[fc1] Linear(4→3): input last dim must be 4, got 5 in [2, 5]");
    expect(() => s.get("nope")).toThrow('Sequential.get: no layer named "nope", got names ["fc1", "relu1", "fc2"]');
  });

  it("nested Sequentials report the path; non-modules are rejected", () => {
    const s = nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(12, 4), nn.ReLU()));
    expect(() => s(torch.randn([2, 3, 5] as number[]) as never)).toThrow("Sequential[1][0] Linear(12→4): input last dim must be 12, got 15 in [2, 15]");
    expect(() => nn.Sequential(nn.ReLU(), 3 as never)).toThrow("Sequential: every layer must be an nn.Module, got number at 1");
  });
});

describe("layers: behaviour and bad input", () => {
  it("Dropout: identity in eval, scaled mask in train", () => {
    const d = nn.Dropout(0.5);
    const x = torch.ones(1000);
    const y = d(x);
    const kept = y.gt(0).sum().item() as number;
    expect(kept).toBeGreaterThan(400);
    expect(kept).toBeLessThan(600);
    expect(y.max().item()).toBe(2);
    d.eval();
    expect(torch.equal(d(x), x)).toBe(true);
    expect(() => nn.Dropout(1.5)).toThrow("Dropout: p must be in [0, 1], got 1.5");
  });

  it("LazyLinear and LazyConv2d take their in-dim from the first input", () => {
    const l = nn.LazyLinear(8);
    expect(l.weight).toBeUndefined();
    expect(l(torch.randn(3, 11)).shape).toEqual([3, 8]);
    expect(l.inFeatures).toBe(11);
    expect(l.weight!.shape).toEqual([8, 11]);
    expect(() => l(torch.randn([3, 12] as number[]) as never)).toThrow("Linear(11→8): input last dim must be 11, got 12 in [3, 12]");
    const c = nn.LazyConv2d(4, 3);
    expect(c(torch.randn(2, 5, 8, 8)).shape).toEqual([2, 4, 6, 6]);
    expect(c.inChannels).toBe(5);
  });

  it("clear errors naming the layer", () => {
    const conv = nn.Conv2d(3, 16, 3);
    expect(() => conv(torch.randn([4, 1, 28, 28] as number[]) as never)).toThrow("Conv2d(3→16, 3×3): input channels must be 3, got 1 in [4, 1, 28, 28]");
    expect(() => conv(torch.randn([4, 3, 2, 2] as number[]) as never)).toThrow("Conv2d(3→16, 3×3): kernel (with dilation) must fit the padded input, got kernel 3 and padded input 2");
    expect(() => conv(torch.randn([3, 28] as number[]) as never)).toThrow("Conv2d(3→16, 3×3): input must be [N, C, H, W] or [C, H, W], got [3, 28]");
    expect(() => nn.MaxPool2d(2)(torch.randn([4, 784] as number[]) as never)).toThrow("MaxPool2d: input must be [N, C, H, W] or [C, H, W], got [4, 784]");
    expect(() => nn.BatchNorm2d(16)(torch.randn([4, 8, 3, 3] as number[]) as never)).toThrow("BatchNorm2d(16): input channels must be 16, got 8 in [4, 8, 3, 3]");
    expect(() => nn.Linear(2.5, 3)).toThrow("Linear: inFeatures must be a non-negative integer, got 2.5");
    expect(() => nn.Conv2d(3, 16, 3, { groups: 2 })).toThrow(/Conv2d: groups must be a positive integer dividing/);
    expect(() => nn.Linear(4, 3)(torch.randn([2, 5] as number[]) as never)).toThrow(ShapeError);
  });
});
