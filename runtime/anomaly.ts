/**
 * Anomaly detection, as PyTorch's `torch.autograd.detect_anomaly`: while it is on, every op's
 * output is checked for NaN and ±Inf in forward, and every gradient a backward node returns is
 * checked in backward. The first offender throws a `ValueError` naming the op:
 *
 * ```
 * detectAnomaly: mul produced NaN in forward, got 3 NaN values in shape [4, 5]
 * detectAnomaly: DivBackward0 produced Inf in backward, got 1 Inf value in shape [4] (the gradient of its input 1)
 * ```
 *
 * When an input of the op already held NaN/Inf (data that came in that way, or an op outside
 * the hooks below), the message says so. A backward error's `cause` carries the stack of the
 * forward call that recorded the node.
 *
 * Off (the default), it costs one boolean check per op. Forward checks run where elementwise ops
 * and reductions run (`runElementwise`, `runReduce`) and where any op records itself on the tape
 * (`record`: matmul, conv, pooling, cat, indexing, views — ops recorded because an input requires
 * grad); a kernel op run with no input requiring grad is not checked. Backward checks cover every
 * node. Only float tensors on the CPU are read (integer and bool tensors hold no NaN).
 */
import { ValueError } from "../types/errors.js";
import { shapeStr } from "../types/shape.js";
import type { AnyTensor } from "./tensorTypes.js";

/**
 * @internal The switch the op hooks read (`if (anomaly.on) ...`: one property read when off).
 * `suspended` is set while a backward pass runs: the ops inside a backward function are checked
 * as that node's result, not as forward ops.
 */
export const anomaly = { on: false, suspended: false };

/** Whether anomaly detection is on. */
export function isAnomalyEnabled(): boolean {
  return anomaly.on;
}

/**
 * Switches anomaly detection on or off for everything that runs from now on (PyTorch's
 * `torch.autograd.set_detect_anomaly`).
 *
 * @example
 * setDetectAnomaly(true);
 * loss.backward(); // throws at the first op that made a NaN or Inf
 * setDetectAnomaly(false);
 */
export function setDetectAnomaly(on: boolean): void {
  if (typeof on !== "boolean") throw new ValueError(`setDetectAnomaly: on must be a boolean, got ${typeof on}`);
  anomaly.on = on;
}

/**
 * Runs `fn` with anomaly detection on, and restores the previous setting after it (after the
 * promise settles, when `fn` returns one). PyTorch's `with torch.autograd.detect_anomaly():`.
 *
 * @example
 * detectAnomaly(() => {
 *   const loss = nn.functional.crossEntropy(model(x), y);
 *   loss.backward();
 * });
 * // ValueError: detectAnomaly: LogBackward0 produced NaN in backward, got 4 NaN values in shape [4, 10] (...)
 */
export function detectAnomaly<T>(fn: () => T): T {
  const prev = anomaly.on;
  anomaly.on = true;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    anomaly.on = prev;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      anomaly.on = prev;
    }) as T;
  }
  anomaly.on = prev;
  return result;
}

interface Count {
  nan: number;
  inf: number;
}

/** NaN and ±Inf counts of a float CPU tensor (any strides); zeros for other tensors. */
function count(t: AnyTensor): Count {
  const c: Count = { nan: 0, inf: 0 };
  if ((t.dtype !== "float32" && t.dtype !== "float64") || t.device !== "cpu") return c;
  const data = t._data as ArrayLike<number>;
  const shape = t.shape as readonly number[];
  const strides = t._strides;
  const n = shape.reduce((a, b) => a * b, 1);
  if (n === 0) return c;
  const visit = (v: number): void => {
    if (v !== v) c.nan++;
    else if (v === Infinity || v === -Infinity) c.inf++;
  };
  // Contiguous: one flat run.
  let contiguous = true;
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== acc) contiguous = false;
    acc *= shape[i]!;
  }
  if (contiguous) {
    for (let i = t._offset, end = t._offset + n; i < end; i++) visit(data[i]!);
    return c;
  }
  const idx = new Array<number>(shape.length).fill(0);
  let at = t._offset;
  for (let k = 0; k < n; k++) {
    visit(data[at]!);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) {
        at += strides[d]!;
        break;
      }
      at -= (shape[d]! - 1) * strides[d]!;
      idx[d] = 0;
    }
  }
  return c;
}

