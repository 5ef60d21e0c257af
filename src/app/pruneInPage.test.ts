// The page's pruning (layer by layer, for progress) writes exactly the checkpoint that pruning the whole model
// at once with pruneGpt2 writes (what `cli prune` does), for both methods; bad settings and files are refused.

import { describe, expect, it } from 'vitest';
import { loadGpt2Weights, parseModelFiles, writeGpt2Checkpoint } from '../model/checkpoint';
import { ModelFormatError } from '../model/errors';
import { calibrationWindows, collectActivationNorms, DEFAULT_CALIBRATION_TEXT, PRUNE_METADATA_KEYS, pruneGpt2 } from '../model/prune';
import { makeTestModel } from '../model/testModel';
import { loadTokenizer, makeByteLevelTokenizerJson } from '../model/tokenizer';
import type { RawModelFiles } from './modelCache';
import { prunedConfigText, pruneModelFiles, pruneSettingsKey, type PruneProgress } from './pruneInPage';

const model = makeTestModel({ layers: 3, heads: 4, embd: 64, vocab: 257, ctx: 64, seed: 9 });
const files: RawModelFiles = {
  config: JSON.stringify(model.configJson),
  safetensors: model.safetensors,
  tokenizer: JSON.stringify(makeByteLevelTokenizerJson()),
};

describe('pruneModelFiles', () => {
  it('equals pruneGpt2 on the whole model (magnitude), with per-layer progress', async () => {
    const seen: PruneProgress[] = [];
    const out = await pruneModelFiles('m/', files, { density: 0.25, block: 16, method: 'magnitude' }, (p) => seen.push(p));
    const st = parseModelFiles('m', files).safetensors;
    const w = loadGpt2Weights(st, model.config);
    const whole = pruneGpt2(w, { density: 0.25, block: 16, method: 'magnitude' });
    const want = writeGpt2Checkpoint(whole.weights, {
      format: 'bsr', block: 16, dtype: 'F32',
      metadata: { ...st.metadata, [PRUNE_METADATA_KEYS.method]: 'magnitude', [PRUNE_METADATA_KEYS.density]: '0.25', [PRUNE_METADATA_KEYS.block]: '16' },
    });
    expect(Buffer.from(out.safetensors).equals(Buffer.from(want))).toBe(true);
    expect(out.keptBlocks).toBe(whole.matrices.reduce((s, m) => s + m.keptBlocks, 0));
    expect(out.totalBlocks).toBe(whole.matrices.reduce((s, m) => s + m.totalBlocks, 0));
    expect(seen.filter((p) => p.phase === 'pruning').map((p) => p.done)).toEqual([4, 8, 12]);
    expect(seen.at(-1)).toMatchObject({ phase: 'writing', done: 12, total: 12 });
    // The result loads as a block-sparse model of the same config.
    const back = parseModelFiles('pruned', { ...files, config: prunedConfigText(files.config, 'm', { density: 0.25, block: 16, method: 'magnitude' }), safetensors: out.safetensors });
    expect(back.safetensors.metadata.bsr_block_size).toBe('16');
    expect(back.configJson._name_or_path).toBe('m (block-sparse, magnitude-d0.25-b16)');
  });

  it('equals pruneGpt2 with activation norms of the calibration text', async () => {
    const out = await pruneModelFiles('m/', files, { density: 0.5, block: 32, method: 'activation' });
    const w = loadGpt2Weights(parseModelFiles('m', files).safetensors, model.config);
    const tok = await loadTokenizer(makeByteLevelTokenizerJson());
    const norms = collectActivationNorms(w, calibrationWindows(tok.encode(DEFAULT_CALIBRATION_TEXT), 64));
    const whole = pruneGpt2(w, { density: 0.5, block: 32, method: 'activation', activationNorms: norms });
    const kept = (bytes: Uint8Array) => parseModelFiles('x', { ...files, safetensors: bytes }).safetensors;
    const a = kept(out.safetensors);
    const b = kept(writeGpt2Checkpoint(whole.weights, { format: 'bsr', block: 32 }));
    for (const name of ['h.0.mlp.c_fc.weight', 'h.2.attn.c_attn.weight']) {
      expect(Buffer.from(a.bytes(`${name}.bsr_col_indices`)).equals(Buffer.from(b.bytes(`${name}.bsr_col_indices`)))).toBe(true);
    }
    expect(out.calibrationTokens).toBe(norms.tokens);
    expect(a.metadata[PRUNE_METADATA_KEYS.calibrationTokens]).toBe(String(norms.tokens));
  });

  it('refuses bad settings and bad files', async () => {
    await expect(pruneModelFiles('m/', files, { density: 0, block: 32, method: 'magnitude' })).rejects.toThrow(/density/);
    await expect(pruneModelFiles('m/', files, { density: 0.5, block: 24, method: 'magnitude' })).rejects.toThrow(/block size/);
    const cut = { ...files, safetensors: files.safetensors.subarray(0, files.safetensors.length - 10) };
    await expect(pruneModelFiles('m/', cut, { density: 0.5, block: 32, method: 'magnitude' })).rejects.toBeInstanceOf(ModelFormatError);
    await expect(pruneModelFiles('m/', { ...files, tokenizer: undefined }, { density: 0.5, block: 32, method: 'activation' })).rejects.toThrow(/tokenizer\.json/);
    expect(pruneSettingsKey({ density: 1 / 8, block: 32, method: 'magnitude' })).toBe('magnitude-d0.125-b32');
  });
});
