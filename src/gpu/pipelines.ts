// Keyed cache of compute pipelines: one per (shader, override constants). Pipelines are made at load
// time only; the key makes variant choice explicit and shares identical pipelines between layers, and
// (one cache per device, PipelineCache.of) between the engines on one device: the page's two models
// compile each shader once.

import { shaderSource } from './shaders';

export type Overrides = Record<string, number>;

const perDevice = new WeakMap<GPUDevice, PipelineCache>();

export class PipelineCache {
  /** The device's shared cache (pipelines are immutable and outlive no device, so sharing is safe). */
  static of(device: GPUDevice): PipelineCache {
    let c = perDevice.get(device);
    if (!c) {
      c = new PipelineCache(device);
      perDevice.set(device, c);
    }
    return c;
  }

  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  static key(shader: string, overrides: Overrides): string {
    const consts = Object.keys(overrides)
      .sort()
      .map((k) => `${k}=${overrides[k]}`)
      .join(',');
    return `${shader}(${consts})`;
  }

  module(shader: string): GPUShaderModule {
    let m = this.modules.get(shader);
    if (!m) {
      m = this.device.createShaderModule({ label: `shaders/${shader}.wgsl`, code: shaderSource(shader) });
      this.modules.set(shader, m);
    }
    return m;
  }

  get(shader: string, overrides: Overrides = {}, entryPoint = 'main'): GPUComputePipeline {
    const key = PipelineCache.key(shader, overrides) + (entryPoint === 'main' ? '' : `:${entryPoint}`);
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module: this.module(shader), entryPoint, constants: overrides },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  get size(): number {
    return this.pipelines.size;
  }
}
