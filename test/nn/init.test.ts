import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { nn, torch } from "../../runtime/index.js";
import { ValueError } from "../../types/errors.js";

interface InitCase { name: string; shape: number[]; args: Record<string, number | string>; seed: number; out: number[] }
const fx = JSON.parse(readFileSync(new URL("../fixtures/nn.json", import.meta.url), "utf8")) as {
  layers: { seed: number; kind: string; args?: [number, number, boolean]; weight?: number[]; bias?: number[] | null; state?: Record<string, number[]>; x?: number[]; y?: number[] }[];
  init: InitCase[];
  gains: Record<string, number>;
};

const close = (a: ArrayLike<number>, b: readonly number[], tol = 1e-6) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!)));
};

const run = (c: InitCase) => {
  const t = torch.empty(c.shape);
  const a = c.args;
  const I = nn.init;
  switch (c.name) {
    case "uniform_": return I.uniform_(t, a.a as number, a.b as number);
    case "normal_": return I.normal_(t, a.mean as number, a.std as number);
    case "xavierUniform_": return I.xavierUniform_(t, a.gain as number);
    case "xavierNormal_": return I.xavierNormal_(t);
    case "kaimingUniform_": return I.kaimingUniform_(t, a as never);
    case "kaimingNormal_": return I.kaimingNormal_(t, a as never);
    case "orthogonal_": return I.orthogonal_(t, a.gain as number);
    case "sparse_": return I.sparse_(t, a.sparsity as number, a.std as number);
    case "truncNormal_": return I.truncNormal_(t, a.mean as number, a.std as number, a.a as number, a.b as number);
    case "eye_": return I.eye_(t);
    case "constant_": return I.constant_(t, a.value as number);
    default: throw new Error(c.name);
  }
};

describe("default layer init equals PyTorch 1.13 after the same seed", () => {
  for (const l of fx.layers.filter((l) => l.kind === "Linear")) {
    it(`Linear(${l.args!.join(", ")}) seed ${l.seed}`, () => {
      torch.manualSeed(l.seed);
      const layer = nn.Linear(l.args![0], l.args![1], l.args![2]);
      close(layer.weight.data(), l.weight!);
      if (l.bias) close(layer.bias!.data(), l.bias);
      else expect(layer.bias).toBeNull();
    });
  }
  it("a Sequential consumes the generator layer by layer, and computes PyTorch's output", () => {
    const l = fx.layers.find((l) => l.kind === "Sequential")!;
    torch.manualSeed(l.seed);
    const seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2));
    const sd = seq.stateDict();
    expect(Object.keys(sd)).toEqual(Object.keys(l.state!));
    for (const [k, v] of Object.entries(l.state!)) close(sd[k]!.data(), v);
    const x = torch.tensor(l.x!, { dtype: "float32" }).reshape(2, 4);
    close(seq(x as never).data(), l.y!, 1e-5);
  });
});

describe("nn.init", () => {
  for (const c of fx.init) {
    it(`${c.name} ${JSON.stringify(c.args)} matches PyTorch`, () => {
      torch.manualSeed(c.seed);
      const t = run(c);
      // orthogonal_ runs a QR decomposition: the same matrix up to float rounding.
      close(t.data(), c.out, c.name === "orthogonal_" || c.name === "truncNormal_" ? 1e-5 : 1e-6);
    });
  }
  it("calculateGain", () => {
    for (const [k, v] of Object.entries(fx.gains)) {
      const g = k === "leaky_relu(0.2)" ? nn.init.calculateGain("leaky_relu", 0.2) : nn.init.calculateGain(k as never);
      expect(g).toBeCloseTo(v, 12);
    }
  });
  it("distributions: bounds, mean and std within statistical tolerance", () => {
    torch.manualSeed(5);
    const u = nn.init.uniform_(torch.empty(200, 100), -2, 3).data();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(3);
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    const std = (a: ArrayLike<number>) => {
      const m = mean(a);
      return Math.sqrt(Array.from(a).reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
    };
    expect(mean(u)).toBeCloseTo(0.5, 1);
    const k = nn.init.kaimingNormal_(torch.empty(400, 200), { nonlinearity: "relu" }).data();
    expect(std(k)).toBeCloseTo(Math.sqrt(2 / 200), 2);
    const x = nn.init.xavierUniform_(torch.empty(300, 100)).data();
    const bound = Math.sqrt(6 / 400);
    expect(Math.max(...x)).toBeLessThanOrEqual(bound);
    expect(std(x)).toBeCloseTo(bound / Math.sqrt(3), 2);
    const tn = nn.init.truncNormal_(torch.empty(100, 100), 0, 1, -1, 1).data();
    expect(Math.min(...tn)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...tn)).toBeLessThanOrEqual(1);
    const o = nn.init.orthogonal_(torch.empty(5, 8));
    expect(torch.allclose(o.matmul(o.t()), torch.eye(5), { atol: 1e-5 })).toBe(true);
    const sp = nn.init.sparse_(torch.empty(10, 6), 0.3).data();
    for (let c = 0; c < 6; c++) expect(Array.from({ length: 10 }, (_, r) => sp[r * 6 + c]).filter((v) => v === 0).length).toBe(3);
  });
  it("returns its tensor, works under apply, rejects what it can't do", () => {
    const model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2));
    model.apply((m) => {
      if (m instanceof nn.Linear) {
        nn.init.zeros_(m.weight);
        nn.init.ones_(m.bias!);
      }
    });
    expect(model.at(2).weight.sum().item()).toBe(0);
    expect(model.at(0).bias!.sum().item()).toBe(3);
    const t = torch.empty(2, 2);
    expect(nn.init.ones_(t)).toBe(t);
    expect(() => nn.init.xavierUniform_(torch.empty(3))).toThrow(ValueError);
    expect(() => nn.init.xavierUniform_(torch.empty(3))).toThrow(/^xavierUniform_: fan in and fan out need a tensor with at least 2 dims, got shape \[3\]$/);
    expect(() => nn.init.kaimingUniform_(torch.empty(3, 3), { mode: "fan_avg" as never })).toThrow(/kaimingUniform_: mode must be "fan_in" or "fan_out"/);
    expect(() => nn.init.calculateGain("gelu" as never)).toThrow(/calculateGain: unsupported nonlinearity/);
  });
});
