/**
 * The type-level side of the agreement tests: compiles ONE generated TypeScript file per batch of
 * cases with the TypeScript 6 API (bundled by ts-morph) and reads back, for each case, the type
 * the checker resolved and the shape-rule message of any diagnostic on it.
 *
 * Like `test/types/runner.ts`, the lib files come from `@ts-morph/common`'s `getLibFiles()` (ts-morph
 * bundles them as strings) and parsed project files are cached across programs, so a second
 * program (a shrink step) costs only the checking of what it uses.
 */
import { statSync } from "node:fs";
import path from "node:path";
import { getLibFiles } from "@ts-morph/common";
import { ts } from "ts-morph";
import { REPO_ROOT } from "../types/runner.js";

/** One case for the checker: a value expression, or a type expression. */
export interface TypeProbe {
  readonly kind: "value" | "type";
  /** TypeScript text of the expression (values may use `torch`, `nn`; types the imported rules). */
  readonly code: string;
}

/** What the type level says about one probe. */
export type TypeAnswer =
  /** Accepted: the resolved type, e.g. `Tensor<[2, 5], "float32">`, `4`, `Err<"...">`. */
  | { readonly ok: true; readonly type: string }
  /**
   * Rejected: the shape rule's message (from the `ShapeErrorBrand<"...">` of the first diagnostic),
   * or the whole diagnostic when it is not a shape-rule error (`brand: false`).
   */
  | { readonly ok: false; readonly message: string; readonly brand: boolean; readonly diagnostic: string };

/** Where the generated file pretends to live (relative imports resolve from here). */
const GEN_FILE = path.join(REPO_ROOT, "test", "reliability", "__agreement.generated.ts");

const HEADER = [
  `import { nn, torch } from "../../runtime/index.js";`,
  `import type { ConvOutSize, PoolOutSize } from "../../types/index.js";`,
  // Keeps unused-import checks (if any) quiet in a batch without type probes.
  `export type __Keep = [ConvOutSize<1, 1>, PoolOutSize<1, 1>, typeof nn];`,
];

let options: ts.CompilerOptions | undefined;
let libFiles: Map<string, string> | undefined;
const cache = new Map<string, { sf: ts.SourceFile; mtime: number }>();
let oldProgram: ts.Program | undefined;

function compilerOptions(): ts.CompilerOptions {
  if (options) return options;
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  };
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(REPO_ROOT, "tsconfig.base.json"), { noEmit: true }, host);
  if (!parsed) throw new Error("typeOracle: cannot read tsconfig.base.json");
  options = parsed.options;
  return options;
}

function program(text: string): ts.Program {
  const opts = compilerOptions();
  const host = ts.createCompilerHost(opts, true);
  const libDir = path.resolve(host.getDefaultLibLocation?.() ?? path.dirname(host.getDefaultLibFileName(opts)));
  libFiles ??= new Map(getLibFiles().map((l) => [path.join(libDir, l.fileName), l.text]));
  const lib = (f: string): string | undefined => libFiles!.get(path.resolve(f));
  const realGet = host.getSourceFile.bind(host);
  const realRead = host.readFile.bind(host);
  const realExists = host.fileExists.bind(host);
  host.getCurrentDirectory = () => REPO_ROOT;
  host.fileExists = (f) => path.resolve(f) === GEN_FILE || lib(f) !== undefined || realExists(f);
  host.readFile = (f) => (path.resolve(f) === GEN_FILE ? text : lib(f) ?? realRead(f));
  host.getSourceFile = (f, lv, onError, shouldCreate) => {
    if (path.resolve(f) === GEN_FILE) return ts.createSourceFile(f, text, lv, true);
    const v = typeof lv === "object" ? `${lv.languageVersion}/${lv.impliedNodeFormat}` : lv;
    const key = `${v}|${f}`;
    const libText = lib(f);
    const mtime = libText !== undefined ? 0 : statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? -1;
    const hit = cache.get(key);
    if (hit && hit.mtime === mtime) return hit.sf;
    const sf = libText !== undefined ? ts.createSourceFile(f, libText, lv, true) : realGet(f, lv, onError, shouldCreate);
    if (sf) cache.set(key, { sf, mtime });
    return sf;
  };
  const p = ts.createProgram([GEN_FILE], opts, host, oldProgram);
  oldProgram = p;
  return p;
}

const BRAND = /ShapeErrorBrand<"((?:[^"\\]|\\.)*)">/;

/** The text of the generated file for a batch (one statement per line, `c<i>` / `R<i>`). */
export function renderBatch(probes: readonly TypeProbe[]): string {
  const lines = [...HEADER];
  probes.forEach((p, i) => lines.push(p.kind === "value" ? `export const c${i} = ${p.code};` : `export type R${i} = ${p.code};`));
  return lines.join("\n") + "\n";
}

/**
 * Compiles one file holding every probe and returns the type level's answer for each, in order.
 * Also returns the file's text (for a reproducer) and the time it took.
 *
 * @example
 * checkTypes([{ kind: "value", code: "torch.zeros([2, 3]).sum(1)" }]).answers[0];
 * // → { ok: true, type: 'Tensor<[2], "float32">' }
 */
export function checkTypes(probes: readonly TypeProbe[]): { answers: TypeAnswer[]; text: string; ms: number } {
  const t0 = performance.now();
  const text = renderBatch(probes);
  const p = program(text);
  const sf = p.getSourceFile(GEN_FILE);
  if (!sf) throw new Error("typeOracle: the generated file is not in the program");
  const diags = [...p.getSyntacticDiagnostics(sf), ...p.getSemanticDiagnostics(sf)].filter((d) => d.category === ts.DiagnosticCategory.Error);
  const checker = p.getTypeChecker();
  const byLine = new Map<number, ts.Diagnostic[]>();
  for (const d of diags) {
    const line = d.start === undefined ? -1 : sf.getLineAndCharacterOfPosition(d.start).line;
    byLine.set(line, [...(byLine.get(line) ?? []), d]);
  }
  const global = byLine.get(-1) ?? [];
  const headerErrors = HEADER.flatMap((_, i) => byLine.get(i) ?? []);
  if (global.length || headerErrors.length) {
    throw new Error(`typeOracle: the generated file's header does not compile:\n${[...global, ...headerErrors].map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n")}`);
  }
  const statements = sf.statements.slice(HEADER.length);
  const answers = probes.map((_, i): TypeAnswer => {
    const st = statements[i];
    if (!st) throw new Error(`typeOracle: no statement for probe ${i}`);
    const line = sf.getLineAndCharacterOfPosition(st.getStart(sf)).line;
    const ds = byLine.get(line) ?? [];
    if (ds.length > 0) {
      const texts = ds.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      const branded = texts.map((t) => BRAND.exec(t)).find((m) => m !== null);
      const diagnostic = texts.map((t) => t.replace(/\s+/g, " ")).join(" | ");
      if (branded) return { ok: false, message: JSON.parse(`"${branded[1]}"`) as string, brand: true, diagnostic };
      return { ok: false, message: diagnostic, brand: false, diagnostic };
    }
    const name = ts.isVariableStatement(st) ? st.declarationList.declarations[0]?.name : ts.isTypeAliasDeclaration(st) ? st.name : undefined;
    if (!name) throw new Error(`typeOracle: unexpected statement for probe ${i}`);
    const type = checker.getTypeAtLocation(name);
    return { ok: true, type: checker.typeToString(type, undefined, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias) };
  });
  return { answers, text, ms: Math.round(performance.now() - t0) };
}
