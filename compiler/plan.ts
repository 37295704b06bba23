/**
 * Buffer planning and program building, a pure pass: fused groups → a `ModelProgram` (the data a
 * generated module holds): one buffer per materialised value (views share their source's), the
 * forward's launches, and — for chains of Linear, Conv2d and pooling layers and activations — the
 * backward's launches with the activations' backward fused into the kernels that write the
 * gradients they scale (the conv/pool part is planned in `planConv.ts`). Every buffer is planned
 * once per input shape, so nothing is allocated while the program runs.
 */
import type { DimExpr, Launch, LaunchArg, ModelProgram } from "../runtime/compiled.js";
import type { Diagnostic } from "./diagnostics.js";
import type { Act, Fused, Group } from "./fuse.js";
import { gradientNeeded, producersOf, singleAct } from "./fuse.js";
import type { Dim, Graph } from "./ir.js";
import { numel, useCounts } from "./ir.js";
import { actBackwardKernel, avgPoolKernel, convKernel, ewKernel, maxPoolKernel, linearGradKernel, linearInputGradKernel, linearKernel, softmaxKernel } from "./kernels.js";
import { type BackwardCtx, convBackward, poolBackward } from "./planConv.js";
import { wgslKernels } from "./wgsl.js";

/** Options of {@link planProgram}. */
export interface PlanOptions {
  /** The model's source file as the generated module imports it (`./model.ts`). */
  readonly source: string;
  /** Also emit WGSL kernel text. */
  readonly wgsl?: boolean;
  /**
   * Let forward buffers whose lifetimes don't overlap share storage (default true); never the
   * im2col buffers (their zero padding is written once) nor anything the backward reads.
   */
  readonly reuse?: boolean;
}

/** What planning gives: the program, and notes (a model whose backward isn't compiled). */
export interface Planned {
  readonly program: ModelProgram;
  readonly notes: Diagnostic[];
}

class Kernels {
  readonly js: Record<string, string> = {};
  /** Names a kernel text (the same text gets the same name). */
  name(base: string, text: string): string {
    for (const [k, v] of Object.entries(this.js)) if (v === text) return k;
    let n = base;
    for (let i = 2; n in this.js; i++) n = `${base}_${i}`;
    this.js[n] = text;
    return n;
  }
}

const int = (v: DimExpr): LaunchArg => ({ int: v });
const none: LaunchArg = { none: true };

