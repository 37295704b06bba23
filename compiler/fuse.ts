/**
 * Fusion, a pure pass over the graph IR: a Linear followed by an activation becomes one matrix
 * product with a bias + activation epilogue; chains of elementwise ops become one loop; views
 * (flatten, identity, dropout in eval) cost nothing; softmax is one row kernel.
 */
import type { BinaryFn, Graph, Node, NodeOf, UnaryFn } from "./ir.js";
import { useCounts } from "./ir.js";

/** Activations whose backward needs only their output (so they fuse into a matmul epilogue both ways). */
export type Act = "relu" | "sigmoid" | "tanh";
export const ACTS: readonly string[] = ["relu", "sigmoid", "tanh"];

/** An operand of an elementwise step: a group input, an earlier step, or a literal. */
export type Operand = { readonly in: number } | { readonly step: number } | { readonly num: number };

/** One step of an elementwise chain. */
export interface EwStep {
  readonly fn: UnaryFn | BinaryFn;
  readonly a: Operand;
  readonly b?: Operand;
}

export type Group =
  | { readonly kind: "linear"; readonly node: NodeOf<"linear">; readonly x: number; out: number; act: Act | null; readonly covers: string[] }
  | { readonly kind: "conv"; readonly node: NodeOf<"conv2d">; readonly x: number; out: number; act: Act | null; readonly covers: string[] }
  | { readonly kind: "pool"; readonly node: NodeOf<"pool2d">; readonly x: number; readonly out: number; readonly covers: string[] }
  | { readonly kind: "ew"; readonly inputs: number[]; out: number; readonly steps: EwStep[]; readonly covers: string[] }
  | { readonly kind: "softmax"; readonly x: number; readonly out: number; readonly log: boolean; readonly covers: string[] }
  | { readonly kind: "view"; readonly x: number; readonly out: number; readonly covers: string[] };

/** A graph cut into fused groups (each non-view group is one kernel launch). */
export interface Fused {
  readonly graph: Graph;
  readonly groups: readonly Group[];
}

/** How a node reads in kernel reports: `0 Linear(784→256)`, `relu (line 12)`. */
export function describeNode(n: Node): string {
  if (n.layer) return `${n.layer.path} ${n.layer.label}`;
  const what = n.op === "unary" || n.op === "binary" || n.op === "scalar" ? n.fn : n.op === "softmax" && n.log ? "logSoftmax" : n.op;
  return `${what} (line ${n.loc.line})`;
}

/** Cuts a graph into fused groups. */
export function fuse(graph: Graph): Fused {
  const uses = useCounts(graph);
  const producer = new Map<number, Group>();
  const groups: Group[] = [];
  const open = (g: Group, out: number) => {
    groups.push(g);
    producer.set(out, g);
  };
  const single = (v: number) => uses.get(v) === 1 && v !== graph.output;
  for (const n of graph.nodes) {
    const label = describeNode(n);
    switch (n.op) {
      case "input":
        break;
      case "linear":
        open({ kind: "linear", node: n, x: n.x, out: n.id, act: null, covers: [label] }, n.id);
        break;
      case "conv2d":
        open({ kind: "conv", node: n, x: n.x, out: n.id, act: null, covers: [label] }, n.id);
        break;
      case "pool2d":
        open({ kind: "pool", node: n, x: n.x, out: n.id, covers: [label] }, n.id);
        break;
      case "view":
        open({ kind: "view", x: n.x, out: n.id, covers: [label] }, n.id);
        break;
      case "softmax":
        open({ kind: "softmax", x: n.x, out: n.id, log: n.log, covers: [label] }, n.id);
        break;
      case "unary":
      case "scalar":
      case "binary": {
        const p = producer.get(n.x);
        // Bias + activation into the matmul's epilogue.
        if (n.op === "unary" && ACTS.includes(n.fn) && (p?.kind === "linear" || p?.kind === "conv") && p.act === null && p.out === n.x && single(n.x)) {
          p.act = n.fn as Act;
          p.out = n.id;
          p.covers.push(label);
          producer.set(n.id, p);
          break;
        }
        // Extend an elementwise chain whose last value only this node reads.
        if (p?.kind === "ew" && p.out === n.x && single(n.x) && (n.op !== "binary" || p.inputs.length < 4 || p.inputs.includes(n.y))) {
          const a: Operand = { step: p.steps.length - 1 };
          p.steps.push(stepOf(n, a, p.inputs));
          p.out = n.id;
          p.covers.push(label);
          producer.set(n.id, p);
          break;
        }
        const inputs = [n.x];
        open({ kind: "ew", inputs, out: n.id, steps: [stepOf(n, { in: 0 }, inputs)], covers: [label] }, n.id);
        break;
      }
    }
  }
  return { graph, groups };
}

function stepOf(n: NodeOf<"unary"> | NodeOf<"scalar"> | NodeOf<"binary">, a: Operand, inputs: number[]): EwStep {
  if (n.op === "unary") return { fn: n.fn, a };
  if (n.op === "scalar") return n.reversed ? { fn: n.fn, a: { num: n.value }, b: a } : { fn: n.fn, a, b: { num: n.value } };
  let k = inputs.indexOf(n.y);
  if (k < 0) {
    inputs.push(n.y);
    k = inputs.length - 1;
  }
  return { fn: n.fn, a, b: { in: k } };
}

/** Kernel launches of a fused forward (views are free). */
export function forwardLaunches(f: Fused): number {
  return f.groups.filter((g) => g.kind !== "view").length;
}

/**
 * The group that produces each value, and `root(v)`: the value a view chain starting at `v`
 * reads (views share their source's buffer).
 *
 * @example
 * const { producer, root } = producersOf(fuse(graph));
 */
export function producersOf(f: Fused): { producer: Map<number, Group>; root: (v: number) => number } {
  const producer = new Map<number, Group>();
  for (const g of f.groups) producer.set(g.out, g);
  const root = (v: number): number => {
    let r = v;
    for (let p = producer.get(r); p?.kind === "view"; p = producer.get(r)) r = p.x;
    return r;
  };
  return { producer, root };
}

/**
 * The values downstream of a parameter (by their roots): only they need a gradient, so a
 * layer's ∂input is skipped where its input is not among them.
 *
 * @example
 * const needed = gradientNeeded(f, producersOf(f).root);
 */
export function gradientNeeded(f: Fused, root: (v: number) => number): Set<number> {
  const needed = new Set<number>();
  for (const g of f.groups) {
    if (g.kind === "view") continue;
    const ins = g.kind === "ew" ? g.inputs : [g.x];
    if (g.kind === "linear" || g.kind === "conv" || ins.some((v) => needed.has(root(v)))) needed.add(g.out);
  }
  return needed;
}

/**
 * The activation of a group that is one activation alone (`x.relu()` after a pool, say), else null.
 *
 * @example
 * singleAct(group); // "relu"
 */
export function singleAct(g: Group): Act | null {
  return g.kind === "ew" && g.steps.length === 1 && !g.steps[0]!.b && ACTS.includes(g.steps[0]!.fn) ? (g.steps[0]!.fn as Act) : null;
}
