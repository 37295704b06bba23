/**
 * Fuzzing loadBytes with untrusted files: seeded and deterministic, about 2,000 cases.
 *
 * Each case either loads, and then loads exactly what the file says (checked by an independent
 * reader: JSON.parse for the header, the raw bytes at each data_offsets, and for files that are
 * valid by construction the very tensors that went in), or throws a typetorch `ValueError` whose
 * message starts with the operation: never another exception type, never a hang, never a
 * polluted Object.prototype.
 */
import { describe, expect, it } from "vitest";
import { type DType, torch, ValueError } from "typetorch";
import { loadBytesWithMetadata, saveBytes } from "../../runtime/io/index.js";
import { type AnyTensor, expectMatchesFile, expectSameTensor, fileOf, prng } from "./helpers.js";

type Expect = "ok" | "error" | "any";
interface Stats {
  cases: number;
  loaded: number;
  rejected: number;
  slowestMs: number;
}

const rand = prng(20240607);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const shuffle = <T>(xs: T[]): T[] => {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
};

const stats: Record<string, Stats> = {};
const protoNames = Object.getOwnPropertyNames(Object.prototype).sort();

/** Runs one case; `want` (valid-by-construction files) must come back exactly. */
function run(group: string, bytes: Uint8Array, expectation: Expect, want?: { tensors: Record<string, AnyTensor>; metadata: Record<string, string> | null }): void {
  const s = (stats[group] ??= { cases: 0, loaded: 0, rejected: 0, slowestMs: 0 });
  s.cases++;
  const t0 = performance.now();
  let result: ReturnType<typeof loadBytesWithMetadata> | undefined;
  let error: unknown;
  try {
    result = loadBytesWithMetadata(bytes);
  } catch (e) {
    error = e;
  }
  s.slowestMs = Math.max(s.slowestMs, performance.now() - t0);
  const label = `${group} #${s.cases}`;
  if (error !== undefined) {
    if (!(error instanceof ValueError)) throw new Error(`${label}: threw a non-typetorch error: ${String(error)}`, { cause: error });
    expect(error.message, label).toMatch(/^loadBytesWithMetadata: \S.*, got /s);
    expect(expectation, `${label} should have loaded: ${error.message}`).not.toBe("ok");
    s.rejected++;
    return;
  }
  expect(expectation, `${label} should have been rejected`).not.toBe("error");
  s.loaded++;
  expectMatchesFile(bytes, result!);
  if (want) {
    expect(Object.keys(result!.tensors).sort(), label).toEqual(Object.keys(want.tensors).sort()); // header order: checked against JSON.parse above
    for (const [k, v] of Object.entries(want.tensors)) expectSameTensor(result!.tensors[k], v, `${label} ${k}`);
    expect(result!.metadata === null ? null : { ...result!.metadata }, label).toEqual(want.metadata);
  }
}

// -------------------------------------------------------------------------------------------------
// random valid files, written by hand (random whitespace, key and field order, data order, escapes)
// -------------------------------------------------------------------------------------------------

const DT: [DType, string, number][] = [["float32", "F32", 4], ["float64", "F64", 8], ["int32", "I32", 4], ["int64", "I64", 8], ["bool", "BOOL", 1]];
const NAMES = ["w", "layer.0.weight", "bias", "é", "名前", "😀.x", 'q"uote', "back\\slash", "tab\tname", "", "__metadata__x", "Constructor", "__proto", "a/b"];
const ws = () => pick(["", "", " ", "\n", "\t", "\r\n  "]);
/** A JSON string: plain, or with every UTF-16 unit escaped as \uXXXX. */
const jstr = (s: string) => (rand() < 0.25 ? `"${Array.from({ length: s.length }, (_, i) => "\\u" + s.charCodeAt(i).toString(16).padStart(4, "0")).join("")}"` : JSON.stringify(s));

interface Model {
  entries: { name: string; dtype: DType; st: string; shape: number[]; bytes: Uint8Array; tensor: AnyTensor; begin: number; end: number }[];
  metadata: Record<string, string> | null;
  data: Uint8Array;
}