/** Builds a model's program from its fused groups. */
export function planProgram(f: Fused, opts: PlanOptions): Planned {
  const g = f.graph;
  const node = (v: number) => g.nodes[v]!;
  const { producer, root } = producersOf(f);
  const buffers: { id: string; size: DimExpr }[] = [];
  const addBuf = (id: string, size: DimExpr): LaunchArg => {
    if (!buffers.some((b) => b.id === id)) buffers.push({ id, size });
    return { buf: id };
  };
  const arg = (v: number): LaunchArg => {
    const r = root(v);
    return node(r).op === "input" ? { input: 0 } : { buf: `v${r}` };
  };
  const k = new Kernels();
  const rows = (v: number): DimExpr => numel(node(v).shape.slice(0, -1));

  // forward
  const forward: Launch[] = [];
  let packW = 0;
  let packC = 0;
  for (const gr of f.groups) {
    if (gr.kind === "view") continue;
    const out = addBuf(`v${gr.out}`, numel(node(gr.out).shape));
    const covers = gr.covers.join(" + ");
    if (gr.kind === "linear") {
      const n = gr.node;
      packW = Math.max(packW, n.inF * n.outF);
      const kernel = k.name(`linear${gr.act ? `_${gr.act}` : ""}${n.bias ? "" : "_nobias"}`, linearKernel(gr.act, n.bias !== null));
      forward.push({ kernel, covers, args: [out, int(0), arg(gr.x), int(0), { param: n.weight }, int(0), int(rows(gr.x)), int(n.inF), int(n.outF), { buf: "packW" }, n.bias ? { param: n.bias } : none, none, none] });
    } else if (gr.kind === "conv") {
      const n = gr.node;
      const q = n.geom;
      const K = q.C * q.kh * q.kw;
      const L = q.Ho * q.Wo;
      packC = Math.max(packC, K * L);
      const N = node(gr.x).shape[0]!;
      const cols = addBuf(`cols${gr.out}`, numel([N, K, L]));
      const kernel = k.name(`conv2d${gr.act ? `_${gr.act}` : ""}${n.bias ? "" : "_nobias"}`, convKernel(gr.act, n.bias !== null));
      const geom = [q.C, q.H, q.W, q.kh, q.kw, q.sh, q.sw, q.ph, q.pw, q.dh, q.dw, q.Ho, q.Wo, n.outC].map(int);
      forward.push({ kernel, covers, args: [out, arg(gr.x), { param: n.weight }, n.bias ? { param: n.bias } : none, cols, { buf: "packC" }, int(N), ...geom] });
    } else if (gr.kind === "pool") {
      const n = gr.node;
      const q = n.geom;
      const N = node(gr.x).shape[0]!;
      const strides = [0, q.C * q.H * q.W, q.H * q.W, q.W, 1].map(int);
      if (n.mode === "max") {
        const idx = addBuf(`idx${gr.out}`, numel(node(gr.out).shape));
        const kernel = k.name("max_pool2d", maxPoolKernel(q));
        forward.push({ kernel, covers, args: [out, idx, arg(gr.x), ...strides, ...[N, q.C, q.H, q.W, q.kh, q.kw, q.sh, q.sw, q.ph, q.pw, q.dh, q.dw, q.Ho, q.Wo].map(int)] });
      } else {
        const kernel = k.name("avg_pool2d", avgPoolKernel());
        const f64 = (v: readonly number[]): LaunchArg => ({ f64: v });
        forward.push({ kernel, covers, args: [out, arg(gr.x), ...strides, ...[N, q.C, q.Ho, q.Wo].map(int), f64(n.rows![0]!), f64(n.rows![1]!), f64(n.cols![0]!), f64(n.cols![1]!), f64(n.divisors!)] });
      }
    } else if (gr.kind === "ew") {
      const kernel = k.name(`ew_${gr.steps.map((s) => s.fn).join("_")}`, ewKernel(gr.inputs.length, gr.steps));
      forward.push({ kernel, covers, args: [out, { list: gr.inputs.map(arg) }, int(numel(node(gr.out).shape)), none] });
    } else {
      const s = node(gr.out).shape;
      const kernel = k.name(gr.log ? "log_softmax" : "softmax", softmaxKernel(gr.log));
      forward.push({ kernel, covers, args: [out, arg(gr.x), int(rows(gr.out)), int(s[s.length - 1]!)] });
    }
  }
  if (packW > 0) buffers.push({ id: "packW", size: packW });

  const notes: Diagnostic[] = [];
  // Scratch shared by the backward's conv launches (largest per-sample size per id), and packC's size.
  const scratch = new Map<string, { n: Dim; per: number }>();
  const pack = { c: packC };
  const backward = planBackward(g, f, { k, producer, root, arg, addBuf, rows, node, packW, scratch, pack }, (why) =>
    notes.push({ code: "TT1010", severity: "warning", message: `${g.name}: ${why}; compileStep runs this model op by op (the forward is compiled)`, loc: g.loc, model: g.name }),
  );
  if (backward && packW === 0) buffers.push({ id: "packW", size: 1 });
  if (pack.c > 0) buffers.push({ id: "packC", size: pack.c });
  if (backward) for (const [id, s] of scratch) buffers.push({ id, size: numel([s.n, s.per]) });

  const outRoot = root(g.output);
  const output = { buf: node(outRoot).op === "input" ? "" : `v${outRoot}`, shape: node(g.output).shape };
  const shared = opts.reuse === false ? null : shareStorage(buffers, forward, output.buf, backward);
  const program: ModelProgram = {
    name: g.name,
    kind: g.kind,
    source: opts.source,
    line: g.loc.line,
    dtype: "float32",
    input: node(0).shape,
    output: shared ? { ...output, buf: shared.rename(output.buf) } : output,
    params: g.params,
    evalOnly: g.evalOnly,
    buffers: shared?.buffers ?? buffers,
    forward: shared?.forward ?? forward,
    backward,
    kernels: k.js,
    ...(opts.wgsl ? { wgsl: wgslKernels(f) } : {}),
  };
  return { program, notes };
}

