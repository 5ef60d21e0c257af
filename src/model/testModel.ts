// Deterministic random GPT-2 checkpoints in the HF layout (tests, benchmarks, demos without downloads).
// Scales are chosen so every part of the network matters: attention scores and GELU inputs are O(1),
// the blocks outweigh the (tied) embeddings in the residual stream, and logits have std ≈ 2.

import { parseConfig, toHfConfigJson, type GPT2Config } from './config';
import { expectedTensors, type Gpt2Weights } from './checkpoint';
import { joinSource } from './errors';
import { f32ArrayToBf16Bits, f32ArrayToF16Bits } from '../shared/f16';
import { nodeFs } from './files';
import { DTYPE_BYTES, elementCount, LITTLE_ENDIAN, MAX_HEADER_BYTES, planSafetensors, type SafetensorsDtype } from './safetensors';

export interface TestModelOptions {
  layers: number;
  heads: number;
  embd: number;
  vocab: number;
  ctx: number;
  seed: number;
  /** Storage dtype of every tensor (default F32). */
  dtype?: 'F32' | 'F16' | 'BF16';
}

export const PRESETS: Record<string, Omit<TestModelOptions, 'seed'>> = {
  /** The real GPT-2 small shape (openai-community/gpt2): 124,439,808 parameters. */
  'gpt2-124m': { layers: 12, heads: 12, embd: 768, vocab: 50257, ctx: 1024 },
};

export interface TestModel {
  config: GPT2Config;
  configJson: Record<string, unknown>;
  /** A complete model.safetensors file. */
  safetensors: Uint8Array<ArrayBuffer>;
}

const TORCH_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

/** 32-bit FNV-1a of a tensor name: gives each tensor its own stream, independent of generation order. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Fills out with mean + uniform(-halfWidth, halfWidth) from a splitmix32 stream. Integer ops and one
 * rounding to f32 only, so the bytes are identical on every JS engine (unlike Box-Muller's log/cos).
 */
