/** Shared by the io tests: fixture tensors, exact comparison, and an independent file reader. */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { type DType, type Tensor, torch } from "typetorch";
import type { Shape } from "../../types/shape.js";

export type AnyTensor = Tensor<Shape, DType>;

/** A tensor in the shared fixture encoding (test/fixtures/README.md). */
export interface FixtureTensor {
  name: string;
  shape: number[];
  dtype: DType;
  data: (number | "nan" | "inf" | "-inf")[];
}
export interface FixtureFile {
  metadata: Record<string, string> | null;
  tensors: FixtureTensor[];
}

export const FIXTURES = new URL("../fixtures/safetensors/", import.meta.url);
export const expected = JSON.parse(readFileSync(new URL("expected.json", FIXTURES), "utf8")) as { files: Record<string, FixtureFile> };
export const fixtureBytes = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

const decodeValue = (v: FixtureTensor["data"][number]): number => (v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v);

/** A fixture tensor built with the public API. */
export function fromFixture(t: FixtureTensor): AnyTensor {
  const values = t.data.map(decodeValue);
  const flat =
    t.dtype === "float32" ? torch.tensor(Float32Array.from(values))
    : t.dtype === "float64" ? torch.tensor(Float64Array.from(values), { dtype: "float64" })
    : t.dtype === "int32" ? torch.tensor(Int32Array.from(values), { dtype: "int32" })
    : t.dtype === "bool" ? torch.tensor(Uint8Array.from(values), { dtype: "bool" })
    : torch.tensor(Float64Array.from(values), { dtype: "int64" });
  return (flat as AnyTensor).reshape(t.shape as number[]) as AnyTensor;
}

/** The bytes a tensor has in a safetensors file (row-major, little-endian; int64 as int64). */
export function fileBytesOf(t: AnyTensor): Uint8Array {
  const d = t.data();
  if (t.dtype === "int64") return new Uint8Array(BigInt64Array.from(d as Float64Array, (v) => BigInt(v)).buffer);
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Same dtype, shape and bits (floats bit for bit, so NaN, -0 and subnormals count). */
export function expectSameTensor(actual: AnyTensor | undefined, want: AnyTensor, what = ""): void {
  expect(actual, what).toBeDefined();
  const a = actual!;
  expect(a.dtype, what).toBe(want.dtype);
  expect(a.shape, what).toEqual(want.shape);
  expect(a.isContiguous(), what).toBe(true);
  expect(Buffer.from(fileBytesOf(a)).equals(Buffer.from(fileBytesOf(want))), `${what}: bytes differ: ${a} vs ${want}`).toBe(true);
}

export function expectSameStateDict(actual: Record<string, AnyTensor>, want: Record<string, AnyTensor>): void {
  expect(Object.keys(actual)).toEqual(Object.keys(want));
  for (const k of Object.keys(want)) expectSameTensor(actual[k], want[k]!, k);
}

const ST = { F32: "float32", F64: "float64", I32: "int32", I64: "int64", BOOL: "bool" } as Record<string, DType>;

/**
 * An independent check of a successful load: the header read with JSON.parse must say the same
 * names (in order), dtypes, shapes and metadata, and each tensor's bytes must be the file's bytes
 * at its data_offsets.
 */
export function expectMatchesFile(bytes: Uint8Array, result: { tensors: Record<string, AnyTensor>; metadata: Record<string, string> | null }): void {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const { __metadata__: md, ...entries } = header;
  expect(result.metadata === null ? null : { ...result.metadata }).toEqual(md ?? null);
  expect(Object.keys(result.tensors)).toEqual(Object.keys(entries));
  for (const [name, raw] of Object.entries(entries)) {
    const e = raw as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const t = result.tensors[name]!;
    expect(t.dtype).toBe(ST[e.dtype]);
    expect(t.shape).toEqual(e.shape);
    const slice = bytes.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]);
    expect(Buffer.from(fileBytesOf(t)).equals(Buffer.from(slice)), name).toBe(true);
  }
}

/** Builds a file from a header text (or bytes) and a data buffer, with the right size prefix. */
export function fileOf(header: string | Uint8Array, data: Uint8Array | number[] = [], declared?: bigint): Uint8Array {
  const h = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