interface Ctx {
  k: Kernels;
  producer: Map<number, Group>;
  root: (v: number) => number;
  arg: (v: number) => LaunchArg;
  addBuf: (id: string, size: DimExpr) => LaunchArg;
  rows: (v: number) => DimExpr;
  node: (v: number) => Graph["nodes"][number];
  packW: number;
  scratch: Map<string, { n: Dim; per: number }>;
  pack: { c: number };
}

function planBackward(g: Graph, f: Fused, c: Ctx, unsupported: (why: string) => void): ModelProgram["backward"] {
  if (g.params.length === 0) return null;
  const uses = useCounts(g);
  for (const [v, n] of uses) if (n > 1 && v !== g.output) return unsupported(`value ${v} is used ${n} times (only chains get a compiled backward)`), null;
  // A logSoftmax over the last dim that ends the model is the loss's business: compileStep fuses
  // it with nn.NLLLoss into the softmax + cross-entropy kernel, so the backward starts at its input.
  const last = [...f.groups].reverse().find((gr) => gr.kind !== "view");
  const head = last?.kind === "softmax" && last.log && c.root(g.output) === last.out ? last : null;
  for (const gr of f.groups) {
    if (gr.kind === "softmax" && gr !== head) return unsupported("softmax inside the model has no compiled backward (end the model with logSoftmax and train with nn.NLLLoss, or train the logits with nn.CrossEntropyLoss)"), null;
    if (gr.kind === "ew" && !singleAct(gr)) return unsupported(`the elementwise chain ${gr.covers.join(" + ")} has no compiled backward`), null;
  }
  if (c.node(c.root(g.output)).op === "input") return null;

  // Values downstream of a parameter: only they need a gradient (a layer's ∂X is skipped otherwise).
  const needed = gradientNeeded(f, c.root);
  const needs = (v: number) => needed.has(c.root(v));

  const alias = new Map<number, LaunchArg>();
  const gradArg = (v: number): LaunchArg => {
    const r = c.root(v);
    return alias.get(r) ?? c.addBuf(`g${r}`, numel(c.node(r).shape));
  };
  const fusedAct = new Set<Group>();
  // The activation that produced `v` (a Linear's or Conv2d's fused one, or a lone activation):
  // the kernel that writes ∂v applies its backward in its epilogue.
  const producerAct = (v: number): { group: Group; act: Act } | null => {
    const r = c.root(v);
    const p = c.producer.get(r);
    if (!p || p.out !== r) return null;
    const act = p.kind === "linear" || p.kind === "conv" ? p.act : singleAct(p);
    return act ? { group: p, act } : null;
  };
  const bc: BackwardCtx = {
    name: (base, text) => c.k.name(base, text),
    arg: c.arg,
    gradArg,
    needs,
    producerAct,
    fusedAct,
    node: c.node,
    root: c.root,
    scratch: (id, n, per) => {
      // One buffer per id; a layer with another batch dim (not in a chain) gets its own.
      let key = id;
      for (let i = 2; c.scratch.has(key) && c.scratch.get(key)!.n !== n; i++) key = `${id}_${i}`;
      const s = c.scratch.get(key);
      c.scratch.set(key, { n, per: Math.max(per, s?.per ?? 0) });
      return { buf: key };
    },
    pack: (n) => void (c.pack.c = Math.max(c.pack.c, n)),
  };
  const launches: Launch[] = [];
  const groups = [...f.groups].reverse();
  for (const gr of groups) {
    const covers = `∂(${gr.covers.join(" + ")})`;
    if (gr.kind === "view" || gr === head) continue;
    if (gr.kind === "ew") {
      const act = singleAct(gr)!;
      const x = gr.inputs[0]!;
      if (fusedAct.has(gr)) alias.set(c.root(x), gradArg(gr.out));
      else if (needs(x)) {
        const kernel = c.k.name(`${act}_backward`, actBackwardKernel(act));
        launches.push({ kernel, covers, args: [gradArg(x), { list: [gradArg(gr.out), c.arg(gr.out)] }, int(numel(c.node(gr.out).shape)), none] });
      }
      continue;
    }
    if (gr.kind === "conv") {
      launches.push(convBackward(gr, bc));
      continue;
    }
    if (gr.kind === "pool") {
      const l = poolBackward(gr, bc);
      if (l) launches.push(l);
      continue;
    }
    if (gr.kind !== "linear") continue;
    const n = gr.node;
    // ∂Z: the output's gradient through the activation (already applied when fused upstream).
    let dz: LaunchArg = gradArg(gr.out);
    if (gr.act && !fusedAct.has(gr)) {
      const kernel = c.k.name(`${gr.act}_backward`, actBackwardKernel(gr.act));
      dz = c.addBuf(`z${gr.out}`, numel(c.node(gr.out).shape));
      launches.push({ kernel, covers: `∂${gr.act}`, args: [dz, { list: [gradArg(gr.out), c.arg(gr.out)] }, int(numel(c.node(gr.out).shape)), none] });
    }
    const rows = c.rows(gr.x);
    const packX = c.addBuf(`packX${gr.out}`, numel(c.node(gr.x).shape));
    launches.push({
      kernel: c.k.name(`linear_grad${n.bias ? "" : "_nobias"}`, linearGradKernel(n.bias !== null)),
      covers: `∂${n.weight}${n.bias ? ` + ∂${n.bias}` : ""}`,
      args: [{ grad: n.weight }, int(0), dz, int(0), c.arg(gr.x), int(0), int(n.outF), int(rows), int(n.inF), packX, none, none, n.bias ? { grad: n.bias } : none],
    });
    if (!needs(gr.x)) continue;
    // ∂X = ∂Z · W, with the producer's activation backward fused in where it's an activation.
    const pa = producerAct(gr.x);
    const fuseAct = pa?.act ?? null;
    if (pa) fusedAct.add(pa.group);
    launches.push({
      kernel: c.k.name(`linear_input_grad${fuseAct ? `_${fuseAct}` : ""}`, linearInputGradKernel(fuseAct)),
      covers: `∂${c.node(c.root(gr.x)).layer?.path ?? "x"}${fuseAct ? ` through ${fuseAct}` : ""}`,
      args: [gradArg(gr.x), int(0), dz, int(0), { param: n.weight }, int(0), int(rows), int(n.outF), int(n.inF), { buf: "packW" }, none, fuseAct ? c.arg(gr.x) : none, none],
    });
  }
  if (head) return { grad: (gradArg(head.x) as { buf: string }).buf, launches, head: { logSoftmax: (c.arg(head.x) as { buf: string }).buf } };
  const out = gradArg(g.output);
  return { grad: (out as { buf: string }).buf, launches };
}

