/**
 * The compiler's graph IR: plain data, built only by `extract.ts` (from ts-morph) and read by the
 * pure passes (`fuse.ts`, `plan.ts`). One graph per exported model; values are node ids.
 */

/** A dim: a literal, a run-time symbol (`"B"`), or a product of those (`"B*256"`). */
export type Dim = number | string;

/** Where something is in the source. */
export interface Loc {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** The layer a node comes from: its path in the model (`"0"`, `"fc1"`, `"features.2"`) and its label. */
export interface LayerRef {
  readonly path: string;
  readonly label: string;
}

/** Elementwise unary ops the compiler reads (Tensor methods, functional forms, activation layers). */
export type UnaryFn = "relu" | "sigmoid" | "tanh" | "neg" | "exp" | "log" | "abs" | "sqrt";
/** Elementwise binary ops (tensor ⊙ tensor of one shape, or tensor ⊙ number). */
export type BinaryFn = "add" | "sub" | "mul" | "div";

interface Base {
  readonly id: number;
  readonly shape: readonly Dim[];
  readonly layer?: LayerRef;
  readonly loc: Loc;
}

/** A 2-D window (convolution or pooling) over a `[B, C, H, W]` image: kernel, stride, padding, dilation, in/out sizes. */
export interface Window2dGeom {
  readonly C: number; readonly H: number; readonly W: number;
  readonly kh: number; readonly kw: number; readonly sh: number; readonly sw: number;
  readonly ph: number; readonly pw: number; readonly dh: number; readonly dw: number;
  readonly Ho: number; readonly Wo: number;
}

export type Node =
  | (Base & { readonly op: "input" })
  | (Base & { readonly op: "linear"; readonly x: number; readonly weight: string; readonly bias: string | null; readonly inF: number; readonly outF: number })
  | (Base & { readonly op: "unary"; readonly fn: UnaryFn; readonly x: number })
  | (Base & { readonly op: "binary"; readonly fn: BinaryFn; readonly x: number; readonly y: number })
  | (Base & { readonly op: "scalar"; readonly fn: BinaryFn; readonly x: number; readonly value: number; readonly reversed: boolean })
  | (Base & { readonly op: "view"; readonly x: number; readonly why: "flatten" | "identity" | "dropout" })
  | (Base & { readonly op: "conv2d"; readonly x: number; readonly weight: string; readonly bias: string | null; readonly outC: number; readonly geom: Window2dGeom })
  | (Base & { readonly op: "pool2d"; readonly x: number; readonly mode: "max" | "avg"; readonly geom: Window2dGeom; readonly divisors?: readonly number[]; readonly rows?: readonly (readonly number[])[]; readonly cols?: readonly (readonly number[])[] })
  | (Base & { readonly op: "softmax"; readonly x: number; readonly log: boolean });

export type NodeOf<K extends Node["op"]> = Extract<Node, { op: K }>;

/** One model: its nodes in evaluation order (node 0 is the input), its output and parameters. */
export interface Graph {
  readonly name: string;
  readonly kind: "sequential" | "module";
  readonly loc: Loc;
  readonly nodes: readonly Node[];
  readonly output: number;
  readonly params: readonly { readonly key: string; readonly shape: readonly number[] }[];
  /** Has layers that behave differently in training (Dropout). */
  readonly evalOnly: boolean;
}

/** The number of elements of a shape, as a dim expression (`"B*256"`). */
export function numel(shape: readonly Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of shape) {
    if (typeof d === "number") n *= d;
    else syms.push(d);
  }
  if (syms.length === 0) return n;
  return n === 1 ? syms.join("*") : [...syms, String(n)].join("*");
}

/** `[B, 784]`. */
export function shapeText(shape: readonly Dim[]): string {
  return `[${shape.join(", ")}]`;
}

/** How many nodes read each value. */
export function useCounts(g: Graph): Map<number, number> {
  const uses = new Map<number, number>();
  const use = (v: number) => uses.set(v, (uses.get(v) ?? 0) + 1);
  for (const n of g.nodes) {
    if ("x" in n) use(n.x);
    if (n.op === "binary") use(n.y);
  }
  use(g.output);
  return uses;
}
