/**
 * The front end: reads a module with ts-morph, finds the exported models — `nn.Sequential(...)`
 * expressions (positional and named) and `nn.Module` subclasses whose fields are layers and whose
 * `forward` is straight-line code — and builds one graph IR per model, with every shape read from
 * the type checker. What it can't analyse becomes a coded diagnostic and that model is skipped
 * (it runs op by op). With `write.ts`, the only file that touches ts-morph.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  type CallExpression,
  type ClassDeclaration,
  type Diagnostic as TsDiagnostic,
  type DiagnosticMessageChain,
  type Expression,
  Node as TsNode,
  Project,
  type SourceFile,
  SyntaxKind,
  type Type,
} from "ts-morph";
import { chainMsg, linearMsg } from "../types/layers.js";
import { CompileError, type Code, type Diagnostic } from "./diagnostics.js";
import type { BinaryFn, Dim, Graph, LayerRef, Loc, Node, UnaryFn } from "./ir.js";
import { numel, shapeText } from "./ir.js";

// ---------------------------------------------------------------------------------------------
// project
// ---------------------------------------------------------------------------------------------

/** The nearest `tsconfig.json` at or above `dir`. */
export function findTsConfig(dir: string): string | undefined {
  let d = resolve(dir);
  for (;;) {
    const f = join(d, "tsconfig.json");
    if (existsSync(f)) return f;
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

/**
 * A ts-morph project for `files`, with the compiler options (and `paths`) of the nearest
 * tsconfig.json, but only these files as roots (their imports are resolved on demand).
 */
export function createProject(files: readonly string[], tsConfigFilePath?: string): Project {
  const cfg = tsConfigFilePath ?? (files[0] ? findTsConfig(dirname(files[0])) : undefined);
  const project = cfg ? new Project({ tsConfigFilePath: cfg, skipAddingFilesFromTsConfig: true }) : new Project({ compilerOptions: { strict: true } });
  for (const f of files) project.addSourceFileAtPath(f);
  return project;
}

// ---------------------------------------------------------------------------------------------
// helpers over types
// ---------------------------------------------------------------------------------------------

function locOf(n: TsNode): Loc {
  const sf = n.getSourceFile();
  const { line, column } = sf.getLineAndColumnAtPos(n.getStart());
  return { file: sf.getFilePath(), line, column };
}

/** The class name of a typetorch layer type (`Linear`, `Sequential`, ...), looking through intersections. */
function layerClass(t: Type): string | undefined {
  const parts = t.isIntersection() ? t.getIntersectionTypes() : [t];
  for (const p of parts) {
    const s = p.getSymbol() ?? p.getAliasSymbol();
    if (!s) continue;
    const fromTypetorch = s.getDeclarations().some((d) => /[\\/](runtime[\\/]nn|typetorch[\\/]dist[\\/]runtime[\\/]nn)[\\/]/.test(d.getSourceFile().getFilePath()));
    if (fromTypetorch) return s.getName();
  }
  return undefined;
}

/** Is `t` a typetorch module type (a layer or a model)? */
function isModuleType(t: Type): boolean {
  const parts = t.isIntersection() ? t.getIntersectionTypes() : [t];
  return parts.some((p) => p.getProperty("namedParameters") !== undefined && p.getProperty("forward") !== undefined);
}

function literalNumber(t: Type): number | undefined {
  return t.isNumberLiteral() ? (t.getLiteralValue() as number) : undefined;
}

/** The shape and dtype in a Tensor type, read from its `shape` and `dtype` properties. */
function tensorInfo(t: Type, at: TsNode): { shape: Dim[] | null; dtype: string | undefined } | undefined {
  const sp = t.getProperty("shape");
  const dp = t.getProperty("dtype");
  if (!sp || !dp || !t.getProperty("matmul")) return undefined;
  const st = sp.getTypeAtLocation(at);
  const dt = dp.getTypeAtLocation(at);
  const dtype = dt.isStringLiteral() ? (dt.getLiteralValue() as string) : undefined;
  if (!st.isTuple()) return { shape: null, dtype };
  const shape = st.getTupleElements().map((e, i): Dim => {
    const v = literalNumber(e);
    if (v !== undefined) return v;
    if (e.isTypeParameter()) return e.getSymbol()?.getName() ?? (i === 0 ? "B" : `D${i}`);
    return i === 0 ? "B" : `D${i}`;
  });
  return { shape, dtype };
}

/** Follows identifiers to the initializer of their `const`/`let` declaration. */
function resolveInit(e: Expression): Expression {
  let cur: Expression = e;
  for (let i = 0; i < 10; i++) {
    if (TsNode.isParenthesizedExpression(cur) || TsNode.isAsExpression(cur) || TsNode.isNonNullExpression(cur) || TsNode.isSatisfiesExpression(cur)) {
      cur = cur.getExpression();
      continue;
    }
    if (!TsNode.isIdentifier(cur)) return cur;
    const decl = cur.getSymbol()?.getDeclarations()[0];
    const init = decl && TsNode.isVariableDeclaration(decl) ? decl.getInitializer() : undefined;
    if (!init) return cur;
    cur = init;
  }
  return cur;
}

function unwrap(e: Expression): Expression {
  let cur = e;
  while (TsNode.isParenthesizedExpression(cur) || TsNode.isAsExpression(cur) || TsNode.isNonNullExpression(cur) || TsNode.isSatisfiesExpression(cur)) cur = cur.getExpression();
  return cur;
}

/** A numeric literal (or `-literal`, or a const whose type is a number literal). */
function numberValue(e: Expression): number | undefined {
  const u = unwrap(e);
  if (TsNode.isNumericLiteral(u)) return Number(u.getLiteralValue());
  if (TsNode.isPrefixUnaryExpression(u) && u.getOperatorToken() === SyntaxKind.MinusToken) {
    const v = numberValue(u.getOperand() as Expression);
    return v === undefined ? undefined : -v;
  }
  return literalNumber(u.getType());
}

// ---------------------------------------------------------------------------------------------
// layers
// ---------------------------------------------------------------------------------------------

type LayerSpec =
  | { kind: "linear"; inF: number; outF: number; bias: boolean }
  | { kind: "act"; fn: UnaryFn; name: string }
  | { kind: "view"; why: "identity" | "dropout"; name: string }
  | { kind: "flatten"; start: number; end: number }
  | { kind: "softmax"; dim: number; log: boolean }
  | { kind: "conv2d"; inC: number; outC: number; k: [number, number]; s: [number, number]; p: [number, number] | "same"; d: [number, number]; bias: boolean }
  | { kind: "pool2d"; mode: "max" | "avg"; k: [number, number]; s: [number, number]; p: [number, number]; d: [number, number]; includePad: boolean; divisor: number | null }
  | { kind: "sequential"; entries: { name: string; expr: Expression; at: TsNode }[] };

const ACTS: Record<string, UnaryFn> = { ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh" };

// ---------------------------------------------------------------------------------------------
// graph building
// ---------------------------------------------------------------------------------------------

type NodeInit = Node extends infer N ? (N extends Node ? Omit<N, "id"> : never) : never;

class Builder {
  readonly nodes: Node[] = [];
  readonly params: { key: string; shape: number[] }[] = [];
  evalOnly = false;
  constructor(readonly model: string) {}

  add(n: NodeInit): number {
    const id = this.nodes.length;
    this.nodes.push({ ...n, id } as unknown as Node);
    return id;
  }
  node(v: number): Node {
    return this.nodes[v]!;
  }
  fail(code: Code, message: string, at: TsNode, layer?: string): never {
    throw new CompileError({ code, message, loc: locOf(at), model: this.model, ...(layer !== undefined ? { layer } : {}), severity: "error" });
  }

  /** Reads a layer expression (its type, and its syntax where the type doesn't say). */
  spec(expr: Expression | undefined, type: Type, at: TsNode, where: string): LayerSpec {
    const cls = layerClass(type);
    const prop = (name: string) => {
      const p = type.getProperty(name);
      return p ? p.getTypeAtLocation(at) : undefined;
    };
    const lit = (name: string, what: string): number => {
      const t = prop(name);
      const v = t ? literalNumber(t) : undefined;
      if (v === undefined) this.fail("TT1005", `${what}: ${name} is not a literal type (got ${t?.getText() ?? "nothing"})`, at, where);
      return v;
    };
    switch (cls) {
      case "Linear": {
        const inF = lit("inFeatures", "Linear");
        const outF = lit("outFeatures", "Linear");
        let bias = true;
        const call = expr ? resolveInit(expr) : undefined;
        if (call && (TsNode.isCallExpression(call) || TsNode.isNewExpression(call))) {
          const b = call.getArguments()[2];
          if (b && TsNode.isFalseLiteral(b)) bias = false;
          if (b && TsNode.isObjectLiteralExpression(b)) {
            const p = b.getProperty("bias");
            if (p && TsNode.isPropertyAssignment(p) && TsNode.isFalseLiteral(p.getInitializerOrThrow())) bias = false;
          }
        }
        return { kind: "linear", inF, outF, bias };
      }
      case "ReLU":
      case "Sigmoid":
      case "Tanh":
        return { kind: "act", fn: ACTS[cls]!, name: `${cls}()` };
      case "Identity":
        return { kind: "view", why: "identity", name: "Identity()" };
      case "Dropout":
        return { kind: "view", why: "dropout", name: "Dropout()" };
      case "Flatten":
        return { kind: "flatten", start: lit("startDim", "Flatten"), end: lit("endDim", "Flatten") };
      case "Conv2d":
        return this.convSpec(expr, at, where, lit("inChannels", "Conv2d"), lit("outChannels", "Conv2d"));
      case "MaxPool2d":
      case "AvgPool2d":
        return this.poolSpec(expr, at, where, cls === "MaxPool2d" ? "max" : "avg");
      case "Softmax":
      case "LogSoftmax":
        return { kind: "softmax", dim: lit("dim", cls), log: cls === "LogSoftmax" };
      case "Sequential": {
        const call = expr ? resolveInit(expr) : undefined;
        if (!call || !(TsNode.isCallExpression(call) || TsNode.isNewExpression(call))) this.fail("TT1004", "an nn.Sequential whose layers are not written out in the file", at, where);
        return { kind: "sequential", entries: sequentialEntries(call as CallExpression, (m, n) => this.fail("TT1004", m, n, where)) };
      }
      default:
        this.fail("TT1002", `unknown layer type ${cls ?? type.getText(at)}`, at, where);
    }
  }

  /** The call that constructs a layer (its hyper-parameters are read from the syntax). */
  #ctorArgs(expr: Expression | undefined, at: TsNode, where: string, what: string): Expression[] {
    const call = expr ? resolveInit(expr) : undefined;
    if (!call || !(TsNode.isCallExpression(call) || TsNode.isNewExpression(call))) this.fail("TT1005", `${what}: its construction is not written out in the file (hyper-parameters unknown)`, at, where);
    return (call.getArguments() ?? []) as Expression[];
  }

  /** An int-or-pair argument (`3`, `[3, 5]`, a const of a literal type). */
  #pair(e: Expression | undefined, def: [number, number], at: TsNode, where: string, what: string): [number, number] {
    if (e === undefined) return def;
    const u = unwrap(resolveInit(e));
    const v = numberValue(u);
    if (v !== undefined) return [v, v];
    if (TsNode.isArrayLiteralExpression(u) && u.getElements().length === 2) {
      const [a, b] = u.getElements().map((x) => numberValue(x as Expression));
      if (a !== undefined && b !== undefined) return [a, b];
    }
    const t = u.getType();
    if (t.isTuple()) {
      const [a, b] = t.getTupleElements().map(literalNumber);
      if (a !== undefined && b !== undefined) return [a, b];
    }
    return this.fail("TT1005", `${what} is not a literal int or pair (${short(e.getText())})`, at, where);
  }

  /** The properties of an options object literal, by name. */
  #opts(e: Expression | undefined, at: TsNode, where: string, what: string, known: readonly string[]): Map<string, Expression> {
    const m = new Map<string, Expression>();
    if (e === undefined) return m;
    const u = unwrap(resolveInit(e));
    if (!TsNode.isObjectLiteralExpression(u)) return this.fail("TT1005", `${what}: options that are not an object literal (${short(e.getText())})`, at, where);
    for (const p of u.getProperties()) {
      if (!TsNode.isPropertyAssignment(p)) return this.fail("TT1005", `${what}: an option that is not \`name: value\``, p, where);
      const n = p.getName().replace(/^["']|["']$/g, "");
      if (!known.includes(n)) return this.fail("TT1004", `${what}: option ${n} is not compiled`, p, where);
      m.set(n, p.getInitializerOrThrow());
    }
    return m;
  }

  #bool(e: Expression | undefined, def: boolean, at: TsNode, where: string, what: string): boolean {
    if (e === undefined) return def;
    const u = unwrap(resolveInit(e));
    if (TsNode.isTrueLiteral(u)) return true;
    if (TsNode.isFalseLiteral(u)) return false;
    return this.fail("TT1005", `${what} is not a literal boolean`, at, where);
  }

  convSpec(expr: Expression | undefined, at: TsNode, where: string, inC: number, outC: number): LayerSpec {
    const a = this.#ctorArgs(expr, at, where, "Conv2d");
    const objArg = (e: Expression | undefined) => e !== undefined && TsNode.isObjectLiteralExpression(unwrap(resolveInit(e)));
    const known = ["stride", "padding", "dilation", "groups", "bias"];
    const o = objArg(a[3]) ? this.#opts(a[3], at, where, "Conv2d", known) : this.#opts(a[5], at, where, "Conv2d", known);
    const strideE = objArg(a[3]) ? o.get("stride") : (a[3] ?? o.get("stride"));
    const padE = objArg(a[3]) ? o.get("padding") : (a[4] ?? o.get("padding"));
    const groups = o.get("groups") ? numberValue(o.get("groups")!) : 1;
    if (groups !== 1) this.fail("TT1004", `Conv2d with groups ${o.get("groups")?.getText()}: only groups 1 is compiled`, at, where);
    let p: [number, number] | "same";
    const padU = padE ? unwrap(resolveInit(padE)) : undefined;
    if (padU && TsNode.isStringLiteral(padU)) p = padU.getLiteralValue() === "same" ? "same" : [0, 0];
    else p = this.#pair(padE, [0, 0], at, where, "Conv2d padding");
    return {
      kind: "conv2d", inC, outC,
      k: this.#pair(a[2], [0, 0], at, where, "Conv2d kernelSize"),
      s: this.#pair(strideE, [1, 1], at, where, "Conv2d stride"),
      p,
      d: this.#pair(o.get("dilation"), [1, 1], at, where, "Conv2d dilation"),
      bias: this.#bool(o.get("bias"), true, at, where, "Conv2d bias"),
    };
  }

  poolSpec(expr: Expression | undefined, at: TsNode, where: string, mode: "max" | "avg"): LayerSpec {
    const what = mode === "max" ? "MaxPool2d" : "AvgPool2d";
    const a = this.#ctorArgs(expr, at, where, what);
    const objArg = (e: Expression | undefined) => e !== undefined && TsNode.isObjectLiteralExpression(unwrap(resolveInit(e)));
    const known = ["padding", "dilation", "ceilMode", "countIncludePad", "divisorOverride"];
    const o = objArg(a[1]) ? this.#opts(a[1], at, where, what, known) : this.#opts(a[2], at, where, what, known);
    const k = this.#pair(a[0], [0, 0], at, where, `${what} kernelSize`);
    const sE = objArg(a[1]) || (a[1] && TsNode.isNullLiteral(unwrap(a[1]))) ? undefined : a[1];
    if (this.#bool(o.get("ceilMode"), false, at, where, `${what} ceilMode`)) this.fail("TT1004", `${what} with ceilMode: not compiled`, at, where);
    const dv = o.get("divisorOverride");
    const divisor = dv === undefined || TsNode.isNullLiteral(unwrap(dv)) ? null : (numberValue(dv) ?? this.fail("TT1005", `${what} divisorOverride is not a literal`, at, where));
    return {
      kind: "pool2d", mode, k,
      s: this.#pair(sE, k, at, where, `${what} stride`),
      p: this.#pair(o.get("padding"), [0, 0], at, where, `${what} padding`),
      d: this.#pair(o.get("dilation"), [1, 1], at, where, `${what} dilation`),
      includePad: this.#bool(o.get("countIncludePad"), true, at, where, `${what} countIncludePad`),
      divisor,
    };
  }

  /** `[B, C, H, W]` with literal C, H, W: the image dims, or a diagnostic. */
  #image(x: number, at: TsNode, path: string, label: string): { C: number; H: number; W: number } {
    const xs = this.node(x).shape;
    if (xs.length !== 4) this.fail("TT1004", `${label}: only batched [N, C, H, W] inputs are compiled, got ${shapeText(xs)}`, at, path);
    const [C, H, W] = xs.slice(1);
    if (typeof C !== "number" || typeof H !== "number" || typeof W !== "number") this.fail("TT1005", `${label}: the input's C, H, W are not literal types (got ${shapeText(xs)})`, at, path);
    return { C, H, W };
  }

  /** Applies a layer to value `x`; `path` is the layer's place in the model (for parameter keys). */
  layer(spec: LayerSpec, x: number, path: string, place: string | null, at: TsNode): number {
    const xs = this.node(x).shape;
    const loc = locOf(at);
    const wrap = (msg: string) => (place !== null ? chainMsg(place, msg) : `${path}: ${msg}`);
    switch (spec.kind) {
      case "linear": {
        const label = `Linear(${spec.inF}→${spec.outF})`;
        const layer: LayerRef = { path, label };
        if (xs.length === 0) this.fail("TT2001", wrap(`${label}: input must be at least 1-D, got []`), at, path);
        const k = xs[xs.length - 1]!;
        if (typeof k !== "number") this.fail("TT1005", `${label}: the input's last dim is not a literal type (got ${k} in ${shapeText(xs)})`, at, path);
        if (k !== spec.inF) this.fail("TT2001", wrap(linearMsg(label, `${spec.inF}`, `${k}`, shapeText(xs))), at, path);
        const weight = path ? `${path}.weight` : "weight";
        const bias = spec.bias ? (path ? `${path}.bias` : "bias") : null;
        this.params.push({ key: weight, shape: [spec.outF, spec.inF] });
        if (bias) this.params.push({ key: bias, shape: [spec.outF] });
        return this.add({ op: "linear", x, weight, bias, inF: spec.inF, outF: spec.outF, shape: [...xs.slice(0, -1), spec.outF], layer, loc });
      }
      case "act":
        return this.add({ op: "unary", fn: spec.fn, x, shape: xs, layer: { path, label: spec.name }, loc });
      case "view":
        if (spec.why === "dropout") this.evalOnly = true;
        return this.add({ op: "view", x, why: spec.why, shape: xs, layer: { path, label: spec.name }, loc });
      case "flatten":
        return this.flatten(x, spec.start, spec.end, at, { path, label: `Flatten(${spec.start}, ${spec.end})` });
      case "softmax":
        return this.softmax(x, spec.dim, spec.log, at, { path, label: `${spec.log ? "LogSoftmax" : "Softmax"}(${spec.dim})` });
      case "conv2d": {
        const label = `Conv2d(${spec.inC}→${spec.outC}, ${spec.k[0]}×${spec.k[1]})`;
        const { C, H, W } = this.#image(x, at, path, label);
        if (C !== spec.inC) this.fail("TT2001", wrap(`${label}: expected ${spec.inC} input channels, got ${shapeText(xs)}`), at, path);
        const [kh, kw] = spec.k;
        const [sh, sw] = spec.s;
        const [dh, dw] = spec.d;
        let ph: number, pw: number, Ho: number, Wo: number;
        if (spec.p === "same") {
          if (sh !== 1 || sw !== 1) this.fail("TT1004", `${label}: padding "same" needs stride 1`, at, path);
          [ph, pw, Ho, Wo] = [Math.floor((dh * (kh - 1)) / 2), Math.floor((dw * (kw - 1)) / 2), H, W];
        } else {
          [ph, pw] = spec.p;
          Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
          Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
        }
        if (!(Ho > 0 && Wo > 0)) this.fail("TT2001", wrap(`${label}: the kernel does not fit ${shapeText(xs)}`), at, path);
        const weight = path ? `${path}.weight` : "weight";
        const bias = spec.bias ? (path ? `${path}.bias` : "bias") : null;
        this.params.push({ key: weight, shape: [spec.outC, spec.inC, kh, kw] });
        if (bias) this.params.push({ key: bias, shape: [spec.outC] });
        const geom = { C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo };
        return this.add({ op: "conv2d", x, weight, bias, outC: spec.outC, geom, shape: [xs[0]!, spec.outC, Ho, Wo], layer: { path, label }, loc });
      }
      case "pool2d": {
        const label = `${spec.mode === "max" ? "MaxPool2d" : "AvgPool2d"}(${spec.k[0] === spec.k[1] ? spec.k[0] : `${spec.k[0]}×${spec.k[1]}`})`;
        const { C, H, W } = this.#image(x, at, path, label);
        const [kh, kw] = spec.k;
        const [sh, sw] = spec.s;
        const [ph, pw] = spec.p;
        const [dh, dw] = spec.d;
        const Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
        const Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
        if (!(Ho > 0 && Wo > 0)) this.fail("TT2001", wrap(`${label}: the window does not fit ${shapeText(xs)}`), at, path);
        const geom = { C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo };
        const shape = [xs[0]!, C, Ho, Wo];
        if (spec.mode === "max") return this.add({ op: "pool2d", x, mode: "max", geom, shape, layer: { path, label }, loc });
        // PyTorch's avg_pool2d windows (as runtime/ops/pool.ts computes them), fixed by the literal shape.
        const axis = (n: number, k: number, s: number, p: number, on: number) => {
          const lo: number[] = [], hi: number[] = [], padded: number[] = [];
          for (let o = 0; o < on; o++) {
            const a = o * s - p;
            const b = Math.min(a + k, n + p);
            padded.push(b - a);
            lo.push(Math.max(a, 0));
            hi.push(Math.max(Math.min(b, n), lo[o]!));
          }
          return { lo, hi, padded };
        };
        const r = axis(H, kh, sh, ph, Ho);
        const c = axis(W, kw, sw, pw, Wo);
        const divisors: number[] = [];
        for (let i = 0; i < Ho; i++) {
          for (let j = 0; j < Wo; j++) {
            const inside = (r.hi[i]! - r.lo[i]!) * (c.hi[j]! - c.lo[j]!);
            divisors.push(inside === 0 ? 1 : spec.divisor !== null ? spec.divisor : spec.includePad ? r.padded[i]! * c.padded[j]! : inside);
          }
        }
        return this.add({ op: "pool2d", x, mode: "avg", geom, rows: [r.lo, r.hi], cols: [c.lo, c.hi], divisors, shape, layer: { path, label }, loc });
      }
      case "sequential": {
        let v = x;
        for (const e of spec.entries) {
          const childPath = path ? `${path}.${e.name}` : e.name;
          const s = this.spec(e.expr, e.expr.getType(), e.at, childPath);
          v = this.layer(s, v, childPath, place === null ? e.name : `${place}][${e.name}`, e.at);
        }
        return v;
      }
    }
  }

  flatten(x: number, start: number, end: number, at: TsNode, layer?: LayerRef): number {
    const xs = this.node(x).shape;
    const r = xs.length;
    const s = start < 0 ? start + r : start;
    const e = end < 0 ? end + r : end;
    if (r === 0) return this.add({ op: "view", x, why: "flatten", shape: [1], ...(layer ? { layer } : {}), loc: locOf(at) });
    if (!(s >= 0 && s < r && e >= 0 && e < r && s <= e)) this.fail("TT2001", `flatten: dims ${start}..${end} out of range for ${shapeText(xs)}`, at, layer?.path);
    const shape = [...xs.slice(0, s), numel(xs.slice(s, e + 1)), ...xs.slice(e + 1)];
    return this.add({ op: "view", x, why: "flatten", shape, ...(layer ? { layer } : {}), loc: locOf(at) });
  }

  softmax(x: number, dim: number, log: boolean, at: TsNode, layer?: LayerRef): number {
    const xs = this.node(x).shape;
    const d = dim < 0 ? dim + xs.length : dim;
    if (d !== xs.length - 1) this.fail("TT1004", `${log ? "logSoftmax" : "softmax"} over dim ${dim} of ${shapeText(xs)}: only the last dim is fused`, at, layer?.path);
    return this.add({ op: "softmax", x, log, shape: xs, ...(layer ? { layer } : {}), loc: locOf(at) });
  }

  elementwise(fn: UnaryFn | BinaryFn, x: number, other: Expression | undefined, env: (e: Expression) => number, at: TsNode, reversed = false): number {
    const xs = this.node(x).shape;
    const loc = locOf(at);
    if (other === undefined) return this.add({ op: "unary", fn: fn as UnaryFn, x, shape: xs, loc });
    const v = numberValue(other);
    if (v !== undefined) return this.add({ op: "scalar", fn: fn as BinaryFn, x, value: v, reversed, shape: xs, loc });
    const y = env(other);
    const ys = this.node(y).shape;
    if (ys.length !== xs.length || ys.some((d, i) => d !== xs[i])) this.fail("TT1008", `${fn} of ${shapeText(xs)} and ${shapeText(ys)}`, at);
    return this.add({ op: "binary", fn: fn as BinaryFn, x, y, shape: xs, loc });
  }

  graph(name: string, kind: Graph["kind"], loc: Loc, output: number): Graph {
    return { name, kind, loc, nodes: this.nodes, output, params: this.params, evalOnly: this.evalOnly };
  }
}

function sequentialEntries(call: CallExpression, fail: (msg: string, at: TsNode) => never): { name: string; expr: Expression; at: TsNode }[] {
  const args = call.getArguments() as Expression[];
  const first = args[0] ? resolveInit(args[0]) : undefined;
  if (args.length === 1 && first && TsNode.isObjectLiteralExpression(first)) {
    return first.getProperties().map((p) => {
      if (TsNode.isPropertyAssignment(p)) return { name: p.getName().replace(/^["']|["']$/g, ""), expr: p.getInitializerOrThrow(), at: p };
      if (TsNode.isShorthandPropertyAssignment(p)) return { name: p.getName(), expr: p.getNameNode() as unknown as Expression, at: p };
      return fail("a named nn.Sequential entry that is not `name: layer`", p);
    });
  }
  return args.map((a, i) => {
    if (TsNode.isSpreadElement(a)) return fail("a spread in nn.Sequential(...) (its layers are not known statically)", a);
    return { name: String(i), expr: a, at: a };
  });
}

const UNARY_METHODS = new Set<string>(["relu", "sigmoid", "tanh", "neg", "exp", "log", "abs", "sqrt"]);
const BINARY_METHODS = new Set<string>(["add", "sub", "mul", "div"]);

// ---------------------------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------------------------

function extractSequential(name: string, decl: TsNode, init: Expression, sf: SourceFile): Graph {
  const b: Builder = new Builder(name);
  const call = resolveInit(init) as CallExpression;
  const entries = sequentialEntries(call, (m, n) => b.fail("TT1004", m, n));
  // The input shape: from a call of the model in this file, else from the first layer.
  let input: Dim[] | null = null;
  const sym = (decl as unknown as { getNameNode(): TsNode }).getNameNode().getSymbol();
  for (const c of sf.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const callee = c.getExpression();
    if (!TsNode.isIdentifier(callee) || callee.getSymbol() !== sym || c.getArguments().length !== 1) continue;
    const arg = c.getArguments()[0]!;
    const info = tensorInfo(arg.getType(), arg);
    if (info?.shape) {
      if (info.dtype !== "float32") b.fail("TT1007", `${name} is called with a ${info.dtype ?? "non-literal"} tensor; compiled kernels are float32`, arg);
      input = info.shape;
      break;
    }
  }
  if (!input) {
    const e0 = entries[0];
    const s0 = e0 ? b.spec(e0.expr, e0.expr.getType(), e0.at, e0.name) : undefined;
    if (s0?.kind !== "linear") b.fail("TT1006", `can't tell ${name}'s input shape: call it in this file with a typed tensor, or start it with nn.Linear`, init);
    input = ["B", s0.inF];
  }
  let v = b.add({ op: "input", shape: input, loc: locOf(decl) });
  entries.forEach((e) => {
    const s = b.spec(e.expr, e.expr.getType(), e.at, e.name);
    v = b.layer(s, v, e.name, e.name, e.at);
  });
  return b.graph(name, "sequential", locOf(decl), v);
}

function extractModule(cls: ClassDeclaration): Graph {
  const name = cls.getName() ?? "default";
  const b: Builder = new Builder(name);
  const forward = cls.getMethod("forward");
  if (!forward) b.fail("TT1009", `${name} has no forward method of its own`, cls);
  const ps = forward.getParameters();
  if (ps.length !== 1) b.fail("TT1009", `${name}.forward takes ${ps.length} parameters; compiled models take one tensor`, forward);
  const p = ps[0]!;
  const info = tensorInfo(p.getType(), p);
  if (!info) b.fail("TT1009", `${name}.forward's parameter is not a Tensor`, p);
  if (!info.shape) b.fail("TT1006", `${name}.forward's parameter has no known rank (annotate it, e.g. x: Tensor<[B, 784]>)`, p);
  if (info.dtype !== "float32") b.fail("TT1007", `${name}.forward takes a ${info.dtype ?? "non-literal"} tensor; compiled kernels are float32`, p);
  const env = new Map<string, number>();
  env.set(p.getName(), b.add({ op: "input", shape: info.shape, loc: locOf(p) }));

  // Layer fields: declared properties (initialised in place or in the constructor).
  const ctorInits = new Map<string, Expression>();
  for (const c of cls.getConstructors()) {
    for (const bin of c.getDescendantsOfKind(SyntaxKind.BinaryExpression)) {
      const l = bin.getLeft();
      if (bin.getOperatorToken().getKind() === SyntaxKind.EqualsToken && TsNode.isPropertyAccessExpression(l) && l.getExpression().getKind() === SyntaxKind.ThisKeyword) ctorInits.set(l.getName(), bin.getRight());
    }
  }
  const fieldOf = (n: string) => {
    const d = cls.getProperty(n);
    if (!d) return undefined;
    return { type: d.getType(), init: d.getInitializer() ?? ctorInits.get(n), decl: d };
  };

  const expr = (e: Expression): number => {
    const u = unwrap(e);
    if (TsNode.isIdentifier(u)) {
      const v = env.get(u.getText());
      if (v === undefined) b.fail("TT1004", `${u.getText()} is not a tensor computed in forward`, u);
      return v;
    }
    if (TsNode.isElementAccessExpression(u)) b.fail("TT1003", `dynamic access ${u.getText()}`, u);
    if (!TsNode.isCallExpression(u)) b.fail("TT1004", `unsupported expression ${u.getKindName()} (${short(u.getText())})`, u);
    const callee = unwrap(u.getExpression());
    const args = u.getArguments() as Expression[];
    if (TsNode.isElementAccessExpression(callee)) b.fail("TT1003", `dynamic attribute access ${short(callee.getText())}`, callee);
    if (TsNode.isPropertyAccessExpression(callee)) {
      const obj = unwrap(callee.getExpression());
      const m = callee.getName();
      if (obj.getKind() === SyntaxKind.ThisKeyword) {
        const f = fieldOf(m);
        if (!f || !isModuleType(f.type)) b.fail("TT1004", `this.${m} is not a layer field of ${name}`, callee);
        if (args.length !== 1) b.fail("TT1004", `this.${m} called with ${args.length} arguments`, u);
        const x = expr(args[0]!);
        const s = b.spec(f.init, f.type, f.decl, m);
        return b.layer(s, x, m, null, u);
      }
      const objInfo = tensorInfo(obj.getType(), obj);
      if (objInfo) {
        const x = expr(obj);
        if (UNARY_METHODS.has(m) && args.length === 0) return b.elementwise(m as UnaryFn, x, undefined, expr, u);
        if (BINARY_METHODS.has(m) && args.length === 1) return b.elementwise(m as BinaryFn, x, args[0], expr, u);
        if (m === "flatten" && args.length <= 2) {
          const s = args[0] ? numberValue(args[0]) : 0;
          const en = args[1] ? numberValue(args[1]) : -1;
          if (s === undefined || en === undefined) b.fail("TT1005", `flatten with non-literal dims`, u);
          return b.flatten(x, s, en, u);
        }
        if ((m === "softmax" || m === "logSoftmax") && args.length === 1) {
          const d = numberValue(args[0]!);
          if (d === undefined) b.fail("TT1005", `${m} with a non-literal dim`, u);
          return b.softmax(x, d, m === "logSoftmax", u);
        }
        b.fail("TT1004", `Tensor.${m}(${args.length ? "…" : ""}) is not compiled`, u);
      }
      return functional(m, args, u);
    }
    if (TsNode.isIdentifier(callee)) return functional(callee.getText(), args, u);
    return b.fail("TT1004", `unsupported call ${short(u.getText())}`, u);
  };
  const functional = (m: string, args: Expression[], u: CallExpression): number => {
    if (UNARY_METHODS.has(m) && args.length === 1) return b.elementwise(m as UnaryFn, expr(args[0]!), undefined, expr, u);
    if ((m === "softmax" || m === "logSoftmax") && args.length === 2) {
      const d = numberValue(args[1]!);
      if (d === undefined) b.fail("TT1005", `${m} with a non-literal dim`, u);
      return b.softmax(expr(args[0]!), d, m === "logSoftmax", u);
    }
    return b.fail("TT1004", `${m}(...) is not compiled`, u);
  };

  const body = forward.getBody();
  if (!body || !TsNode.isBlock(body)) b.fail("TT1009", `${name}.forward has no body`, forward);
  let out: number | undefined;
  for (const st of body.getStatements()) {
    if (out !== undefined) b.fail("TT1001", "statements after return", st);
    if (TsNode.isVariableStatement(st)) {
      for (const d of st.getDeclarations()) {
        const init = d.getInitializer();
        const nn = d.getNameNode();
        if (!init || !TsNode.isIdentifier(nn)) b.fail("TT1004", "a declaration without a plain name and initializer", d);
        env.set(nn.getText(), expr(init));
      }
    } else if (TsNode.isExpressionStatement(st)) {
      const e = st.getExpression();
      if (TsNode.isBinaryExpression(e) && e.getOperatorToken().getKind() === SyntaxKind.EqualsToken && TsNode.isIdentifier(e.getLeft())) env.set(e.getLeft().getText(), expr(e.getRight()));
      else b.fail("TT1004", `unsupported statement (${short(st.getText())})`, st);
    } else if (TsNode.isReturnStatement(st)) {
      const e = st.getExpression();
      if (!e) b.fail("TT1009", "forward returns nothing", st);
      out = expr(e);
    } else {
      b.fail("TT1001", `${st.getKindName().replace(/Statement$/, "").toLowerCase()} statement in forward: only straight-line code is compiled`, st);
    }
  }
  if (out === undefined) b.fail("TT1009", `${name}.forward has no return`, forward);
  return b.graph(name, "module", locOf(cls), out);
}

function short(s: string): string {
  const one = s.replace(/\s+/g, " ");
  return one.length > 60 ? one.slice(0, 57) + "..." : one;
}

function extendsModule(cls: ClassDeclaration): boolean {
  let base = cls.getBaseClass();
  const h = cls.getExtends();
  if (!h) return false;
  if (/\bnn\.Module$|^Module$/.test(h.getExpression().getText())) return true;
  for (let i = 0; base && i < 10; i++) {
    if (base.getName() === "Module" && /[\\/]runtime[\\/]nn[\\/]/.test(base.getSourceFile().getFilePath())) return true;
    base = base.getBaseClass();
  }
  const t = h.getType();
  return isModuleType(t);
}

/** What extraction found in one file: a graph per analysable model, and diagnostics. */
export interface Extracted {
  readonly file: string;
  readonly graphs: Graph[];
  readonly diagnostics: Diagnostic[];
}

/**
 * Finds the exported models of `sf` and builds their graphs. A model the compiler can't analyse
 * gets a diagnostic (and no graph); other models still compile.
 */
export function extractModels(sf: SourceFile): Extracted {
  const graphs: Graph[] = [];
  const diagnostics: Diagnostic[] = [];
  const attempt = (fn: () => Graph) => {
    try {
      graphs.push(fn());
    } catch (e) {
      if (e instanceof CompileError) diagnostics.push(e.diagnostic);
      else throw e;
    }
  };
  for (const st of sf.getVariableStatements()) {
    if (!st.isExported()) continue;
    for (const d of st.getDeclarations()) {
      const init = d.getInitializer();
      if (!init) continue;
      if (layerClass(d.getType()) !== "Sequential") continue;
      attempt(() => extractSequential(d.getName(), d, init, sf));
    }
  }
  for (const cls of sf.getClasses()) {
    if (!cls.isExported() || cls.isAbstract() || !extendsModule(cls)) continue;
    attempt(() => extractModule(cls));
  }
  return { file: sf.getFilePath(), graphs, diagnostics };
}

// ---------------------------------------------------------------------------------------------
// check: type-check with the shape rules and report shape errors
// ---------------------------------------------------------------------------------------------

/** One problem `typetorch check` reports. */
export interface CheckIssue {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** `TT2001` for a shape error; `TSnnnn` for any other type error. */
  readonly code: string;
  /** The layer: `Sequential[2] Linear(255→10)`, or a Module field `fc2: Linear(255→10)`. */
  readonly layer?: string;
  readonly expected?: string;
  readonly got?: string;
  readonly message: string;
}

function flatten(m: string | DiagnosticMessageChain): string {
  if (typeof m === "string") return m;
  return [m.getMessageText(), ...(m.getNext() ?? []).map(flatten)].join("\n");
}

const SHAPE_MSG = /ShapeError(?:Brand)?<"((?:[^"\\]|\\.)*)">/;

function issueOf(d: TsDiagnostic): CheckIssue | undefined {
  const sf = d.getSourceFile();
  const start = d.getStart();
  if (!sf || start === undefined) return undefined;
  const { line, column } = sf.getLineAndColumnAtPos(start);
  const text = flatten(d.getMessageText());
  const m = SHAPE_MSG.exec(text);
  const base = { file: sf.getFilePath(), line, column };
  if (!m) return { ...base, code: `TS${d.getCode()}`, message: text.split("\n")[0]! };
  const message = m[1]!.replace(/\\"/g, '"');
  // "<layer>: <expected>, got <got>"
  const parts = /^(.*?): (.*?)(?:, got (.*))?$/.exec(message);
  let layer = parts?.[1];
  // A Module's field: name it by the `this.field(...)` call the error sits on.
  // (the call whose argument the error sits on, not a call inside that argument)
  const at = sf.getDescendantAtPos(start);
  const call = at?.getAncestors().find((a) => TsNode.isCallExpression(a) && a.getArguments().some((g) => g.getStart() <= start && start < g.getEnd()));
  const callee = call && TsNode.isCallExpression(call) ? call.getExpression() : undefined;
  if (layer && callee && TsNode.isPropertyAccessExpression(callee) && callee.getExpression().getKind() === SyntaxKind.ThisKeyword) layer = `${callee.getName()}: ${layer}`;
  return { ...base, code: "TT2001", message, ...(layer ? { layer } : {}), ...(parts?.[2] ? { expected: parts[2] } : {}), ...(parts?.[3] ? { got: parts[3] } : {}) };
}

/** Type-checks `files` and returns their problems, shape errors read into layer / expected / got. */
export function checkFiles(project: Project, files: readonly string[]): CheckIssue[] {
  const out: CheckIssue[] = [];
  for (const f of files) {
    const sf = project.getSourceFile(f) ?? project.addSourceFileAtPath(f);
    for (const d of project.getProgram().getSemanticDiagnostics(sf).concat(project.getProgram().getSyntacticDiagnostics(sf))) {
      const i = issueOf(d);
      if (i) out.push(i);
    }
  }
  return out.sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : a.file < b.file ? -1 : 1));
}
