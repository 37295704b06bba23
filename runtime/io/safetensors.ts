/**
 * The safetensors checkpoint format (https://github.com/huggingface/safetensors), encoded and
 * decoded on bytes. No Node imports: this module works in the browser too (`save.ts` adds files).
 *
 * Layout: 8 bytes little-endian u64 `N`; `N` bytes of UTF-8 JSON, the header
 * `{ "__metadata__": { str: str }, "name": { "dtype": "F32", "shape": [2, 3], "data_offsets": [b, e] } }`;
 * then the data buffer, with each tensor's bytes (row-major, little-endian) at `[b, e)` of it.
 *
 * Files are untrusted. `decode` checks everything before it allocates anything from what the
 * header declares: header size, UTF-8, the JSON grammar (parsed here, directed by the schema, so
 * nesting deeper than the schema's three levels is an error at its first bracket), the exact fields
 * and their types, dtypes, shapes, and that the data offsets tile the buffer exactly (sorted by
 * offset, no overlap, no gap, ending at the end of the file), as the reference implementation
 * does. Every failure is a `ValueError` reading `op: expectation, got actual`.
 */
import { ValueError } from "../../types/errors.js";
import type { Shape } from "../../types/shape.js";
import type { DType, StorageOf } from "../dtype.js";
import { contiguousStrides } from "../ops/defineOp.js";
import { Tensor } from "../Tensor.js";

/** Any tensor, whatever its shape and dtype. */
type AnyTensor = Tensor<Shape, DType>;

/** A state dict: parameter and buffer names to tensors, as `model.stateDict()` returns. */
export type StateDict = Record<string, AnyTensor>;

/** Options of `save` / `saveBytes`. */
export interface SaveOptions {
  /** Free-form string→string pairs stored as the header's `__metadata__` (e.g. `{ format: "pt" }`). */
  metadata?: Record<string, string>;
}

/** What `loadWithMetadata` / `loadBytesWithMetadata` return. */
export interface LoadResult {
  /** The tensors, in header order (a null-prototype object). */
  tensors: StateDict;
  /** The header's `__metadata__` (a null-prototype object), or null when the file has none. */
  metadata: Record<string, string> | null;
}

/** The largest header accepted (and written), in bytes: the reference implementation's limit. */
export const MAX_HEADER_SIZE = 100_000_000;

/** safetensors' name, and size in bytes, of each typetorch dtype. */
const FORMAT: { readonly [D in DType]: { readonly name: string; readonly size: number } } = {
  float64: { name: "F64", size: 8 },
  int64: { name: "I64", size: 8 },
  float32: { name: "F32", size: 4 },
  int32: { name: "I32", size: 4 },
  bool: { name: "BOOL", size: 1 },
};
const DTYPE_OF: ReadonlyMap<string, DType> = new Map(
  (Object.keys(FORMAT) as DType[]).map((d) => [FORMAT[d].name, d] as const),
);
const KNOWN_DTYPES = [...DTYPE_OF.keys()].join(", ");

/** Keys that would reach `Object.prototype` if some consumer assigned them into a plain object. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
const METADATA_KEY = "__metadata__";

/** int64 values are exact within ±2^53 in typetorch (stored in a Float64Array). */
const INT64_LIMIT = 2 ** 53;
const TWO_32 = 2 ** 32;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// -------------------------------------------------------------------------------------------------
// public API (bytes)
// -------------------------------------------------------------------------------------------------

/**
 * Encodes a state dict as the bytes of a safetensors file (for the browser, `fetch`, IndexedDB;
 * in Node `torch.save` writes a file). Non-contiguous tensors are written contiguously; int64 is
 * written as real little-endian int64, bool as one byte each.
 *
 * @example
 * const bytes = torch.saveBytes({ weight: torch.ones(2, 3) }, { metadata: { epoch: "3" } });
 * new Blob([bytes]); // a downloadable model.safetensors
 */
