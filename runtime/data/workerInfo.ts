/**
 * `data.getWorkerInfo()`: inside a DataLoader worker, which worker this is.
 */
import type { MapDataset } from "./Dataset.js";

/**
 * What `getWorkerInfo()` returns in a DataLoader worker (`torch.utils.data.get_worker_info()`).
 *
 * @example
 * const info: WorkerInfo | null = data.getWorkerInfo(); // { id: 0, numWorkers: 2, seed: ..., dataset }
 */
export interface WorkerInfo {
  /** This worker's index, in `[0, numWorkers)`. */
  readonly id: number;
  /** The loader's `numWorkers`. */
  readonly numWorkers: number;
  /** The seed of this worker's default generator: the loader's base seed + `id`, as PyTorch. */
  readonly seed: bigint;
  /** The dataset this worker reads (its own copy). */
  readonly dataset: MapDataset<unknown>;
}

let current: WorkerInfo | null = null;

/**
 * In a DataLoader worker thread, this worker's id, count, seed and dataset; `null` on the main
 * thread (`torch.utils.data.get_worker_info()`).
 *
 * @example
 * const info = data.getWorkerInfo();
 * if (info !== null) console.log(`worker ${info.id} of ${info.numWorkers}`);
 */
export function getWorkerInfo(): WorkerInfo | null {
  return current;
}

/** @internal Set by the worker script. */
export function _setWorkerInfo(info: WorkerInfo): void {
  current = info;
}
