/**
 * The hooks compiled programs put in scope of their kernel texts (`runtime/compiled.ts`
 * `kernelFn`): JS kernels from `runtime/codegen` (`fused.ts`, `fusedConv.ts`, `jsConv.ts`) offer
 * their work to a hook first and run their own loops when it declines (returns false) or is
 * absent, as in eager code. Each hook runs the work in WebAssembly where its arrays allow it —
 * float32, in the wasm memory (a compiled step's planned buffers and parameters), the layout the
 * WASM kernel takes — with the same results as the JS loops (see each kernel's doc).
 *
 * - `sgemm`, `sgemmBatch`: products through `ops/sgemm.ts` (the GEMM eager `matmul` uses, so
 *   compiled products equal eager's bit for bit; a batch splits over two threads);
 * - `biasAct`: a convolution's bias + ReLU epilogue (`codegen/wasmConv.ts` `biasActWasm`);
 * - `maxPool2`: 2×2 max pooling with indices (`maxPool2Wasm`);
 * - `wasmIm2col`, `wasmCol2im`, `wasmUnpool`: im2col, col2im, and max pooling's backward with the
 *   producer's ReLU backward (`convWasm`).
 *
 * Argument arrays are reused: no allocation per launch on a step's hot path.
 *
 * @example
 * const kernel = new Function(...Object.keys(kernelHooks), text)(...Object.values(kernelHooks));
 */
import { wasm } from "./backend/wasm.js";
import { biasActWasm } from "./codegen/wasmConv.js";
import { CONV_FNS, convKernel, launchRows, maxPool2Launch, patchesWasm, wasmKernel, type WasmKernel } from "./ops/launchRows.js";
import { useWasmGemm, wasmSgemm } from "./ops/sgemm.js";

// The WASM GEMM hooks of the fused gemm kernels (`codegen/fused.ts` `gemmSource`, `batchedGemm`):
// a float32 product that eager `matmul` would run in the WebAssembly SIMD GEMM (`useWasmGemm`, same
// m, k, n) runs in it here too, so compiled products equal eager's bit for bit. `sgemmBatch` takes
// `count` products at evenly spaced offsets in one call (which splits them between two threads);
// `sgemm` is one product. The offset arrays are reused: no allocation per launch.
const cOffs: number[] = [];
const aOffs: number[] = [];
const bOffs: number[] = [];
function sgemmBatch(
  C: Float32Array, co: number, cs: number, A: Float32Array, ao: number, as: number, sam: number, sak: number,
  B: Float32Array, bo: number, bs: number, sbk: number, sbn: number, count: number, m: number, k: number, n: number,
): boolean {
  if (!useWasmGemm(m, k, n)) return false;
  cOffs.length = aOffs.length = bOffs.length = count;
  for (let t = 0; t < count; t++) {
    cOffs[t] = co + t * cs;
    aOffs[t] = ao + t * as;
    bOffs[t] = bo + t * bs;
  }
  wasmSgemm(C, cOffs, A, aOffs, sam, sak, B, bOffs, sbk, sbn, m, k, n);
  return true;
}
function sgemm(
  C: Float32Array, co: number, A: Float32Array, ao: number, sam: number, sak: number,
  B: Float32Array, bo: number, sbk: number, sbn: number, m: number, k: number, n: number,
): boolean {
  return sgemmBatch(C, co, 0, A, ao, 0, sam, sak, B, bo, 0, sbk, sbn, 1, m, k, n);
}

// The byte address of a float32 array in the wasm memory, or -1 (also without WebAssembly).
const wasmAddress = (a: unknown) => (wasm.available && a instanceof Float32Array ? wasm.addressOf(a) : -1);
// Whether image strides (xsN, xsC, xsH, xsW) are those of a contiguous [N, C, H, W] batch.
const denseImage = (xsN: number, xsC: number, xsH: number, xsW: number, N: number, C: number, H: number, W: number) =>
  xsW === 1 && xsH === W && xsC === H * W && (N <= 1 || xsN === C * H * W);

// index: 2·bias + relu
const epiKernels: (WasmKernel | undefined)[] = [];
const epiArgs = [0, 0, 0, 0, 0];
const epiDeltas = [0, 0, 0, 0, 0];
const EPI_FNS = ["epi"];