export function saveBytes(stateDict: StateDict | ReadonlyMap<string, AnyTensor>, options?: SaveOptions): Uint8Array {
  const { parts, size } = encodeParts(stateDict, options, "saveBytes");
  const out = new Uint8Array(size);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * Decodes the bytes of a safetensors file into a state dict (a null-prototype object, in header
 * order). The bytes are untrusted: anything malformed is a `ValueError`, never a partial result.
 *
 * @example
 * const sd = torch.loadBytes(new Uint8Array(await (await fetch("model.safetensors")).arrayBuffer()));
 * sd["weight"]?.shape; // [2, 3]
 */
export function loadBytes(bytes: Uint8Array | ArrayBuffer): StateDict {
  return decode(bytes, "loadBytes").tensors;
}

/**
 * As {@link loadBytes}, also returning the header's `__metadata__` (null when absent).
 *
 * @example
 * const { tensors, metadata } = torch.loadBytesWithMetadata(bytes);
 * metadata?.["epoch"]; // "3"
 */
export function loadBytesWithMetadata(bytes: Uint8Array | ArrayBuffer): LoadResult {
  return decode(bytes, "loadBytesWithMetadata");
}

// -------------------------------------------------------------------------------------------------
// encoding
// -------------------------------------------------------------------------------------------------

/**
 * @internal The pieces of a safetensors file, in order (8-byte size prefix, padded header, each
 * tensor's bytes), so that `save` can write them without first joining them. Every check is
 * done here, before anything is written.
 */
export function encodeParts(
  stateDict: StateDict | ReadonlyMap<string, AnyTensor>,
  options: SaveOptions | undefined,
  op: string,
): { parts: Uint8Array[]; size: number } {
  if (!LITTLE_ENDIAN_HOST) throw new ValueError(`${op}: a little-endian host is required, got a big-endian one`);
  const items = stateDictEntries(stateDict, op);
  const metadata = options?.metadata === undefined ? undefined : metadataEntries(options.metadata, op);

  // Data: by element size, largest first (stable), so each tensor is aligned in the file when the
  // header is padded to 8 bytes, as the reference writer does. Header: state-dict order.
  const bytes = items.map(([name, t]) => tensorBytes(name, t, op));
  const order = items.map((_, i) => i).sort((a, b) => FORMAT[items[b]![1].dtype].size - FORMAT[items[a]![1].dtype].size);
  const offsets = new Array<[number, number]>(items.length);
  let pos = 0;
  for (const i of order) {
    const n = bytes[i]!.length;
    offsets[i] = [pos, pos + n];
    pos += n;
  }

  const members: string[] = [];
  if (metadata) members.push(`${JSON.stringify(METADATA_KEY)}:{${metadata.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`);
  items.forEach(([name, t], i) => {
    const [b, e] = offsets[i]!;
    members.push(`${JSON.stringify(name)}:{"dtype":"${FORMAT[t.dtype].name}","shape":[${t.shape.join(",")}],"data_offsets":[${b},${e}]}`);
  });
  const json = new TextEncoder().encode(`{${members.join(",")}}`);
  const headerSize = json.length + ((8 - (json.length % 8)) % 8);
  if (headerSize > MAX_HEADER_SIZE) throw new ValueError(`${op}: the header must be at most ${MAX_HEADER_SIZE} bytes, got ${headerSize} bytes (too many or too long names)`);
  const header = new Uint8Array(8 + headerSize).fill(0x20, 8 + json.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(headerSize), true);
  header.set(json, 8);

  const parts = [header, ...order.map((i) => bytes[i]!)];
  return { parts, size: header.length + pos };
}

function stateDictEntries(sd: StateDict | ReadonlyMap<string, AnyTensor>, op: string): [string, AnyTensor][] {
  let entries: [unknown, unknown][];
  if (sd instanceof Tensor) throw new ValueError(`${op}: the state dict must be an object (or Map) of names to tensors, got a Tensor (wrap it: { name: tensor })`);
  if (sd instanceof Map) entries = [...(sd as Map<unknown, unknown>).entries()];
  else if (typeof sd === "object" && sd !== null && !Array.isArray(sd)) entries = Object.keys(sd).map((k) => [k, (sd as Record<string, unknown>)[k]]);
  else throw new ValueError(`${op}: the state dict must be an object (or Map) of names to tensors, got ${describe(sd)}`);
  for (const [name, t] of entries) {
    checkKey(op, "tensor name", name);
    if (name === METADATA_KEY) throw new ValueError(`${op}: a tensor name must not be "${METADATA_KEY}" (the format reserves it), got "${METADATA_KEY}"`);
    if (!(t instanceof Tensor)) throw new ValueError(`${op}: state dict value "${name}" must be a Tensor, got ${describe(t)}`);
    if (!Object.hasOwn(FORMAT, t.dtype)) throw new ValueError(`${op}: tensor "${name}" must have dtype float32, float64, int32, int64 or bool, got ${String(t.dtype)}`);
  }
  return entries as [string, AnyTensor][];
}

function metadataEntries(md: unknown, op: string): [string, string][] {
  if (typeof md !== "object" || md === null || Array.isArray(md)) throw new ValueError(`${op}: metadata must be an object of strings to strings, got ${describe(md)}`);
  return Object.keys(md).map((k) => {
    checkKey(op, "metadata key", k);
    const v = (md as Record<string, unknown>)[k];
    if (typeof v !== "string") throw new ValueError(`${op}: metadata value "${k}" must be a string, got ${describe(v)}`);
    if (!isWellFormed(v)) throw new ValueError(`${op}: metadata value "${k}" must be well-formed Unicode (no lone surrogates), got ${JSON.stringify(v)}`);
    return [k, v];
  });
}

function checkKey(op: string, what: string, k: unknown): asserts k is string {
  if (typeof k !== "string") throw new ValueError(`${op}: a ${what} must be a string, got ${describe(k)}`);
  if (FORBIDDEN_KEYS.has(k)) throw new ValueError(`${op}: a ${what} must not be __proto__, constructor or prototype, got "${k}"`);
  if (!isWellFormed(k)) throw new ValueError(`${op}: a ${what} must be well-formed Unicode (no lone surrogates), got ${JSON.stringify(k)}`);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** A tensor's values, row-major, as the file stores them (a view of its storage when possible). */
function tensorBytes(name: string, t: AnyTensor, op: string): Uint8Array {
  const n = t.numel();
  const values = t.device === "cpu" && t.isContiguous() ? t._data.subarray(t._offset, t._offset + n) : t.detach().data();
  switch (t.dtype) {
    case "float32":
    case "float64":
    case "int32":
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    case "bool": {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = values[i] !== 0 ? 1 : 0;
      return out;
    }
    case "int64": {
      const out = new Uint8Array(8 * n);
      const view = new DataView(out.buffer);
      for (let i = 0; i < n; i++) {
        const v = values[i]!;
        if (!Number.isInteger(v) || v > INT64_LIMIT || v < -INT64_LIMIT) {
          throw new ValueError(`${op}: int64 tensor "${name}" must hold integers within ±2^53 (exact in typetorch), got ${Number.isFinite(v) && Number.isInteger(v) ? BigInt(v) : v} at flat index ${i}`);
        }
        const hi = Math.floor(v / TWO_32);
        view.setUint32(8 * i, v - hi * TWO_32, true);
        view.setInt32(8 * i + 4, hi, true);
      }
      return out;
    }
  }
}

// -------------------------------------------------------------------------------------------------
// decoding
// -------------------------------------------------------------------------------------------------

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * @internal Decodes and validates the bytes of a safetensors file. `where` starts every error
 * message (`"loadBytes"`, `"load: path/to/file"`).
 */
export function decode(input: Uint8Array | ArrayBuffer, where: string): LoadResult {
  if (!LITTLE_ENDIAN_HOST) throw new ValueError(`${where}: a little-endian host is required, got a big-endian one`);
  let bytes: Uint8Array;
  if (input instanceof Uint8Array) bytes = input;
  else if (input instanceof ArrayBuffer) bytes = new Uint8Array(input);
  else throw new ValueError(`${where}: the input must be a Uint8Array or ArrayBuffer, got ${describe(input)}`);
  const fail = (msg: string): never => {
    throw new ValueError(`${where}: ${msg}`);
  };

  // 1. The header's size, against the format's limit and the file.
  const len = bytes.length;
  if (len < 8) fail(`the file must start with an 8-byte header size, got a file of ${len} bytes`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_SIZE)) fail(`the header size must be at most ${MAX_HEADER_SIZE} bytes, got ${n}`);
  const headerSize = Number(n);
  if (headerSize > len - 8) fail(`the header size must fit in the file (at most ${len - 8} bytes after the size), got ${headerSize} (truncated file?)`);

  // 2. UTF-8 (the BOM is kept, so that it is rejected as JSON, as the reference does). The copy
  // lets TextDecoder read views of a SharedArrayBuffer too.
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.slice(8, 8 + headerSize));
  } catch {
    fail(`the header must be valid UTF-8, got invalid bytes in the ${headerSize}-byte header`);
  }

  // 3. The JSON header, checked against the schema as it is parsed.
  const { entries, metadata } = new HeaderParser(text, fail).parse();

  // 4. The data offsets must tile the buffer: sorted by offset, each starting where the previous
  // one ends, each spanning numel × itemsize bytes, the last ending at the end of the file.
  const bufferStart = 8 + headerSize;
  const bufferLen = len - bufferStart;
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    const range = `[${e.begin}, ${e.end}]`;
    if (e.end < e.begin) fail(`tensor ${show(e.name)}: data_offsets must be [begin, end] with begin <= end, got ${range}`);
    if (e.begin !== pos) {
      fail(`tensor ${show(e.name)}: data_offsets must begin at byte ${pos}, where the previous tensor ends (tensors must not overlap or leave gaps), got ${range}`);
    }
    // The product of the nonzero dims bounds numel and every stride: keeping it exact keeps
    // zero-size tensors such as [0, 2^52, 2^52] out too (the reference accepts those).
    let numel = 1, extent = 1;
    for (const d of e.shape) {
      numel *= d;
      extent *= Math.max(d, 1);
      if (extent > Number.MAX_SAFE_INTEGER) fail(`tensor ${show(e.name)}: the product of the dims must be at most 2^53 - 1, got shape [${e.shape.join(", ")}]`);
    }
    const nbytes = numel * FORMAT[e.dtype].size;
    if (e.end - e.begin !== nbytes) {
      fail(`tensor ${show(e.name)}: data_offsets must span ${nbytes} bytes (${FORMAT[e.dtype].name}, shape [${e.shape.join(", ")}]), got ${range} (${e.end - e.begin} bytes)`);
    }
    if (e.end > bufferLen) fail(`tensor ${show(e.name)}: data_offsets must end within the ${bufferLen}-byte data buffer, got ${range} (truncated file?)`);
    pos = e.end;
  }
  if (pos !== bufferLen) fail(`the tensors must cover the whole ${bufferLen}-byte data buffer, got ${pos} bytes covered (${bufferLen - pos} trailing bytes)`);

  // 5. The values. int64 must be exact in typetorch, bool must be 0 or 1; nothing is returned
  // unless every tensor decodes.
  const tensors = Object.create(null) as StateDict;
  for (const e of entries) {
    const start = bufferStart + e.begin;
    const copy = new Uint8Array(e.end - e.begin);
    copy.set(bytes.subarray(start, bufferStart + e.end));
    const storage = valuesOf(e, copy, fail);
    tensors[e.name] = new Tensor(storage, e.shape, contiguousStrides(e.shape), 0, e.dtype) as AnyTensor;
  }
  return { tensors, metadata };
}

