// Node-side WebGPU through Dawn (the `webgpu` npm package). Finds a Vulkan driver when none is
// configured: a real GPU's loader first, then Chromium's bundled SwiftShader (CPU emulation).

import { existsSync } from 'node:fs';
import { acquireGpu, NoWebGPUError, type AcquireOptions, type GpuContext } from './device';

const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

let gpuApi: GPU | null = null;

/** The `navigator.gpu` equivalent in Node; null when the `webgpu` package cannot load. */
export async function nodeGpu(): Promise<GPU> {
  if (gpuApi) return gpuApi;
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && process.env.SPARSE_GPT2_USE_SYSTEM_VULKAN !== '1') {
    // No driver named: with no GPU device node (no /dev/dri, no /dev/nvidia0) the system's Vulkan
    // ICDs can only offer Mesa's lavapipe, which Dawn rejects; use Chromium's SwiftShader instead.
    const hasGpuNode = existsSync('/dev/dri') || existsSync('/dev/nvidia0') || process.platform !== 'linux';
    const swiftshader = SWIFTSHADER_ICDS.find((p) => existsSync(p));
    if (!hasGpuNode && swiftshader) process.env.VK_ICD_FILENAMES = swiftshader;
  }
  // SwiftShader's Vulkan WSI complains on stderr when XDG_RUNTIME_DIR is unset; compute needs no display.
  process.env.XDG_RUNTIME_DIR ??= (await import('node:os')).tmpdir();
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    throw new NoWebGPUError('no-api', `the 'webgpu' package (Dawn for Node) failed to load: ${String(e)}`);
  }
  Object.assign(globalThis, mod.globals);
  gpuApi = mod.create([]);
  return gpuApi;
}

export async function acquireNodeGpu(opts: AcquireOptions = {}): Promise<GpuContext> {
  // Dawn's Node binding polls for completions with setImmediate while a promise is pending (one core at 100%).
  return acquireGpu(await nodeGpu(), { hostPollSpins: true, ...opts });
}
