/**
 * Launching the WebAssembly kernels of `codegen/wasmConv.ts` (and other row-wise kernels) over
 * arrays in the wasm memory, split with the worker thread where the work is large enough
 * (`launchRows`): what compiled programs' hooks (`runtime/kernelHooks.ts`) and eager conv2d
 * (`ops/conv.ts`, patches made in the arena) share. Argument arrays are reused: no allocation per
 * launch.
 *
 * @example
 * patchesWasm("im2col", pCols, pX, N, C, H, W, 3, 3, 1, 1, 1, 1, 1, 1, H, W);
 */
import { wasm } from "../backend/wasm.js";
import { convWasm, maxPool2Wasm } from "../codegen/wasmConv.js";
import { gemmThreads } from "./sgemm.js";

/**
 * Whether eager ops split their WASM kernels (on copies in the arena) with the worker: no. The
 * copies are fresh in this thread's cache, and on the 2-vCPU VM this was measured on, the worker
 * fetching half of them cost more than it saved (an eager CNN step ~21 → ~27 ms); compiled
 * programs, whose buffers stay in the wasm memory step after step, do split.
 */
export const EAGER_SPLIT = false;

/** A WASM module of kernels: its cache key and bytes, made once per variant (not per launch). */
export type WasmKernel = { key: string; source: () => Uint8Array };

/** The module `source(shared)` under key `name` (`:shared` appended for a shared memory). */
export function wasmKernel(name: string, source: (shared: boolean) => Uint8Array): WasmKernel {
  const shared = wasm.shared;
  return { key: `${name}${shared ? ":shared" : ""}`, source: () => source(shared) };
}

/**
 * Elements a kernel must touch before its rows (samples, image planes) are split with the worker
 * thread: below it, handing the work over costs about what the second core saves.
 */
const PARALLEL_MIN = 1 << 16;
/** Ranges the rows are split into: each thread claims the next until none is left. */
const PARALLEL_CHUNKS = 8;

/**
 * Runs export `fn` (of the module's `fns`) with `args` over `rows` rows of `work` elements in
 * all: split with the worker where that pays (`wasm.runRows`: row r's arguments are
 * `args[i] + r·deltas[i]`, the row count argument `rowArg`), else in one call here.
 */
export function launchRows(k: WasmKernel, fns: readonly string[], fn: string, args: number[], deltas: readonly number[], rowArg: number, rows: number, work: number, split = true): void {
  if (!split || work < PARALLEL_MIN || rows < 2) wasm.run(k.key, k.source, fn, args);
  else wasm.runRows(k.key, k.source, fns, fn, args, deltas, rowArg, rows, PARALLEL_CHUNKS, gemmThreads.spinUs);
}

/** The exports of `convWasm`. */
export const CONV_FNS = ["im2col", "col2im", "unpool"];
let conv: WasmKernel | undefined;
/** The `convWasm` module. */
export const convKernel = (): WasmKernel => (conv ??= wasmKernel("conv", convWasm));

const convArgs = new Array<number>(16).fill(0);
const convDeltas = new Array<number>(16).fill(0);

/**
 * `im2col(pPatches, pImage, ...)` or `col2im(pImage, pPatches, ...)` of `convWasm` (byte
 * addresses of contiguous float32 arrays in the wasm memory; the geometry as the JS kernels take
 * it), split by samples with the worker when large and `split`.
 */
export function patchesWasm(
  fn: "im2col" | "col2im", p0: number, p1: number,
  N: number, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, Ho: number, Wo: number,
  split = true,
): void {
  const patches = C * kh * kw * Ho * Wo; // one sample's
  convArgs[0] = p0;
  convArgs[1] = p1;
  convArgs[2] = N;
  convArgs[3] = C;
  convArgs[4] = H;
  convArgs[5] = W;
  convArgs[6] = kh;
  convArgs[7] = kw;
  convArgs[8] = sh;
  convArgs[9] = sw;
  convArgs[10] = ph;
  convArgs[11] = pw;
  convArgs[12] = dh;
  convArgs[13] = dw;
  convArgs[14] = Ho;
  convArgs[15] = Wo;
  convDeltas[0] = 4 * (fn === "im2col" ? patches : C * H * W);
  convDeltas[1] = 4 * (fn === "im2col" ? C * H * W : patches);
  launchRows(convKernel(), CONV_FNS, fn, convArgs, convDeltas, 2, N, N * patches, split);
}

let pool: WasmKernel | undefined;
const POOL_FNS = ["maxpool2"];
const poolArgs = new Array<number>(8).fill(0);
const poolDeltas = new Array<number>(8).fill(0);

/**
 * `maxpool2(pO, pI, pX, planes, H, W, Ho, Wo)` of `maxPool2Wasm` (2×2 windows, stride 2, over
 * contiguous float32 planes in the wasm memory; indices as float32), split by planes with the
 * worker when large and `split`.
 */
export function maxPool2Launch(pO: number, pI: number, pX: number, planes: number, H: number, W: number, Ho: number, Wo: number, split = true): void {
  poolArgs[0] = pO;
  poolArgs[1] = pI;
  poolArgs[2] = pX;
  poolArgs[3] = planes;
  poolArgs[4] = H;
  poolArgs[5] = W;
  poolArgs[6] = Ho;
  poolArgs[7] = Wo;
  poolDeltas[0] = poolDeltas[1] = 4 * Ho * Wo;
  poolDeltas[2] = 4 * H * W;
  launchRows((pool ??= wasmKernel("maxpool2", maxPool2Wasm)), POOL_FNS, "maxpool2", poolArgs, poolDeltas, 3, planes, planes * H * W, split);
}
