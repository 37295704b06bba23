/**
 * `data`: datasets and loaders, as `torch.utils.data` (`Dataset`, `TensorDataset`, `DataLoader`,
 * samplers, `defaultCollate`, `getWorkerInfo`) plus `datasets.mnist()`.
 *
 * @example
 * import { data, torch } from "typetorch";
 * const { train } = data.datasets.mnist();
 * for (const [x, y] of new data.DataLoader(train, { batchSize: 64, shuffle: true, dropLast: true })) {
 *   x.shape; // [64, 784]
 * }
 */
export { Dataset, type MapDataset } from "./Dataset.js";
export { TensorDataset, TensorDatasetImpl, type TensorDatasetConstructor, type Rows, type TensorDatasetShape } from "./TensorDataset.js";
export { DataLoader, type DataLoaderOptions, type BatchDim, type BatchOf, type DataLoaderConstructor } from "./DataLoader.js";
export { defaultCollate, type Collated } from "./collate.js";
export { SequentialSampler, RandomSampler, BatchSampler } from "./sampler.js";
export { getWorkerInfo, type WorkerInfo } from "./workerInfo.js";
export * as datasets from "./datasets.js";
