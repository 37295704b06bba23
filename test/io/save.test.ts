/**
 * save / load on files: round trips, messages that name the file, atomic replacement (an injected
 * writer fails mid-write: the old file survives and no temporary file is left), permissions, and,
 * where /usr/bin/python3 has PyTorch, that Python reads the files typetorch writes.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { torch, ValueError } from "typetorch";
import { load, loadWithMetadata, save } from "../../runtime/io/index.js";
import { encodeParts } from "../../runtime/io/safetensors.js";
import { writeFileAtomic } from "../../runtime/io/save.js";
import { type AnyTensor, expectSameStateDict } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "typetorch-io-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const fresh = () => {
  const d = join(dir, `case${count++}`);
  mkdirSync(d);
  return d;
};

const stateDict = (): Record<string, AnyTensor> => ({
  "fc.weight": torch.randn(4, 3) as AnyTensor,
  "fc.bias": torch.randn(4, { dtype: "float64" }) as AnyTensor,
  steps: torch.tensor(12345678901234) as AnyTensor,
  "emb.ids": torch.tensor([[1, -2, 3]], { dtype: "int32" }) as AnyTensor,
  mask: torch.tensor([true, false]) as AnyTensor,
  "view.t": torch.arange(6, { dtype: "float32" }).reshape(2, 3).t() as AnyTensor,
});

describe("save / load", () => {
  it("round trips a state dict through a file, with metadata, also by file URL", () => {
    const d = fresh();
    const sd = stateDict();
    const path = join(d, "model.safetensors");
    save(sd, path, { metadata: { epoch: "7" } });
    expectSameStateDict(load(path), Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, v.contiguous() as AnyTensor])));
    expect({ ...loadWithMetadata(path).metadata }).toEqual({ epoch: "7" });
    save({ x: torch.ones(2) as AnyTensor }, pathToFileURL(join(d, "u.safetensors")));
    expect(load(pathToFileURL(join(d, "u.safetensors")))["x"]!.toArray()).toEqual([1, 1]);
    expect(readdirSync(d).sort()).toEqual(["model.safetensors", "u.safetensors"]);
  });

  it("overwrites an existing file, keeping its permissions", () => {
    const d = fresh();
    const path = join(d, "m.safetensors");
    save({ a: torch.zeros(1) as AnyTensor }, path);
    chmodSync(path, 0o600);
    save({ b: torch.ones(3) as AnyTensor }, path);
    expect(Object.keys(load(path))).toEqual(["b"]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(d)).toEqual(["m.safetensors"]);
  });

  it("errors name the file: load: <path>: <what is wrong>, got <what>", () => {
    const d = fresh();
    const path = join(d, "m.safetensors");
    save(stateDict(), path);
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 3));
    expect(() => load(path)).toThrow(ValueError);
    expect(() => load(path)).toThrow(new RegExp(`^load: ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: tensor ".*": data_offsets must end within the \\d+-byte data buffer, got \\[\\d+, \\d+\\] \\(truncated file\\?\\)$`));
    writeFileSync(path, bytes.subarray(0, 20));
    expect(() => load(path)).toThrow(`load: ${path}: the header size must fit in the file (at most 12 bytes after the size), got `);
    writeFileSync(path, "not a checkpoint");
    expect(() => load(path)).toThrow(`load: ${path}: the header size must be at most 100000000 bytes, got `);
    // I/O failures are Node's own errors, as PyTorch raises OSError
    expect(() => load(join(d, "missing.safetensors"))).toThrow(/ENOENT/);
  });
});

describe("writes are atomic", () => {
  it("a writer failing mid-write leaves the old file intact and no temporary file", () => {
    const d = fresh();
    const path = join(d, "ckpt.safetensors");
    const old = stateDict();
    save(old, path);
    const before = readFileSync(path);
    const { parts } = encodeParts({ w: torch.randn(1000) as AnyTensor }, undefined, "save");
    let written = 0;
    const failing = (fd: number, buf: Uint8Array, off: number, len: number): number => {
      if (written > 100) throw new Error("disk full (injected)");
      const n = Math.min(len, 64);
      written += n;
      return writeSync(fd, buf, off, n);
    };
    expect(() => writeFileAtomic(path, parts, failing)).toThrow("disk full (injected)");
    expect(written).toBeGreaterThan(100);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(d)).toEqual(["ckpt.safetensors"]);
    expectSameStateDict(load(path), Object.fromEntries(Object.entries(old).map(([k, v]) => [k, v.contiguous() as AnyTensor])));
  });

  it("short writes are continued (a writer taking one byte at a time)", () => {
    const d = fresh();
    const path = join(d, "x.safetensors");
    const sd = { a: torch.randn(7) as AnyTensor, b: torch.tensor([1, 2]) as AnyTensor };
    const { parts } = encodeParts(sd, { metadata: { k: "v" } }, "save");
    writeFileAtomic(path, parts, (fd, buf, off) => writeSync(fd, buf, off, 1));
    expectSameStateDict(load(path), sd);
  });

  it("a state dict that cannot be saved touches nothing", () => {
    const d = fresh();
    const path = join(d, "ckpt.safetensors");
    save({ a: torch.ones(2) as AnyTensor }, path);
    const before = readFileSync(path);
    const big = torch.tensor([0]);
    big.fill_(2 ** 60);
    expect(() => save({ a: big as AnyTensor }, path)).toThrow(`save: ${path}: int64 tensor "a" must hold integers within ±2^53 (exact in typetorch), got 1152921504606846976 at flat index 0`);
    expect(() => save({ a: "x" as never }, path)).toThrow(ValueError);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(d)).toEqual(["ckpt.safetensors"]);
  });

  it("a missing directory fails with Node's error and leaves nothing", () => {
    const d = fresh();
    expect(() => save({ a: torch.ones(1) as AnyTensor }, join(d, "no", "such.safetensors"))).toThrow(/ENOENT/);
    expect(readdirSync(d)).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
// interop: Python reads what typetorch writes (optional: needs /usr/bin/python3 with torch)
// -------------------------------------------------------------------------------------------------

const PY = "/usr/bin/python3";
const GEN = new URL("../fixtures/gen_safetensors.py", import.meta.url).pathname;
const hasTorch = (() => {
  try {
    execFileSync(PY, ["-c", "import torch"], { stdio: "ignore", timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
})();

/** The shared fixture encoding (test/fixtures/README.md), written by hand to keep -0 and NaN. */
function fixtureJson(sd: Record<string, AnyTensor>, metadata: Record<string, string> | null): string {
  const num = (v: number) => (Number.isNaN(v) ? '"nan"' : v === Infinity ? '"inf"' : v === -Infinity ? '"-inf"' : Object.is(v, -0) ? "-0.0" : String(v));
  const tensors = Object.entries(sd).map(
    ([name, t]) => `{"name":${JSON.stringify(name)},"shape":${JSON.stringify(t.shape)},"dtype":"${t.dtype}","data":[${Array.from(t.data() as ArrayLike<number>, num).join(",")}]}`,
  );
  return `{"files":{"ours":{"metadata":${JSON.stringify(metadata)},"tensors":[${tensors.join(",")}]}}}`;
}

