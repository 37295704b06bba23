/**
 * Every op case of test/fixtures/ops.json (PyTorch 1.13) through the one op-case table
 * (test/ops.cases.ts): shapes and dtypes exactly; ints and bools exactly; floats to a tolerance
 * (PyTorch's CPU kernels accumulate and order sums their own way); NaN/±Inf at the same places.
 * Every error case: typetorch throws one of its error classes with a message naming the op.
 */
import { describe, expect, it } from "vitest";
import { DeviceError, DTypeError, IndexError, ShapeError, ValueError, type DType, type Tensor } from "typetorch";
import { decodeValue, entry, type ErrorCase, fixtures, type OpCase, OPS, runCase, type TensorJSON } from "../ops.cases.js";

type AnyTensor = Tensor<readonly number[], DType>;

/** Relative and absolute tolerance of float comparisons, by dtype. */
const TOL: Record<"float32" | "float64", { rel: number; abs: number }> = {
  float32: { rel: 1e-5, abs: 1e-6 },
  float64: { rel: 1e-12, abs: 1e-12 },
};

/**
 * Per-op loosening of the float32 tolerance, each with its reason. Empty: every op, float32 sums
 * and var/std included, meets rel 1e-5 / abs 1e-6 against PyTorch. Add an entry only with a reason.
 */
const LOOSER: Partial<Record<keyof typeof OPS, { rel: number; abs: number; why: string }>> = {};

/**
 * Error cases PyTorch rejects that typetorch deliberately accepts, with the reason. Keep short.
 */
const ACCEPTED: Record<string, string> = {};

function close(got: number, want: number, tol: { rel: number; abs: number }): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  // Signed zeros too (neg(0), round(-0.4), 0 · -1): PyTorch's are in the fixtures, and match.
  if (want === 0 && got === 0) return Object.is(got, want);
  return Number.isFinite(got) && Math.abs(got - want) <= tol.abs + tol.rel * Math.abs(want);
}

/** Compares one result tensor with its fixture; returns a description of the first mismatch. */
function mismatch(c: OpCase, got: AnyTensor, want: TensorJSON): string | undefined {
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) return `shape ${JSON.stringify(got.shape)} != ${JSON.stringify(want.shape)}`;
  if (got.dtype !== want.dtype) return `dtype ${got.dtype} != ${want.dtype}`;
  const data = Array.from(got.data() as ArrayLike<number>);
  if (data.length !== want.data.length) return `length ${data.length} != ${want.data.length}`;
  const float = want.dtype === "float32" || want.dtype === "float64";
  const base = float ? TOL[want.dtype as "float32" | "float64"] : { rel: 0, abs: 0 };
  const loose = want.dtype === "float32" ? LOOSER[c.op] : undefined;
  const tol = loose ?? base;
  for (let i = 0; i < data.length; i++) {
    const w = decodeValue(want.data[i]!);
    const g = data[i]!; // ints and bools exactly (Object.is: an integer has no -0)
    if (float ? !close(g, w, tol) : !Object.is(g, w)) return `element ${i}: got ${g}, want ${w} (all: ${data.join(", ")})`;
  }
  return undefined;
}

describe("ops.json fixtures", () => {
  it("come from PyTorch 1.13 and cover every op of the table", () => {
    expect(fixtures.torch.startsWith("1.13")).toBe(true);
    expect(fixtures.cases.length).toBeGreaterThan(800);
    const ops = new Set([...fixtures.cases, ...fixtures.errors].map((c) => c.op));
    for (const op of ops) expect(() => entry(op)).not.toThrow();
    for (const op of Object.keys(OPS)) expect(ops.has(op as never), `table entry ${op} has no fixture`).toBe(true);
  });

  it("allow-lists name existing error cases", () => {
    const ids = new Set(fixtures.errors.map((e) => e.id));
    for (const id of Object.keys(ACCEPTED)) expect(ids.has(id), id).toBe(true);
  });
});

describe.each(Object.keys(OPS))("%s", (op) => {
  const cases = fixtures.cases.filter((c) => c.op === op);
  const errors = fixtures.errors.filter((c) => c.op === op);

  if (cases.length > 0) {
    it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
      const got = runCase(c);
      if (Array.isArray(c.out)) {
        expect(Array.isArray(got), "expected [values, indices]").toBe(true);
        const g = got as AnyTensor[];
        expect(g.length).toBe(c.out.length);
        c.out.forEach((w, k) => expect(mismatch(c, g[k]!, w), `output ${k}`).toBeUndefined());
      } else {
        expect(Array.isArray(got)).toBe(false);
        expect(mismatch(c, got as AnyTensor, c.out)).toBeUndefined();
      }
    });
  }

  if (errors.length > 0) {
    it.each(errors.map((c) => [c.id, c] as const))("rejects: %s", (_id, c: ErrorCase) => {
      if (c.id in ACCEPTED) {
        expect(() => runCase(c)).not.toThrow();
        return;
      }
      let err: unknown;
      try {
        runCase(c);
      } catch (e) {
        err = e;
      }
      expect(err, `PyTorch: ${c.torchError}`).toBeDefined();
      const ok = [ShapeError, DTypeError, ValueError, IndexError, DeviceError].some((k) => err instanceof k);
      expect(ok, `not a typetorch error: ${String(err)}`).toBe(true);
      const msg = (err as Error).message;
      const head = msg.split(":")[0]!;
      expect(head.includes(c.op), `message should name ${c.op}: ${msg}`).toBe(true);
      // The form "op: expectation, got actual".
      expect(msg, msg).toMatch(/^[^:]+: \S.*, got \S/s);
    });
  }
});
