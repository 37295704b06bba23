/**
 * Random shape cases for the agreement tests: a start shape and a short sequence of ops (broadcast,
 * matmul, reshape with -1, flatten, index/slice, sum, cat/stack, Conv2d/MaxPool2d), plus the conv
 * and pool output-size rules on their own.
 *
 * A case is plain data (so fast-check can shrink it). Each step carries a few small integers `r`
 * that pick its arguments relative to the shape it receives (0 is always the plain, valid choice,
 * so shrinking moves towards valid, simple calls; large values pick mismatches). Rendering runs
 * the ops to learn each intermediate shape, and yields one TypeScript expression: the type level
 * checks that text, the runtime evaluates the very same text (types erased).
 */
import fc from "fast-check";
import { nn, torch } from "../../runtime/index.js";
import { convOutSize, poolOutSize } from "../../types/conv.js";
import { IndexError, ShapeError, ValueError } from "../../types/errors.js";
import type { TypeAnswer, TypeProbe } from "./typeOracle.js";

export type StepOp = "add" | "sub" | "mul" | "maximum" | "matmul" | "reshape" | "flatten" | "index" | "sum" | "cat" | "stack" | "conv" | "pool";

export interface Step {
  readonly op: StepOp;
  /** Choices, each in [0, 99]; 0 is the plain choice. */
  readonly r: readonly number[];
}

export type Case =
  | {
      readonly kind: "chain";
      readonly start: readonly number[];
      /** < 85: all dims literal; else dim `dyn % rank` of the start shape is `number`. */
      readonly dyn: number;
      readonly steps: readonly Step[];
    }
  | { readonly kind: "size"; readonly rule: "ConvOutSize" | "PoolOutSize"; readonly h: number; readonly k: number; readonly s: number; readonly p: number; readonly d: number; readonly ceil: boolean };

/** What the runtime says. */
export type RuntimeAnswer = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly message: string; readonly cls: string };

/** A rendered case: the probe for the checker, the JS the runtime runs, and whether dims are dynamic. */
export interface Rendered {
  readonly probe: TypeProbe;
  /** The statement a reproducer shows. */
  readonly source: string;
  readonly runtime: RuntimeAnswer;
  readonly dynamic: boolean;
  /** The ops in the expression, innermost first (a chain stops at the first step the runtime rejects). */
  readonly ops: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const dimArb = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 14 },
  { arbitrary: fc.constant(0), weight: 1 },
  { arbitrary: fc.integer({ min: 6, max: 9 }), weight: 2 },
);
const OPS: readonly StepOp[] = ["add", "sub", "mul", "maximum", "matmul", "reshape", "flatten", "index", "sum", "cat", "stack", "conv", "pool"];
const choice = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 89 }), weight: 5 }, { arbitrary: fc.integer({ min: 90, max: 99 }), weight: 1 });
const stepArb: fc.Arbitrary<Step> = fc.record({
  op: fc.constantFrom(...OPS),
  r: fc.array(choice, { minLength: 8, maxLength: 8 }),
});

/** A chain: a start shape of rank 0–4 and 1–3 steps. */
export const chainArb: fc.Arbitrary<Case> = fc.record({
  kind: fc.constant("chain" as const),
  start: fc.oneof({ arbitrary: fc.array(dimArb, { minLength: 0, maxLength: 4 }), weight: 3 }, { arbitrary: fc.array(dimArb, { minLength: 3, maxLength: 4 }), weight: 2 }),
  dyn: fc.integer({ min: 0, max: 99 }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 3 }),
});

const bigDimArb = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 9 }), weight: 3 },
  { arbitrary: fc.integer({ min: 10, max: 999 }), weight: 3 },
  { arbitrary: fc.integer({ min: 1000, max: 300_000 }), weight: 1 },
);
const BIG_OPS: readonly StepOp[] = ["reshape", "flatten", "index", "sum", "add"];

/**
 * Chains over large dims (up to 300,000; at most 2^20 elements, see `render`), with the ops whose
 * rules do arithmetic on dims (products, -1 inference, slice lengths): the digit-wise type-level
 * arithmetic far beyond small numbers.
 */
export const bigChainArb: fc.Arbitrary<Case> = fc.record({
  kind: fc.constant("chain" as const),
  start: fc.array(bigDimArb, { minLength: 1, maxLength: 4 }),
  dyn: fc.constant(0),
  steps: fc.array(fc.record({ op: fc.constantFrom(...BIG_OPS), r: fc.array(choice, { minLength: 8, maxLength: 8 }) }), { minLength: 1, maxLength: 3 }),
});