function fillUniform(out: Float32Array, seed: number, mean: number, halfWidth: number): void {
  let state = seed | 0;
  const scale = (2 * halfWidth) / 2 ** 24;
  const base = mean - halfWidth;
  for (let i = 0; i < out.length; i++) {
    state = (state + 0x9e3779b9) | 0;
    let t = state ^ (state >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    t ^= t >>> 15;
    out[i] = base + (t >>> 8) * scale;
  }
}

/** Mean and half-width of the uniform distribution each tensor is drawn from (std = halfWidth / sqrt 3). */
function distribution(name: string, cfg: GPT2Config): { mean: number; halfWidth: number } {
  const d = cfg.nEmbd;
  const sqrt3 = Math.sqrt(3);
  const u = (std: number) => ({ mean: 0, halfWidth: std * sqrt3 });
  // The LM head is tied to wte, so the input token's own embedding in the residual stream gives its logit a
  // boost of about √d / √(1 + r²) standard deviations, where r = (blocks' element std) / (wte's element std).
  // Left at r ≈ 1 a wide model would only ever echo its input; r = √(d − 1) keeps that boost near 1 std,
  // so the next token is not just the current one echoed back. The blocks' total std is spread evenly
  // over the 2·nLayer residual additions.
  const r = Math.sqrt(Math.max(1, d - 1));
  const blockOut = (r * 2) / Math.sqrt(d) / Math.sqrt(2 * cfg.nLayer);
  const suffix = name.replace(/^h\.\d+\./, '');
  switch (suffix) {
    case 'wte.weight': return u(2 / Math.sqrt(d)); // LayerNormed x · wte: logits with std ≈ 2
    case 'wpe.weight': return u(2 / Math.sqrt(d)); // as strong as wte: position counts as much as the token in block 0's input
    case 'ln_1.weight': case 'ln_2.weight': case 'ln_f.weight': return { mean: 1, halfWidth: 0.1 };
    case 'ln_1.bias': case 'ln_2.bias': case 'ln_f.bias': return { mean: 0, halfWidth: 0.05 };
    case 'attn.c_attn.weight': return u(1 / Math.sqrt(d)); // q·k/√headDim and v come out O(1)
    case 'attn.c_attn.bias': return u(0.1);
    case 'attn.c_proj.weight': return u(blockOut / (0.7 * Math.sqrt(d))); // inputs: attention-averaged v, std ≈ 0.7
    case 'mlp.c_fc.weight': return u(1 / Math.sqrt(d)); // GELU inputs O(1): its curved region
    case 'mlp.c_fc.bias': return u(0.1);
    case 'mlp.c_proj.weight': return u(blockOut / (0.65 * Math.sqrt(4 * d))); // inputs: GELU outputs, std ≈ 0.65
    case 'attn.c_proj.bias': case 'mlp.c_proj.bias': return u(0.1 * blockOut);
    default: throw new Error(`no distribution for tensor ${name}`);
  }
}

/**
 * Largest model.safetensors makeTestModel builds: 2 GiB − 1 bytes. The file is built in one typed array and
 * read back by the loader with one readFile, which Node caps at 2 GiB − 1 bytes (kIoMaxLength).
 */
export const MAX_TEST_MODEL_BYTES = 2 ** 31 - 1;
/** Upper bound of one tensor's entry in the header JSON (name with a 10-digit layer index, dtype, shape, offsets). */
const HEADER_BYTES_PER_TENSOR = 160;

/**
 * Why a test model of these dimensions cannot be built, or undefined when it can: its model.safetensors
 * (parameters × dtype bytes plus the header) must be at most MAX_TEST_MODEL_BYTES and its header at most
 * MAX_HEADER_BYTES. Pure arithmetic on the options: nothing is allocated or listed, whatever they are.
 * The message says how many layers would fit at this width, vocabulary and context.
 */
export function testModelSizeProblem(opts: Omit<TestModelOptions, 'seed'>): string | undefined {
  const { layers: L, embd: d, vocab: V, ctx: C } = opts;
  const dtype = opts.dtype ?? 'F32';
  const size = DTYPE_BYTES[dtype as SafetensorsDtype] ?? 4;
  const perLayer = 12 * d * d + 13 * d; // layerParameterCount
  const fixed = V * d + C * d + 2 * d;
  const params = fixed + L * perLayer;
  const headerBytes = HEADER_BYTES_PER_TENSOR * (12 * L + 4) + 1024;
  const bytes = params * size + headerBytes;
  const num = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));
  const fitLayers = Math.max(0, Math.min(
    Math.floor((MAX_TEST_MODEL_BYTES - 1024 - (fixed * size + 4 * HEADER_BYTES_PER_TENSOR)) / (perLayer * size + 12 * HEADER_BYTES_PER_TENSOR)),
    Math.floor((MAX_HEADER_BYTES - 1024 - 4 * HEADER_BYTES_PER_TENSOR) / (12 * HEADER_BYTES_PER_TENSOR)),
  ));
  const what = `${num(L)} layers × ${num(d)}, vocab ${num(V)}, ctx ${num(C)}`;
  const advice = fitLayers >= 1
    ? `at this width, vocabulary and context at most ${num(fitLayers)} layers fit; use fewer layers, a smaller width, vocabulary or context${size > 2 ? ', or F16' : ''}`
    : `the embeddings alone (vocab × width + ctx × width) do not fit: use a smaller width, vocabulary or context${size > 2 ? ', or F16' : ''}`;
  if (!(bytes <= MAX_TEST_MODEL_BYTES)) {
    return `${what} makes ${num(params)} parameters, ${num(bytes)} bytes as ${dtype}, over the ${num(MAX_TEST_MODEL_BYTES)} bytes (2 GiB) ` +
      `a model.safetensors can have here (it is built in memory and read back with one readFile); ${advice}`;
  }
  if (headerBytes > MAX_HEADER_BYTES) {
    return `${what} needs ${num(12 * L + 4)} tensors, whose safetensors header would exceed the ${num(MAX_HEADER_BYTES)}-byte limit; ${advice}`;
  }
  return undefined;
}

