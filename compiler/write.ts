/**
 * The compile driver: source files → extraction (ts-morph) → fusion → planning → emission →
 * `<file>.kernels.generated.ts` written next to the source (or into `outDir`). Used by the CLI and
 * the esbuild plugin. With `extract.ts`, the only file that touches ts-morph.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import type { Project } from "ts-morph";
import type { ModelProgram } from "../runtime/compiled.js";
import type { Diagnostic } from "./diagnostics.js";
import { renderModule } from "./emit.js";
import { createProject, extractModels } from "./extract.js";
import { fuse } from "./fuse.js";
import { planProgram } from "./plan.js";

/** Options of {@link compileFiles}. */
export interface CompileOptions {
  /** Where generated modules go (default: next to each source). */
  readonly outDir?: string;
  /** Kernel targets (default `["js"]`; add `"wgsl"` for WGSL text). */
  readonly targets?: readonly ("js" | "wgsl")[];
  /** The runtime import in generated modules (default `"typetorch"`). */
  readonly runtimeImport?: string;
  /** A project to reuse (the esbuild plugin and watch mode keep one). */
  readonly project?: Project;
  /** Write the files (default true). */
  readonly write?: boolean;
}

/** What compiling one source gives. */
export interface CompileResult {
  readonly file: string;
  readonly outFile: string;
  readonly text: string;
  readonly programs: ModelProgram[];
  readonly diagnostics: Diagnostic[];
  /** The file was (re)written (false when unchanged or not writing). */
  readonly written: boolean;
}

/** `src/model.ts` → `src/model.kernels.generated.ts` (in `outDir` if given). */
export function outFileOf(file: string, outDir?: string): string {
  const base = basename(file).replace(/\.(m|c)?tsx?$/, "");
  return join(outDir ? resolve(outDir) : dirname(resolve(file)), `${base}.kernels.generated.ts`);
}

function importPath(fromDir: string, file: string): string {
  let p = relative(fromDir, file).replace(/\\/g, "/").replace(/\.(m|c)?tsx?$/, ".js");
  if (!p.startsWith(".")) p = `./${p}`;
  return p;
}

/** Compiles source files into generated kernel modules. */
export function compileFiles(files: readonly string[], opts: CompileOptions = {}): CompileResult[] {
  const abs = files.map((f) => resolve(f));
  const project = opts.project ?? createProject(abs);
  const results: CompileResult[] = [];
  for (const file of abs) {
    const sf = project.getSourceFile(file) ?? project.addSourceFileAtPath(file);
    const { graphs, diagnostics } = extractModels(sf);
    const outFile = outFileOf(file, opts.outDir);
    const outDir = dirname(outFile);
    const source = relative(outDir, file).replace(/\\/g, "/");
    const programs: ModelProgram[] = [];
    const diags: Diagnostic[] = [...diagnostics];
    for (const g of graphs) {
      const planned = planProgram(fuse(g), { source, wgsl: opts.targets?.includes("wgsl") ?? false });
      programs.push(planned.program);
      diags.push(...planned.notes);
    }
    diags.sort((a, b) => a.loc.line - b.loc.line || a.loc.column - b.loc.column);
    const text = renderModule({ source, sourceImport: importPath(outDir, file), runtimeImport: opts.runtimeImport ?? "typetorch", programs, diagnostics: diags });
    let written = false;
    if (opts.write !== false) {
      const old = existsSync(outFile) ? readFileSync(outFile, "utf8") : undefined;
      if (old !== text) {
        mkdirSync(outDir, { recursive: true });
        writeFileSync(outFile, text);
        written = true;
      }
    }
    results.push({ file, outFile, text, programs, diagnostics: diags, written });
  }
  return results;
}
