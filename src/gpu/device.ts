// Acquires a WebGPU adapter and device (browser or Node/Dawn), with the optional features this
// project uses, and surfaces device loss and uncaptured errors instead of letting them vanish.

/** WebGPU is missing or gives no adapter. The message says why and how to enable it. */
export class NoWebGPUError extends Error {
  override readonly name = 'NoWebGPUError';
  constructor(readonly reason: 'no-api' | 'no-adapter' | 'no-device', detail = '') {
    super(
      (reason === 'no-api'
        ? 'WebGPU is not available: this browser or runtime has no navigator.gpu.'
        : reason === 'no-adapter'
          ? 'WebGPU is present but no GPU adapter was found.'
          : 'WebGPU adapter found, but creating a device failed.') +
        (detail ? ` (${detail})` : '') +
        ' Use Chrome or Edge 113+ (on Linux start it with --enable-unsafe-webgpu --enable-features=Vulkan), ' +
        'or in Node set VK_ICD_FILENAMES to a Vulkan driver (e.g. Chromium\'s vk_swiftshader_icd.json).',
    );
  }
}

/** Raised when the GPU reports an error we did not expect (validation, out of memory, device lost). */
export class GpuError extends Error {
  override readonly name = 'GpuError';
}

export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  hasTimestamps: boolean;
  /** Vendor / architecture / description of the adapter, for reports. */
  adapterDescription: string;
  adapterInfo: { vendor: string; architecture: string; device: string; description: string };
  /** Register a callback for device loss (called once with the reason). */
  onLost(cb: (reason: string) => void): void;
  /** Uncaptured GPU errors seen so far (a healthy run has none). */
  readonly errors: string[];
  /**
   * The host resolves WebGPU promises by polling in a loop that keeps a CPU core busy while any is pending
   * (Dawn's Node binding re-arms setImmediate until its callbacks fire). On a CPU-emulated adapter that core is
   * one the adapter's workers need, so callers that can tell when work will be done wait before asking.
   */
  hostPollSpins: boolean;
}

export interface AcquireOptions {
  label?: string;
  /** See GpuContext.hostPollSpins (false for browsers). */
  hostPollSpins?: boolean;
  powerPreference?: GPUPowerPreference;
  /** Ask for the adapter's largest storage-binding and buffer sizes (big models need them). */
  maxLimits?: boolean;
}

export async function acquireGpu(gpu?: GPU, opts: AcquireOptions = {}): Promise<GpuContext> {
  const api = gpu ?? (typeof navigator !== 'undefined' ? (navigator as Navigator).gpu : undefined);
  if (!api) throw new NoWebGPUError('no-api');
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await api.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  } catch (e) {
    throw new NoWebGPUError('no-adapter', String(e));
  }
  if (!adapter) throw new NoWebGPUError('no-adapter');
  const wanted: GPUFeatureName[] = ['timestamp-query'];
  const requiredFeatures = wanted.filter((f) => adapter!.features.has(f));
  const requiredLimits: Record<string, number> = {};
  if (opts.maxLimits ?? true) {
    const l = adapter.limits;
    requiredLimits.maxStorageBufferBindingSize = l.maxStorageBufferBindingSize;
    requiredLimits.maxBufferSize = l.maxBufferSize;
    requiredLimits.maxComputeWorkgroupStorageSize = l.maxComputeWorkgroupStorageSize;
    requiredLimits.maxStorageBuffersPerShaderStage = l.maxStorageBuffersPerShaderStage;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ label: opts.label ?? 'sparse-gpt2', requiredFeatures, requiredLimits });
  } catch (e) {
    throw new NoWebGPUError('no-device', String(e));
  }
  const info = adapter.info ?? ({ vendor: '', architecture: '', device: '', description: '' } as GPUAdapterInfo);
  const adapterInfo = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
  };
  const errors: string[] = [];
  const lostCallbacks: Array<(reason: string) => void> = [];
  let lostReason: string | null = null;
  device.addEventListener('uncapturederror', (ev) => {
    const msg = (ev as GPUUncapturedErrorEvent).error.message;
    errors.push(msg);
    console.error(`[webgpu] uncaptured error: ${msg}`);
  });
  void device.lost.then((info) => {
    lostReason = `${info.reason}: ${info.message}`;
    for (const cb of lostCallbacks) cb(lostReason);
  });
  return {
    device,
    adapter,
    hasTimestamps: device.features.has('timestamp-query'),
    adapterDescription:
      [adapterInfo.vendor, adapterInfo.architecture, adapterInfo.device, adapterInfo.description].filter(Boolean).join(' / ') ||
      'unknown adapter',
    adapterInfo,
    onLost(cb) {
      if (lostReason !== null) cb(lostReason);
      else lostCallbacks.push(cb);
    },
    errors,
    hostPollSpins: opts.hostPollSpins ?? false,
  };
}

/** Runs fn inside validation + out-of-memory error scopes and throws GpuError if either caught anything. */
export async function withErrorScopes<T>(device: GPUDevice, what: string, fn: () => T | Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await fn();
  } finally {
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    const err = validation ?? oom;
    if (err) throw new GpuError(`${what}: ${err.message}`);
  }
  return result;
}