function valuesOf(e: Entry, copy: Uint8Array, fail: (msg: string) => never): StorageOf[DType] {
  switch (e.dtype) {
    case "float32": return new Float32Array(copy.buffer);
    case "float64": return new Float64Array(copy.buffer);
    case "int32": return new Int32Array(copy.buffer);
    case "bool": {
      for (let i = 0; i < copy.length; i++) {
        if (copy[i]! > 1) fail(`tensor ${show(e.name)}: BOOL values must be bytes 0 or 1, got ${copy[i]} at flat index ${i}`);
      }
      return copy;
    }
    case "int64": {
      const lo = new Uint32Array(copy.buffer);
      const hi = new Int32Array(copy.buffer);
      const out = new Float64Array(copy.length / 8);
      for (let i = 0; i < out.length; i++) {
        const h = hi[2 * i + 1]!, l = lo[2 * i]!;
        // |v| <= 2^53 exactly when hi is in [-2^21, 2^21), or v is 2^53 itself.
        if (h < -(2 ** 21) || h > 2 ** 21 || (h === 2 ** 21 && l !== 0)) {
          const v = (BigInt(h) << 32n) + BigInt(l);
          fail(`tensor ${show(e.name)}: I64 values must be within ±2^53 (typetorch stores int64 exactly only there), got ${v} at flat index ${i}`);
        }
        out[i] = h * TWO_32 + l;
      }
      return out;
    }
  }
}

