/**
 * The type-test runner: checks the fixtures in `test/types/fixtures/*.ts` under TypeScript 7
 * (the native `tsc`) and TypeScript 6 (the JS API bundled by ts-morph).
 *
 * A fixture asserts in two ways:
 * - `type _t1 = Expect<Equal<A, B>>` (helpers in `fixtures/util.ts`): a plain type error if wrong.
 * - `// @ts-expect-error <expected text>` on its own line: the next line that is not blank and not a
 *   `//` comment must have a compile error starting on it whose message chain (whitespace-normalised)
 *   contains `<expected text>`. The text is required.
 *
 * The runner strips every directive (keeping lines and columns), compiles all fixtures in one
 * compiler run, and matches errors to expectations: an expectation without its error, and an error
 * no expectation claims, are failures.
 *
 * TS 7 (`tsc -p`) reports errors in every file of the program, the project files the fixtures
 * import included. TS 6 reports the fixtures' own errors only (checking all of the runtime's bodies
 * again costs seconds, and `tsc -p tsconfig.json` and the TS 7 run already do), and measures each
 * fixture's instantiations in that one run (see `PRELUDE`); `instantiations.json` baselines them.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLibFiles } from "@ts-morph/common";
import { ts } from "ts-morph";

/** Which compiler checks the fixtures: the native TypeScript 7 `tsc`, or the TypeScript 6 API. */
export type Compiler = "ts7" | "ts6";

/** A fixture given by its text instead of a file on disk (the path need not exist). */
export interface FixtureSource {
  /** Where the fixture pretends to live; relative imports resolve from here. */
  file: string;
  text: string;
}

/** The outcome of one batched compiler run over a set of fixtures. */
export interface FixtureResult {
  compiler: Compiler;
  /** Every failure, readable: `file:line: expected error containing "...", got: ...`. */
  failures: string[];
  /**
   * The failures grouped by file (path relative to the repo root, `/`-separated). Errors in files
   * that are not fixtures (project sources a fixture imports) are grouped under their own path;
   * errors without a file under `"(global)"`.
   */
  byFile: Record<string, string[]>;
  /** How many `@ts-expect-error` expectations were checked. */
  expectations: number;
  /** The compiler's instantiation count for the whole run (TS 6: checker count; TS 7: `Instantiations:`). */
  instantiations?: number;
  /**
   * TS 6 only: instantiations spent checking each fixture (path relative to the repo root), in the
   * order given, after a prelude that resolves the common API (see `PRELUDE`).
   */
  perFile?: Record<string, number>;
  /** TS 6 only: milliseconds spent checking each fixture, and creating the program with the prelude. */
  perFileMs?: Record<string, number>;
  /** Wall time of the run, in milliseconds (stripping, compiling and matching). */
  ms: number;
}

/** The repository root (this file lives in `test/types/`). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The folder of the type-test fixtures. */
export const FIXTURES_DIR = path.join(REPO_ROOT, "test", "types", "fixtures");

const BASE_TSCONFIG = path.join(REPO_ROOT, "tsconfig.base.json");
const TSC_BIN = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");

// ---------------------------------------------------------------------------------------------
// Stripping directives

interface Expectation {
  /** 1-based line the error must start on. */
  line: number;
  /** 1-based line of the directive itself. */
  directiveLine: number;
  /** The expected text, trimmed; "" if missing. */
  text: string;
}

interface Stripped {
  text: string;
  expectations: Expectation[];
  /** Problems with the directives themselves (1-based line, message). */
  problems: { line: number; message: string }[];
}

const DIRECTIVE_LINE = /^(\s*\/\/\/?\s*)@ts-expect-error(?![\w-])(.*)$/;
const OTHER_DIRECTIVE_LINE = /^\s*\/\/\/?\s*@ts-(ignore|nocheck)(?![\w-])/;
const TRAILING_DIRECTIVE = /\S.*\/\/\/?\s*@ts-(expect-error|ignore|nocheck)(?![\w-])/;
const COMMENT_OR_BLANK = /^\s*(\/\/.*)?$/;

/**
 * Removes every `// @ts-expect-error <text>` directive from a fixture's text (the `@` becomes a
 * space, so line and column numbers stay the same) and records what each one expects.
 *
 * @example
 * stripDirectives("// @ts-expect-error f: expected 3\nf(4);\n").expectations
 * // → [{ line: 2, directiveLine: 1, text: "f: expected 3" }]
 */
