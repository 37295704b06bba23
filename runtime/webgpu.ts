/**
 * `torch.webgpu`: setting up the WebGPU device tensors move to with `x.to("webgpu")`.
 *
 * In a browser it uses `navigator.gpu`. In Node it loads the `webgpu` package (Dawn) and, where
 * Debian's chromium is installed and nothing else is configured, points the Vulkan loader at the
 * SwiftShader driver chromium ships (a CPU implementation: correct, not fast).
 *
 * @example
 * import { torch } from "typetorch";
 * await torch.webgpu.init();
 * const y = torch.randn(64, 784).to("webgpu").relu();
 * await y.sum().itemAsync();
 */
import { DeviceError } from "../types/errors.js";
import { hasWebgpuBackend, setWebgpuBackend, WebGPUBackend, webgpuBackend } from "./backend/webgpu.js";

/** Debian chromium's SwiftShader Vulkan driver (ICD manifest) and the loader next to it. */
export const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";
const CHROMIUM_VULKAN = "/usr/lib/chromium/libvulkan.so.1";
const SYSTEM_VULKAN = ["/usr/lib/x86_64-linux-gnu/libvulkan.so.1", "/usr/lib/aarch64-linux-gnu/libvulkan.so.1", "/usr/lib64/libvulkan.so.1", "/usr/lib/libvulkan.so.1"];

/** What {@link init} found. */
export interface WebGPUInfo {
  /** The adapter's description (e.g. "SwiftShader driver 5.0.0"), or its vendor. */
  readonly adapter: string;
  /** Whether it runs in a browser (`navigator.gpu`) or in Node (the `webgpu` package). */
  readonly via: "navigator.gpu" | "node-webgpu";
}

/** Options of {@link init}. */
export interface WebGPUInitOptions {
  /** Passed to `requestAdapter`. */
  powerPreference?: "low-power" | "high-performance";
  /** Use this device instead of requesting one (the caller keeps it alive). */
  device?: GPUDevice;
}

let info: WebGPUInfo | null = null;
let initializing: Promise<WebGPUInfo> | null = null;

interface NodeProcess {
  versions?: { node?: string };
  env: Record<string, string | undefined>;
  dlopen(module: { exports: unknown }, filename: string, flags?: number): void;
}

async function nodeGPU(): Promise<{ gpu: GPU; keepAlive: unknown }> {
  const proc = (globalThis as { process?: NodeProcess }).process!;
  const fs = await import("node:fs");
  if (proc.env.VK_ICD_FILENAMES === undefined && fs.existsSync(SWIFTSHADER_ICD)) proc.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  // Dawn dlopens "libvulkan.so.1". Debian's chromium ships one beside SwiftShader but not on the
  // library path: load it once (RTLD_GLOBAL | RTLD_NODELETE) so Dawn's dlopen finds it by name.
  if (proc.env.VK_ICD_FILENAMES === SWIFTSHADER_ICD && fs.existsSync(CHROMIUM_VULKAN) && !SYSTEM_VULKAN.some((p) => fs.existsSync(p))) {
    try {
      proc.dlopen({ exports: {} }, CHROMIUM_VULKAN, 0x2 | 0x100 | 0x1000);
    } catch {
      // "did not self-register": expected, it is not a Node addon; the library stays loaded.
    }
  }
  let mod: { create(flags: string[]): GPU };
  try {
    mod = (await import("webgpu" as string)) as { create(flags: string[]): GPU };
  } catch (e) {
    throw new DeviceError(`webgpu.init: Node needs the "webgpu" package (npm i webgpu), got: ${(e as Error).message}`);
  }
  const gpu = mod.create([]);
  return { gpu, keepAlive: gpu };
}

async function start(opts: WebGPUInitOptions): Promise<WebGPUInfo> {
  if (opts.device) {
    setWebgpuBackend(new WebGPUBackend(opts.device, null));
    return (info = { adapter: "given device", via: "navigator.gpu" });
  }
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  let gpu: GPU;
  let keepAlive: unknown = null;
  let via: WebGPUInfo["via"];
  if (nav?.gpu) {
    gpu = nav.gpu;
    via = "navigator.gpu";
  } else if ((globalThis as { process?: NodeProcess }).process?.versions?.node) {
    ({ gpu, keepAlive } = await nodeGPU());
    via = "node-webgpu";
  } else {
    throw new DeviceError("webgpu.init: this platform must offer WebGPU (navigator.gpu), got none");
  }
  const adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : {});
  if (!adapter) {
    const hint = via === "node-webgpu" ? ` (set VK_ICD_FILENAMES to a Vulkan driver, e.g. ${SWIFTSHADER_ICD} from Debian's chromium package)` : "";
    throw new DeviceError(`webgpu.init: an adapter must be available, got none${hint}`);
  }
  const device = await adapter.requestDevice();
  const a = adapter.info as GPUAdapterInfo | undefined;
  setWebgpuBackend(new WebGPUBackend(device, keepAlive ?? adapter));
  return (info = { adapter: a?.description || a?.vendor || "unknown adapter", via });
}

/**
 * Sets up the WebGPU device (once; later calls return the same info). Throws a DeviceError
 * saying why when there is no adapter.
 *
 * @example
 * const { adapter } = await torch.webgpu.init(); // "SwiftShader driver 5.0.0" under Node here
 */
export function init(opts: WebGPUInitOptions = {}): Promise<WebGPUInfo> {
  if (info && hasWebgpuBackend()) return Promise.resolve(info);
  initializing ??= start(opts).finally(() => {
    initializing = null;
  });
  return initializing;
}

/**
 * Why WebGPU can't be used here, or null when `init()` succeeds (it initialises as a side effect).
 *
 * @example
 * const why = await torch.webgpu.unavailableReason(); // null, or "webgpu.init: an adapter must ..."
 */
export async function unavailableReason(): Promise<string | null> {
  try {
    await init();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Whether `init()` has set up a device.
 *
 * @example
 * torch.webgpu.isInitialized(); // false before `await torch.webgpu.init()`
 */
export function isInitialized(): boolean {
  return hasWebgpuBackend();
}

/**
 * Waits until the device has finished all queued work (and throws any error it reported).
 *
 * @example
 * await torch.webgpu.synchronize();
 */
export function synchronize(): Promise<void> {
  return webgpuBackend().sync();
}

/**
 * Counters of the backend: buffers created and reused, kernels compiled, batches submitted.
 *
 * @example
 * torch.webgpu.stats().compiled; // kernels compiled so far
 */
export function stats(): Readonly<WebGPUBackend["stats"]> {
  return { ...webgpuBackend().stats };
}

/**
 * Destroys the device: tensors on it become unusable; `init()` makes a new one.
 *
 * @example
 * torch.webgpu.destroy();
 */
export function destroy(): void {
  if (!hasWebgpuBackend()) return;
  webgpuBackend().destroy();
  setWebgpuBackend(null);
  info = null;
}