/** A buffer size as its run-time symbols and a factor (`"B*128"` → `B`, 128): sizes with the same symbols compare. */
function sizeParts(s: DimExpr): { syms: string; k: number } {
  if (typeof s === "number") return { syms: "", k: s };
  let k = 1;
  const syms: string[] = [];
  for (const f of s.split("*")) {
    const t = f.trim();
    const n = Number(t);
    if (t !== "" && Number.isFinite(n)) k *= n;
    else syms.push(t);
  }
  return { syms: syms.sort().join("*"), k };
}

// The GEMM packing scratch: left alone (the WebGPU path never makes it; sharing it would make it real there).
const SCRATCH = /^(packW|packC|packX\d+|dwT|dcols)(_\d+)?$/;

/**
 * Buffer reuse by liveness: forward buffers whose lifetimes (first to last launch that names
 * them; the output's runs past the forward, where the caller and the loss read it) don't overlap
 * share one buffer, sized for the largest, by a first-fit scan in order of first use. Left
 * alone: the im2col buffers (the conv kernel writes only the patches' inside and relies on the
 * zero padding staying), the GEMM packing scratch, and, in a program with a backward, every
 * buffer the backward names (it reads the forward's values after the forward). Only sizes over
 * the same symbols share (`B*128` with `B*6272`, not with `200704`). Null when nothing shares.
 */
