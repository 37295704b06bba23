/**
 * `typetorch` command line:
 *
 * ```
 * typetorch compile <files|globs...> [--out-dir dir] [--target js,wgsl] [--watch]
 * typetorch check <files|dirs|globs...>
 * ```
 */
import { existsSync, readdirSync, statSync, watch } from "node:fs";
import { join, relative, resolve } from "node:path";
import { formatDiagnostic } from "./diagnostics.js";
import { checkFiles, createProject, type CheckIssue } from "./extract.js";
import { compileFiles } from "./write.js";

export const HELP = `typetorch — the build-step compiler of typetorch

Usage:
  typetorch compile <files|globs...> [options]   write <file>.kernels.generated.ts for each model file
  typetorch check <files|dirs|globs...>          type-check with the shape rules; list shape errors
  typetorch --help

compile options:
  --out-dir <dir>       write generated modules into <dir> (default: next to each source)
  --target <js,wgsl>    kernel targets (default: js)
  --watch               recompile when a source changes

Exit codes: 0 fine, 1 errors found (shape errors for check; unanalysable models are
reported as diagnostics and fall back to eager, which is not an error), 2 bad usage.
`;

/** Files matching a path, directory (every .ts under it) or glob (`*`, `**`, `?`). */
export function expandFiles(patterns: readonly string[], cwd = process.cwd()): string[] {
  const out = new Set<string>();
  const isSource = (f: string) => /\.(m|c)?tsx?$/.test(f) && !/\.d\.(m|c)?ts$/.test(f) && !/\.generated\.ts$/.test(f);
  const walk = (dir: string, acc: string[]) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name.startsWith(".")) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, acc);
      else if (isSource(p)) acc.push(p);
    }
    return acc;
  };
  for (const pat of patterns) {
    const abs = resolve(cwd, pat);
    if (!/[*?]/.test(pat)) {
      if (existsSync(abs) && statSync(abs).isDirectory()) walk(abs, []).forEach((f) => out.add(f));
      else out.add(abs);
      continue;
    }
    const fixed = pat.split("/").findIndex((s) => /[*?]/.test(s));
    const base = resolve(cwd, pat.split("/").slice(0, fixed).join("/") || ".");
    const rx = new RegExp(
      "^" +
        pat
          .split("/")
          .slice(fixed)
          .join("/")
          .replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*\*\//g, "(?:.*/)?")
          .replace(/\*\*/g, ".*")
          .replace(/\*/g, "[^/]*")
          .replace(/\?/g, "[^/]") +
        "$",
    );
    if (existsSync(base)) for (const f of walk(base, [])) if (rx.test(relative(base, f).replace(/\\/g, "/"))) out.add(f);
  }
  return [...out].sort();
}

/** One shape error as `typetorch check` prints it. */
export function formatIssue(i: CheckIssue, cwd = process.cwd()): string {
  const file = relative(cwd, i.file) || i.file;
  const head = `${file}:${i.line}:${i.column} ${i.code}`;
  if (i.code !== "TT2001") return `${head} ${i.message}`;
  return [`${head} shape error`, i.layer ? `  layer:    ${i.layer}` : undefined, i.expected ? `  expected: ${i.expected}` : undefined, i.got ? `  got:      ${i.got}` : undefined, i.layer ? undefined : `  ${i.message}`]
    .filter((x) => x !== undefined)
    .join("\n");
}

interface Io {
  log: (s: string) => void;
  error: (s: string) => void;
  cwd: string;
}

/** Runs the CLI with `argv` (without `node cli.js`); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = { log: (s) => console.log(s), error: (s) => console.error(s), cwd: process.cwd() }): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    io.log(HELP);
    return cmd ? 0 : 2;
  }
  const files: string[] = [];
  let outDir: string | undefined;
  let targets: ("js" | "wgsl")[] = ["js"];
  let watchMode = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === "--help" || a === "-h") {
      io.log(HELP);
      return 0;
    } else if (a === "--out-dir" || a.startsWith("--out-dir=")) {
      outDir = a.includes("=") ? a.slice(a.indexOf("=") + 1) : rest[++i];
      if (!outDir) return io.error("typetorch: --out-dir needs a directory"), 2;
    } else if (a === "--target" || a.startsWith("--target=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : rest[++i];
      const ts = (v ?? "").split(",").map((s) => s.trim());
      if (ts.length === 0 || ts.some((t) => t !== "js" && t !== "wgsl")) return io.error(`typetorch: --target takes js, wgsl or js,wgsl, got "${v ?? ""}"`), 2;
      targets = ts as ("js" | "wgsl")[];
    } else if (a === "--watch" || a === "-w") watchMode = true;
    else if (a.startsWith("-")) return io.error(`typetorch: unknown option ${a} (see typetorch --help)`), 2;
    else files.push(a);
  }
  const paths = expandFiles(files, io.cwd);
  if (paths.length === 0) return io.error(`typetorch ${cmd}: no input files (see typetorch --help)`), 2;
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length > 0) return io.error(`typetorch ${cmd}: no such file: ${missing.map((m) => relative(io.cwd, m)).join(", ")}`), 2;

  if (cmd === "check") {
    const project = createProject(paths);
    const issues = checkFiles(project, paths);
    for (const i of issues) io.log(formatIssue(i, io.cwd));
    const shape = issues.filter((i) => i.code === "TT2001").length;
    io.log(issues.length === 0 ? `typetorch check: ${paths.length} file(s), no errors` : `typetorch check: ${shape} shape error(s), ${issues.length - shape} other type error(s) in ${paths.length} file(s)`);
    return issues.length > 0 ? 1 : 0;
  }
  if (cmd !== "compile") return io.error(`typetorch: unknown command "${cmd}" (see typetorch --help)`), 2;

  const project = createProject(paths);
  const once = () => {
    let errors = 0;
    for (const r of compileFiles(paths, { ...(outDir ? { outDir: resolve(io.cwd, outDir) } : {}), targets, project })) {
      for (const d of r.diagnostics) io.log(formatDiagnostic(d, io.cwd));
      errors += r.diagnostics.filter((d) => d.code === "TT2001").length;
      const models = r.programs.map((p) => `${p.name} (${p.forward.length} forward${p.backward ? ` + ${p.backward.launches.length} backward` : ""} kernels)`).join(", ") || "no compiled models";
      io.log(`${relative(io.cwd, r.outFile)}: ${models}${r.written ? "" : " (unchanged)"}`);
    }
    return errors;
  };
  const errors = once();
  if (!watchMode) return errors > 0 ? 1 : 0;
  io.log("typetorch: watching for changes (Ctrl-C to stop)");
  let timer: NodeJS.Timeout | undefined;
  for (const p of paths) {
    watch(p, () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        for (const q of paths) project.getSourceFile(q)?.refreshFromFileSystemSync();
        once();
      }, 100);
    });
  }
  return new Promise<number>(() => {});
}

const invoked = process.argv[1] && /[\\/]compiler[\\/]cli\.(ts|js)$/.test(process.argv[1]);
if (invoked) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