/** At most 2^20 elements: the largest dims are divided down until the shape fits. */
export function boundedDims(dims: readonly number[]): number[] {
  const out = [...dims];
  while (out.reduce((a, b) => a * b, 1) > 2 ** 20) {
    const i = out.indexOf(Math.max(...out));
    out[i] = Math.floor(out[i]! / 7) + 1;
  }
  return out;
}

/** A conv/pool output-size rule on its own, incl. out-of-range hyper-parameters and big sizes. */
export const sizeArb: fc.Arbitrary<Case> = fc.record({
  kind: fc.constant("size" as const),
  rule: fc.constantFrom("ConvOutSize" as const, "PoolOutSize" as const),
  h: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 64 }), weight: 4 }, { arbitrary: fc.integer({ min: 65, max: 100_000 }), weight: 1 }),
  k: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 12 }), weight: 8 }, { arbitrary: fc.integer({ min: -1, max: 0 }), weight: 1 }),
  s: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 5 }), weight: 8 }, { arbitrary: fc.constant(0), weight: 1 }),
  p: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 4 }), weight: 8 }, { arbitrary: fc.constant(-1), weight: 1 }),
  d: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 3 }), weight: 8 }, { arbitrary: fc.constant(0), weight: 1 }),
  ceil: fc.boolean(),
});

// ---------------------------------------------------------------------------------------------
// Rendering a step against the shape it receives

/** `r[i] % n` (r shrinks to 0, the first option). */
const pick = (r: readonly number[], i: number, n: number): number => (n <= 0 ? 0 : (r[i % r.length] ?? 0) % n);
/** True for the rare "break it" choices (r >= 90). */
const odd = (r: readonly number[], i: number): boolean => (r[i % r.length] ?? 0) >= 90;

const lit = (v: unknown): string => JSON.stringify(v);
const zeros = (dims: readonly number[]): string => `torch.zeros([${dims.join(", ")}])`;

/** A dim index in [-n, n-1] (n >= 1), or out of range when `odd`. */
function dimIndex(r: readonly number[], i: number, n: number, extra = 0): number {
  const m = n + extra;
  if (odd(r, i)) return pick(r, i + 1, 2) === 0 ? m : -m - 1;
  if (m === 0) return 0;
  const d = pick(r, i, 2 * m);
  return d < m ? d : d - 2 * m;
}

function broadcastOther(s: readonly number[], r: readonly number[]): number[] {
  const n = s.length;
  const keep = n - pick(r, 0, n + 1);
  const out = s.slice(n - keep).map((d, j) => {
    const c = pick(r, j + 2, 10);
    return c <= 5 ? d : c <= 8 ? 1 : odd(r, 1) ? d + 1 : d;
  });
  if (pick(r, 7, 4) === 3) out.unshift(pick(r, 6, 3) + 1);
  return out;
}

function matmulOther(s: readonly number[], r: readonly number[]): number[] {
  const n = s.length;
  let k = n === 0 ? pick(r, 1, 4) + 1 : s[n - 1]!;
  if (odd(r, 1)) k += 1;
  const m = pick(r, 2, 4) + 1;
  switch (pick(r, 0, 6)) {
    case 3: return [k];
    case 4: return [pick(r, 3, 3) + 1, k, m];
    case 5: return n >= 3 ? [...s.slice(0, n - 2).map((d, j) => (pick(r, 4 + j, 3) === 2 ? 1 : d)), k, m] : [k, m];
    default: return [k, m];
  }
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) if (n % i === 0) out.push(i);
  return out;
}

function reshapeTarget(s: readonly number[], r: readonly number[]): number[] {
  const numel = s.reduce((a, b) => a * b, 1);
  const rank = pick(r, 0, 4) + 1;
  const out: number[] = [];
  if (numel === 0) {
    for (let i = 0; i < rank; i++) out.push(i === pick(r, 1, rank) ? 0 : pick(r, 2 + i, 3) + 1);
  } else {
    let rest = numel;
    for (let i = 0; i < rank - 1; i++) {
      const ds = divisors(rest);
      const d = ds[pick(r, 1 + i, ds.length)]!;
      out.push(d);
      rest /= d;
    }
    out.push(rest);
  }
  if (pick(r, 5, 3) === 0 || numel === 0) out[pick(r, 6, rank)] = -1;
  if (odd(r, 7)) {
    const j = pick(r, 4, rank);
    if (pick(r, 3, 2) === 0 && out.includes(-1) && out[j] !== -1) out[j] = -1; // two -1s
    else out[j] = out[j] === -1 ? 0 : out[j]! + 1; // wrong element count
  }
  return out;
}

