// GPT-2 weights in Hugging Face layout: resolves the tensor names (optional "transformer." prefix), checks
// every tensor against the shapes the config implies before anything is returned, and widens them to f32.

import { parseConfig, type GPT2Config } from './config';
import { joinSource, ModelFormatError } from './errors';
import { formatShape, parseSafetensors, type SafetensorsFile, type TensorInfo } from './safetensors';

export interface LayerWeights {
  ln1G: Float32Array;
  ln1B: Float32Array;
  /** [nEmbd, 3*nEmbd], HF Conv1D layout (in, out): q | k | v along the output axis. */
  attnW: Float32Array;
  attnB: Float32Array;
  /** [nEmbd, nEmbd] (in, out). */
  attnProjW: Float32Array;
  attnProjB: Float32Array;
  ln2G: Float32Array;
  ln2B: Float32Array;
  /** [nEmbd, 4*nEmbd] (in, out). */
  fcW: Float32Array;
  fcB: Float32Array;
  /** [4*nEmbd, nEmbd] (in, out). */
  fcProjW: Float32Array;
  fcProjB: Float32Array;
}

export interface Gpt2Weights {
  config: GPT2Config;
  /** [vocab, nEmbd]; also the (tied) LM head. */
  wte: Float32Array;
  /** [nCtx, nEmbd]. */
  wpe: Float32Array;
  layers: LayerWeights[];
  lnfG: Float32Array;
  lnfB: Float32Array;
}

/** Which float dtypes a weight may be stored in. */
const WEIGHT_DTYPES = new Set(['F32', 'F16', 'BF16']);

type LayerKey = keyof LayerWeights;

/** HF name suffix (after "h.N.") and expected shape of each per-layer tensor. */
function layerSpecs(cfg: GPT2Config): Array<[LayerKey, string, number[]]> {
  const d = cfg.nEmbd;
  return [
    ['ln1G', 'ln_1.weight', [d]],
    ['ln1B', 'ln_1.bias', [d]],
    ['attnW', 'attn.c_attn.weight', [d, 3 * d]],
    ['attnB', 'attn.c_attn.bias', [3 * d]],
    ['attnProjW', 'attn.c_proj.weight', [d, d]],
    ['attnProjB', 'attn.c_proj.bias', [d]],
    ['ln2G', 'ln_2.weight', [d]],
    ['ln2B', 'ln_2.bias', [d]],
    ['fcW', 'mlp.c_fc.weight', [d, 4 * d]],
    ['fcB', 'mlp.c_fc.bias', [4 * d]],
    ['fcProjW', 'mlp.c_proj.weight', [4 * d, d]],
    ['fcProjB', 'mlp.c_proj.bias', [d]],
  ];
}