function randomTensor(dtype: DType, shape: number[]): AnyTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, () => {
    switch (dtype) {
      case "bool": return int(2);
      case "int32": return pick([0, -1, 2 ** 31 - 1, -(2 ** 31), int(1000) - 500]);
      case "int64": return pick([0, -1, 2 ** 53, -(2 ** 53), 2 ** 32, int(1e6) - 5e5]);
      default: return pick([rand() * 2 - 1, NaN, Infinity, -0, 1e-40, 3.5]);
    }
  });
  const flat =
    dtype === "float32" ? torch.tensor(Float32Array.from(vals))
    : dtype === "float64" ? torch.tensor(Float64Array.from(vals), { dtype })
    : dtype === "int32" ? torch.tensor(Int32Array.from(vals), { dtype })
    : dtype === "bool" ? torch.tensor(Uint8Array.from(vals), { dtype })
    : torch.tensor(Float64Array.from(vals), { dtype });
  return (flat as AnyTensor).reshape(shape) as AnyTensor;
}

function randomModel(): Model {
  const k = int(5);
  const names = shuffle([...NAMES]).slice(0, k);
  const entries = names.map((name) => {
    const [dtype, st, size] = pick(DT);
    const shape = Array.from({ length: int(4) }, () => int(4));
    const tensor = randomTensor(dtype, shape);
    const one = saveBytes({ t: tensor }); // the tensor's bytes, as the (tested) writer lays them out
    const n = one.length - Number(new DataView(one.buffer).getBigUint64(0, true)) - 8;
    expect(n).toBe(tensor.numel() * size);
    return { name, dtype, st, shape, tensor, bytes: one.subarray(one.length - n), begin: 0, end: 0 };
  });
  let pos = 0;
  const parts: Uint8Array[] = [];
  for (const e of shuffle([...entries])) {
    e.begin = pos;
    e.end = pos + e.bytes.length;
    pos = e.end;
    parts.push(e.bytes);
  }
  const data = new Uint8Array(pos);
  let p = 0;
  for (const part of parts) {
    data.set(part, p);
    p += part.length;
  }
  const metadata = rand() < 0.5 ? null : Object.fromEntries(shuffle(["format", "epoch", "ü", "x\"y"]).slice(0, int(3)).map((k) => [k, pick(["pt", "3", "", "✓😀", "a\nb"])]));
  return { entries, metadata, data };
}

type Mutation = { kind: string; expect: Expect };

/** The header text of a model, with optional surgical changes to one entry. */
function headerOf(m: Model, tweak?: { entry?: number; field?: string; value?: string; extra?: string; drop?: string }): string {
  const members: string[] = [];
  if (m.metadata !== null) members.push(`${jstr("__metadata__")}${ws()}:${ws()}{${Object.entries(m.metadata).map(([k, v]) => `${ws()}${jstr(k)}:${ws()}${jstr(v)}`).join(",")}${ws()}}`);
  m.entries.forEach((e, i) => {
    const fields: [string, string][] = [
      ["dtype", jstr(e.st)],
      ["shape", `[${e.shape.map((d) => ws() + d + ws()).join(",")}]`],
      ["data_offsets", `[${ws()}${e.begin},${ws()}${e.end}${ws()}]`],
    ];
    if (tweak?.entry === i) {
      if (tweak.field) for (const f of fields) if (f[0] === tweak.field) f[1] = tweak.value!;
      if (tweak.drop) fields.splice(fields.findIndex((f) => f[0] === tweak.drop), 1);
      if (tweak.extra) fields.push([tweak.extra, tweak.value ?? "1"]);
    }
    shuffle(fields);
    members.push(`${ws()}${jstr(e.name)}${ws()}:${ws()}{${fields.map(([k, v]) => `${ws()}${jstr(k)}${ws()}:${ws()}${v}`).join(",")}${ws()}}`);
  });
  shuffle(members);
  return `${ws()}{${members.join(",")}${ws()}}${ws()}`;
}

