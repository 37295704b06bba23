/**
 * @internal The script a DataLoader worker thread runs (see `workerPool.ts`): it builds its
 * dataset from `workerData` (shared tensor buffers of a TensorDataset, or the user's
 * `workerModule`), seeds its default generator as PyTorch seeds a worker (base seed + id), then
 * answers each `{ seq, indices, collate }` with the batch (or the samples) of those indices.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ValueError } from "../../types/errors.js";
import { contiguousStrides } from "../ops/defineOp.js";
import { manualSeed } from "../random.js";
import { Tensor } from "../Tensor.js";
import type { AnyTensor } from "../tensorTypes.js";
import { defaultCollate } from "./collate.js";
import type { MapDataset } from "./Dataset.js";
import { TensorDataset } from "./TensorDataset.js";
import { encode, encodeError } from "./wire.js";
import { _setWorkerInfo } from "./workerInfo.js";
import type { WorkerInit, WorkerReply, WorkerTask } from "./workerPool.js";

const init = workerData as WorkerInit;
const port = parentPort!;

function post(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function isClass(f: unknown): boolean {
  return typeof f === "function" && /^class[\s{]/.test(Function.prototype.toString.call(f));
}

async function loadDataset(): Promise<MapDataset<unknown>> {
  const spec = init.spec;
  if (spec.kind === "tensors") {
    const ts = spec.tensors.map((t) => new Tensor(t.data as never, t.shape, contiguousStrides(t.shape), 0, t.dtype) as AnyTensor);
    return new TensorDataset(...(ts as never[]));
  }
  const mod = (await import(spec.href)) as Record<string, unknown>;
  let exp = mod[spec.exportName];
  if (exp === undefined) throw new ValueError(`DataLoader: the workerModule must export ${JSON.stringify(spec.exportName)}, got exports [${Object.keys(mod).join(", ")}] from ${spec.href}`);
  if (isClass(exp)) exp = new (exp as new (...a: unknown[]) => unknown)(...spec.args);
  else if (typeof exp === "function") exp = await (exp as (...a: unknown[]) => unknown)(...spec.args);
  const ds = exp as Partial<MapDataset<unknown>> | null;
  if (ds === null || typeof ds !== "object" || typeof ds.get !== "function" || typeof ds.length !== "number") {
    throw new ValueError(`DataLoader: the workerModule's ${JSON.stringify(spec.exportName)} must be a dataset (length and get), a Dataset class or a function returning one, got ${ds === null ? "null" : typeof ds}`);
  }
  return ds as MapDataset<unknown>;
}

async function main(): Promise<void> {
  manualSeed(init.seed);
  let dataset: MapDataset<unknown>;
  try {
    dataset = await loadDataset();
  } catch (e) {
    post({ type: "failed", error: encodeError(e) });
    return;
  }
  _setWorkerInfo({ id: init.workerId, numWorkers: init.numWorkers, seed: init.seed, dataset });
  const fast = dataset instanceof TensorDataset && dataset.get === TensorDataset.prototype.get;
  post({ type: "ready", length: dataset.length });
  port.on("message", (task: WorkerTask) => {
    try {
      let out: unknown;
      if (task.collate && fast) out = (dataset as TensorDataset<AnyTensor[]>)._batch(task.indices);
      else {
        const samples = task.indices.map((i) => dataset.get(i));
        out = task.collate ? defaultCollate(samples) : samples;
      }
      const transfer: ArrayBuffer[] = [];
      const batch = encode(out, transfer);
      post({ type: "batch", seq: task.seq, batch }, transfer);
    } catch (e) {
      post({ type: "error", seq: task.seq, error: encodeError(e) });
    }
  });
}

void main();