function flattenArgs(s: readonly number[], r: readonly number[]): number[] {
  const n = Math.max(s.length, 1);
  switch (pick(r, 0, 3)) {
    case 0: return [];
    case 1: return [dimIndex(r, 1, n)];
    default: return [dimIndex(r, 1, n), dimIndex(r, 3, n)];
  }
}

function sliceText(d: number, r: readonly number[], i: number): string {
  const bound = (j: number): string => {
    const c = pick(r, j, 5);
    if (c === 0) return "";
    const v = pick(r, j + 1, 2 * d + 3) - d - 1; // [-d-1, d+1]
    return String(v);
  };
  const step = odd(r, i + 3) ? "0" : pick(r, i + 4, 4) === 3 ? String(pick(r, i + 5, 2) + 2) : "";
  const text = `${bound(i)}:${bound(i + 2)}`;
  return step === "" ? text : `${text}:${step}`;
}

function indexItems(s: readonly number[], r: readonly number[]): (number | string | null)[] {
  const count = pick(r, 0, s.length + 2);
  const items: (number | string | null)[] = [];
  let dim = 0;
  for (let j = 0; j < count; j++) {
    const d = s[dim] ?? 1;
    const c = pick(r, j + 1, 10);
    if (c <= 3) {
      items.push(odd(r, j + 2) ? (pick(r, j, 2) === 0 ? d : -d - 1) : d === 0 ? 0 : pick(r, j + 2, 2 * d) - d);
      dim++;
    } else if (c <= 6) {
      items.push(sliceText(d, r, j));
      dim++;
    } else if (c === 7) items.push(null);
    else if (c === 8) {
      items.push("...");
      dim = Math.max(dim, s.length - (count - j - 1));
    } else {
      items.push(":");
      dim++;
    }
  }
  return items;
}

function sumArgs(s: readonly number[], r: readonly number[]): string {
  const n = s.length;
  const keep = pick(r, 6, 2) === 1;
  const k = keep ? ", true" : "";
  switch (pick(r, 0, 4)) {
    case 0: return "";
    case 1: return `${dimIndex(r, 1, Math.max(n, 1))}${k}`;
    case 2: {
      const a = dimIndex(r, 1, Math.max(n, 1));
      const b = dimIndex(r, 3, Math.max(n, 1));
      return `${lit(pick(r, 5, 3) === 2 ? [a] : [a, b])}${k}`;
    }
    default: return `${dimIndex(r, 1, Math.max(n, 1))}${k}`;
  }
}

function joinOther(s: readonly number[], r: readonly number[], dim: number, cat: boolean): number[] {
  const out = [...s];
  const n = s.length;
  const d = dim < 0 ? dim + n : dim;
  if (cat && d >= 0 && d < n) out[d] = pick(r, 2, 4);
  if (odd(r, 4) && n > 0) {
    const j = pick(r, 3, n);
    if (!cat || j !== d) out[j] = out[j]! + 1;
  }
  return out;
}

interface StepCode {
  /** Wraps the code of the input expression. */
  wrap: (inner: string) => string;
}

