/**
 * WGSL kernel text for a fused forward (`--target wgsl`): the same groups as the JS kernels,
 * from `runtime/codegen/fused.ts` with the op table's WGSL expressions. Pure.
 */
import { ewChainWgsl, linearWgsl, softmaxRowsWgsl } from "../runtime/codegen/fused.js";
import type { Fused, Operand } from "./fuse.js";
import { opWgsl } from "./kernels.js";

function operand(o: Operand): string {
  if ("in" in o) return "abcd"[o.in]!;
  if ("step" in o) return `t${o.step}`;
  const v = Math.fround(o.num);
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

/** WGSL text per forward group, named as the JS kernels' launches are ordered (`g0`, `g1`, ...). */
export function wgslKernels(f: Fused): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  for (const g of f.groups) {
    if (g.kind === "view") continue;
    const name = `g${i++}`;
    if (g.kind === "conv" || g.kind === "pool") continue; // no WGSL text yet: the JS kernels run
    if (g.kind === "linear") {
      const act = g.act;
      const bias = g.node.bias !== null;
      out[name] = linearWgsl((acc, j) => {
        const v = bias ? `(${acc} + bias[${j}])` : acc;
        return act ? opWgsl(act, [v]) : v;
      });
    } else if (g.kind === "ew") {
      out[name] = ewChainWgsl(g.inputs.length, g.steps.map((s) => opWgsl(s.fn, s.b ? [operand(s.a), operand(s.b)] : [operand(s.a)])));
    } else out[name] = softmaxRowsWgsl(g.log);
  }
  return out;
}
