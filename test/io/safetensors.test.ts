/**
 * safetensors on bytes: round trips of every dtype and layout, metadata, the reference files
 * written from PyTorch tensors by test/fixtures/gen_safetensors.py, and each validation rule
 * with its message. (Random and mutated files: fuzz.test.ts; files on disk: save.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { torch, ValueError } from "typetorch";
import { loadBytes, loadBytesWithMetadata, MAX_HEADER_SIZE, saveBytes } from "../../runtime/io/index.js";
import {
  type AnyTensor,
  expectMatchesFile,
  expectSameStateDict,
  expectSameTensor,
  expected,
  fileOf,
  fixtureBytes,
  fromFixture,
} from "./helpers.js";

const roundTrip = (sd: Record<string, AnyTensor>) => loadBytes(saveBytes(sd));

describe("round trips", () => {
  it("every dtype, exactly (incl. NaN, ±Inf, -0, subnormals, int64 up to ±2^53, int32 extremes)", () => {
    const sd: Record<string, AnyTensor> = {
      f32: torch.tensor(Float32Array.from([NaN, Infinity, -Infinity, -0, 1.4e-45, 3.4028234663852886e38, 1 / 3, -2.5])),
      f64: torch.tensor(Float64Array.from([0.1, 5e-324, -0, NaN, -Infinity, Number.MAX_VALUE]), { dtype: "float64" }),
      i32: torch.tensor(Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 0, -7]), { dtype: "int32" }),
      i64: torch.tensor([0, -1, 2 ** 53, -(2 ** 53), 2 ** 53 - 1, 2 ** 32, -(2 ** 32) - 1, 4294967295, -4294967296]),
      b: torch.tensor([true, false, false, true]),
      r: torch.randn(3, 4, 5),
    };
    expect(sd["i64"]!.dtype).toBe("int64");
    const back = roundTrip(sd);
    expectSameStateDict(back, sd);
    expect(back["i64"]!.toArray()).toEqual([0, -1, 2 ** 53, -(2 ** 53), 2 ** 53 - 1, 2 ** 32, -(2 ** 32) - 1, 4294967295, -4294967296]);
    expect(back["b"]!.toArray()).toEqual([true, false, false, true]);
  });

  it("0-d and empty tensors of every dtype", () => {
    const sd: Record<string, AnyTensor> = {};
    for (const dtype of ["float32", "float64", "int32", "int64", "bool"] as const) {
      sd[`${dtype}.scalar`] = torch.full([], dtype === "bool" ? true : 3, { dtype }) as AnyTensor;
      sd[`${dtype}.empty`] = torch.zeros(0, 3, { dtype }) as AnyTensor;
      sd[`${dtype}.empty1`] = torch.zeros([0], { dtype }) as AnyTensor;
    }
    const back = roundTrip(sd);
    expectSameStateDict(back, sd);
    expect(back["int64.scalar"]!.shape).toEqual([]);
    expect(back["int64.scalar"]!.item()).toBe(3);
    expect(back["bool.scalar"]!.item()).toBe(true);
    expect(back["float32.empty"]!.shape).toEqual([0, 3]);
  });

  it("non-contiguous views are written contiguously (transpose, step slices, expand, offset views)", () => {
    const base = torch.arange(24, { dtype: "float32" }).reshape(2, 3, 4);
    const sd: Record<string, AnyTensor> = {
      t: base.transpose(0, 2) as AnyTensor,
      p: base.permute(1, 2, 0) as AnyTensor,
      s: base.index(":", "::2", "1:") as AnyTensor,
      e: torch.tensor([[1], [2]]).expand(2, 5) as AnyTensor,
      o: base.index(1) as AnyTensor, // contiguous, at an offset into its base's storage
      bt: torch.tensor([[true, false, true], [false, false, true]]).t() as AnyTensor,
      it: torch.arange(6, { dtype: "int64" }).reshape(2, 3).t() as AnyTensor,
    };
    expect(sd["t"]!.isContiguous()).toBe(false);
    const back = roundTrip(sd);
    for (const [k, v] of Object.entries(sd)) {
      expect(back[k]!.toArray(), k).toEqual(v.toArray());
      expect(back[k]!.shape, k).toEqual(v.shape);
    }
    expect(back["e"]!.toArray()).toEqual([[1, 1, 1, 1, 1], [2, 2, 2, 2, 2]]);
  });

  it("keeps state-dict order; data is aligned to each element size; a Map works too", () => {
    const sd = { b: torch.tensor([true]), a: torch.ones(3), z: torch.tensor([1, 2]), m: torch.ones(1, { dtype: "int32" }) } as Record<string, AnyTensor>;
    const bytes = saveBytes(sd);
    expect(Object.keys(loadBytes(bytes))).toEqual(["b", "a", "z", "m"]);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: number[] }>;
    for (const e of Object.values(header)) expect(e.data_offsets[0]! % ({ F32: 4, I64: 8, I32: 4, BOOL: 1 } as Record<string, number>)[e.dtype]!).toBe(0);
    expect(header["z"]!.data_offsets).toEqual([0, 16]); // 8-byte elements first
    expect(saveBytes(new Map(Object.entries(sd)))).toEqual(bytes);
  });

  it("an empty state dict, and results that are null-prototype objects", () => {
    const bytes = saveBytes({});
    expect(Array.from(bytes)).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]); // as the reference writes it
    const back = loadBytesWithMetadata(bytes);
    expect(Object.keys(back.tensors)).toEqual([]);
    expect(Object.getPrototypeOf(back.tensors)).toBe(null);
    expect(back.metadata).toBe(null);
  });

  it("loaded tensors are fresh: no autograd, own storage, ops work on them", () => {
    const w = torch.randn(2, 3).requiresGrad_();
    const bytes = saveBytes({ w: w as AnyTensor });
    const back = loadBytes(bytes)["w"]!;
    expect(back.requiresGrad).toBe(false);
    expect(back.gradFn).toBe(null);
    expect(back.add(1).sub(w.detach() as AnyTensor).toArray()).toEqual([[1, 1, 1], [1, 1, 1]].map((r) => r.map(() => expect.closeTo(1, 6))));
    bytes.fill(0); // the loaded tensor does not alias the input bytes
    expectSameTensor(back, w.detach() as AnyTensor);
    expectSameTensor(loadBytes(saveBytes({ w: w as AnyTensor }).buffer as ArrayBuffer)["w"], w.detach() as AnyTensor, "from an ArrayBuffer");
  });

  it("reads from a Uint8Array view at an offset into a larger buffer (unaligned)", () => {
    const bytes = saveBytes({ x: torch.tensor([1.5, 2.5], { dtype: "float64" }) as AnyTensor, i: torch.tensor([7, -7]) as AnyTensor });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    const back = loadBytes(big.subarray(3));
    expect(back["x"]!.toArray()).toEqual([1.5, 2.5]);
    expect(back["i"]!.toArray()).toEqual([7, -7]);
  });
});

describe("metadata", () => {
  it("round trips string→string pairs, incl. non-ASCII, quotes, escapes and empty strings", () => {
    const metadata = { format: "pt", epoch: "3", "clé ✓": "värde 😀", q: 'a "b" \\ \n\t\u0001', "": "" };
    const { tensors, metadata: md } = loadBytesWithMetadata(saveBytes({ x: torch.ones(1) as AnyTensor }, { metadata }));
    expect({ ...md }).toEqual(metadata);
    expect(Object.getPrototypeOf(md)).toBe(null);
    expect(Object.keys(tensors)).toEqual(["x"]);
    expect({ ...loadBytesWithMetadata(saveBytes({}, { metadata: {} })).metadata }).toEqual({});
  });

  it("rejects metadata that is not string→string, or uses reserved keys", () => {
    const bad: [unknown, RegExp][] = [
      [{ n: 3 }, /saveBytes: metadata value "n" must be a string, got number 3/],
      [{ o: {} }, /metadata value "o" must be a string, got Object/],
      [[], /metadata must be an object of strings to strings, got an array/],
      ["x", /metadata must be an object/],
      [JSON.parse('{"__proto__": "x"}'), /metadata key must not be __proto__, constructor or prototype, got "__proto__"/],
      [{ constructor: "x" }, /got "constructor"/],
      [{ s: "\ud800" }, /must be well-formed Unicode/],
    ];
    for (const [metadata, msg] of bad) expect(() => saveBytes({}, { metadata: metadata as Record<string, string> })).toThrow(msg);
  });
});

describe("saveBytes rejects what it cannot write faithfully", () => {
  it("int64 values beyond ±2^53 (not exact in typetorch) and non-integers", () => {
    const x = torch.tensor([1, 2 ** 53]);
    x.index(1).fill_(2 ** 53 + 2);
    expect(() => saveBytes({ x: x as AnyTensor })).toThrow(/saveBytes: int64 tensor "x" must hold integers within ±2\^53 \(exact in typetorch\), got 9007199254740994 at flat index 1/);
    const y = torch.zeros(2, { dtype: "int64" });
    (y._data as Float64Array)[0] = NaN; // not reachable through the API; still never written
    expect(() => saveBytes({ y: y as AnyTensor })).toThrow(ValueError);
  });

  it("non-tensors, reserved and lone-surrogate names", () => {
    expect(() => saveBytes({ w: [1, 2] as never })).toThrow(/saveBytes: state dict value "w" must be a Tensor, got an array/);
    expect(() => saveBytes(torch.ones(2) as never)).toThrow(/the state dict must be an object \(or Map\) of names to tensors, got a Tensor \(wrap it: \{ name: tensor \}\)/);
    expect(() => saveBytes(null as never)).toThrow(/the state dict must be an object \(or Map\) of names to tensors, got null/);
    expect(() => saveBytes({ __metadata__: torch.ones(1) as AnyTensor })).toThrow(/must not be "__metadata__"/);
    expect(() => saveBytes(JSON.parse('{"__proto__": 1}'))).toThrow(/tensor name must not be __proto__, constructor or prototype, got "__proto__"/);
    expect(() => saveBytes({ prototype: torch.ones(1) as AnyTensor })).toThrow(ValueError);
    expect(() => saveBytes({ "a\udc00": torch.ones(1) as AnyTensor })).toThrow(/well-formed Unicode/);
    expect(() => saveBytes(new Map([[3 as never, torch.ones(1)]]))).toThrow(/tensor name must be a string, got number 3/);
  });

  it("bool storage other than 0/1 is written as 0/1", () => {
    const b = torch.tensor([true, false, true]);
    (b._data as Uint8Array)[0] = 7;
    expect(loadBytes(saveBytes({ b: b as AnyTensor }))["b"]!.toArray()).toEqual([true, false, true]);
  });
});

describe("reference files (test/fixtures/gen_safetensors.py, PyTorch 1.13 tensors)", () => {
  for (const [file, want] of Object.entries(expected.files)) {
    it(`${file}: loads every tensor exactly, in header order, with its metadata`, () => {
      const bytes = fixtureBytes(file);
      const got = loadBytesWithMetadata(bytes);
      expect(got.metadata === null ? null : { ...got.metadata }).toEqual(want.metadata);
      expect(Object.keys(got.tensors)).toEqual(want.tensors.map((t) => t.name));
      for (const t of want.tensors) expectSameTensor(got.tensors[t.name], fromFixture(t), `${file}: ${t.name}`);
      expectMatchesFile(bytes, got);
    });
  }

  it("saveBytes writes typetorch_layout.safetensors byte for byte (a file the Python reader verified)", () => {
    const want = expected.files["typetorch_layout.safetensors"]!;
    const sd: Record<string, AnyTensor> = {};
    for (const t of want.tensors) sd[t.name] = fromFixture(t);
    sd["transposed"] = torch.arange(6, { dtype: "int32" }).reshape(2, 3).t() as AnyTensor; // non-contiguous, as in the generator
    const ours = saveBytes(sd, { metadata: want.metadata! });
    expect(Buffer.from(ours).equals(Buffer.from(fixtureBytes("typetorch_layout.safetensors")))).toBe(true);
  });

  it("re-saving the reference file and loading it again gives the same tensors", () => {
    const sd = loadBytes(fixtureBytes("reference.safetensors"));
    expectSameStateDict(roundTrip(sd), sd);
  });

  it("int64_beyond_2_53.safetensors is valid safetensors, refused because 2^53 + 1 is not exact here", () => {
    expect(() => loadBytes(fixtureBytes("int64_beyond_2_53.safetensors"))).toThrow(
      'loadBytes: tensor "big": I64 values must be within ±2^53 (typetorch stores int64 exactly only there), got 9007199254740993 at flat index 1',
    );
  });
});

// -------------------------------------------------------------------------------------------------
// validation, rule by rule
// -------------------------------------------------------------------------------------------------

const F32x2 = '"dtype":"F32","shape":[2],"data_offsets":';
const data8 = new Uint8Array(new Float32Array([1, 2]).buffer);
const bad = (bytes: Uint8Array | ArrayBuffer, msg: string | RegExp) => {
  let err: unknown;
  try {
    loadBytes(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ValueError);
  expect((err as Error).message).toMatch(typeof msg === "string" ? new RegExp(`^loadBytes: ${msg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`) : msg);
};

describe("loadBytes validates the header size", () => {
  it("file shorter than the 8-byte size", () => {
    bad(new Uint8Array(5), "the file must start with an 8-byte header size, got a file of 5 bytes");
    bad(new Uint8Array(0), "the file must start with an 8-byte header size, got a file of 0 bytes");
  });
  it("header size above 100 MB, or beyond the end of the file", () => {
    bad(fileOf("{}", [], 2n ** 64n - 1n), `the header size must be at most ${MAX_HEADER_SIZE} bytes, got 18446744073709551615`);
    bad(fileOf("{}", [], BigInt(MAX_HEADER_SIZE) + 1n), "the header size must be at most 100000000 bytes, got 100000001");
    bad(fileOf("{}", [], 3n), "the header size must fit in the file (at most 2 bytes after the size), got 3 (truncated file?)");
    bad(fileOf("{}", [], BigInt(MAX_HEADER_SIZE)), /header size must fit in the file/);
  });
  it("not a Uint8Array", () => {
    expect(() => loadBytes("abc" as never)).toThrow(/loadBytes: the input must be a Uint8Array or ArrayBuffer, got "abc"/);
  });
});

describe("loadBytes validates the header text", () => {
  it("UTF-8, including a BOM", () => {
    bad(fileOf(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x7b, 0x7d, 0x7d])), "the header must be valid UTF-8, got invalid bytes in the 8-byte header");
    bad(fileOf(new Uint8Array([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22])), /valid UTF-8/); // an encoded surrogate
    bad(fileOf(new Uint8Array([0x7b, 0x22, 0xc0, 0xaf, 0x22])), /valid UTF-8/); // overlong
    bad(fileOf(new Uint8Array([0x7b, 0x22, 0xe2, 0x82])), /valid UTF-8/); // truncated sequence
    bad(fileOf("\ufeff{}"), 'the header must be a JSON object, got "\ufeff" at character 0');
  });
  it("JSON syntax", () => {
    bad(fileOf(""), "the header must be a JSON object, got the end of the header");
    bad(fileOf("[]"), 'the header must be a JSON object, got an array "[" at character 0');
    bad(fileOf("{} x"), 'the header must end after its JSON object (only whitespace may follow), got "x" at character 3');
    bad(fileOf("{}\0"), /only whitespace may follow/);
    bad(fileOf('{"__metadata__":{},}'), 'the header must have string keys, got "}" at character 19');
    bad(fileOf("{a:1}"), 'the header must have string keys, got "a" at character 1');
    bad(fileOf('{"a" 1}'), /a key must be followed by ':'/);
    bad(fileOf('{"a'), "a string must be closed by '\"', got the end of the header");
    bad(fileOf('{"a\tb":{}}'), "a string must not contain raw control characters, got U+0009 at character 3");
    bad(fileOf('{"\\x":{}}'), /a string escape must be one of .*, got "\\\\x"/);
    bad(fileOf('{"\\ud800":{}}'), /lone high surrogate/);
    bad(fileOf('{"\\udc00":{}}'), /lone low surrogate/);
    bad(fileOf('{"\\u12":{}}'), /a \\u escape must have 4 hex digits/);
    bad(fileOf('{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]} "b":1}'), /members must be separated by ','/);
  });
  it("accepts JSON whitespace and escapes where the schema allows them", () => {
    const h = ' \n{ "\\u0078" :\t{ "data_offsets" : [ 0 , 8 ] ,\r"shape":[ 2 ],"dtype":"F\\u0033\\u0032" } , "__metadata__" : { "k\\"\\/" : "\\ud83d\\ude00" } }\n\t ';
    const got = loadBytesWithMetadata(fileOf(h, data8));
    expect(got.tensors["x"]!.toArray()).toEqual([1, 2]);
    expect({ ...got.metadata }).toEqual({ 'k"/': "😀" });
    expect(loadBytesWithMetadata(fileOf('{"__metadata__":null}')).metadata).toBe(null); // as the reference
  });
  it("prototype keys anywhere, and duplicate keys", () => {
    for (const key of ["__proto__", "constructor", "prototype"]) {
      bad(fileOf(`{"${key}":{${F32x2}[0,8]}}`, data8), `the header must not have the key __proto__, constructor or prototype, got "${key}"`);
      bad(fileOf(`{"__metadata__":{"${key}":"x"}}`), /"__metadata__" must not have the key __proto__/);
      bad(fileOf(`{"a":{"${key}":{},${F32x2}[0,8]}}`, data8), /tensor "a" must not have the key __proto__/);
    }
    bad(fileOf('{"\\u005f_proto__":{}}'), /must not have the key __proto__/); // escaped spelling
    bad(fileOf(`{"a":{${F32x2}[0,8]},"a":{${F32x2}[0,8]}}`, data8), 'the header must not repeat a key, got "a" twice');
    bad(fileOf('{"__metadata__":{},"__metadata__":{}}'), /must not repeat a key, got "__metadata__" twice/);
    bad(fileOf('{"__metadata__":{"k":"1","k":"2"}}'), /"__metadata__" must not repeat a key, got "k" twice/);
    bad(fileOf(`{"a":{${F32x2}[0,8],"dtype":"F32"}}`, data8), /tensor "a" must not repeat a field, got "dtype" twice/);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});

describe("loadBytes validates each entry", () => {
  it("exactly the fields dtype, shape, data_offsets with their types", () => {
    bad(fileOf('{"a":[1]}'), 'tensor "a" must be an object {"dtype", "shape", "data_offsets"}, got an array "[" at character 5');
    bad(fileOf('{"a":"x"}'), /tensor "a" must be an object .*, got a string/);
    bad(fileOf(`{"a":{${F32x2}[0,8],"extra":1}}`, data8), 'tensor "a" must have only the fields dtype, shape, data_offsets, got "extra"');
    bad(fileOf('{"a":{"shape":[2],"data_offsets":[0,8]}}', data8), 'tensor "a" must have a "dtype" field, got none');
    bad(fileOf('{"a":{"dtype":"F32","data_offsets":[0,8]}}', data8), 'tensor "a" must have a "shape" field, got none');
    bad(fileOf('{"a":{"dtype":"F32","shape":[2]}}', data8), 'tensor "a" must have a "data_offsets" field, got none');
    bad(fileOf('{"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}', data8), /tensor "a": dtype must be a string, got a number "4"/);
    bad(fileOf('{"__metadata__":[]}'), /"__metadata__" must be an object of strings, got an array/);
    bad(fileOf('{"__metadata__":{"k":1}}'), /"__metadata__" value "k" must be a string, got a number/);
    bad(fileOf('{"__metadata__":{"k":{"x":"y"}}}'), /"__metadata__" value "k" must be a string, got an object/);
  });
  it("a known dtype", () => {
    for (const d of ["F16", "BF16", "U8", "I8", "U64", "f32", "", "F8_E4M3"]) {
      bad(fileOf(`{"a":{"dtype":"${d}","shape":[2],"data_offsets":[0,8]}}`, data8), `tensor "a": dtype must be one of F64, I64, F32, I32, BOOL (typetorch's dtypes), got "${d}"`);
    }
  });
  it("shape and offsets of non-negative integers", () => {
    const cases: [string, string][] = [
      ["[-1]", 'must hold non-negative integers, got "-1"'],
      ["[1.0]", 'must hold non-negative integers, got "1.0"'],
      ["[1e2]", 'must hold non-negative integers, got "1e2"'],
      ["[01]", 'must hold non-negative integers, got "01"'],
      ["[-0]", 'must hold non-negative integers, got "-0"'],
      ['["2"]', 'must hold non-negative integers, got a string'],
      ["[[2]]", "must hold non-negative integers, got an array"],
      ["[null]", "must hold non-negative integers, got null?"],
      ["[2,]", "must hold non-negative integers, got \"]\""],
      ["[9007199254740992]", 'must hold integers at most 2^53 - 1, got "9007199254740992"'],
      ["[99999999999999999999999]", "must hold integers at most 2^53 - 1"],
      ["2", "must be an array of non-negative integers, got a number"],
      ["{}", "must be an array of non-negative integers, got an object"],
      ["[2 2]", ": elements must be separated by ',' and closed by ']'"],
    ];
    for (const [shape, msg] of cases) bad(fileOf(`{"a":{"dtype":"F32","shape":${shape},"data_offsets":[0,8]}}`, data8), new RegExp(`^loadBytes: tensor "a": shape${msg.startsWith(":") ? "" : " "}${msg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    bad(fileOf(`{"a":{${F32x2}[0]}}`, data8), 'tensor "a": data_offsets must be [begin, end], got 1 numbers');
    bad(fileOf(`{"a":{${F32x2}[0,8,8]}}`, data8), 'tensor "a": data_offsets must be [begin, end], got 3 numbers');
    bad(fileOf(`{"a":{${F32x2}[0,-8]}}`, data8), /data_offsets must hold non-negative integers, got "-8"/);
  });
});

describe("loadBytes validates the data offsets (as the reference: sorted, tiling the buffer)", () => {
  const two = (a: string, b: string, data: Uint8Array | number[] = new Uint8Array(16)) =>
    fileOf(`{"a":{"dtype":"F32","shape":[2],"data_offsets":${a}},"b":{"dtype":"F32","shape":[2],"data_offsets":${b}}}`, data);
  it("accepts any header order of the tensors", () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
    const got = loadBytes(two("[8,16]", "[0,8]", data));
    expect(Object.keys(got)).toEqual(["a", "b"]);
    expect(got["a"]!.toArray()).toEqual([3, 4]);
    expect(got["b"]!.toArray()).toEqual([1, 2]);
  });
  it("rejects overlaps, gaps, reversed ranges, sizes that disagree, truncation, trailing bytes", () => {
    bad(two("[0,8]", "[4,12]"), 'tensor "b": data_offsets must begin at byte 8, where the previous tensor ends (tensors must not overlap or leave gaps), got [4, 12]');
    bad(two("[0,8]", "[0,8]"), /tensor "[ab]": data_offsets must begin at byte 8/);
    bad(two("[0,8]", "[12,20]", new Uint8Array(20)), 'tensor "b": data_offsets must begin at byte 8, where the previous tensor ends (tensors must not overlap or leave gaps), got [12, 20]');
    bad(two("[4,8]", "[8,16]"), 'tensor "a": data_offsets must begin at byte 0, where the previous tensor ends (tensors must not overlap or leave gaps), got [4, 8]');
    bad(fileOf(`{"a":{${F32x2}[8,0]}}`, data8), /data_offsets must (be \[begin, end\] with begin <= end|begin at byte 0), got \[8, 0\]/);
    bad(fileOf(`{"a":{${F32x2}[0,12]}}`, new Uint8Array(12)), 'tensor "a": data_offsets must span 8 bytes (F32, shape [2]), got [0, 12] (12 bytes)');
    bad(fileOf(`{"a":{${F32x2}[0,8]}}`, new Uint8Array(5)), 'tensor "a": data_offsets must end within the 5-byte data buffer, got [0, 8] (truncated file?)');
    bad(fileOf(`{"a":{${F32x2}[0,8]}}`, new Uint8Array(9)), "the tensors must cover the whole 9-byte data buffer, got 8 bytes covered (1 trailing bytes)");
    bad(fileOf("{}", [1]), "the tensors must cover the whole 1-byte data buffer, got 0 bytes covered (1 trailing bytes)");
  });
  it("huge declared sizes are refused before anything is allocated", () => {
    bad(fileOf('{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}', new Uint8Array(8)), /tensor "a": the product of the dims must be at most 2\^53 - 1, got shape \[4294967296, 4294967296\]/);
    bad(fileOf('{"a":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}'), /tensor "a": the product of the dims must be at most 2\^53 - 1, got shape \[0, 4294967296, 4294967296\]/);
    bad(fileOf('{"a":{"dtype":"F64","shape":[1125899906842624],"data_offsets":[0,9007199254740991]}}', new Uint8Array(8)), /data_offsets must span 9007199254740992 bytes/);
    bad(fileOf('{"a":{"dtype":"F32","shape":[1073741824],"data_offsets":[0,4294967296]}}', new Uint8Array(8)), /data_offsets must end within the 8-byte data buffer, got \[0, 4294967296\]/);
  });
  it("zero-size tensors may share an offset", () => {
    const got = loadBytes(fileOf('{"e":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"f":{"dtype":"I64","shape":[5,0],"data_offsets":[0,0]},"x":{"dtype":"BOOL","shape":[],"data_offsets":[0,1]}}', [1]));
    expect(got["e"]!.shape).toEqual([0, 3]);
    expect(got["f"]!.shape).toEqual([5, 0]);
    expect(got["x"]!.item()).toBe(true);
  });
});

describe("loadBytes validates values", () => {
  it("BOOL bytes must be 0 or 1", () => {
    bad(fileOf('{"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}', [1, 0, 2]), 'tensor "m": BOOL values must be bytes 0 or 1, got 2 at flat index 2');
  });
  it("I64 values must be within ±2^53: exact limits", () => {
    const file = (v: bigint) => fileOf('{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', new Uint8Array(BigInt64Array.of(v).buffer));
    for (const v of [2n ** 53n, -(2n ** 53n), 2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 32n, -(2n ** 32n), -1n, 0n]) {
      expect(loadBytes(file(v))["i"]!.item()).toBe(Number(v));
    }
    for (const v of [2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 54n]) {
      bad(file(v), `tensor "i": I64 values must be within ±2^53 (typetorch stores int64 exactly only there), got ${v} at flat index 0`);
    }
  });
  it("a failure in a later tensor loads nothing", () => {
    const f = fileOf('{"ok":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"m":{"dtype":"BOOL","shape":[1],"data_offsets":[4,5]}}', [0, 0, 128, 63, 9]);
    bad(f, /tensor "m": BOOL values must be bytes 0 or 1/);
  });
});
