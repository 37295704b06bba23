/**
 * The types and the runtime never disagree: random shapes and op sequences (fast-check, seeded),
 * each checked by the type level (one generated file per batch, compiled with the TypeScript 6 API)
 * and run by the runtime (the same expression, types erased). Both accept with the same shape, or
 * both reject with the same message (see `disagreement` for dynamic dims).
 *
 * A disagreement is shrunk with fast-check (replaying the failing run by its path; each shrink step
 * compiles one small file) and printed as a reproducer: the TypeScript and both answers.
 *
 * RELIABILITY_SEED=<n> and RELIABILITY_RUNS=<n> explore other cases; RELIABILITY_STRICT=1 also
 * fails (and shrinks) the known issues of `knownIssues.ts`.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { KNOWN_ISSUES, knownIssue } from "./knownIssues.js";
import { bigChainArb, type Case, chainArb, disagreement, type Rendered, render, renderCode, reproducer, sizeArb } from "./shapeCases.js";
import { checkTypes, type TypeAnswer } from "./typeOracle.js";

const SEED = Number(process.env.RELIABILITY_SEED ?? 20_260_801);
const CHAIN_RUNS = Number(process.env.RELIABILITY_RUNS ?? 900);
/** RELIABILITY_STRICT=1: known issues fail too (to see one shrunk). */
const STRICT = process.env.RELIABILITY_STRICT === "1";
const SIZE_RUNS = Math.max(50, Math.round(CHAIN_RUNS / 3));
/** Time fast-check may spend shrinking a disagreement (each step compiles a file, ~0.2 s). */
const SHRINK_MS = 40_000;

interface Family {
  readonly name: string;
  readonly arb: fc.Arbitrary<Case>;
  readonly seed: number;
  readonly runs: number;
  cases: Case[];
  rendered: Rendered[];
}

const families: Family[] = [
  { name: "op chains", arb: chainArb, seed: SEED, runs: CHAIN_RUNS, cases: [], rendered: [] },
  { name: "conv/pool size rules", arb: sizeArb, seed: SEED + 1, runs: SIZE_RUNS, cases: [], rendered: [] },
  { name: "op chains over large dims", arb: bigChainArb, seed: SEED + 2, runs: SIZE_RUNS, cases: [], rendered: [] },
];

/** Type answers by probe text: the batch's, then single compiles made while shrinking. */
const answers = new Map<string, TypeAnswer>();
const key = (r: Rendered): string => `${r.probe.kind}:${r.probe.code}`;

function typeAnswer(r: Rendered): TypeAnswer {
  let a = answers.get(key(r));
  if (!a) {
    a = checkTypes([r.probe]).answers[0]!;
    answers.set(key(r), a);
  }
  return a;
}

/** Why a case fails (a disagreement that is not a known issue), or undefined. */
function failure(r: Rendered): string | undefined {
  const t = typeAnswer(r);
  const why = disagreement(t, r.runtime, r.dynamic);
  if (why === undefined || (!STRICT && knownIssue(r.source, t, r.runtime))) return undefined;
  return why;
}

const known = new Map<string, number>();
let batchMs = 0;

beforeAll(() => {
  const t0 = performance.now();
  for (const f of families) {
    f.cases = fc.sample(f.arb, { seed: f.seed, numRuns: f.runs });
    f.rendered = f.cases.map(render);
  }
  const all = families.flatMap((f) => f.rendered);
  const renderMs = Math.round(performance.now() - t0);
  // One generated file for the whole batch.
  const batch = checkTypes(all.map((r) => r.probe));
  batchMs = batch.ms;
  all.forEach((r, i) => answers.set(key(r), batch.answers[i]!));
  for (const r of all) {
    const t = typeAnswer(r);
    if (disagreement(t, r.runtime, r.dynamic) === undefined) continue;
    const k = knownIssue(r.source, t, r.runtime);
    if (k) known.set(k.id, (known.get(k.id) ?? 0) + 1);
  }
  const rejected = all.filter((r) => !r.runtime.ok).length;
  console.log(
    `agreement: seed ${SEED}, ${all.length} cases (${rejected} rejected, ${all.filter((r) => r.dynamic).length} with a dynamic dim) ` +
      `in one file: rendered and run in ${renderMs} ms, type-checked in ${batchMs} ms` +
      (known.size ? `; known issues hit: ${[...known].map(([id, n]) => `${id} ×${n}`).join(", ")}` : ""),
  );
});