/** A deterministic random GPT-2 (same options → identical bytes) in HF layout, names without prefix. */
export function makeTestModel(opts: TestModelOptions): TestModel {
  const dtype: SafetensorsDtype = opts.dtype ?? 'F32';
  if (!(dtype in TORCH_DTYPE)) throw new RangeError(`dtype must be F32, F16 or BF16 (got ${String(dtype)})`);
  const tooLarge = testModelSizeProblem(opts);
  if (tooLarge !== undefined) throw new RangeError(`makeTestModel: ${tooLarge}`);
  if (!Number.isSafeInteger(opts.seed)) throw new RangeError(`seed must be an integer (got ${opts.seed})`);
  if (!LITTLE_ENDIAN) throw new Error('makeTestModel writes little-endian data in place and needs a little-endian host');
  const config = parseConfig({
    n_layer: opts.layers, n_head: opts.heads, n_embd: opts.embd, n_positions: opts.ctx, vocab_size: opts.vocab,
  }, 'test model options');
  const configJson = { ...toHfConfigJson(config), torch_dtype: TORCH_DTYPE[dtype as keyof typeof TORCH_DTYPE] };

  const specs = expectedTensors(config).map((t) => ({ ...t, dtype }));
  const layout = planSafetensors(specs, {
    format: 'pt', // transformers' from_pretrained requires it
    generator: 'sparse-gpt2 make-test-model',
    seed: String(opts.seed),
  });
  const file = new Uint8Array(layout.totalBytes);
  file.set(layout.headerBytes, 0);
  const seedMix = Math.imul(opts.seed | 0, 0x9e3779b1) ^ Math.floor(opts.seed / 2 ** 32);
  let scratch = new Float32Array(0);
  specs.forEach((t, i) => {
    const n = elementCount(t.shape);
    const { mean, halfWidth } = distribution(t.name, config);
    const seed = hashName(t.name) ^ seedMix;
    if (dtype === 'F32') {
      // Offsets are 4-byte aligned: the header is padded to 8 and every F32 tensor is a multiple of 4 bytes.
      fillUniform(new Float32Array(file.buffer, layout.offsets[i], n), seed, mean, halfWidth);
    } else {
      if (scratch.length < n) scratch = new Float32Array(n);
      const values = scratch.subarray(0, n);
      fillUniform(values, seed, mean, halfWidth);
      const dst = new Uint16Array(file.buffer, layout.offsets[i], n);
      if (dtype === 'F16') f32ArrayToF16Bits(values, dst);
      else f32ArrayToBf16Bits(values, dst);
    }
  });
  return { config, configJson, safetensors: file };
}

/** Writes config.json, model.safetensors and (when given) tokenizer.json into dir, creating it (Node only). */
export async function writeModelDir(dir: string, model: TestModel, tokenizerJson?: unknown): Promise<void> {
  const fs = await nodeFs();
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(joinSource(dir, 'config.json'), `${JSON.stringify(model.configJson, null, 2)}\n`);
  await fs.writeFile(joinSource(dir, 'model.safetensors'), model.safetensors);
  if (tokenizerJson !== undefined) await fs.writeFile(joinSource(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
}

/**
 * Zeroes blocks of every attention and MLP matrix of loaded weights (HF [in, out] layout) in place, keeping
 * block (rb, cb) when (rb · 7 + cb · 3) mod `every` is 0: about 1/every of them, spread over every row and
 * column of blocks. For tests of the BSR path on weights the engine then finds block-sparse.
 */
export function zeroBlocks(w: Gpt2Weights, block: number, every: number): void {
  const D = w.config.nEmbd;
  for (const l of w.layers) {
    for (const [m, cols] of [[l.attnW, 3 * D], [l.attnProjW, D], [l.fcW, 4 * D], [l.fcProjW, D]] as Array<[Float32Array, number]>) {
      const rows = m.length / cols;
      for (let rb = 0; rb < rows / block; rb++) {
        for (let cb = 0; cb < cols / block; cb++) {
          if ((rb * 7 + cb * 3) % every === 0) continue;
          for (let i = rb * block; i < Math.min(rows, rb * block + block); i++) m.fill(0, i * cols + cb * block, i * cols + Math.min(cols, cb * block + block));
        }
      }
    }
  }
}