const plural = (n: number, what: string): string => `${n} ${what} value${n === 1 ? "" : "s"}`;

/** The kind found first (NaN before Inf) and its text, or undefined when all values are finite. */
function finding(t: AnyTensor): { kind: "NaN" | "Inf"; text: string } | undefined {
  const c = count(t);
  if (c.nan > 0) return { kind: "NaN", text: `${plural(c.nan, "NaN")} in shape ${shapeStr(t.shape)}` };
  if (c.inf > 0) return { kind: "Inf", text: `${plural(c.inf, "Inf")} in shape ${shapeStr(t.shape)}` };
  return undefined;
}

/**
 * The note on inputs that already held non-finite values (they were not made by this op). An
 * input sharing the output's storage (an in-place op) was overwritten, so it is not read.
 */
function inputNote(out: AnyTensor, inputs: readonly (AnyTensor | null | undefined)[]): string {
  const notes: string[] = [];
  inputs.forEach((x, i) => {
    if (!x || x._data === out._data) return;
    const c = count(x);
    if (c.nan > 0) notes.push(`input ${i} already had ${plural(c.nan, "NaN")}`);
    else if (c.inf > 0) notes.push(`input ${i} already had ${plural(c.inf, "Inf")}`);
  });
  return notes.length > 0 ? ` (${notes.join(", ")})` : "";
}

// The output an elementwise op or a reduction checked last: such an op checks its output, then
// records it on the tape, where `checkRecorded` would read the same tensor again.
let lastChecked: AnyTensor | undefined;

function throwIfNonFinite(op: string, out: AnyTensor, inputs: readonly (AnyTensor | null | undefined)[]): void {
  const f = finding(out);
  if (f) throw new ValueError(`detectAnomaly: ${op} produced ${f.kind} in forward, got ${f.text}${inputNote(out, inputs)}`);
}

/** @internal Forward hook of elementwise ops and reductions. Called only when `anomaly.on`. */
export function checkForward(op: string, out: AnyTensor, inputs: readonly (AnyTensor | null | undefined)[]): void {
  if (anomaly.suspended) return;
  lastChecked = out;
  throwIfNonFinite(op, out, inputs);
}

/** @internal Forward hook of `record` (every op recorded on the tape). Called only when `anomaly.on`. */
export function checkRecorded(op: string, out: AnyTensor, inputs: readonly (AnyTensor | null | undefined)[]): void {
  const seen = out === lastChecked;
  lastChecked = undefined;
  if (anomaly.suspended || seen) return;
  throwIfNonFinite(op, out, inputs);
}

/** @internal The forward op's name from its grad node's (`MmBackward0` → `mm`). */
export function forwardName(gradName: string): string {
  const base = gradName.replace(/Backward\d*$/, "");
  return base.charAt(0).toLowerCase() + base.slice(1);
}

/**
 * @internal Backward hook: runs one node's backward function (the ops inside it are not checked
 * as forward ops) and throws when a gradient it returns holds NaN or ±Inf. `forwardTrace`, an
 * Error made when the node was recorded, becomes the error's `cause`.
 */
export function runBackwardChecked<G extends AnyTensor | null | undefined>(
  name: string,
  backward: () => readonly G[],
  forwardTrace: Error | undefined,
): readonly G[] {
  const prev = anomaly.suspended;
  anomaly.suspended = true;
  let gs: readonly G[];
  try {
    gs = backward();
  } finally {
    anomaly.suspended = prev;
  }
  gs.forEach((g, i) => {
    if (!g) return;
    const f = finding(g);
    if (f) {
      throw new ValueError(
        `detectAnomaly: ${name} produced ${f.kind} in backward, got ${f.text} (the gradient of its input ${i})`,
        forwardTrace ? { cause: forwardTrace } : undefined,
      );
    }
  });
  return gs;
}
