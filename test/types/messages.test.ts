/**
 * Every shape mismatch of `mismatches.ts` gives the same message at run time as at the type level:
 * the rule's runtime twin (shapes typed `number[]`, i.e. known only at run time) and the public
 * API call throw a `ShapeError` (an `IndexError` for indices, the row's `error` class for a bad
 * argument) whose message is exactly the row's message. `fixtures/messages.generated.ts`, checked
 * by `types.test.ts` under TypeScript 7 and 6, proves the type level gives that message; this file
 * also checks that the generated fixture is up to date.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { torch } from "../../runtime/index.js";
import { broadcastShapes } from "../../types/broadcast.js";
import { convOutSize, poolOutSize } from "../../types/conv.js";
import { normDim } from "../../types/dims.js";
import { IndexError, ShapeError, ValueError } from "../../types/errors.js";
import { catShape, stackShape } from "../../types/join.js";
import { selectShape } from "../../types/indexing.js";
import { matmulShapes } from "../../types/matmul.js";
import { expandShape, flattenShape, permuteDims, reshapeShape, squeezeShape, transposeShape, tShape, unsqueezeShape } from "../../types/movement.js";
import { reduceShape } from "../../types/reduce.js";
import { apiCode, type Mismatch, MISMATCHES, renderFixture } from "./mismatches.js";
import { FIXTURES_DIR } from "./runner.js";

const GENERATED = path.join(FIXTURES_DIR, "messages.generated.ts");

/** Dynamic shapes: what the runtime sees, with no literal types left. */
const dyn = (s: readonly number[]): number[] => [...s];

/** Runs the row's runtime twin (undefined when the rule has none; indexing checks inline). */
function twin(c: Mismatch): (() => unknown) | undefined {
  switch (c.rule) {
    case "broadcast": return () => broadcastShapes(c.op, dyn(c.a), dyn(c.b));
    case "where": return () => broadcastShapes("where", broadcastShapes("where", dyn(c.cond), dyn(c.a)), dyn(c.b));
    case "matmul": case "mm": case "bmm": return () => matmulShapes(c.rule, dyn(c.a), dyn(c.b));
    case "reduce": return () => reduceShape(c.op, dyn(c.shape), typeof c.dim === "number" ? c.dim : dyn(c.dim), c.keepdim ?? false);
    case "dim": return () => normDim(c.op, c.dim, c.shape.length);
    case "reshape": case "view": return () => reshapeShape(c.rule, dyn(c.shape), dyn(c.to));
    case "flatten": return () => flattenShape(dyn(c.shape), c.start, c.end);
    case "transpose": return () => transposeShape(dyn(c.shape), c.d0, c.d1);
    case "permute": return () => permuteDims(dyn(c.shape), dyn(c.dims));
    case "t": return () => tShape(dyn(c.shape));
    case "squeeze": return () => squeezeShape(dyn(c.shape), c.dim);
    case "unsqueeze": return () => unsqueezeShape(dyn(c.shape), c.dim);
    case "expand": return () => expandShape(dyn(c.shape), dyn(c.to));
    case "cat": return () => catShape(c.shapes.map(dyn), c.dim);
    case "stack": return () => stackShape(c.shapes.map(dyn), c.dim);
    case "index": return undefined;
    case "select": return () => selectShape(dyn(c.shape), c.dim, c.index);
    case "conv": return () => convOutSize(c.h, c.k, c.s, c.p, c.d);
    case "pool": return () => poolOutSize(c.h, c.k, c.s, c.p, c.d, c.ceil);
  }
}

function expectThrows(f: () => unknown, c: Mismatch): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected a throw with: ${c.message}`).toBeInstanceOf(Error);
  expect((thrown as Error).message).toBe(c.message);
  const cls = c.error === "ValueError" ? ValueError : c.rule === "index" && /index must be in/.test(c.message) ? IndexError : ShapeError;
  expect(thrown, `${(thrown as Error).name}: ${(thrown as Error).message}`).toBeInstanceOf(cls);
}

const label = (c: Mismatch, i: number): string => `#${i} ${c.rule}: ${c.message}`;

describe("runtime twins throw the type-level message", () => {
  MISMATCHES.forEach((c: Mismatch, i) => {
    const f = twin(c);
    if (f) it(label(c, i), () => expectThrows(f, c));
  });
});

describe("the public API throws the type-level message", () => {
  MISMATCHES.forEach((c: Mismatch, i) => {
    const code = apiCode(c);
    // The very code the generated fixture type-checks; types are erased, so the shapes are dynamic here.
    if (code !== undefined) it(`${label(c, i)}  ← ${code}`, () => expectThrows(() => new Function("torch", `return ${code};`)(torch), c));
  });
});

describe("fixtures/messages.generated.ts", () => {
  it("is up to date with mismatches.ts (regenerate: UPDATE_FIXTURES=1 npx vitest run test/types/messages.test.ts)", () => {
    const text = renderFixture();
    if (process.env["UPDATE_FIXTURES"] === "1") writeFileSync(GENERATED, text);
    expect(readFileSync(GENERATED, "utf8")).toBe(text);
  });
});