function renderStep(step: Step, s: readonly number[]): StepCode {
  const { op, r } = step;
  switch (op) {
    case "add": case "sub": case "mul": case "maximum": {
      const other = zeros(broadcastOther(s, r));
      // The tensor on the left half of the time, so both argument positions are checked.
      return { wrap: (x) => (pick(r, 5, 3) === 2 ? `${other}.${op}(${x})` : `${x}.${op}(${other})`) };
    }
    case "matmul": {
      const other = zeros(matmulOther(s, r));
      return { wrap: (x) => `${x}.matmul(${other})` };
    }
    case "reshape": {
      const to = reshapeTarget(s, r);
      return { wrap: (x) => `${x}.reshape(${to.join(", ")})` };
    }
    case "flatten": {
      const a = flattenArgs(s, r);
      return { wrap: (x) => `${x}.flatten(${a.join(", ")})` };
    }
    case "index": {
      const items = indexItems(s, r);
      return { wrap: (x) => `${x}.index(${items.map(lit).join(", ")})` };
    }
    case "sum": {
      const a = sumArgs(s, r);
      return { wrap: (x) => `${x}.sum(${a})` };
    }
    case "cat": case "stack": {
      const n = s.length;
      const dim = op === "cat" ? dimIndex(r, 0, Math.max(n, 1)) : dimIndex(r, 0, n, 1);
      const others = [joinOther(s, r, dim, op === "cat")];
      if (pick(r, 5, 3) === 2) others.push(joinOther(s, r.map((v) => (v * 7 + 3) % 90), dim, op === "cat"));
      return { wrap: (x) => `torch.${op}([${[x, ...others.map(zeros)].join(", ")}], ${dim})` };
    }
    case "conv": {
      const n = s.length;
      const cin0 = n === 4 ? s[1]! : n === 3 ? s[0]! : pick(r, 0, 3) + 1;
      const cin = Math.max(1, odd(r, 0) ? cin0 + 1 : cin0);
      const cout = pick(r, 1, 3) + 1;
      const k = pick(r, 2, 3) + 1;
      const stride = pick(r, 3, 3) === 2 ? 2 : 1;
      const padding = pick(r, 4, 3) === 2 ? 1 : 0;
      const dilation = pick(r, 5, 4) === 3 ? 2 : 1;
      return { wrap: (x) => `nn.Conv2d(${cin}, ${cout}, ${k}, { stride: ${stride}, padding: ${padding}, dilation: ${dilation} })(${x})` };
    }
    case "pool": {
      const k = pick(r, 2, 3) + 1;
      const stride = pick(r, 3, 3) === 2 ? 1 : k;
      // PyTorch allows padding up to half the kernel; `odd` asks for more.
      const padding = odd(r, 4) ? k : pick(r, 4, 3) === 2 ? Math.floor(k / 2) : 0;
      const ceil = pick(r, 5, 2) === 1;
      return { wrap: (x) => `nn.MaxPool2d(${k}, ${stride}, { padding: ${padding}, ceilMode: ${ceil} })(${x})` };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running

const TYPED_ERRORS: readonly (new (...a: never[]) => Error)[] = [IndexError, ShapeError, ValueError];

/** Evaluates JS text with `torch`, `nn` and the size twins in scope. */
function evaluate(js: string): unknown {
  // eslint-disable-next-line no-new-func
  return new Function("torch", "nn", "convOutSize", "poolOutSize", `"use strict"; return (${js});`)(torch, nn, convOutSize, poolOutSize);
}

function run(js: string): RuntimeAnswer {
  try {
    const v = evaluate(js);
    if (typeof v === "number") return { ok: true, value: String(v) };
    const shape = (v as { shape?: readonly number[] }).shape;
    if (!Array.isArray(shape)) return { ok: false, message: `not a tensor: ${String(v)}`, cls: "(none)" };
    return { ok: true, value: `[${shape.join(", ")}]` };
  } catch (e) {
    const err = e as Error;
    const typed = TYPED_ERRORS.some((c) => err instanceof c);
    return { ok: false, message: err.message, cls: typed ? err.name : `untyped ${err.name ?? typeof e}` };
  }
}

/** Removes the TypeScript-only parts of generated code (`as number`). */
const toJs = (ts: string): string => ts.replace(/ as number/g, "");

/** The shape of `t` after running `code` (undefined when it throws). */
function shapeOf(js: string): readonly number[] | undefined {
  try {
    return (evaluate(js) as { shape: readonly number[] }).shape;
  } catch {
    return undefined;
  }
}

/**
 * Renders a case: runs its steps one by one to learn each intermediate shape (a chain ends at the
 * first step the runtime rejects), and returns the expression and the runtime's answer for it.
 */
export function render(c: Case): Rendered {
  if (c.kind === "size") {
    const args = c.rule === "ConvOutSize" ? [c.h, c.k, c.s, c.p, c.d] : [c.h, c.k, c.s, c.p, c.d, c.ceil];
    const code = `${c.rule}<${args.join(", ")}>`;
    const js = `${c.rule === "ConvOutSize" ? "convOutSize" : "poolOutSize"}(${args.join(", ")})`;
    return { probe: { kind: "type", code }, source: `type R = ${code}; // runtime: ${js}`, runtime: run(js), dynamic: false, ops: [c.rule] };
  }
  const start = boundedDims(c.start);
  const dynAt = c.dyn >= 85 && start.length > 0 ? c.dyn % start.length : -1;
  let code = `torch.zeros([${start.map((d, i) => (i === dynAt ? `${d} as number` : `${d}`)).join(", ")}])`;
  let shape: readonly number[] | undefined = start;
  const ops: string[] = [];
  for (const step of c.steps) {
    if (!shape) break;
    code = renderStep(step, shape).wrap(code);
    ops.push(step.op);
    shape = shapeOf(toJs(code));
  }
  return { probe: { kind: "value", code }, source: `const c = ${code};`, runtime: run(toJs(code)), dynamic: dynAt >= 0, ops };
}

/** A rendered case from a hand-written value expression (pinned reproducers). */
export function renderCode(code: string): Rendered {
  return { probe: { kind: "value", code }, source: `const c = ${code};`, runtime: run(toJs(code)), dynamic: / as number/.test(code), ops: [] };
}

// ---------------------------------------------------------------------------------------------
// Comparing

/** `Tensor<[2, number], "float32">` → `[2, number]`; a size rule's `4` → `4`. */
function typeValue(type: string): string {
  const m = /^Tensor<(.*), "\w+">$/.exec(type);
  return m ? m[1]! : type;
}

const ERR = /^Err<"((?:[^"\\]|\\.)*)">$/;