/** Every tensor a GPT-2 checkpoint must hold (unprefixed HF names) with the shape the config implies. */
export function expectedTensors(cfg: GPT2Config): Array<{ name: string; shape: number[] }> {
  const d = cfg.nEmbd;
  const out = [
    { name: 'wte.weight', shape: [cfg.vocabSize, d] },
    { name: 'wpe.weight', shape: [cfg.nCtx, d] },
  ];
  for (let l = 0; l < cfg.nLayer; l++) {
    for (const [, suffix, shape] of layerSpecs(cfg)) out.push({ name: `h.${l}.${suffix}`, shape });
  }
  out.push({ name: 'ln_f.weight', shape: [d] }, { name: 'ln_f.bias', shape: [d] });
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Checks that every required tensor is present (with or without the "transformer." prefix), has a float
 * dtype and exactly the expected shape, and that an lm_head.weight, if stored, equals wte (the head is tied).
 * Returns the file's tensor for each unprefixed HF name. Reads no tensor data except for that lm_head check.
 */
export function validateGpt2Tensors(st: SafetensorsFile, cfg: GPT2Config): Map<string, TensorInfo> {
  const resolved = new Map<string, TensorInfo>();
  for (const { name, shape } of expectedTensors(cfg)) {
    const info = st.tensors.get(name) ?? st.tensors.get(`transformer.${name}`);
    if (!info) {
      throw new ModelFormatError({
        file: st.file, tensor: name, code: 'missing-tensor',
        problem: `tensor missing (expected ${formatShape(shape)}, as "${name}" or "transformer.${name}")`,
        hint: `config says n_layer=${cfg.nLayer}, n_embd=${cfg.nEmbd}; check that config.json belongs to this checkpoint`,
      });
    }
    if (!WEIGHT_DTYPES.has(info.dtype)) {
      throw new ModelFormatError({
        file: st.file, tensor: info.name, code: 'dtype',
        problem: `dtype ${info.dtype} is not supported for weights (F32, F16 or BF16)`,
      });
    }
    if (!sameShape(info.shape, shape)) {
      throw new ModelFormatError({
        file: st.file, tensor: info.name, code: 'shape',
        problem: `shape ${formatShape(shape)} expected from config.json, file has ${formatShape(info.shape)}`,
        hint: info.shape.length === 2 && sameShape([info.shape[1], info.shape[0]], shape)
          ? 'the matrix looks transposed: GPT-2 stores Conv1D weights as [in, out]'
          : undefined,
      });
    }
    resolved.set(name, info);
  }
  const head = st.tensors.get('lm_head.weight') ?? st.tensors.get('transformer.lm_head.weight');
  if (head) {
    const wte = resolved.get('wte.weight')!;
    const tied = sameShape(head.shape, wte.shape) &&
      (head.dtype === wte.dtype ? bytesEqual(st.bytes(head.name), st.bytes(wte.name)) : floatsEqual(st.getF32(head.name), st.getF32(wte.name)));
    if (!tied) {
      throw new ModelFormatError({
        file: st.file, tensor: head.name, code: 'unsupported',
        problem: 'lm_head.weight differs from wte.weight',
        hint: 'this engine ties the LM head to wte (as GPT-2 does); untied heads are not supported',
      });
    }
  }
  return resolved;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function floatsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * All GPT-2 weights as f32, exactly as stored (F16/BF16 widened). Validation of every tensor happens
 * first, so a bad file throws before any conversion. Extra tensors (HF's h.N.attn.bias mask buffers,
 * a tied lm_head.weight) are ignored. F32 tensors may be views into the file bytes: treat as read-only.
 */
export function loadGpt2Weights(st: SafetensorsFile, config: GPT2Config): Gpt2Weights {
  const resolved = validateGpt2Tensors(st, config);
  const get = (name: string): Float32Array => st.getF32(resolved.get(name)!.name);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.nLayer; l++) {
    const layer = {} as LayerWeights;
    for (const [key, suffix] of layerSpecs(config)) layer[key] = get(`h.${l}.${suffix}`);
    layers.push(layer);
  }
  return {
    config,
    wte: get('wte.weight'),
    wpe: get('wpe.weight'),
    layers,
    lnfG: get('ln_f.weight'),
    lnfB: get('ln_f.bias'),
  };
}

export interface ModelFiles {
  config: GPT2Config;
  /** config.json as parsed (all fields, including ones the engine ignores). */
  configJson: Record<string, unknown>;
  /** Validated against config: every required tensor present with the right shape. */
  safetensors: SafetensorsFile;
  /** tokenizer.json parsed, when the model has one; otherwise drive the model by token ids. */
  tokenizerJson?: unknown;
  /** Directory or base URL the files came from. */
  source: string;
}

/**
 * Parses and validates a model's files (already read into memory). Shapes are checked eagerly against the
 * config, but weights are not converted: call loadGpt2Weights(files.safetensors, files.config) for f32 data.
 */
export function parseModelFiles(source: string, files: { config: string; safetensors: Uint8Array; tokenizer?: string }): ModelFiles {
  const configFile = joinSource(source, 'config.json');
  let configJson: unknown;
  try {
    configJson = JSON.parse(files.config);
  } catch (e) {
    throw new ModelFormatError({ file: configFile, code: 'config', problem: `not valid JSON (${(e as Error).message})` });
  }
  const config = parseConfig(configJson, configFile);
  let tokenizerJson: unknown;
  if (files.tokenizer !== undefined) {
    try {
      tokenizerJson = JSON.parse(files.tokenizer);
    } catch (e) {
      throw new ModelFormatError({ file: joinSource(source, 'tokenizer.json'), code: 'tokenizer', problem: `not valid JSON (${(e as Error).message})` });
    }
  }
  const safetensors = parseSafetensors(files.safetensors, joinSource(source, 'model.safetensors'));
  validateGpt2Tensors(safetensors, config);
  return { config, configJson: configJson as Record<string, unknown>, safetensors, tokenizerJson, source };
}