// The conv epilogue hook (`codegen/fused.ts` `SEPI_DECL`): bias + ReLU in WASM SIMD, in place, for
// arrays in the wasm memory (a compiled step's planned buffers and parameters).
function biasAct(O: Float32Array, bias: Float32Array | null | undefined, N: number, Oc: number, L: number, relu: number): boolean {
  const pO = wasmAddress(O);
  const pB = bias ? wasmAddress(bias) : 0;
  if (pO < 0 || pB < 0) return false;
  const v = (bias ? 2 : 0) + relu;
  const k = (epiKernels[v] ??= wasmKernel(`epi:${v}`, (shared) => biasActWasm(shared, !!bias, relu === 1)));
  epiArgs[0] = pO;
  epiArgs[1] = pB;
  epiArgs[2] = N;
  epiArgs[3] = Oc;
  epiArgs[4] = L;
  epiDeltas[0] = 4 * Oc * L;
  launchRows(k, EPI_FNS, "epi", epiArgs, epiDeltas, 2, N, N * Oc * L);
  return true;
}

// The 2×2 max-pooling hook (`codegen/jsConv.ts` `maxPoolInsideSource`): stride 2 over contiguous
// float32 planes, values and indices in the wasm memory, in WASM SIMD (`maxPool2Wasm`).
function maxPool2(
  O: unknown, I: unknown, X: unknown, xo: number, xsN: number, xsC: number, xsH: number, xsW: number,
  N: number, C: number, H: number, W: number, sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, Ho: number, Wo: number,
): boolean {
  if (sh !== 2 || sw !== 2 || ph !== 0 || pw !== 0 || dh !== 1 || dw !== 1 || !denseImage(xsN, xsC, xsH, xsW, N, C, H, W)) return false;
  const pO = wasmAddress(O);
  const pI = wasmAddress(I);
  const pX = wasmAddress(X);
  if (pO < 0 || pI < 0 || pX < 0) return false;
  maxPool2Launch(pO, pI, pX + 4 * xo, N * C, H, W, Ho, Wo);
  return true;
}

// The im2col, col2im and max-unpool hooks (`codegen/jsConv.ts`, `fusedConv.ts`): contiguous float32
// images in the wasm memory, through `codegen/wasmConv.ts`'s `convWasm`.
const unpoolArgs = new Array<number>(8).fill(0);
const unpoolDeltas = new Array<number>(8).fill(0);
function wasmIm2col(
  O: unknown, X: unknown, xo: number, xsN: number, xsC: number, xsH: number, xsW: number,
  N: number, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, Ho: number, Wo: number,
): boolean {
  if (!denseImage(xsN, xsC, xsH, xsW, N, C, H, W)) return false;
  const pO = wasmAddress(O);
  let pX = wasmAddress(X);
  if (pO < 0 || !(X instanceof Float32Array)) return false;
  if (pX < 0) {
    // An image outside the wasm memory (a step's input batch) is copied in: ~C·H·W floats per
    // sample against kh·kw times as many patch entries written.
    wasm.reset();
    pX = wasm.place(X, xo, xo + N * C * H * W) - 4 * xo;
  }
  patchesWasm("im2col", pO, pX + 4 * xo, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo);
  return true;
}
function wasmCol2im(
  X: unknown, O: unknown, oo: number,
  N: number, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, Ho: number, Wo: number,
): boolean {
  const pX = wasmAddress(X);
  const pO = wasmAddress(O);
  if (pO < 0 || pX < 0) return false;
  patchesWasm("col2im", pX, pO + 4 * oo, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo);
  return true;
}
function wasmUnpool(GX: unknown, G: unknown, I: unknown, E: unknown, planes: number, HW: number, L: number, relu: number): boolean {
  const pX = wasmAddress(GX);
  const pG = wasmAddress(G);
  const pI = wasmAddress(I);
  // E is read only for the ReLU backward
  const pE = relu ? wasmAddress(E) : 0;
  if (pX < 0 || pG < 0 || pI < 0 || pE < 0) return false;
  const k = convKernel();
  unpoolArgs[0] = pX;
  unpoolArgs[1] = pG;
  unpoolArgs[2] = pI;
  unpoolArgs[3] = pE;
  unpoolArgs[4] = planes;
  unpoolArgs[5] = HW;
  unpoolArgs[6] = L;
  unpoolArgs[7] = relu;
  // a plane of the image (and of E), of the gradient and of the indices
  unpoolDeltas[0] = unpoolDeltas[3] = 4 * HW;
  unpoolDeltas[1] = unpoolDeltas[2] = 4 * L;
  launchRows(k, CONV_FNS, "unpool", unpoolArgs, unpoolDeltas, 4, planes, planes * HW);
  return true;
}

/** The hooks, by the names the kernel texts look for. */
export const kernelHooks = { sgemm, sgemmBatch, biasAct, maxPool2, wasmIm2col, wasmCol2im, wasmUnpool };
