// config.json parsing: HF field names, defaults, and the fields that must be rejected rather than ignored.
import { describe, expect, it } from 'vitest';
import { layerParameterCount, parameterCount, parseConfig, toHfConfigJson } from './config';
import { ModelFormatError } from './errors';

const base = { n_layer: 2, n_head: 4, n_embd: 64, n_positions: 128, vocab_size: 300 };

function configError(json: unknown): ModelFormatError {
  try {
    parseConfig(json, 'dir/config.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    expect((e as ModelFormatError).code).toBe('config');
    expect((e as ModelFormatError).message).toMatch(/^dir\/config\.json: /);
    return e as ModelFormatError;
  }
  throw new Error(`expected ${JSON.stringify(json)} to be rejected`);
}

describe('parseConfig', () => {
  it('reads HF GPT-2 fields and derives headDim', () => {
    expect(parseConfig({ ...base, layer_norm_epsilon: 1e-6 })).toEqual({
      nLayer: 2, nHead: 4, nEmbd: 64, nCtx: 128, vocabSize: 300, layerNormEps: 1e-6, headDim: 16,
    });
  });

  it('defaults layer_norm_epsilon to 1e-5 and accepts n_ctx, preferring n_positions', () => {
    const { n_positions: _, ...noPositions } = base;
    expect(parseConfig({ ...noPositions, n_ctx: 64 }).nCtx).toBe(64);
    expect(parseConfig({ ...base, n_ctx: 64 }).nCtx).toBe(128);
    expect(parseConfig(base).layerNormEps).toBe(1e-5);
  });

  it('reads the real GPT-2 small config (as published on the Hub)', () => {
    const gpt2 = {
      activation_function: 'gelu_new', architectures: ['GPT2LMHeadModel'], attn_pdrop: 0.1, bos_token_id: 50256,
      embd_pdrop: 0.1, eos_token_id: 50256, initializer_range: 0.02, layer_norm_epsilon: 1e-5, model_type: 'gpt2',
      n_ctx: 1024, n_embd: 768, n_head: 12, n_layer: 12, n_positions: 1024, resid_pdrop: 0.1,
      summary_activation: null, summary_first_dropout: 0.1, summary_proj_to_labels: true, summary_type: 'cls_index',
      summary_use_proj: true, task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } }, vocab_size: 50257,
    };
    const cfg = parseConfig(gpt2);
    expect(cfg).toMatchObject({ nLayer: 12, nHead: 12, nEmbd: 768, nCtx: 1024, vocabSize: 50257, headDim: 64 });
    expect(parameterCount(cfg)).toBe(124_439_808); // the published GPT-2 small count, LM head tied
  });

  it('rejects missing, non-integer and non-positive sizes, naming the field', () => {
    expect(configError({ ...base, n_layer: undefined }).problem).toContain('n_layer');
    expect(configError({ ...base, n_head: 2.5 }).problem).toContain('n_head');
    expect(configError({ ...base, vocab_size: 0 }).problem).toContain('vocab_size');
    expect(configError({ ...base, n_embd: '64' }).problem).toContain('n_embd');
    expect(configError({ ...base, n_positions: undefined }).problem).toContain('n_positions');
    expect(configError({ ...base, layer_norm_epsilon: -1 }).problem).toContain('layer_norm_epsilon');
    configError(null);
    configError([base]);
  });

  it('rejects shapes the kernels cannot run', () => {
    expect(configError({ ...base, n_head: 3 }).problem).toContain('divisible');
    expect(configError({ ...base, n_embd: 5, n_head: 5 }).problem).toContain('even');
  });

  it('rejects fields that change the maths instead of silently ignoring them', () => {
    configError({ ...base, model_type: 'llama' });
    configError({ ...base, activation_function: 'relu' });
    configError({ ...base, n_inner: 100 });
    configError({ ...base, tie_word_embeddings: false });
    configError({ ...base, scale_attn_weights: false });
    configError({ ...base, scale_attn_by_inverse_layer_idx: true });
    configError({ ...base, add_cross_attention: true });
    expect(parseConfig({ ...base, n_inner: 256, activation_function: 'gelu_pytorch_tanh' }).nEmbd).toBe(64);
  });
});

describe('toHfConfigJson', () => {
  it('round-trips through parseConfig and carries the HF identity fields', () => {
    const cfg = parseConfig({ ...base, layer_norm_epsilon: 1e-6 });
    const json = toHfConfigJson(cfg);
    expect(parseConfig(json)).toEqual(cfg);
    expect(json).toMatchObject({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], activation_function: 'gelu_new', n_ctx: 128 });
  });
});

describe('parameterCount', () => {
  it('sums embeddings, blocks and the final LayerNorm', () => {
    const cfg = parseConfig(base);
    const d = 64;
    const block = 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d);
    expect(layerParameterCount(cfg)).toBe(block);
    expect(parameterCount(cfg)).toBe(300 * d + 128 * d + 2 * block + 2 * d);
  });
});