/** `[2, number]` matches `[2, 5]`; `number[]` matches any shape. */
function shapeMatches(typeShape: string, rtShape: string): boolean {
  if (typeShape === rtShape) return true;
  if (typeShape === "number[]") return true;
  const t = typeShape.replace(/^\[|\]$/g, "").split(", ").filter((x) => x !== "");
  const r = rtShape.replace(/^\[|\]$/g, "").split(", ").filter((x) => x !== "");
  return t.length === r.length && t.every((d, i) => d === "number" || d === r[i]);
}

/**
 * Why the type level and the runtime disagree on a case, or undefined when they agree.
 * - Literal dims: both accept with the same shape, or both reject with the same message.
 * - A dynamic dim: the type level may accept what the runtime rejects (the runtime twin checks
 *   it), but whatever it rejects the runtime rejects too (possibly naming the dynamic dim's check
 *   first), and accepted shapes are compatible (`number` matches any size).
 * The runtime must only ever throw the typed errors (ShapeError, IndexError, ValueError).
 */
export function disagreement(t: TypeAnswer, rt: RuntimeAnswer, dynamic: boolean): string | undefined {
  if (!rt.ok && rt.cls.startsWith("untyped")) return `the runtime threw an ${rt.cls}: ${rt.message}`;
  let typeOk: boolean;
  let typeText: string;
  if (t.ok) {
    const v = typeValue(t.type);
    const err = ERR.exec(v);
    if (err) {
      typeOk = false;
      typeText = JSON.parse(`"${err[1]}"`) as string;
    } else {
      typeOk = true;
      typeText = v;
    }
  } else {
    if (!t.brand) return `the type level rejects it without a shape message: ${t.diagnostic}`;
    typeOk = false;
    typeText = t.message;
  }
  if (typeOk && rt.ok) {
    if (dynamic ? shapeMatches(typeText, rt.value) : typeText === rt.value) return undefined;
    return `different results: type level ${typeText}, runtime ${rt.value}`;
  }
  if (!typeOk && !rt.ok) {
    // With a dynamic dim the runtime may name that dim's check first (the type level skipped it).
    if (typeText === rt.message || dynamic) return undefined;
    return `different messages:\n    type level: ${typeText}\n    runtime:    ${rt.message}`;
  }
  if (typeOk && !rt.ok) {
    if (dynamic) return undefined;
    return `the type level accepts it (${typeText}), the runtime rejects it: ${rt.cls}: ${rt.message}`;
  }
  return `the type level rejects it (${typeText}), the runtime accepts it: ${rt.ok ? rt.value : ""}`;
}

/** A minimal reproducer: the TypeScript and both answers. */
export function reproducer(r: Rendered, t: TypeAnswer, why: string): string {
  const typeSays = t.ok ? typeValue(t.type) : t.brand ? `rejects: ${t.message}` : `rejects: ${t.diagnostic}`;
  const rtSays = r.runtime.ok ? r.runtime.value : `throws ${r.runtime.cls}: ${r.runtime.message}`;
  return [`  ${r.source}`, `  type level: ${typeSays}`, `  runtime:    ${rtSays}`, `  → ${why}`].join("\n");
}
