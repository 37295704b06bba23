/**
 * Type tests: the fixtures in `test/types/fixtures/*.ts`, checked under TypeScript 7 (native tsc)
 * and TypeScript 6 (the API bundled by ts-morph); an instantiation-count guard; and a self-test
 * proving the runner fails on bad fixtures. See `runner.ts` for the fixture conventions.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Compiler,
  type FixtureResult,
  checkFixtures,
  checkFixturesAsync,
  FIXTURES_DIR,
  listFixtures,
  REPO_ROOT,
} from "./runner.js";

const COMPILERS: readonly Compiler[] = ["ts7", "ts6"];
const NAMES: Record<Compiler, string> = { ts7: "TypeScript 7 (native tsc)", ts6: "TypeScript 6 (API)" };
const fixtures = listFixtures();

function assertNoFailures(failures: readonly string[] | undefined): void {
  if (failures && failures.length > 0) throw new Error(`${failures.length} type-test failure(s):\n${failures.join("\n")}`);
}

// One run per compiler over all fixtures, shared by the fixture tests and the instantiation guard.
// The native tsc (TS 7) starts at once in a child process and checks while TS 6 runs in this one.
let ts7: Promise<FixtureResult> | undefined;
let ts6: FixtureResult | undefined;
function run(compiler: "ts6"): FixtureResult;
function run(compiler: "ts7"): Promise<FixtureResult>;
function run(compiler: Compiler): FixtureResult | Promise<FixtureResult> {
  ts7 ??= checkFixturesAsync(fixtures, "ts7");
  if (compiler === "ts7") return ts7;
  return (ts6 ??= checkFixtures(fixtures, "ts6"));
}

for (const compiler of COMPILERS) {
  describe(`type fixtures under ${NAMES[compiler]}`, () => {
    let result: FixtureResult;
    beforeAll(async () => {
      if (compiler === "ts7") run("ts6"); // let TS 6 run while tsc does
      result = compiler === "ts7" ? await run("ts7") : run("ts6");
      console.log(
        `[types] ${NAMES[compiler]}: ${fixtures.length} fixtures, ${result.expectations} expected errors, ` +
          `one run in ${result.ms} ms, ${result.instantiations ?? "?"} instantiations in total`,
      );
    });

    for (const file of fixtures) {
      it(path.basename(file), () => assertNoFailures(result.byFile[file]));
    }

    it("no errors outside the fixtures (in project files they import, or global)", () => {
      const own = new Set(fixtures);
      assertNoFailures(Object.entries(result.byFile).flatMap(([file, f]) => (own.has(file) ? [] : f)));
    });
  });
}

// ---------------------------------------------------------------------------------------------

const BASELINE_FILE = path.join(REPO_ROOT, "test", "types", "instantiations.json");
const UPDATE = process.env["UPDATE_INSTANTIATIONS"] === "1";
const TOLERANCE = 0.1;

describe("instantiation counts (TypeScript 6, per fixture, in the one run over all fixtures)", () => {
  const baseline = JSON.parse(readFileSync(BASELINE_FILE, "utf8")) as Record<string, number>;
  const measured: Record<string, number> = {};

  // Every fixture with a baseline, and every fixture file (a new one must get a baseline).
  const names = [...new Set([...Object.keys(baseline), ...fixtures.map((f) => path.basename(f))])].sort();
  for (const name of names) {
    const base = baseline[name] ?? 0;
    it(name, () => {
      if (!existsSync(path.join(FIXTURES_DIR, name))) {
        if (UPDATE) return; // dropped from the rewritten baseline
        throw new Error(`${name} is listed in test/types/instantiations.json but is not in ${path.relative(REPO_ROOT, FIXTURES_DIR)}; remove it (or run with UPDATE_INSTANTIATIONS=1)`);
      }
      const key = path.relative(REPO_ROOT, path.join(FIXTURES_DIR, name)).split(path.sep).join("/");
      const instantiations = run("ts6").perFile?.[key];
      const ms = run("ts6").perFileMs?.[key];
      if (instantiations === undefined) throw new Error(`${name}: no instantiation count from the TS 6 run`);
      if (instantiations === 0 && !(name in baseline)) return; // nothing to guard (helpers such as util.ts)
      measured[name] = instantiations;
      console.log(`[types] ${name}: ${instantiations} instantiations under TS 6 (baseline ${base}), ${ms} ms`);
      if (UPDATE) return;
      const how =
        "If the change is intended, rewrite the baseline with: UPDATE_INSTANTIATIONS=1 npx vitest run test/types";
      if (!(base > 0)) throw new Error(`${name}: no baseline in test/types/instantiations.json. ${how}`);
      if (instantiations > base * (1 + TOLERANCE)) {
        throw new Error(
          `${name}: ${instantiations} instantiations under TS 6, ${Math.round((instantiations / base - 1) * 100)}% ` +
            `above the baseline ${base} in test/types/instantiations.json (allowed: ${TOLERANCE * 100}%). ` +
            `Make the types cheaper. ${how}`,
        );
      }
      if (instantiations < base * (1 - TOLERANCE)) {
        console.log(`[types] ${name} got cheaper; lower its baseline with UPDATE_INSTANTIATIONS=1`);
      }
    });
  }

  afterAll(() => {
    if (!UPDATE) return;
    const sorted = Object.fromEntries(Object.entries(measured).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(BASELINE_FILE, JSON.stringify(sorted, null, 2) + "\n");
    console.log(`[types] rewrote ${path.relative(REPO_ROOT, BASELINE_FILE)}`);
  });
});

// ---------------------------------------------------------------------------------------------

/** A fixture that exists only in memory, full of mistakes the runner must catch. */
const BAD = {
  file: "test/types/fixtures/__runner_selftest_bad__.ts",
  text: [
    /*  1 */ `import type { Equal, Expect } from "./util.js";`,
    /*  2 */ `declare function f<N extends number>(x: N & (N extends 3 ? unknown : { readonly "shape error": "f: expected 3" })): void;`,
    /*  3 */ `// @ts-expect-error f: expected 7`,
    /*  4 */ `f(4);`,
    /*  5 */ `const n: string = 1;`,
    /*  6 */ `// @ts-expect-error f: expected 3`,
    /*  7 */ `f(3);`,
    /*  8 */ `// @ts-expect-error`,
    /*  9 */ `f(5);`,
    /* 10 */ `type _ok = Expect<Equal<1, 1>>;`,
    /* 11 */ `type _bad = Expect<Equal<1, 2>>;`,
    /* 12 */ `// @ts-ignore`,
    /* 13 */ `f(6);`,
    /* 14 */ `// @ts-expect-error f: expected 3`,
    /* 15 */ `f(`,
    /* 16 */ `  8);`,
    /* 17 */ `export { n };`,
  ].join("\n"),
};

