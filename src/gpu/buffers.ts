// Labelled buffer helpers. Every buffer the engine owns is created here, at load time, and counted,
// so benchmarks can prove that no buffer is created per token.

export class BufferPool {
  /** Number of buffers created so far (benchmarks compare it before and after decode steps). */
  created = 0;
  bytes = 0;
  private readonly owned: GPUBuffer[] = [];

  constructor(readonly device: GPUDevice) {}

  create(label: string, size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const aligned = Math.max(16, Math.ceil(size / 16) * 16);
    const b = this.device.createBuffer({ label, size: aligned, usage });
    this.created++;
    this.bytes += aligned;
    this.owned.push(b);
    return b;
  }

  storage(label: string, size: number, extra: GPUBufferUsageFlags = 0): GPUBuffer {
    return this.create(label, size, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | extra);
  }

  /** A storage buffer initialised from data (ArrayBufferView), padded to 16 bytes. */
  upload(label: string, data: ArrayBufferView): GPUBuffer {
    const b = this.storage(label, data.byteLength);
    writeView(this.device, b, 0, data);
    return b;
  }

  /** A uniform buffer initialised from data: a view, or the ArrayBuffer a declared layout's pack returns (src/gpu/uniform.ts). */
  uniform(label: string, data: ArrayBufferView | ArrayBuffer): GPUBuffer {
    const b = this.create(label, data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    writeView(this.device, b, 0, data);
    return b;
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }
}

/** queue.writeBuffer for any view or ArrayBuffer, padding the tail to a multiple of 4 bytes as WebGPU requires. */
export function writeView(device: GPUDevice, buffer: GPUBuffer, offset: number, data: ArrayBufferView | ArrayBuffer): void {
  const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
  if (bytes.byteLength % 4 === 0) {
    device.queue.writeBuffer(buffer, offset, bytes as Uint8Array<ArrayBuffer>);
  } else {
    const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
    padded.set(bytes);
    device.queue.writeBuffer(buffer, offset, padded);
  }
}

/** Copies a GPU buffer range back to the CPU (tests and debug paths only: creates a staging buffer). */
export async function readBuffer(device: GPUDevice, src: GPUBuffer, offset = 0, size = src.size - offset): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ label: 'readback (debug)', size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder({ label: 'readback (debug)' });
  enc.copyBufferToBuffer(src, offset, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return out;
}
