// GPT-2 hyper-parameters as read from a Hugging Face config.json, validated so the engine can trust them,
// and the inverse (our config -> HF JSON) for generated test models.

import { ModelFormatError } from './errors';
import { previewJson } from '../shared/preview';

export interface GPT2Config {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** Context length (n_positions): rows of wpe and KV-cache capacity. */
  nCtx: number;
  vocabSize: number;
  layerNormEps: number;
  /** nEmbd / nHead. */
  headDim: number;
}

/** Activation names that mean GPT-2's tanh-approximated GELU (the only one the kernels implement). */
const TANH_GELU_NAMES = new Set(['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast']);

function fail(file: string, problem: string, hint?: string): never {
  throw new ModelFormatError({ file, problem, code: 'config', hint });
}

function positiveInt(obj: Record<string, unknown>, key: string, file: string): number {
  const v = obj[key];
  if (v === undefined || v === null) fail(file, `missing "${key}"`, 'a GPT-2 config.json needs n_layer, n_head, n_embd, n_positions (or n_ctx) and vocab_size');
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    fail(file, `"${key}" must be a positive integer (got ${previewJson(v)})`);
  }
  return v;
}

/**
 * Reads the GPT-2 fields of a config.json object. n_positions wins over n_ctx when both are given
 * (HF uses n_positions for the position table). Fields that would change the maths in ways the
 * engine does not implement (another activation, untied LM head, unscaled attention, cross-attention,
 * an MLP width other than 4·n_embd) are rejected rather than silently computed wrongly.
 */
export function parseConfig(json: unknown, file = 'config.json'): GPT2Config {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    fail(file, `must be a JSON object (got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json})`);
  }
  const obj = json as Record<string, unknown>;

  if (obj.model_type !== undefined && obj.model_type !== 'gpt2') {
    fail(file, `model_type is ${previewJson(obj.model_type)}, expected "gpt2"`);
  }
  const nLayer = positiveInt(obj, 'n_layer', file);
  const nHead = positiveInt(obj, 'n_head', file);
  const nEmbd = positiveInt(obj, 'n_embd', file);
  const ctxKey = obj.n_positions !== undefined && obj.n_positions !== null ? 'n_positions' : 'n_ctx';
  if (obj[ctxKey] === undefined || obj[ctxKey] === null) fail(file, 'missing "n_positions" (or "n_ctx")');
  const nCtx = positiveInt(obj, ctxKey, file);
  const vocabSize = positiveInt(obj, 'vocab_size', file);

  let layerNormEps = 1e-5;
  if (obj.layer_norm_epsilon !== undefined && obj.layer_norm_epsilon !== null) {
    const eps = obj.layer_norm_epsilon;
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0 || eps >= 1) {
      fail(file, `"layer_norm_epsilon" must be a number in (0, 1) (got ${previewJson(eps)})`);
    }
    layerNormEps = eps;
  }

  if (nEmbd % nHead !== 0) fail(file, `n_embd (${nEmbd}) must be divisible by n_head (${nHead})`);
  if (nEmbd % 2 !== 0) {
    fail(file, `n_embd (${nEmbd}) must be even`, 'weights are stored on the GPU as f16 pairs packed into u32 words');
  }

  const act = obj.activation_function;
  if (act !== undefined && act !== null && (typeof act !== 'string' || !TANH_GELU_NAMES.has(act))) {
    fail(file, `activation_function ${previewJson(act)} is not supported`, 'only GPT-2\'s tanh GELU ("gelu_new") is implemented');
  }
  if (obj.n_inner !== undefined && obj.n_inner !== null && obj.n_inner !== 4 * nEmbd) {
    fail(file, `n_inner ${previewJson(obj.n_inner)} is not supported`, `the MLP width must be 4·n_embd = ${4 * nEmbd}`);
  }
  if (obj.tie_word_embeddings === false) {
    fail(file, 'tie_word_embeddings is false', 'the LM head is tied to wte.weight; untied heads are not supported');
  }
  if (obj.scale_attn_weights === false) fail(file, 'scale_attn_weights false is not supported', 'attention scores are scaled by 1/sqrt(head_dim)');
  if (obj.scale_attn_by_inverse_layer_idx === true) fail(file, 'scale_attn_by_inverse_layer_idx is not supported');
  if (obj.add_cross_attention === true) fail(file, 'add_cross_attention is not supported');

  return { nLayer, nHead, nEmbd, nCtx, vocabSize, layerNormEps, headDim: nEmbd / nHead };
}

/** HF GPT2Config JSON for cfg, as transformers writes it (so `GPT2LMHeadModel.from_pretrained` reads our test models). */
export function toHfConfigJson(cfg: GPT2Config): Record<string, unknown> {
  return {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    activation_function: 'gelu_new',
    n_layer: cfg.nLayer,
    n_head: cfg.nHead,
    n_embd: cfg.nEmbd,
    n_positions: cfg.nCtx,
    n_ctx: cfg.nCtx,
    n_inner: null,
    vocab_size: cfg.vocabSize,
    layer_norm_epsilon: cfg.layerNormEps,
    attn_pdrop: 0.1,
    embd_pdrop: 0.1,
    resid_pdrop: 0.1,
    initializer_range: 0.02,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    tie_word_embeddings: true,
    use_cache: true,
  };
}

/** Parameters per transformer block (LayerNorms, attention, MLP, with biases). */
export function layerParameterCount(cfg: GPT2Config): number {
  const d = cfg.nEmbd;
  const ln = 2 * d;
  const attn = d * 3 * d + 3 * d + d * d + d;
  const mlp = d * 4 * d + 4 * d + 4 * d * d + d;
  return 2 * ln + attn + mlp;
}

/** Total parameters with the LM head tied to wte (counted once): 124,439,808 for GPT-2 small. */
export function parameterCount(cfg: GPT2Config): number {
  const d = cfg.nEmbd;
  return cfg.vocabSize * d + cfg.nCtx * d + cfg.nLayer * layerParameterCount(cfg) + 2 * d;
}