describe("types and runtime agree on random cases", () => {
  for (const f of families) {
    it(`${f.name}: same shape or same message`, () => {
      const bad = f.rendered.findIndex((r) => failure(r) !== undefined);
      if (bad < 0) return;
      const first = f.rendered[bad]!;
      // Shrink: replay the failing run by its path; fast-check searches smaller failing cases.
      const details = fc.check(
        fc.property(f.arb, (c) => failure(render(c)) === undefined),
        { seed: f.seed, numRuns: f.runs, path: String(bad), plugins: [fc.interruptAfterTimeLimit(SHRINK_MS)] },
      );
      const c = (details.counterexample as readonly [Case] | null)?.[0] ?? f.cases[bad]!;
      const r = render(c);
      const why = failure(r) ?? failure(first)!;
      const shown = failure(r) ? r : first;
      const others = f.rendered.filter((x) => failure(x) !== undefined).length - 1;
      expect.fail(
        `the type level and the runtime disagree (seed ${f.seed}, run ${bad}, shrunk in ${details.numShrinks} steps${others > 0 ? `; ${others} more cases fail` : ""}):\n` +
          reproducer(shown, typeAnswer(shown), why),
      );
    });
  }

  it("the cases cover every op, accepted and rejected", () => {
    const seen = new Map<string, { ok: number; rejected: number }>();
    for (const f of families) {
      for (const r of f.rendered) {
        const op = r.ops[r.ops.length - 1]!;
        const s = seen.get(op) ?? { ok: 0, rejected: 0 };
        if (r.runtime.ok) s.ok++;
        else s.rejected++;
        seen.set(op, s);
      }
    }
    const summary = [...seen].map(([op, s]) => `${op} ${s.ok}/${s.rejected}`).join(", ");
    console.log(`agreement: outermost op accepted/rejected: ${summary}`);
    if (CHAIN_RUNS < 500) return; // a small exploratory run need not cover everything
    for (const op of ["add", "sub", "mul", "maximum", "matmul", "reshape", "flatten", "index", "sum", "cat", "stack", "conv", "pool", "ConvOutSize", "PoolOutSize"]) {
      const s = seen.get(op);
      expect(s?.ok ?? 0, `${op} accepted`).toBeGreaterThanOrEqual(5);
      expect(s?.rejected ?? 0, `${op} rejected`).toBeGreaterThanOrEqual(1);
    }
  });
});

describe("known disagreements still reproduce (when one is fixed, its test fails: delete it from knownIssues.ts)", () => {
  let pinned: TypeAnswer[] = [];
  beforeAll(() => {
    pinned = checkTypes(KNOWN_ISSUES.map((k) => renderCode(k.repro).probe)).answers;
  });
  if (KNOWN_ISSUES.length === 0) it("none are known right now", () => expect(KNOWN_ISSUES).toEqual([]));
  KNOWN_ISSUES.forEach((k, i) => {
    it(`${k.id}: ${k.repro}`, () => {
      const r = renderCode(k.repro);
      const t = pinned[i]!;
      const why = disagreement(t, r.runtime, r.dynamic);
      expect(why !== undefined && k.matches(r.source, t, r.runtime), `"${k.id}" no longer reproduces; delete it from knownIssues.ts:\n${reproducer(r, t, why ?? "agree")}`).toBe(true);
      console.log(`known issue ${k.id}: ${k.what}\n${reproducer(r, t, why!)}`);
    });
  });
});
