import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { DType } from "../../runtime/dtype.js";
import {
  formatTensor,
  getPrintOptions,
  setPrintOptions,
  type FormatExtras,
  type PrintOptions,
} from "../../runtime/format.js";

/** One tensor printed by PyTorch 1.13 (written by test/fixtures/gen_format.py). */
interface Fixture {
  name: string;
  data: (number | "nan" | "inf" | "-inf")[];
  shape: number[];
  dtype: DType;
  extras: FormatExtras;
  options?: Partial<PrintOptions> & { profile?: "default" | "short" | "full" };
  str: string;
}

const fixtures = JSON.parse(
  readFileSync(new URL("../fixtures/format.json", import.meta.url), "utf8"),
) as Fixture[];

function decode(v: Fixture["data"][number]): number {
  if (v === "nan") return NaN;
  if (v === "inf") return Infinity;
  if (v === "-inf") return -Infinity;
  return v;
}

const DEFAULTS: PrintOptions = { precision: 4, threshold: 1000, edgeitems: 3, linewidth: 80, sciMode: null };

afterEach(() => setPrintOptions({ profile: "default" }));

describe("formatTensor matches PyTorch 1.13 str(tensor)", () => {
  it("has a meaningful number of fixtures", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(80);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))("%s", (_name, f) => {
    if (f.options) setPrintOptions(f.options);
    const raw = f.data.map(decode);
    const data =
      f.dtype === "float32" ? Float32Array.from(raw)
      : f.dtype === "float64" ? Float64Array.from(raw)
      : f.dtype === "int32" ? Int32Array.from(raw)
      : f.dtype === "bool" ? Uint8Array.from(raw)
      : Float64Array.from(raw);
    expect(formatTensor(data, f.shape, f.dtype, f.extras)).toBe(f.str);
  });

  it("accepts plain arrays and rounds float32 input to float32", () => {
    // 0.1 as a double is 0.1000000000000000055…, as a float32 0.100000001490116…
    setPrintOptions({ precision: 10 });
    expect(formatTensor([0.1], [1], "float32")).toBe("tensor([0.1000000015])");
    expect(formatTensor([0.1], [1], "float64")).toBe("tensor([0.1000000000], dtype=torch.float64)");
  });
});

describe("Python rounding, not JavaScript's", () => {
  it("rounds exact ties to even where toFixed rounds away from zero", () => {
    expect((0.125).toFixed(2)).toBe("0.13"); // the JavaScript behaviour we must not copy
    setPrintOptions({ precision: 2 });
    expect(formatTensor([0.125, -0.125, 0.375], [3], "float32")).toBe("tensor([ 0.12, -0.12,  0.38])");
    setPrintOptions({ profile: "default" });
    expect(formatTensor([0.03125], [], "float32")).toBe("tensor(0.0312)");
    expect(formatTensor([1.03125, 1e-5], [2], "float32")).toBe("tensor([1.0312e+00, 1.0000e-05])");
  });

  it("writes at least two exponent digits and keeps the sign of zero", () => {
    expect(formatTensor([1e-5], [], "float64")).toBe("tensor(1.0000e-05, dtype=torch.float64)");
    // -0 does not count toward the width
    expect(formatTensor([-0, 1e-6, 3], [3], "float32")).toBe("tensor([-0.0000e+00, 1.0000e-06, 3.0000e+00])");
    expect(formatTensor([-0], [], "float32")).toBe("tensor(-0.)");
  });
});

describe("suffixes", () => {
  it("prints device, dtype and autograd in PyTorch's order", () => {
    expect(formatTensor([1, 2.5], [2], "float64", { device: "webgpu", requiresGrad: true })).toBe(
      "tensor([1.0000, 2.5000], device='webgpu', dtype=torch.float64,\n       requires_grad=True)",
    );
    expect(formatTensor([2], [], "float32", { gradFn: "AddBackward0", requiresGrad: true })).toBe(
      "tensor(2., grad_fn=<AddBackward0>)",
    );
    expect(formatTensor([2], [], "float32", { device: "cpu" })).toBe("tensor(2.)");
  });
});

describe("setPrintOptions / getPrintOptions", () => {
  it("starts at the defaults and round-trips", () => {
    expect(getPrintOptions()).toEqual(DEFAULTS);
    setPrintOptions({ precision: 6, threshold: 50, edgeitems: 2, linewidth: 100, sciMode: true });
    expect(getPrintOptions()).toEqual({ precision: 6, threshold: 50, edgeitems: 2, linewidth: 100, sciMode: true });
    setPrintOptions({ profile: "default" });
    expect(getPrintOptions()).toEqual(DEFAULTS);
  });

  it("applies profiles, then the explicit options", () => {
    setPrintOptions({ profile: "full" });
    expect(getPrintOptions()).toEqual({ ...DEFAULTS, threshold: Infinity });
    setPrintOptions({ profile: "short", precision: 3 });
    expect(getPrintOptions()).toEqual({ ...DEFAULTS, precision: 3, edgeitems: 2 });
  });

  it("resets sciMode to null when a call omits it, as torch.set_printoptions does", () => {
    setPrintOptions({ sciMode: false });
    expect(getPrintOptions().sciMode).toBe(false);
    setPrintOptions({ precision: 2 });
    expect(getPrintOptions()).toEqual({ ...DEFAULTS, precision: 2, sciMode: null });
  });

  it("returns a copy", () => {
    const o = getPrintOptions();
    o.precision = 9;
    expect(getPrintOptions().precision).toBe(4);
  });

  it("affects formatTensor", () => {
    setPrintOptions({ threshold: 5 });
    expect(formatTensor(Array.from({ length: 10 }, (_, i) => i), [10], "int64")).toBe(
      "tensor([0, 1, 2,  ..., 7, 8, 9])",
    );
  });

  it.each([
    [{ precision: -1 }, /setPrintOptions: precision must be a non-negative integer, got -1/],
    [{ precision: 1.5 }, /setPrintOptions: precision/],
    [{ precision: "4" }, /setPrintOptions: precision must be a number/],
    [{ threshold: -1 }, /setPrintOptions: threshold/],
    [{ threshold: NaN }, /setPrintOptions: threshold/],
    [{ edgeitems: -2 }, /setPrintOptions: edgeitems/],
    [{ linewidth: 3.5 }, /setPrintOptions: linewidth/],
    [{ sciMode: "yes" }, /setPrintOptions: sciMode/],
    [{ profile: "long" }, /setPrintOptions: profile/],
    [{ precison: 2 }, /setPrintOptions: unknown option "precison"/],
    [null, /setPrintOptions: expected an options object/],
  ])("rejects %j", (bad, message) => {
    setPrintOptions({ precision: 7 });
    expect(() => setPrintOptions(bad as never)).toThrow(message);
    expect(getPrintOptions().precision).toBe(7); // unchanged
  });

  it("accepts Infinity as threshold", () => {
    setPrintOptions({ threshold: Infinity });
    expect(getPrintOptions().threshold).toBe(Infinity);
  });
});

describe("formatTensor argument validation", () => {
  it("rejects data that does not match the shape", () => {
    expect(() => formatTensor([1, 2, 3], [2, 2], "float32")).toThrow(/formatTensor: shape \[2, 2\] has 4 elements but data has 3/);
  });
  it("rejects bad shapes and dtypes", () => {
    expect(() => formatTensor([], [-1], "float32")).toThrow(/formatTensor: shape/);
    expect(() => formatTensor([1], [1], "float16" as DType)).toThrow(/formatTensor: unknown dtype "float16"/);
  });
});
