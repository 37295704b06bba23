/**
 * Checkpoints in the safetensors format: `save`/`load` (Node files, re-exported as `torch.save` /
 * `torch.load`) and `saveBytes`/`loadBytes` (bytes, for the browser).
 *
 * @example
 * torch.save(model.stateDict(), "model.safetensors");
 * model.loadStateDict(torch.load("model.safetensors"));
 */
export { load, loadWithMetadata, save, type PathLike } from "./save.js";
export { loadBytes, loadBytesWithMetadata, MAX_HEADER_SIZE, saveBytes, type LoadResult, type SaveOptions, type StateDict } from "./safetensors.js";
