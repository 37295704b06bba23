/**
 * The error every shape rule reports, at compile time and at run time, with one text.
 *
 * At compile time a rule that fails turns the parameter's type into `T & ShapeError<"message">`,
 * so `tsc` prints the message in its diagnostic on the argument. At run time the rule's runtime
 * twin throws `new ShapeError(message)` with the same message.
 *
 * Messages read `op: expectation, got actual`.
 *
 * @example
 * try { torch.zeros(2, 3).matmul(torch.zeros(4, 5)); }
 * catch (e) { e instanceof ShapeError; } // "matmul: inner dims must match, got [2, 3] @ [4, 5]"
 */
export class ShapeError extends Error {
  override readonly name: string = "ShapeError";
}

/** A value of the wrong dtype for an op (e.g. float labels where int64 is required). */
export class DTypeError extends Error {
  override readonly name = "DTypeError";
}

/** Tensors on different devices, or a sync read of a device tensor. */
export class DeviceError extends Error {
  override readonly name = "DeviceError";
}

/** A bad argument value: NaN where an integer is needed, a negative size, ragged data, ... */
export class ValueError extends Error {
  override readonly name = "ValueError";
}

/** An index out of range of its dim (a kind of ShapeError: a literal one is caught by tsc). */
export class IndexError extends ShapeError {
  override readonly name: string = "IndexError";
}

/**
 * The compile-time brand of a failed shape rule. A parameter typed `Tensor<...> & ShapeError<M>`
 * cannot be satisfied, and tsc's diagnostic quotes `M`.
 */
export interface ShapeErrorBrand<M extends string> {
  readonly "shape error": M;
}
