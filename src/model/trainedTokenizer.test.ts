// Parity of the embedded models' tokenizer between the Python trainer (tools/train/bpe.py) and the
// JS side (@huggingface/tokenizers, directly and through loadTokenizer): same ids for a committed
// sample of varied Python code, and decoding gives the text back.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from './tokenizer';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface TokenizerSample {
  tokenizer: string;
  tokenizer_sha256: string;
  eot_id: number;
  text: string;
  ids: number[];
}

const sample = JSON.parse(readFileSync(resolve(root, 'tools/train/tokenizer_sample.json'), 'utf8')) as TokenizerSample;
const tokenizerBytes = readFileSync(resolve(root, sample.tokenizer));
const tokenizerJson = JSON.parse(tokenizerBytes.toString('utf8')) as Record<string, unknown>;

describe('trained tokenizer (weights/dense/tokenizer.json)', () => {
  it('is the tokenizer the sample was made with', () => {
    // A retrained tokenizer needs `python3 tools/train/make_tokenizer_sample.py` to refresh the sample.
    expect(createHash('sha256').update(tokenizerBytes).digest('hex')).toBe(sample.tokenizer_sha256);
  });

  it('is shared by the sparse model', () => {
    const sparsePath = resolve(root, 'weights/sparse/tokenizer.json');
    expect(existsSync(sparsePath)).toBe(true);
    expect(readFileSync(sparsePath).equals(tokenizerBytes)).toBe(true);
  });

  it('@huggingface/tokenizers gives exactly the Python ids and decodes back to the text', () => {
    const tok = new Tokenizer(tokenizerJson, { clean_up_tokenization_spaces: false });
    const ids = tok.encode(sample.text).ids;
    expect(ids).toEqual(sample.ids);
    expect(tok.decode(ids, { clean_up_tokenization_spaces: false })).toBe(sample.text);
    expect(tok.encode('<|endoftext|>').ids).toEqual([sample.eot_id]);
  });

  it("the project's loadTokenizer agrees and knows the end-of-text id", async () => {
    const vocabSize = sample.eot_id + 1;
    const tok = await loadTokenizer(tokenizerJson, { file: sample.tokenizer, vocabSize });
    expect(tok.encode(sample.text)).toEqual(sample.ids);
    expect(tok.decode(sample.ids)).toBe(sample.text);
    expect(tok.eosId).toBe(sample.eot_id);
    expect(tok.vocabSize).toBe(vocabSize);
  });
});
