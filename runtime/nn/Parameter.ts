import type { Shape } from "../../types/shape.js";
import { ValueError } from "../../types/errors.js";
import type { DType } from "../dtype.js";
import { isFloating } from "../dtype.js";
import { Tensor } from "../Tensor.js";

/**
 * A tensor that is a module's learnable parameter: it requires grad, and assigning it to a field
 * of an `nn.Module` registers it (a plain tensor field does not: it isn't trained or saved).
 */
// Covariant like Tensor (see the note on Tensor's declaration).
// @ts-ignore TS2636
export class ParameterTensor<out S extends Shape = Shape, out D extends DType = "float32"> extends Tensor<S, D> {
  /** Printed as PyTorch prints parameters: `Parameter containing:` above the tensor. */
  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}

/** `nn.Parameter(tensor)` (callable without `new`; `p instanceof nn.Parameter` works). */
export interface ParameterFactory {
  <S extends Shape, D extends DType>(data: Tensor<S, D>, requiresGrad?: boolean): ParameterTensor<S, D>;
  new <S extends Shape, D extends DType>(data: Tensor<S, D>, requiresGrad?: boolean): ParameterTensor<S, D>;
  [Symbol.hasInstance](x: unknown): x is ParameterTensor;
  readonly prototype: ParameterTensor;
}

function makeParameter<S extends Shape, D extends DType>(data: Tensor<S, D>, requiresGrad = true): ParameterTensor<S, D> {
  if (!(data instanceof Tensor)) throw new ValueError(`Parameter: expected a Tensor, got ${typeof data}`);
  if (requiresGrad && !isFloating(data.dtype)) throw new ValueError(`Parameter: only floating point tensors can require gradients, got dtype ${data.dtype}`);
  // Shares data's storage, as PyTorch's Parameter does, but starts a fresh leaf.
  const p = new ParameterTensor<S, D>(data._data, data.shape, data._strides, data._offset, data.dtype, data._gpu);
  p.requiresGrad = requiresGrad;
  return p;
}

/**
 * Wraps a tensor as a learnable parameter: `requiresGrad` is set, and a module field holding it
 * shows up in `parameters()`, `namedParameters()` and `stateDict()`.
 *
 * @example
 * class Scale extends nn.Module {
 *   w = nn.Parameter(torch.ones(3));
 *   forward(x: Tensor<[3]>) { return x.mul(this.w); }
 * }
 */
export const Parameter = new Proxy(ParameterTensor, {
  apply: (_t, _this, args: [Tensor<Shape, DType>, boolean?]) => makeParameter(...args),
  construct: (_t, args: [Tensor<Shape, DType>, boolean?]) => makeParameter(...args),
}) as unknown as ParameterFactory;
