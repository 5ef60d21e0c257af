// Tokenizer loading through @huggingface/tokenizers, on a handcrafted byte-level BPE tokenizer.json.
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from './errors';
import { byteLevelAlphabet, loadTokenizer, makeByteLevelTokenizerJson, streamDecoder } from './tokenizer';

const merges: Array<[string, string]> = [['h', 'e'], ['l', 'l'], ['he', 'll'], ['hell', 'o'], ['Ġ', 'w'], ['o', 'r'], ['Ġw', 'or']];

async function tokenizerError(json: unknown, vocabSize?: number): Promise<ModelFormatError> {
  const e = await loadTokenizer(json, { file: 'm/tokenizer.json', vocabSize }).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ModelFormatError);
  expect((e as ModelFormatError).code).toBe('tokenizer');
  expect((e as ModelFormatError).message).toMatch(/^m\/tokenizer\.json: /);
  return e as ModelFormatError;
}

describe('byteLevelAlphabet', () => {
  it('maps the 256 bytes to 256 distinct printable characters as GPT-2 does', () => {
    const alpha = byteLevelAlphabet();
    expect(new Set(alpha.map(([b]) => b)).size).toBe(256);
    expect(new Set(alpha.map(([, c]) => c)).size).toBe(256);
    const of = new Map(alpha);
    expect(of.get(0x20)).toBe('Ġ'); // space
    expect(of.get(0x0a)).toBe('Ċ'); // newline
    expect(of.get(0x41)).toBe('A');
    expect(alpha[0]).toEqual([0x21, '!']); // GPT-2's vocab starts with "!"
  });
});

describe('loadTokenizer', () => {
  it('encodes with the BPE merges and decodes back', async () => {
    const json = makeByteLevelTokenizerJson(merges);
    const tok = await loadTokenizer(json);
    const vocab = (json.model as { vocab: Record<string, number> }).vocab;
    expect(tok.encode('hello world')).toEqual([vocab.hello, vocab['Ġwor'], vocab.l, vocab.d]);
    expect(tok.decode(tok.encode('hello world'))).toBe('hello world');
    expect(tok.decodeToken(vocab['Ġwor'])).toBe(' wor');
  });

  it('round-trips arbitrary text, including multi-byte UTF-8, spacing and punctuation', async () => {
    const tok = await loadTokenizer(makeByteLevelTokenizerJson(merges));
    for (const text of ['', 'héllo wörld', 'emoji 😀 and 中文', 'tabs\tand\nnewlines  double  spaces', "don't . , ?!"]) {
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
    expect(tok.encode('é').length).toBe(2); // two UTF-8 bytes, no merges
  });

  it('finds the end-of-text token and encodes it as one id', async () => {
    const json = makeByteLevelTokenizerJson(merges);
    const eos = (json.added_tokens as Array<{ id: number }>)[0].id;
    const tok = await loadTokenizer(json);
    expect(tok.eosId).toBe(eos);
    expect(tok.vocabSize).toBe(eos + 1);
    expect(tok.encode('hi<|endoftext|>')).toEqual([...tok.encode('hi'), eos]);
    expect(tok.decode([eos])).toBe('<|endoftext|>');
  });

  it('shows ids the tokenizer does not know instead of failing', async () => {
    const tok = await loadTokenizer(makeByteLevelTokenizerJson());
    const ids = tok.encode('ab');
    expect(tok.decode([...ids, 999, ...ids])).toBe('ab<unk:999>ab');
  });

  it('rejects a tokenizer whose ids do not fit the model', async () => {
    const e = await tokenizerError(makeByteLevelTokenizerJson(), 100);
    expect(e.problem).toContain('vocab_size 100');
    const ok = await loadTokenizer(makeByteLevelTokenizerJson(), { vocabSize: 257 });
    expect(ok.vocabSize).toBe(257);
  });

  it('rejects input that is not a tokenizer.json', async () => {
    await tokenizerError(null);
    await tokenizerError([1, 2]);
    await tokenizerError({ version: '1.0' });
    await tokenizerError({ model: { type: 'NoSuchModel', vocab: {} } });
    await tokenizerError({ ...makeByteLevelTokenizerJson(), added_tokens: 'x' });
  });
});

describe('streamDecoder', () => {
  it('emits whole characters when a character spans several byte tokens', async () => {
    const tok = await loadTokenizer(makeByteLevelTokenizerJson(merges));
    const text = 'hello 😀 wörld';
    const ids = tok.encode(text);
    const emoji = tok.encode('😀');
    expect(emoji.length).toBe(4);
    expect(tok.decodeToken(emoji[0])).toBe('\uFFFD'); // one byte of four alone is not a character
    const dec = streamDecoder(tok);
    const deltas = ids.map((id) => dec.push(id));
    expect(deltas.join('') + dec.flush()).toBe(text);
    expect(deltas.some((d) => d.includes('\uFFFD'))).toBe(false);
    expect(deltas).toContain('😀'); // the emoji arrives in one piece, after its four byte tokens
  });

  it('flushes an incomplete character at the end', async () => {
    const tok = await loadTokenizer(makeByteLevelTokenizerJson());
    const dec = streamDecoder(tok);
    expect(dec.push(tok.encode('é')[0])).toBe('');
    expect(dec.flush()).toBe('\uFFFD');
    expect(dec.flush()).toBe('');
  });
});
