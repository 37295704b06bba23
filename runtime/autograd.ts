import type { AnyTensor } from "./tensorTypes.js";
import type { Tensor } from "./Tensor.js";
import { ValueError } from "../types/errors.js";
import { anomaly, checkRecorded, forwardName, runBackwardChecked } from "./anomaly.js";

/**
 * One recorded op on the autograd tape: the inputs it read and how to turn the gradient of its
 * output into gradients of those inputs. Backward functions are written with Tensor ops, so they
 * run on every backend.
 */
export interface GradNode {
  /** PyTorch-style name shown in `grad_fn=<AddBackward0>`. */
  readonly name: string;
  readonly inputs: readonly (AnyTensor | null)[];
  backward(grad: AnyTensor): readonly (AnyTensor | null | undefined)[];
  /** Set once the node's saved tensors are freed after a backward pass without retainGraph. */
  released?: boolean;
  /** Under anomaly detection: where the forward op was called (the `cause` of a backward error). */
  forwardTrace?: Error;
}

let enabled = true;

/** Whether ops record the tape now (false inside `torch.noGrad`). */
export function isGradEnabled(): boolean {
  return enabled;
}

/**
 * Runs `fn` without recording gradients, as PyTorch's `with torch.no_grad():`.
 *
 * @example
 * const y = torch.noGrad(() => w.mul(2)); // y.requiresGrad === false
 */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/**
 * Runs `fn` with gradient recording switched on or off (PyTorch's `torch.set_grad_enabled`).
 *
 * @example
 * torch.setGradEnabled(false, () => model(x));
 */
export function setGradEnabled<T>(mode: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = mode;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** True when an op over these inputs must be recorded. */
export function needsGrad(inputs: readonly (AnyTensor | null | undefined)[]): boolean {
  if (!enabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/** Attaches a node to `out` (called by ops when `needsGrad`). */
export function record(out: AnyTensor, name: string, inputs: readonly (AnyTensor | null)[], backward: (g: AnyTensor) => readonly (AnyTensor | null | undefined)[]): void {
  if (anomaly.on) {
    checkRecorded(forwardName(name), out, inputs);
    out._setGradFn({ name, inputs, backward, forwardTrace: new Error(`${name}: the forward op was called here`) });
    return;
  }
  out._setGradFn({ name, inputs, backward });
}

/**
 * Reverse-mode pass from `root`: topologically orders the tape and accumulates each leaf's
 * gradient into `.grad` (summing over every path, as PyTorch).
 */
export function runBackward(root: AnyTensor, grad: AnyTensor, retainGraph: boolean): void {
  const order: AnyTensor[] = [];
  const seen = new Set<AnyTensor>();
  // Iterative DFS: a deep network would overflow a recursive one. Two parallel stacks (tensor,
  // next input to visit), no tuple per node.
  const stack: AnyTensor[] = [root];
  const next: number[] = [0];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack.length - 1;
    const t = stack[top]!;
    const i = next[top]!;
    const fn = t.gradFn;
    if (fn && i < fn.inputs.length) {
      next[top] = i + 1;
      const inp = fn.inputs[i];
      if (inp && inp.requiresGrad && !seen.has(inp)) {
        seen.add(inp);
        stack.push(inp);
        next.push(0);
      }
    } else {
      stack.pop();
      next.pop();
      order.push(t);
    }
  }
  const grads = new Map<AnyTensor, AnyTensor>();
  grads.set(root, grad);
  noGrad(() => {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const g = grads.get(t);
      if (!g) continue;
      const fn = t.gradFn;
      if (!fn) {
        t._accumulateGrad(g);
        continue;
      }
      if (fn.released) {
        throw new ValueError(
          `backward: the graph was already freed by an earlier backward(), got a second backward through ${fn.name} (pass { retainGraph: true } to the first call)`,
        );
      }
      if (t._retainsGrad) t._accumulateGrad(g);
      const gs = anomaly.on ? runBackwardChecked(fn.name, () => fn.backward(g), fn.forwardTrace) : fn.backward(g);
      const ins = fn.inputs;
      for (let j = 0; j < ins.length; j++) {
        const inp = ins[j];
        const gi = gs[j];
        if (!inp || !inp.requiresGrad || !gi) continue;
        const prev = grads.get(inp);
        grads.set(inp, prev ? prev.add(gi) : gi);
      }
      if (!retainGraph) fn.released = true;
      grads.delete(t);
    }
  });
}
