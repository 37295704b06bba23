/**
 * The binary encoder of the WebAssembly kernels (`./wasm.ts`: GEMM and SGD; `./wasmConv.ts`:
 * convolution and pooling): LEB128 numbers, sections, and one helper per instruction, each
 * returning its bytes, so a kernel body is written as nested `seq(...)` of instructions over
 * numbered locals. Every module imports its memory as `env.mem` (shared when `shared`) and its
 * functions take i32 arguments (byte addresses and counts) and return nothing.
 *
 * @example
 * const bytes = moduleBytes([{ params: 1, locals: [], body: seq(get(0), i32(0), f32store()), export: "zero" }], false);
 * new WebAssembly.Module(bytes);
 */

export type Bytes = number[];

export const uleb = (n: number): Bytes => {
  const out: Bytes = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
export const sleb = (n: number): Bytes => {
  const out: Bytes = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
export const str = (s: string): Bytes => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
export const vec = (items: Bytes[]): Bytes => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: Bytes): Bytes => [id, ...uleb(body.length), ...body];

export const I32 = 0x7f;
export const V128 = 0x7b;

// instructions (each returns its bytes; sequences are concatenated with `seq`)
export const seq = (...xs: (Bytes | number)[]): Bytes => xs.flatMap((x) => (typeof x === "number" ? [x] : x));
export const get = (l: number) => [0x20, ...uleb(l)];
export const set = (l: number) => [0x21, ...uleb(l)];
export const i32 = (c: number) => [0x41, ...sleb(c)];
export const add = 0x6a, sub = 0x6b, mul = 0x6c, shl = 0x74, and = 0x71;
export const lt_s = 0x48, gt_s = 0x4a, ge_s = 0x4e, eq = 0x46, or = 0x72, div_s = 0x6d;
/** `select(a, b, cond)`: a if cond ≠ 0, else b (any value type). */
export const select = 0x1b;
export const f32load = (off = 0) => [0x2a, 2, ...uleb(off)];
export const f32store = (off = 0) => [0x38, 2, ...uleb(off)];
export const f32add = 0x92, f32mul = 0x94, f32ne = 0x5c, f32lt = 0x5d, f32gt = 0x5e;
/** i32.trunc_f32_s (traps on NaN and out-of-range values). */
export const truncF32 = 0xa8;
/** The f32 constant x. */
export const f32const = (x: number) => [0x43, ...new Uint8Array(new Float32Array([x]).buffer)];
export const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
export const vload = (off = 0) => simd(0x00, 4, ...uleb(off));
export const vsplat = (off = 0) => simd(0x09, 2, ...uleb(off)); // v128.load32_splat
export const vstore = (off = 0) => simd(0x0b, 4, ...uleb(off));
export const vzero = simd(0x0c, ...new Array<number>(16).fill(0)); // v128.const 0
export const fadd4 = simd(0xe4), fmul4 = simd(0xe6), fneg4 = simd(0xe1);
/** f32x4 lane compares (all-ones lanes where true), the bitwise or, and `bitselect(a, b, mask)`. */
export const ne4 = simd(0x42), lt4 = simd(0x43), gt4 = simd(0x44), or4 = simd(0x50), bitselect = simd(0x52);
/** f32x4.splat of the f32 on the stack. */
export const splat4 = simd(0x13);
/** The f32x4 constant of four lanes `xs`. */
export const v128f = (xs: readonly [number, number, number, number]) => simd(0x0c, ...new Uint8Array(new Float32Array(xs).buffer));
/** f32x4.relaxed_madd (relaxed SIMD): a·b + c, fused where the CPU has FMA. */
export const fmadd4 = simd(0x105);
export const call = (f: number) => [0x10, ...uleb(f)];
/** `if (cond) then else els` (no result). */
export const ifElse = (cond: Bytes, then: Bytes, els?: Bytes) => seq(cond, 0x04, 0x40, then, ...(els ? [0x05, els] : []), 0x0b);
/** `for (v = from; v < to; v += step) body` — `to` is re-evaluated each iteration. */
export const forLoop = (v: number, from: Bytes, to: Bytes, step: Bytes, body: Bytes) =>
  seq(from, set(v), 0x02, 0x40, 0x03, 0x40, get(v), to, ge_s, 0x0d, 1, body, get(v), step, add, set(v), 0x0c, 0, 0x0b, 0x0b);
export const min = (a: Bytes, b: Bytes) => seq(a, b, a, b, lt_s, select); // select(a, b, a < b)

export interface Func {
  params: number;
  locals: { type: number; count: number }[];
  body: Bytes;
  export?: string;
}

export function moduleBytes(funcs: Func[], shared: boolean): Uint8Array {
  const types = funcs.map((f) => seq(0x60, vec(new Array<Bytes>(f.params).fill([I32])), 0));
  // memory import: min 1 page; a shared memory must declare a maximum (65536 pages = 4 GiB)
  const limits = shared ? seq(0x03, uleb(1), uleb(65536)) : seq(0x00, uleb(1));
  const imports = vec([seq(str("env"), str("mem"), 0x02, limits)]);
  const exportsList = funcs.flatMap((f, i) => (f.export ? [seq(str(f.export), 0x00, uleb(i))] : []));
  const code = funcs.map((f) => {
    const body = seq(vec(f.locals.map((l) => seq(uleb(l.count), l.type))), f.body, 0x0b);
    return seq(uleb(body.length), body);
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(exportsList)),
    ...section(10, vec(code)),
  ]);
}

/** i8x16.shuffle selecting f32 lanes (0–3: first operand, 4–7: second). */
export const shuf = (lanes: readonly number[]) => simd(0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
/** v128.store64_lane: stores 64-bit lane `lane` of the vector. */
export const store64Lane = (off: number, lane: number) => simd(0x5b, 3, ...uleb(off), lane);
