/**
 * The compiler's coded diagnostics. Anything the compiler can't analyse gets one (with file and
 * line) and that model runs op by op — never a crash, never a wrong kernel.
 */
import type { Loc } from "./ir.js";

/** Every code, with what it means. */
export const CODES = {
  TT1001: "control flow or an unsupported statement in forward (loops, branches, ...): the model runs op by op",
  TT1002: "a layer type the compiler does not know: the model runs op by op",
  TT1003: "dynamic attribute access (this[name], x[i]): the model runs op by op",
  TT1004: "an expression or op the compiler does not fuse: the model runs op by op",
  TT1005: "a layer argument that is not a literal type (e.g. nn.Linear(n, 10) with n: number): the model runs op by op",
  TT1006: "the input shape is unknown (annotate forward's parameter, or call the model in the file)",
  TT1007: "a dtype other than float32: the model runs op by op",
  TT1008: "broadcasting between tensors of different shapes is not compiled: the model runs op by op",
  TT1009: "forward must take one tensor parameter and return a tensor",
  TT1010: "no backward is compiled for this model (compileStep runs op by op): the forward is still compiled",
  TT2001: "shape error",
} as const;

export type Code = keyof typeof CODES;

/** One diagnostic. `model` names the exported model; `layer` the layer (index, name or field). */
export interface Diagnostic {
  readonly code: Code;
  readonly message: string;
  readonly loc: Loc;
  readonly model?: string;
  readonly layer?: string;
  /** `warning`: the model still compiles (e.g. no backward); `error`: it falls back to eager. */
  readonly severity: "error" | "warning";
}

/** `model.ts:12:5 - error TT1002: ...`. */
export function formatDiagnostic(d: Diagnostic, cwd?: string): string {
  const file = cwd && d.loc.file.startsWith(cwd + "/") ? d.loc.file.slice(cwd.length + 1) : d.loc.file;
  return `${file}:${d.loc.line}:${d.loc.column} - ${d.severity} ${d.code}: ${d.message}${d.model ? ` (model ${d.model}${d.layer ? `, layer ${d.layer}` : ""})` : ""}`;
}

/** A diagnostic-raising failure inside extraction (caught per model). */
export class CompileError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}