export function stripDirectives(text: string): Stripped {
  const lines = text.split("\n");
  const expectations: Expectation[] = [];
  const problems: Stripped["problems"] = [];
  const targeted = new Map<number, number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = DIRECTIVE_LINE.exec(line);
    if (m) {
      lines[i] = m[1] + " ts-expect-error" + m[2];
      let target = i + 1;
      // Like tsc: the directive applies to the next line that is not blank and not a `//` comment.
      while (target < lines.length && COMMENT_OR_BLANK.test(lines[target]!)) target++;
      const expectedText = m[2]!.trim();
      if (target >= lines.length) {
        problems.push({ line: i + 1, message: "@ts-expect-error at the end of the file has no line to apply to" });
        continue;
      }
      if (expectedText === "") {
        problems.push({
          line: i + 1,
          message: "@ts-expect-error needs the expected message text: `// @ts-expect-error <part of the message>`",
        });
      }
      const earlier = targeted.get(target);
      if (earlier !== undefined) {
        problems.push({
          line: i + 1,
          message: `@ts-expect-error targets line ${target + 1}, like the one on line ${earlier + 1}; tsc would report one of them as unused. Use one directive per line`,
        });
      }
      targeted.set(target, i);
      expectations.push({ line: target + 1, directiveLine: i + 1, text: expectedText });
    } else if (OTHER_DIRECTIVE_LINE.test(line)) {
      const kind = OTHER_DIRECTIVE_LINE.exec(line)![1];
      problems.push({ line: i + 1, message: `@ts-${kind} is not allowed in fixtures; use "// @ts-expect-error <expected text>"` });
      lines[i] = line.replace(/@ts-/, " ts-");
    } else if (!COMMENT_OR_BLANK.test(line) && TRAILING_DIRECTIVE.test(line)) {
      problems.push({ line: i + 1, message: "a @ts-* directive must be on its own line, above the line with the error" });
      lines[i] = line.replace(/(\/\/\/?\s*)@ts-/, "$1 ts-");
    }
  }
  return { text: lines.join("\n"), expectations, problems };
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

interface Diag {
  /** Absolute path, or undefined for a global diagnostic. */
  file: string | undefined;
  /** 1-based start line and column. */
  line: number;
  col: number;
  code: number;
  /** The full message chain, one message per line. */
  text: string;
}