function shareStorage(buffers: readonly { id: string; size: DimExpr }[], forward: readonly Launch[], output: string, backward: ModelProgram["backward"]) {
  const pinned = new Set<string>(buffers.filter((b) => b.id.startsWith("cols") || SCRATCH.test(b.id)).map((b) => b.id));
  const named = (a: LaunchArg, f: (id: string) => void): void => {
    if ("buf" in a) f(a.buf);
    else if ("list" in a) for (const x of a.list) named(x, f);
  };
  if (backward) {
    pinned.add(backward.grad);
    if (backward.head) pinned.add(backward.head.logSoftmax);
    for (const l of backward.launches) for (const a of l.args) named(a, (id) => pinned.add(id));
  }
  const uses = new Map<string, number[]>();
  forward.forEach((l, t) => l.args.forEach((a) => named(a, (id) => uses.set(id, [...(uses.get(id) ?? []), t]))));
  const lives = (id: string): [number, number][] => {
    const u = uses.get(id)!;
    return [[u[0]!, id === output ? forward.length : u[u.length - 1]!]];
  };
  const overlap = (a: [number, number][], b: [number, number][]) => a.some(([s, e]) => b.some(([s2, e2]) => s <= e2 && s2 <= e));
  const slots: { id: string; syms: string; k: number; lives: [number, number][]; n: number }[] = [];
  const slotOf = new Map<string, (typeof slots)[number]>();
  const order = buffers.filter((b) => uses.has(b.id) && !pinned.has(b.id)).sort((a, b) => uses.get(a.id)![0]! - uses.get(b.id)![0]!);
  for (const b of order) {
    const p = sizeParts(b.size);
    const lv = lives(b.id);
    // First fit, preferring a buffer that needn't grow.
    const fits = slots.filter((s) => s.syms === p.syms && !overlap(s.lives, lv));
    const s = fits.find((x) => x.k >= p.k) ?? fits[0];
    if (s) {
      s.k = Math.max(s.k, p.k);
      s.lives.push(...lv);
      s.n++;
      slotOf.set(b.id, s);
    } else {
      const n = { id: b.id, syms: p.syms, k: p.k, lives: lv, n: 1 };
      slots.push(n);
      slotOf.set(b.id, n);
    }
  }
  if (slots.length === order.length) return null;
  // A buffer several values share is named `s0`, `s1`, ... (no value's id: the program reads as it runs).
  slots.filter((s) => s.n > 1).forEach((s, i) => (s.id = `s${i}`));
  const rename = (id: string) => slotOf.get(id)?.id ?? id;
  const re = (a: LaunchArg): LaunchArg => ("buf" in a ? { buf: rename(a.buf) } : "list" in a ? { list: a.list.map(re) } : a);
  const out: { id: string; size: DimExpr }[] = [];
  for (const b of buffers) {
    const s = slotOf.get(b.id);
    if (!s || s.n === 1) out.push(b);
    else if (!out.some((o) => o.id === s.id)) out.push({ id: s.id, size: s.syms === "" ? s.k : s.k === 1 ? s.syms : `${s.syms}*${s.k}` });
  }
  return { buffers: out, forward: forward.map((l) => ({ ...l, args: l.args.map(re) })), rename };
}
