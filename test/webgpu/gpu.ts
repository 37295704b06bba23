/**
 * Shared setup of the WebGPU tests: initialises the device once per file and says why not when it
 * can't. Outside CI the tests are then skipped (the reason is printed); in CI (`CI` set) a
 * missing adapter is a failure, never a silent pass.
 */
import { torch } from "typetorch";

/** Why WebGPU can't run here (null when it can). */
export const gpuUnavailable: string | null = await torch.webgpu.unavailableReason();

if (gpuUnavailable !== null) {
  if (process.env.CI) throw new Error(`WebGPU tests must run in CI, got no adapter: ${gpuUnavailable}`);
  console.warn(`[webgpu tests skipped] ${gpuUnavailable}`);
}

/** `describe.skipIf` / `it.skipIf` argument: skip when there is no adapter. */
export const noGpu = gpuUnavailable !== null;