describe("the runner itself", () => {
  for (const compiler of COMPILERS) {
    it(`fails on bad fixtures under ${NAMES[compiler]}`, () => {
      const r = checkFixtures([BAD], compiler);
      const f = r.byFile[BAD.file] ?? [];
      const at = (line: number, text: string): void => {
        const hit = f.find((m) => m.startsWith(`${BAD.file}:${line}:`) && m.includes(text));
        expect(hit, `no failure at line ${line} containing ${JSON.stringify(text)} in:\n${f.join("\n")}`).toBeDefined();
      };
      // (a) a wrong expected message, quoting what tsc said instead
      at(4, `expected error containing "f: expected 7", got: TS2345: Argument of type '4'`);
      // (b) an error no expectation claims
      at(5, `unexpected error TS2322: Type 'number' is not assignable to type 'string'`);
      // (c) an expected error that is not there
      at(7, `expected error containing "f: expected 3", got: no error`);
      // a directive without the expected text
      at(8, "@ts-expect-error needs the expected message text");
      // a failing Expect<Equal<...>>
      at(11, "unexpected error TS2344: Type 'false' does not satisfy the constraint 'true'");
      // @ts-ignore is refused, and does not hide the error below it
      at(12, "@ts-ignore is not allowed");
      at(13, "unexpected error TS2345");
      // the error must start on the line below the directive, not further down the statement
      at(15, `expected error containing "f: expected 3", got: no error`);
      at(16, "unexpected error TS2345: Argument of type '8'");
      expect(f).toHaveLength(9);
      expect(r.failures).toEqual(f);
    });

    it(`passes a good in-memory fixture that imports project code under ${NAMES[compiler]}`, () => {
      const good = {
        file: "test/types/fixtures/__runner_selftest_good__.ts",
        text: [
          `import type { Equal, Expect } from "./util.js";`,
          `import { ShapeError } from "../../../types/errors.js";`,
          `type _t = Expect<Equal<ShapeError extends Error ? true : false, true>>;`,
          `// @ts-expect-error Expected 0-2 arguments, but got 3`,
          `new ShapeError("a", {}, 3);`,
        ].join("\n"),
      };
      const r = checkFixtures([good], compiler);
      assertNoFailures(r.failures);
      expect(r.expectations).toBe(1);
    });
  }
});
