/**
 * `torch.save` / `torch.load` for Node: safetensors files, read and written synchronously as in
 * PyTorch. Writes are atomic: the bytes go to a temporary file in the target's directory, which
 * is flushed and then renamed over the target, so a crash never leaves a torn checkpoint.
 */
import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decode, encodeParts, type LoadResult, type SaveOptions, type StateDict } from "./safetensors.js";
import type { DType } from "../dtype.js";
import type { Shape } from "../../types/shape.js";
import type { Tensor } from "../Tensor.js";

/** A path as Node's fs takes it. */
export type PathLike = string | URL;

/**
 * Saves a state dict as a safetensors file (PyTorch's `safetensors.torch.save_file`, here under
 * `torch.save`). The file is replaced atomically; errors (a non-tensor value, an int64 value
 * beyond ±2^53, a reserved name) are thrown before anything is written.
 *
 * @example
 * torch.save(model.stateDict(), "model.safetensors", { metadata: { epoch: "3" } });
 */
export function save(stateDict: StateDict | ReadonlyMap<string, Tensor<Shape, DType>>, path: PathLike, options?: SaveOptions): void {
  const file = toPath(path);
  const { parts } = encodeParts(stateDict, options, `save: ${file}`);
  writeFileAtomic(file, parts);
}

/**
 * Loads a safetensors file as a state dict (a null-prototype object of tensors, in header order).
 * The file is untrusted: a corrupt or truncated one throws a `ValueError` naming the file and
 * what is wrong; I/O failures (no such file) are Node's own errors.
 *
 * @example
 * model.loadStateDict(torch.load("model.safetensors"));
 */
export function load(path: PathLike): StateDict {
  return loadWithMetadata(path).tensors;
}

/**
 * As {@link load}, also returning the header's `__metadata__` (null when the file has none).
 *
 * @example
 * const { tensors, metadata } = torch.loadWithMetadata("model.safetensors");
 * Number(metadata?.["epoch"]); // 3
 */
export function loadWithMetadata(path: PathLike): LoadResult {
  const file = toPath(path);
  return decode(readFileSync(file), `load: ${file}`);
}

/** How `writeFileAtomic` writes a chunk: `fs.writeSync`'s signature (tests inject failures). */
export type ChunkWriter = (fd: number, buffer: Uint8Array, offset: number, length: number) => number;

let tmpCounter = 0;

/**
 * @internal Writes `parts` to `path` atomically: a new temporary file next to it (same directory,
 * so the rename stays on one file system), flushed to disk, given the old file's permissions, then
 * renamed over `path`. On any failure the temporary file is removed and `path` is untouched.
 */
export function writeFileAtomic(path: string, parts: readonly Uint8Array[], write: ChunkWriter = writeSync): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${(tmpCounter++).toString(36)}.tmp`);
  const fd = openSync(tmp, "wx");
  let open = true;
  try {
    const mode = existingMode(path);
    if (mode !== undefined) fchmodSync(fd, mode);
    for (const p of parts) {
      let off = 0;
      while (off < p.length) off += write(fd, p, off, p.length - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    renameSync(tmp, path);
  } catch (e) {
    if (open) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to remove
    }
    throw e;
  }
  syncDir(dirname(path));
}

function existingMode(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/** Flushes the directory entry of the rename (best effort: not every platform allows it). */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // e.g. Windows cannot open directories
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function toPath(path: PathLike): string {
  return path instanceof URL ? fileURLToPath(path) : path;
}
