import type { AnyTensor } from "../tensorTypes.js";
import { matmulShapes } from "../../types/matmul.js";
import { DTypeError } from "../../types/errors.js";
import { needsGrad, record } from "../autograd.js";
import { cpu } from "../backend/cpu.js";
import { matmulSource } from "../codegen/js.js";
import { Tensor } from "../Tensor.js";
import { sumToShape } from "./binary.js";
import { broadcastStrides, type KernelOpDef } from "./defineOp.js";
import { deviceMatmul } from "./device.js";
import { useWasmGemm, wasmSgemm } from "./sgemm.js";

/**
 * Matrix product. Forward: for float32 on the CPU (when WebAssembly SIMD is there and the product
 * is not tiny) the packed SIMD GEMM of `codegen/wasm.ts` reading strided operands directly;
 * otherwise the register-blocked kernel of `codegen/js.ts` over each pair of broadcast batch
 * matrices (the reference). Backward: `∂A = g · Bᵀ`, `∂B = Aᵀ · g`, summed over broadcast batch dims.
 */
export const matmul: KernelOpDef = {
  kind: "kernel",
  name: "matmul",
  gradName: "MmBackward0",
  js: "matmulSource",
  wgsl: "matmulWgsl",
  backward: null, // recorded in matmulOp, which keeps the 2-D views
};

const scratch = new Map<unknown, ArrayLike<number>>();

/**
 * A reusable scratch array of `like`'s kind holding at least `n` elements (the GEMM kernel packs
 * B into it), so a training loop does not allocate one per product.
 */
export function packScratch(like: ArrayLike<number>, n: number): ArrayLike<number> {
  const ctor = (like as unknown as { constructor: new (n: number) => ArrayLike<number> }).constructor;
  let s = scratch.get(ctor);
  if (!s || s.length < n) {
    s = new ctor(Math.max(n, 2 * (s?.length ?? 0)));
    scratch.set(ctor, s);
  }
  return s;
}

/** Whether the last two dims of `t` (both > 1) are laid out column-major: a transposed contiguous matrix. */
function colMajor(t: AnyTensor): boolean {
  const r = t.ndim - 2;
  return r >= 0 && t.shape[r]! > 1 && t.shape[r + 1]! > 1 && t._strides[r] === 1 && t._strides[r + 1] === t.shape[r];
}

const swapLast = (s: readonly number[]) => [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!];

/** `torch.matmul` / `mm` / `bmm` at run time. */
export function matmulOp(a: AnyTensor, b: AnyTensor, op: "matmul" | "mm" | "bmm" = "matmul"): AnyTensor {
  const plan = matmulShapes(op, a.shape, b.shape);
  if (a.dtype !== b.dtype) throw new DTypeError(`${op}: both arguments must have the same dtype, got ${a.dtype} and ${b.dtype}`);
  if (a.dtype === "bool") throw new DTypeError(`${op}: bool tensors are not supported, got dtype bool`);
  if (a.device !== b.device) Tensor._deviceMismatch(op, a, b);
  const { m, k, n, batch } = plan;
  const a1 = a.ndim === 1 ? a.reshape(plan.a) : a;
  const b1 = b.ndim === 1 ? b.reshape(plan.b) : b;
  // The WASM GEMM reads strided operands (e.g. the x.t() of Linear and of every backward) as they lie.
  const fast = a.device === "cpu" && a.dtype === "float32" && useWasmGemm(m, k, n) && a1._strides.every((x) => x >= 0) && b1._strides.every((x) => x >= 0);
  const a2 = fast ? a1 : a1.contiguous();
  const b2 = fast ? b1 : b1.contiguous();
  let out: AnyTensor | undefined;
  const alloc = () => (out = Tensor._empty([...batch, m, n], a.dtype, a.device));
  const as = broadcastStrides(a2, [...batch, m, k]);
  const bs = broadcastStrides(b2, [...batch, k, n]);
  const nb = batch.reduce((x, y) => x * y, 1);
  const idx = new Array<number>(batch.length).fill(0);
  if (a.device !== "cpu") deviceMatmul(alloc(), a2, b2, as, bs, batch, m, k, n);
  else if (fast) {
    const aOffs: number[] = [];
    const bOffs: number[] = [];
    const cOffs: number[] = [];
    for (let t = 0; t < nb; t++) {
      let ao = a2._offset;
      let bo = b2._offset;
      for (let d = 0; d < batch.length; d++) {
        ao += idx[d]! * as[d]!;
        bo += idx[d]! * bs[d]!;
      }
      aOffs.push(ao);
      bOffs.push(bo);
      cOffs.push(t * m * n);
      for (let d = batch.length - 1; d >= 0; d--) {
        if (++idx[d]! < batch[d]!) break;
        idx[d] = 0;
      }
    }
    const r = batch.length;
    // The output is made when the GEMM first writes to it (on two threads, while the worker computes).
    wasmSgemm(() => alloc()._data as Float32Array, cOffs, a2._data as Float32Array, aOffs, as[r]!, as[r + 1]!, b2._data as Float32Array, bOffs, bs[r]!, bs[r + 1]!, m, k, n);
  } else for (let t = 0; t < nb; t++) {
    let ao = a2._offset;
    let bo = b2._offset;
    for (let d = 0; d < batch.length; d++) {
      ao += idx[d]! * as[d]!;
      bo += idx[d]! * bs[d]!;
    }
    cpu.run("mm", matmulSource, [(out ?? alloc())._data, t * m * n, a2._data, ao, b2._data, bo, m, k, n, packScratch(b2._data, k * n)]);
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d]! < batch[d]!) break;
      idx[d] = 0;
    }
  }
  const result = (out ?? alloc()).reshape(plan.out);
  if (needsGrad([a, b])) {
    record(result, op === "mm" ? "MmBackward0" : op === "bmm" ? "BmmBackward0" : "MmBackward0", [a, b], (g) => {
      const g2 = g.reshape([...batch, m, n]);
      // Each gradient is made in its operand's layout, as PyTorch's mm backward does: for a
      // column-major operand (a transposed view, as Linear's `W.t()`) the transposed product, so
      // that what reaches the source tensor is contiguous and accumulates in one flat loop. The
      // same products are summed in the same order either way: the values are identical.
      const ga = !a.requiresGrad ? null
        : colMajor(a1) ? sumToShape(b2.matmul(g2.transpose(-1, -2)), swapLast(a2.shape)).transpose(-1, -2).reshape(a.shape)
        : sumToShape(g2.matmul(b2.transpose(-1, -2)), a2.shape).reshape(a.shape);
      const gb = !b.requiresGrad ? null
        : colMajor(b1) ? sumToShape(g2.transpose(-1, -2).matmul(a2), swapLast(b2.shape)).transpose(-1, -2).reshape(b.shape)
        : sumToShape(a2.transpose(-1, -2).matmul(g2), b2.shape).reshape(b.shape);
      return [ga, gb];
    });
  }
  return result;
}