// -------------------------------------------------------------------------------------------------
// the header's JSON, parsed by its schema
// -------------------------------------------------------------------------------------------------

/**
 * A JSON parser for exactly the safetensors header schema:
 * `{ "__metadata__"?: { str: str } | null, [name]: { "dtype": str, "shape": [uint...], "data_offsets": [uint, uint] } }`.
 * It never recurses and never parses a value the schema does not expect, so deep nesting or an
 * unexpected value is an error at its first character. Strings follow RFC 8259 (escapes,
 * surrogate pairs; no raw control characters, no lone surrogates); integers are `0|[1-9][0-9]*`
 * up to 2^53 - 1. Duplicate keys and the keys `__proto__`, `constructor`, `prototype` are errors.
 */
class HeaderParser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly fail: (msg: string) => never,
  ) {}

  parse(): { entries: Entry[]; metadata: Record<string, string> | null } {
    const entries: Entry[] = [];
    const seen = new Set<string>();
    let metadata: Record<string, string> | null = null;
    this.ws();
    this.expect("{", "the header must be a JSON object");
    this.members("the header", (key) => {
      if (seen.has(key)) this.fail(`the header must not repeat a key, got ${show(key)} twice`);
      seen.add(key);
      if (key === METADATA_KEY) metadata = this.metadata();
      else entries.push(this.entry(key));
    });
    this.ws();
    if (this.i < this.s.length) this.fail(`the header must end after its JSON object (only whitespace may follow), got ${this.here()}`);
    return { entries, metadata };
  }

  /** `__metadata__`: an object of strings (or null, as the reference accepts). */
  private metadata(): Record<string, string> | null {
    if (this.s.startsWith("null", this.i)) {
      this.i += 4;
      return null;
    }
    const md = Object.create(null) as Record<string, string>;
    this.expect("{", `"${METADATA_KEY}" must be an object of strings`);
    this.members(`"${METADATA_KEY}"`, (key) => {
      if (Object.hasOwn(md, key)) this.fail(`"${METADATA_KEY}" must not repeat a key, got ${show(key)} twice`);
      if (this.s[this.i] !== '"') this.fail(`"${METADATA_KEY}" value ${show(key)} must be a string, got ${this.here()}`);
      md[key] = this.string();
    });
    return md;
  }

  /** One tensor: exactly `dtype`, `shape` and `data_offsets`. */
  private entry(name: string): Entry {
    const what = `tensor ${show(name)}`;
    let dtype: DType | undefined, shape: number[] | undefined, offsets: number[] | undefined;
    this.expect("{", `${what} must be an object {"dtype", "shape", "data_offsets"}`);
    this.members(what, (key) => {
      if (key === "dtype") {
        if (dtype !== undefined) this.fail(`${what} must not repeat a field, got "dtype" twice`);
        if (this.s[this.i] !== '"') this.fail(`${what}: dtype must be a string, got ${this.here()}`);
        const d = this.string();
        dtype = DTYPE_OF.get(d) ?? this.fail(`${what}: dtype must be one of ${KNOWN_DTYPES} (typetorch's dtypes), got ${show(d)}`);
      } else if (key === "shape") {
        if (shape !== undefined) this.fail(`${what} must not repeat a field, got "shape" twice`);
        shape = this.uints(`${what}: shape`);
      } else if (key === "data_offsets") {
        if (offsets !== undefined) this.fail(`${what} must not repeat a field, got "data_offsets" twice`);
        offsets = this.uints(`${what}: data_offsets`);
        if (offsets.length !== 2) this.fail(`${what}: data_offsets must be [begin, end], got ${offsets.length} numbers`);
      } else {
        this.fail(`${what} must have only the fields dtype, shape, data_offsets, got ${show(key)}`);
      }
    });
    if (dtype === undefined) this.fail(`${what} must have a "dtype" field, got none`);
    if (shape === undefined) this.fail(`${what} must have a "shape" field, got none`);
    if (offsets === undefined) this.fail(`${what} must have a "data_offsets" field, got none`);
    return { name, dtype: dtype!, shape: shape!, begin: offsets![0]!, end: offsets![1]! };
  }

  /** The members of an object whose `{` was read: `"key": value` pairs, the value read by `value`. */
  private members(what: string, value: (key: string) => void): void {
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail(`${what} must have string keys, got ${this.here()}`);
      const key = this.string();
      if (FORBIDDEN_KEYS.has(key)) this.fail(`${what} must not have the key __proto__, constructor or prototype, got ${show(key)}`);
      this.ws();
      this.expect(":", `${what}: a key must be followed by ':'`);
      this.ws();
      value(key);
      this.ws();
      const c = this.s[this.i];
      this.i++;
      if (c === "}") return;
      if (c !== ",") {
        this.i--;
        this.fail(`${what}: members must be separated by ',' and closed by '}', got ${this.here()}`);
      }
    }
  }

  /** An array of non-negative integers. */
  private uints(what: string): number[] {
    this.expect("[", `${what} must be an array of non-negative integers`);
    const out: number[] = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.uint(what));
      this.ws();
      const c = this.s[this.i];
      this.i++;
      if (c === "]") return out;
      if (c !== ",") {
        this.i--;
        this.fail(`${what}: elements must be separated by ',' and closed by ']', got ${this.here()}`);
      }
    }
  }

  private uint(what: string): number {
    const s = this.s;
    const start = this.i;
    let j = start;
    for (; j < s.length; j++) {
      const c = s.charCodeAt(j);
      // digits, '+', '-', '.', 'e', 'E': the characters of a JSON number, so the message quotes it whole
      if (!((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 101 || c === 69)) break;
    }
    const tok = s.slice(start, j);
    if (!/^(?:0|[1-9][0-9]*)$/.test(tok)) this.fail(`${what} must hold non-negative integers, got ${tok ? show(tok) : this.here()}`);
    const v = tok.length > 16 ? Infinity : Number(tok);
    if (v > Number.MAX_SAFE_INTEGER) this.fail(`${what} must hold integers at most 2^53 - 1, got ${show(tok)}`);
    this.i = j;
    return v;
  }

  /** A JSON string; `this.i` is at its opening quote. */
  private string(): string {
    const s = this.s;
    let i = this.i + 1;
    let out = "";
    let run = i;
    for (;;) {
      if (i >= s.length) this.fail(`a string must be closed by '"', got the end of the header`);
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        out += s.slice(run, i);
        this.i = i + 1;
        return out;
      }
      if (c < 0x20) this.fail(`a string must not contain raw control characters, got U+${c.toString(16).padStart(4, "0")} at character ${i}`);
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += s.slice(run, i);
      const e = s[i + 1];
      i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case "\\": out += "\\"; break;
        case "/": out += "/"; break;
        case "b": out += "\b"; break;
        case "f": out += "\f"; break;
        case "n": out += "\n"; break;
        case "r": out += "\r"; break;
        case "t": out += "\t"; break;
        case "u": {
          const u = this.hex4(i);
          i += 4;
          if (u >= 0xdc00 && u <= 0xdfff) this.fail(`a string must not contain a lone low surrogate, got \\u${u.toString(16)} at character ${i - 6}`);
          if (u >= 0xd800 && u <= 0xdbff) {
            const low = s.startsWith("\\u", i) ? this.hex4(i + 2) : -1;
            if (low < 0xdc00 || low > 0xdfff) this.fail(`a string must not contain a lone high surrogate, got \\u${u.toString(16)} at character ${i - 6}`);
            i += 6;
            out += String.fromCharCode(u, low);
          } else out += String.fromCharCode(u);
          break;
        }
        default:
          this.fail(`a string escape must be one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX, got ${e === undefined ? "the end of the header" : show("\\" + e)} at character ${i - 2}`);
      }
      run = i;
    }
  }

  private hex4(at: number): number {
    const h = this.s.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail(`a \\u escape must have 4 hex digits, got ${show("\\u" + h)} at character ${at - 2}`);
    return parseInt(h, 16);
  }

  private ws(): void {
    const s = this.s;
    let i = this.i;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    }
    this.i = i;
  }

  private expect(ch: string, msg: string): void {
    if (this.s[this.i] !== ch) this.fail(`${msg}, got ${this.here()}`);
    this.i++;
  }

  /** What is at the cursor, for a message: a kind of JSON value, or a character and its position. */
  private here(): string {
    const c = this.s[this.i];
    if (c === undefined) return "the end of the header";
    const kind = c === "{" ? "an object" : c === "[" ? "an array" : c === '"' ? "a string" : /[-0-9]/.test(c) ? "a number" : c === "t" || c === "f" ? "a boolean?" : c === "n" ? "null?" : undefined;
    return `${kind ? kind + " " : ""}${JSON.stringify(c)} at character ${this.i}`;
  }
}

/** A string for a message: quoted, at most ~60 characters. */
function show(s: string): string {
  return JSON.stringify(s.length > 60 ? s.slice(0, 57) + "..." : s);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return (v as object).constructor?.name ?? "an object";
  if (typeof v === "string") return show(v);
  return `${typeof v} ${String(v)}`;
}