const file = (header: string, data: Uint8Array) => fileOf(header, data);
const want = (m: Model) => ({ tensors: Object.fromEntries(m.entries.map((e) => [e.name, e.tensor])), metadata: m.metadata });

const DEEP = (d: number) => pick(["[".repeat(d), "{\"a\":".repeat(d), "[{\"a\":".repeat(d) + "1"]);

/** One structured mutation of a random valid model. */
function mutated(): [string, Uint8Array, Expect] {
  const m = randomModel();
  const n = m.entries.length;
  const i = int(Math.max(n, 1));
  const has = n > 0;
  const options: (() => [string, Uint8Array, Expect])[] = [
    () => ["dtype", file(headerOf(m, { entry: i, field: "dtype", value: pick(['"F16"', '"BF16"', '"U8"', '"f32"', '""', '"I64 "', "1", "null", "[]", '"F8_E5M2"']) }), m.data), has ? "error" : "ok"],
    () => ["shape: not an integer", file(headerOf(m, { entry: i, field: "shape", value: pick(["[-1]", "[1.5]", '["2"]', "[1e3]", "[[1]]", "[2,]", "[,2]", "[01]", "{}", "2", "[9007199254740992]", "[" + "9".repeat(400) + "]"]) }), m.data), has ? "error" : "ok"],
    () => ["shape: another integer", file(headerOf(m, { entry: i, field: "shape", value: `[${Array.from({ length: int(4) }, () => int(6)).join(",")}]` }), m.data), "any"],
    () => ["shape: huge", file(headerOf(m, { entry: i, field: "shape", value: pick(["[67108864,67108864,67108864]", "[4294967296,4294967296]", "[9007199254740991,2]", "[1073741824]", "[0,9007199254740991,9007199254740991]"]) }), m.data), has ? "error" : "ok"],
    () => ["offsets: shifted", file(headerOf(m, { entry: i, field: "data_offsets", value: `[${Math.max(0, (m.entries[i]?.begin ?? 0) + int(17) - 8)},${Math.max(0, (m.entries[i]?.end ?? 0) + int(17) - 8)}]` }), m.data), "any"],
    () => ["offsets: swapped", file(headerOf(m, { entry: i, field: "data_offsets", value: `[${m.entries[i]?.end ?? 0},${m.entries[i]?.begin ?? 0}]` }), m.data), "any"],
    () => {
      const others = m.entries.map((_, j) => j).filter((j) => j !== i && m.entries[j]!.end > m.entries[j]!.begin);
      const j = others.length > 0 ? pick(others) : i;
      const e = m.entries[j];
      return ["offsets: overlapping", file(headerOf(m, { entry: i, field: "data_offsets", value: `[${e?.begin ?? 0},${e?.end ?? 0}]` }), m.data), i !== j && e !== undefined && e.end > e.begin ? "error" : "any"];
    },
    () => ["offsets: huge", file(headerOf(m, { entry: i, field: "data_offsets", value: pick(["[0,9007199254740991]", "[9007199254740990,9007199254740991]", "[0,18446744073709551615]", "[4294967296,4294967300]"]) }), m.data), has ? "error" : "ok"],
    () => ["offsets: wrong arity", file(headerOf(m, { entry: i, field: "data_offsets", value: pick(["[]", "[0]", "[0,1,2]", "0", '"0,4"']) }), m.data), has ? "error" : "ok"],
    () => ["field: extra", file(headerOf(m, { entry: i, extra: pick(["offsets", "Dtype", "__proto__", "constructor", "prototype", "dtype"]), value: pick(["1", '{"polluted":"yes"}', '"F32"']) }), m.data), has ? "error" : "ok"],
    () => ["field: missing", file(headerOf(m, { entry: i, drop: pick(["dtype", "shape", "data_offsets"]) }), m.data), has ? "error" : "ok"],
    () => ["key: prototype", file(headerOf(m).replace(/\{/, `{"${pick(["__proto__", "constructor", "prototype", "\\u005f_proto__"])}":${pick(['{"polluted":"yes"}', '{"dtype":"F32","shape":[],"data_offsets":[0,0]}', '"x"'])},`), m.data), "error"],
    () => ["metadata: prototype key", file(headerOf(m).replace(/\{/, `{"__metadata__":{"${pick(["__proto__", "constructor", "prototype"])}":"yes"},`), m.data), "error"],
    () => ["metadata: not strings", file(headerOf({ ...m, metadata: null }).replace(/\{/, `{"__metadata__":${pick(['{"a":1}', '{"a":{"b":"c"}}', '{"a":["x"]}', '"x"', "[]", "1", "true", '{"a":null}'])},`), m.data), "error"],
    () => {
      const h = headerOf(m);
      const dup = h.match(/("(?:[^"\\]|\\.)*"\s*:\s*\{[^{}]*\})/)?.[1];
      return ["key: duplicate", file(dup ? h.replace(/\{/, `{${dup},`) : h.replace(/\{/, '{"__metadata__":{},"__metadata__":{},'), m.data), "error"];
    },
    () => ["deep nesting", file(headerOf(m).replace(/\{/, `{"deep":${DEEP(1000 + int(200_000))}`), m.data), "error"],
    () => ["deep nesting in shape", file(headerOf(m, { entry: i, field: "shape", value: DEEP(1000 + int(100_000)) }), m.data), has ? "error" : "ok"],
    () => ["deep nesting in metadata", file(headerOf({ ...m, metadata: null }).replace(/\{/, `{"__metadata__":{"k":${DEEP(5000)}`), m.data), "error"],
    () => {
      const h = new TextEncoder().encode(headerOf(m));
      const at = 1 + int(Math.max(h.length - 2, 1));
      const badSeq = pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80]]);
      const out = new Uint8Array(h.length + badSeq.length);
      out.set(h.subarray(0, at));
      out.set(badSeq, at);
      out.set(h.subarray(at), at + badSeq.length);
      return ["not UTF-8", fileOf(out, m.data), "error"];
    },
    () => ["BOM", file("\ufeff" + headerOf(m), m.data), "error"],
    () => ["garbage after the JSON", file(headerOf(m) + pick(["x", "\0", "}", ",", "{}", "\u00a0", "\u2028"]), m.data), "error"],
    () => ["bytes after the data", file(headerOf(m), Uint8Array.from([...m.data, ...Array.from({ length: 1 + int(8) }, () => int(256))])), "error"],
    () => ["data truncated", file(headerOf(m), m.data.subarray(0, m.data.length - 1 - int(Math.max(m.data.length, 1)))), m.data.length > 0 ? "error" : "any"],
    () => {
      const h = new TextEncoder().encode(headerOf(m));
      const declared = pick([BigInt(h.length + 1 + int(64)), BigInt(h.length + m.data.length + 1), 100_000_001n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 32n + BigInt(h.length)]);
      return ["header size: too large", fileOf(h, m.data, declared), "error"];
    },
    () => {
      const h = new TextEncoder().encode(headerOf(m));
      return ["header size: too small", fileOf(h, m.data, BigInt(int(h.length))), "any"];
    },
    () => ["escapes: invalid", file(headerOf(m).replace(/\{/, `{"${pick(["\\ud800", "\\udc00x", "\\ud800\\u0041", "\\x41", "\\u12", "\\U0041", "a\u0001b", "\t"])}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},`), m.data), "error"],
    () => {
      const e = m.entries.find((x) => x.dtype === "bool" && x.bytes.length > 0);
      if (!e) return ["valid as is", file(headerOf(m), m.data), "ok"];
      const data = m.data.slice();
      data[e.begin + int(e.bytes.length)] = 2 + int(254);
      return ["BOOL byte not 0/1", file(headerOf(m), data), "error"];
    },
    () => {
      const e = m.entries.find((x) => x.dtype === "int64" && x.bytes.length > 0);
      if (!e) return ["valid as is", file(headerOf(m), m.data), "ok"];
      const data = m.data.slice();
      const at = e.begin + 8 * int(e.bytes.length / 8);
      new DataView(data.buffer).setBigInt64(at, pick([2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 60n]), true);
      return ["I64 beyond 2^53", file(headerOf(m), data), "error"];
    },
  ];
  const [kind, bytes, ex] = pick(options)();
  return [kind, bytes, ex];
}

// -------------------------------------------------------------------------------------------------

describe("fuzz: loadBytes on untrusted bytes (seeded, ~2,000 cases)", () => {
  it("every case loads exactly what the file says or throws a ValueError; nothing else", () => {
    const t0 = performance.now();

    // A small real file, as saveBytes writes it.
    const baseSd: Record<string, AnyTensor> = {
      w: torch.tensor([[0.5, -1], [NaN, 3]], { dtype: "float32" }) as AnyTensor,
      n: torch.tensor([1, -(2 ** 53), 7]) as AnyTensor,
      m: torch.tensor([true, false]) as AnyTensor,
      s: torch.tensor(2.5, { dtype: "float64" }) as AnyTensor,
      e: torch.zeros(0, 2, { dtype: "int32" }) as AnyTensor,
    };
    const base = saveBytes(baseSd, { metadata: { format: "pt" } });
    run("intact", base, "ok", { tensors: baseSd, metadata: { format: "pt" } });
    const headerLen = Number(new DataView(base.buffer).getBigUint64(0, true));

    // 1. truncation at every prefix length
    for (let len = 0; len < base.length; len++) run("truncated file", base.subarray(0, len), "error");
    // 2. the header cut at every length, its size prefix fixed up to match
    const headerBytes = base.subarray(8, 8 + headerLen);
    const trimmed = new TextDecoder().decode(headerBytes).trimEnd().length;
    for (let len = 0; len < trimmed; len++) run("truncated header", fileOf(headerBytes.subarray(0, len), base.subarray(8 + headerLen)), "error");
    // 3. random byte changes
    for (let k = 0; k < 450; k++) {
      const b = base.slice();
      for (let j = 1 + int(4); j > 0; j--) b[int(b.length)] = rand() < 0.3 ? pick([0, 0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x5c, 0xff, 0x30, 0x39]) : int(256);
      run("bytes changed", b, "any");
    }
    // 4. random valid files
    for (let k = 0; k < 250; k++) {
      const m = randomModel();
      run("random valid file", file(headerOf(m), m.data), "ok", want(m));
    }
    // 5. structured mutations of random valid files
    for (let k = 0; k < 600; k++) {
      const [kind, bytes, ex] = mutated();
      run(`mutation: ${kind}`, bytes, ex);
    }
    // 6. random bytes, with and without a plausible size prefix
    for (let k = 0; k < 200; k++) {
      const b = Uint8Array.from({ length: int(96) }, () => (rand() < 0.5 ? int(256) : pick([0x7b, 0x7d, 0x22, 0x3a, 0x2c, 0x5b, 0x5d, 0x30, 0x20])));
      if (b.length >= 8 && rand() < 0.6) new DataView(b.buffer).setBigUint64(0, BigInt(int(b.length - 7)), true);
      run("random bytes", b, "any");
    }

    const elapsed = performance.now() - t0;
    const total = Object.values(stats).reduce((a, s) => a + s.cases, 0);
    const summary = Object.entries(stats)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([g, s]) => `${g.padEnd(34)} ${String(s.cases).padStart(4)} cases, ${String(s.loaded).padStart(4)} loaded, ${String(s.rejected).padStart(4)} rejected, slowest ${s.slowestMs.toFixed(1)} ms`);
    console.log(`fuzz: ${total} cases in ${elapsed.toFixed(0)} ms\n${summary.join("\n")}`);

    expect(total).toBeGreaterThanOrEqual(1900);
    expect(stats["random valid file"]!.loaded).toBe(250);
    expect(stats["truncated file"]!.rejected).toBe(base.length);
    for (const s of Object.values(stats)) expect(s.slowestMs).toBeLessThan(1000); // no case comes near a hang
    expect(elapsed).toBeLessThan(20_000); // ~1-2 s here; generous for slow CI machines
    // nothing reached Object.prototype
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoNames);
  });
});