describe.skipIf(!hasTorch)("interop (PyTorch 1.13 present)", () => {
  it("a file typetorch wrote reads back in Python bit for bit (gen_safetensors.py --verify)", () => {
    const d = fresh();
    const sd: Record<string, AnyTensor> = {
      ...stateDict(),
      specials: torch.tensor(Float32Array.from([NaN, Infinity, -Infinity, -0, 1.4e-45])) as AnyTensor,
      "名前.😀": torch.tensor([[true], [false]]) as AnyTensor,
      scalar: torch.tensor(-0.5, { dtype: "float64" }) as AnyTensor,
      empty: torch.zeros(0, 2, { dtype: "int64" }) as AnyTensor,
      big: torch.tensor([2 ** 53, -(2 ** 53)]) as AnyTensor,
    };
    const metadata = { format: "pt", "ключ": 'значение "✓"' };
    const path = join(d, "ours.safetensors");
    save(sd, path, { metadata });
    writeFileSync(join(d, "expected.json"), fixtureJson(sd, metadata));
    const out = execFileSync(PY, [GEN, "--verify", path, join(d, "expected.json")], { encoding: "utf8", timeout: 120_000 });
    expect(out).toMatch(/^ok: .*ours\.safetensors: 11 tensors and metadata match, bit for bit/);
  });
});