function normalise(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

function rel(abs: string): string {
  return path.relative(REPO_ROOT, abs).split(path.sep).join("/");
}

function oneLine(d: Diag): string {
  return `TS${d.code}: ${normalise(d.text)}`;
}

/** Matches diagnostics against the expectations of the fixtures; returns failures by file. */
function compare(
  fixtures: Map<string, Stripped>,
  diags: Diag[],
): { byFile: Record<string, string[]>; expectations: number } {
  const found = new Map<string, { line: number; msg: string }[]>();
  const add = (file: string, line: number, msg: string): void => {
    let list = found.get(file);
    if (!list) found.set(file, (list = []));
    list.push({ line, msg });
  };
  for (const abs of fixtures.keys()) found.set(rel(abs), []);
  const claimed = new Set<Diag>();
  let expectations = 0;

  for (const [abs, stripped] of fixtures) {
    const file = rel(abs);
    for (const p of stripped.problems) add(file, p.line, `${file}:${p.line}: ${p.message}`);
    for (const e of stripped.expectations) {
      expectations++;
      const onLine = diags.filter((d) => d.file === abs && d.line === e.line);
      const want = normalise(e.text);
      const hit = want === "" ? undefined : onLine.find((d) => !claimed.has(d) && normalise(d.text).includes(want));
      if (hit) {
        claimed.add(hit);
        continue;
      }
      if (want === "") {
        // Already reported as a problem; let it claim the errors so they are not reported twice.
        onLine.forEach((d) => claimed.add(d));
        continue;
      }
      const got = onLine.length === 0 ? "no error" : onLine.map(oneLine).join(" | ");
      onLine.forEach((d) => claimed.add(d));
      add(file, e.line, `${file}:${e.line}: expected error containing "${e.text}", got: ${got}`);
    }
  }

  for (const d of diags) {
    if (claimed.has(d)) continue;
    if (d.file === undefined) add("(global)", 0, `(global): unexpected error ${oneLine(d)}`);
    else add(rel(d.file), d.line, `${rel(d.file)}:${d.line}:${d.col}: unexpected error ${oneLine(d)}`);
  }
  const byFile: Record<string, string[]> = {};
  for (const [file, list] of found) byFile[file] = list.sort((a, b) => a.line - b.line).map((f) => f.msg);
  return { byFile, expectations };
}

// ---------------------------------------------------------------------------------------------
// Loading

function load(files: readonly (string | FixtureSource)[]): Map<string, Stripped> {
  const out = new Map<string, Stripped>();
  for (const f of files) {
    const abs = path.resolve(REPO_ROOT, typeof f === "string" ? f : f.file);
    const text = typeof f === "string" ? readFileSync(abs, "utf8") : f.text;
    if (out.has(abs)) throw new Error(`checkFixtures: ${rel(abs)} is listed twice`);
    out.set(abs, stripDirectives(text));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// TypeScript 6 (JS API)

let cachedOptions: ts.CompilerOptions | undefined;

/** The options of `tsconfig.base.json` (what the main and the TS 7 run use), plus noEmit. */
function ts6Options(): ts.CompilerOptions {
  if (cachedOptions) return cachedOptions;
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  };
  const parsed = ts.getParsedCommandLineOfConfigFile(BASE_TSCONFIG, { noEmit: true }, host);
  if (!parsed) throw new Error(`cannot read ${BASE_TSCONFIG}`);
  const errors = parsed.errors.filter((d) => d.code !== 18003); // "No inputs were found": base has no files
  if (errors.length) throw new Error(errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n"));
  cachedOptions = parsed.options;
  return cachedOptions;
}

/** Parsed lib and project files, shared between programs (only the overlaid fixtures change). */
const sourceFileCache = new Map<string, { sf: ts.SourceFile; mtime: number }>();

/**
 * TS 6's lib files (lib.es2023.d.ts, ...) by absolute path. ts-morph bundles them as strings, not
 * files: its default lib folder holds none, and TypeScript 7's package embeds its own.
 */
let libFiles: Map<string, string> | undefined;

function ts6Program(overlay: Map<string, string>): ts.Program {
  const options = ts6Options();
  const host = ts.createCompilerHost(options, true);
  const libDir = path.resolve(host.getDefaultLibLocation?.() ?? path.dirname(host.getDefaultLibFileName(options)));
  libFiles ??= new Map(getLibFiles().map((l) => [path.join(libDir, l.fileName), l.text]));
  const virtual = (f: string): string | undefined => overlay.get(path.resolve(f)) ?? libFiles!.get(path.resolve(f));
  const realGetSourceFile = host.getSourceFile.bind(host);
  const realReadFile = host.readFile.bind(host);
  const realFileExists = host.fileExists.bind(host);
  host.getCurrentDirectory = () => REPO_ROOT;
  host.fileExists = (f) => virtual(f) !== undefined || realFileExists(f);
  host.readFile = (f) => virtual(f) ?? realReadFile(f);
  host.getSourceFile = (f, langVersion, onError, shouldCreate) => {
    const text = overlay.get(path.resolve(f));
    if (text !== undefined) return ts.createSourceFile(f, text, langVersion, true);
    const v = typeof langVersion === "object" ? `${langVersion.languageVersion}/${langVersion.impliedNodeFormat}` : langVersion;
    const key = `${v}|${f}`;
    const libText = libFiles!.get(path.resolve(f));
    if (libText !== undefined) {
      let lib = sourceFileCache.get(key);
      if (!lib) sourceFileCache.set(key, (lib = { sf: ts.createSourceFile(f, libText, langVersion, true), mtime: 0 }));
      return lib.sf;
    }
    const mtime = statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? -1;
    const cached = sourceFileCache.get(key);
    if (cached && cached.mtime === mtime) return cached.sf;
    const sf = realGetSourceFile(f, langVersion, onError, shouldCreate);
    if (sf) sourceFileCache.set(key, { sf, mtime });
    return sf;
  };
  return ts.createProgram([...overlay.keys()], options, host);
}

/** The checker's instantiation count (an internal TS API, stable since TS 3.x, not in the .d.ts). */
function instantiationCount(program: ts.Program): number {
  const checker = program.getTypeChecker() as ts.TypeChecker & { getInstantiationCount?: () => number };
  if (typeof checker.getInstantiationCount !== "function") throw new Error("ts.TypeChecker has no getInstantiationCount");
  return checker.getInstantiationCount();
}

function ts6Diag(d: ts.Diagnostic): Diag {
  const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
  if (!d.file || d.start === undefined) return { file: undefined, line: 0, col: 0, code: d.code, text };
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  return { file: path.resolve(d.file.fileName), line: line + 1, col: character + 1, code: d.code, text };
}

/**
 * A file checked before the fixtures in the TypeScript 6 run (its diagnostics are reported, under
 * its own name). It makes the checker resolve what nearly every fixture uses (the Tensor class, the
 * creators, the common rules), so each fixture's instantiation count is its own work, whatever
 * fixture happens to be checked first.
 */
const PRELUDE = {
  file: path.join(FIXTURES_DIR, "__prelude__.ts"),
  text: [
    `import { torch } from "../../../runtime/index.js";`,
    `const x = torch.zeros(2, 3);`,
    `export const p = [x.add(x), x.matmul(torch.ones(3, 4)), x.sum(0), x.reshape(-1), x.flatten(), x.index(0, ":"),`,
    `  torch.cat([x, x]), torch.stack([x, x]), x.transpose(0, 1).t().permute(1, 0), x.unsqueeze(0).squeeze(0).expand(2, 3),`,
    `  x.relu().softmax(-1).mean(1, true), torch.tensor([[1, 2]]), torch.arange(4), torch.where(x.gt(0), x, 0)];`,
  ].join("\n"),
};

/**
 * TypeScript 6: one program over the prelude and the fixtures; diagnostics of the fixtures only
 * (the project files they import are checked by the TypeScript 7 run, as `tsc -p` checks every
 * file, and by the main `tsc -p tsconfig.json`; checking them all again under TS 6 costs seconds).
 * Each fixture's instantiation count is the checker's count across its own check, in the given
 * order, after the prelude.
 */
function runTs6(fixtures: Map<string, Stripped>): { diags: Diag[]; instantiations: number; perFile: Record<string, number>; perFileMs: Record<string, number> } {
  const t0 = performance.now();
  // The prelude only where a fixture uses the runtime (it costs a parse of all of it).
  const prelude = [...fixtures.values()].some((f) => /\bruntime\//.test(f.text));
  const overlay = new Map([...(prelude ? [[PRELUDE.file, PRELUDE.text] as const] : []), ...[...fixtures].map(([abs, s]) => [abs, s.text] as const)]);
  const program = ts6Program(overlay);
  const count = (): number => instantiationCount(program);
  const raw: ts.Diagnostic[] = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  const check = (abs: string): void => {
    const sf = program.getSourceFile(abs);
    if (!sf) throw new Error(`checkFixtures: ${rel(abs)} is not in the TS 6 program`);
    raw.push(...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf));
  };
  if (prelude) check(PRELUDE.file);
  const perFile: Record<string, number> = {};
  const perFileMs: Record<string, number> = { "(program and prelude)": Math.round(performance.now() - t0) };
  for (const abs of fixtures.keys()) {
    const before = count();
    const t1 = performance.now();
    check(abs);
    perFile[rel(abs)] = count() - before;
    perFileMs[rel(abs)] = Math.round(performance.now() - t1);
  }
  const diags = raw.filter((d) => d.category === ts.DiagnosticCategory.Error).map(ts6Diag);
  return { diags, instantiations: count(), perFile, perFileMs };
}

// ---------------------------------------------------------------------------------------------
// TypeScript 7 (native tsc)

let runCounter = 0;

const TS7_DIAG = /^(.*)\((\d+),(\d+)\): error TS(\d+): (.*)$/;
const TS7_GLOBAL_DIAG = /^error TS(\d+): (.*)$/;

function parseTs7Output(out: string, toOriginal: (abs: string) => string): { diags: Diag[]; instantiations?: number } {
  const diags: Diag[] = [];
  let current: Diag | undefined;
  let instantiations: number | undefined;
  for (const raw of out.split(/\r?\n/)) {
    const m = TS7_DIAG.exec(raw);
    const g = m ? null : TS7_GLOBAL_DIAG.exec(raw);
    if (m) {
      current = {
        file: toOriginal(path.resolve(REPO_ROOT, m[1]!)),
        line: Number(m[2]),
        col: Number(m[3]),
        code: Number(m[4]),
        text: m[5]!,
      };
      diags.push(current);
    } else if (g) {
      current = { file: undefined, line: 0, col: 0, code: Number(g[1]), text: g[2]! };
      diags.push(current);
    } else if (current && /^\s+\S/.test(raw)) {
      current.text += "\n" + raw.trim(); // a continuation line: the rest of the message chain
    } else {
      current = undefined;
      const inst = /^Instantiations:\s+(\d+)/.exec(raw);
      if (inst) instantiations = Number(inst[1]);
    }
  }
  return { diags, instantiations };
}

interface Ts7Run {
  /** The arguments of `node` that run tsc. */
  args: string[];
  /** Turns tsc's output and exit status into diagnostics on the original files. */
  finish: (out: string, status: number | null) => { diags: Diag[]; instantiations?: number };
  /** Removes the stripped copies. */
  cleanup: () => void;
}

/** Writes the stripped copies and their tsconfig for one native tsc run. */
function prepareTs7(fixtures: Map<string, Stripped>): Ts7Run {
  // Each fixture folder D gets a sibling D/../.stripped-<pid>-<n>-<i>/ at the same depth, so the
  // fixtures' relative imports (`../../../runtime/index.js`) resolve as from the original.
  const runId = `${process.pid}-${++runCounter}-${randomBytes(3).toString("hex")}`;
  const dirs = new Map<string, string>(); // fixture dir → stripped dir
  for (const abs of fixtures.keys()) {
    const dir = path.dirname(abs);
    if (!dirs.has(dir)) dirs.set(dir, path.join(path.dirname(dir), `.stripped-${runId}-${dirs.size}`));
  }
  const cleanup = (): void => {
    for (const strippedDir of dirs.values()) rmSync(strippedDir, { recursive: true, force: true });
  };
  const back = new Map<string, string>(); // stripped copy → original
  try {
    for (const [dir, strippedDir] of dirs) {
      mkdirSync(strippedDir, { recursive: true });
      // Sibling .ts files travel too (unstripped), so imports between fixtures (./util.js) resolve.
      if (existsSync(dir)) {
        for (const name of readdirSync(dir)) {
          if (!name.endsWith(".ts")) continue;
          const copy = path.join(strippedDir, name);
          writeFileSync(copy, readFileSync(path.join(dir, name)));
          back.set(copy, path.join(dir, name));
        }
      }
    }
    const files: string[] = [];
    for (const [abs, s] of fixtures) {
      const copy = path.join(dirs.get(path.dirname(abs))!, path.basename(abs));
      writeFileSync(copy, s.text);
      back.set(copy, abs);
      files.push(copy);
    }
    const configDir = dirs.values().next().value!;
    const config = path.join(configDir, "tsconfig.json");
    const toPosix = (p: string): string => p.split(path.sep).join("/");
    writeFileSync(
      config,
      JSON.stringify(
        {
          extends: toPosix(path.relative(configDir, BASE_TSCONFIG)),
          compilerOptions: { noEmit: true },
          files: files.map((f) => toPosix(path.relative(configDir, f))),
        },
        null,
        2,
      ),
    );
    return {
      args: [TSC_BIN, "-p", config, "--pretty", "false", "--extendedDiagnostics"],
      finish: (out, status) => {
        const parsed = parseTs7Output(out, (abs) => back.get(abs) ?? abs);
        if (status !== 0 && parsed.diags.length === 0) throw new Error(`tsc exited with ${status} and no diagnostics:\n${out}`);
        return parsed;
      },
      cleanup,
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}

function runTs7(fixtures: Map<string, Stripped>): { diags: Diag[]; instantiations?: number } {
  const run = prepareTs7(fixtures);
  try {
    const r = spawnSync(process.execPath, run.args, { cwd: REPO_ROOT, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (r.error) throw r.error;
    return run.finish((r.stdout ?? "") + "\n" + (r.stderr ?? ""), r.status);
  } finally {
    run.cleanup();
  }
}

/** Like {@link runTs7}, without blocking: tsc runs in a child process while this one works on. */
async function runTs7Async(fixtures: Map<string, Stripped>): Promise<{ diags: Diag[]; instantiations?: number }> {
  const run = prepareTs7(fixtures);
  try {
    const { out, status } = await new Promise<{ out: string; status: number | null }>((resolve, reject) => {
      const child = spawn(process.execPath, run.args, { cwd: REPO_ROOT });
      const chunks: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => chunks.push(c));
      child.stderr.on("data", (c: Buffer) => chunks.push(c));
      child.on("error", reject);
      child.on("close", (code) => resolve({ out: Buffer.concat(chunks).toString("utf8"), status: code }));
    });
    return run.finish(out, status);
  } finally {
    run.cleanup();
  }
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Checks type-test fixtures with one compiler run: every `// @ts-expect-error <text>` must have an
 * error containing `<text>` starting on the next code line, and every other error is a failure.
 * Files are paths (relative to the repo root, or absolute) or in-memory sources.
 *
 * @example
 * const r = checkFixtures(["test/types/fixtures/selftest.ts"], "ts7");
 * if (r.failures.length) throw new Error(r.failures.join("\n"));
 * // r.failures like: 'test/types/fixtures/x.ts:12: expected error containing "Linear(784→256)", got: no error'
 */
export function checkFixtures(files: readonly (string | FixtureSource)[], compiler: Compiler): FixtureResult {
  const t0 = performance.now();
  const fixtures = load(files);
  const { diags, instantiations, perFile, perFileMs } = compiler === "ts6" ? runTs6(fixtures) : { ...runTs7(fixtures), perFile: undefined, perFileMs: undefined };
  const { byFile, expectations } = compare(fixtures, diags);
  const failures = Object.values(byFile).flat();
  const result: FixtureResult = { compiler, failures, byFile, expectations, ms: Math.round(performance.now() - t0) };
  if (instantiations !== undefined) result.instantiations = instantiations;
  if (perFile !== undefined) result.perFile = perFile;
  if (perFileMs !== undefined) result.perFileMs = perFileMs;
  return result;
}

/**
 * {@link checkFixtures} that does not block while the native tsc runs (TS 7), so a TS 6 run can
 * go on in this process meanwhile.
 *
 * @example
 * const ts7 = checkFixturesAsync(files, "ts7"); // tsc starts now
 * const ts6 = checkFixtures(files, "ts6");      // runs while tsc does
 * (await ts7).failures;
 */
export async function checkFixturesAsync(files: readonly (string | FixtureSource)[], compiler: Compiler): Promise<FixtureResult> {
  if (compiler === "ts6") return checkFixtures(files, compiler);
  const t0 = performance.now();
  const fixtures = load(files);
  const { diags, instantiations } = await runTs7Async(fixtures);
  const { byFile, expectations } = compare(fixtures, diags);
  const failures = Object.values(byFile).flat();
  const result: FixtureResult = { compiler, failures, byFile, expectations, ms: Math.round(performance.now() - t0) };
  if (instantiations !== undefined) result.instantiations = instantiations;
  return result;
}

/**
 * Counts the TypeScript 6 instantiations needed to check one fixture on its own (a separate
 * program; only the fixture's own diagnostics are requested, so imported project files are checked
 * only as far as the fixture uses them). Lib and project files are parsed once per process.
 *
 * @example
 * countInstantiations("test/types/fixtures/selftest.ts"); // → { instantiations: 120, ms: 35 }
 */
export function countInstantiations(file: string): { instantiations: number; ms: number } {
  const t0 = performance.now();
  const abs = path.resolve(REPO_ROOT, file);
  const program = ts6Program(new Map([[abs, stripDirectives(readFileSync(abs, "utf8")).text]]));
  program.getSemanticDiagnostics(program.getSourceFile(abs));
  return { instantiations: instantiationCount(program), ms: Math.round(performance.now() - t0) };
}

/**
 * Lists the fixture files (`*.ts` in `test/types/fixtures/`), sorted, as paths relative to the repo root.
 *
 * @example
 * listFixtures(); // → ["test/types/fixtures/selftest.ts", "test/types/fixtures/util.ts", ...]
 */
export function listFixtures(dir: string = FIXTURES_DIR): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".ts") && !n.endsWith(".d.ts"))
    .sort()
    .map((n) => rel(path.join(dir, n)));
}
