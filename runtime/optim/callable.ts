/**
 * PyTorch builds optimizers and schedulers by calling the class (`optim.SGD(params, lr=0.1)`);
 * `callable` gives a class that form: calling it without `new` constructs, `new` still works,
 * `x instanceof F` and `class Mine extends F` behave as with the class itself.
 */

/**
 * Wraps `cls` so that `cls(...args)` is `new cls(...args)`. The caller casts the result to an
 * interface with the call signatures, the construct signatures and `[Symbol.hasInstance]`.
 *
 * @example
 * export const SGD = callable(SGDOptimizer) as unknown as SGDConstructor;
 * const opt = SGD([w], { lr: 0.1 }); // opt instanceof SGD
 */
export function callable<C extends abstract new (...args: never[]) => object>(cls: C): C {
  return new Proxy(cls, {
    apply(target, _thisArg, args: unknown[]) {
      return Reflect.construct(target as unknown as new (...a: unknown[]) => object, args);
    },
  });
}

/**
 * What {@link callable} gives, typed: `F(...args)` and `new F(...args)` both make a `T`, and
 * `x instanceof F` narrows to `T`.
 *
 * @example
 * export const StepLR = callable(StepLRScheduler) as unknown as CallableClass<[optimizer: Optimizer, options: StepLROptions], StepLRScheduler>;
 */
export interface CallableClass<A extends unknown[], T> {
  (...args: A): T;
  new (...args: A): T;
  readonly prototype: T;
  [Symbol.hasInstance](x: unknown): x is T;
}
