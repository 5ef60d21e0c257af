// Tests of the page's engine client that need no GPU: streaming decode (token pieces always add up to the
// whole-sequence decode, split UTF-8 characters are held back, never shown broken) and id-list prompts.

import { describe, expect, it } from 'vitest';
import { byteLevelAlphabet, loadTokenizer, makeByteLevelTokenizerJson } from '../model/tokenizer';
import { createTokenTextStream, parseIdList, PromptError } from './engineClient';
import { mulberry32 } from '../shared/random';

/** Byte-level tokenizer without merges: token id = position of the byte in GPT-2's byte alphabet. */
async function byteTokenizer() {
  const tokenizer = await loadTokenizer(makeByteLevelTokenizerJson());
  const idOfByte = new Map(byteLevelAlphabet().map(([byte], id) => [byte, id]));
  return { tokenizer, idsOf: (bytes: number[]) => bytes.map((b) => idOfByte.get(b)!) };
}

describe('createTokenTextStream', () => {
  it('holds back a character split over several tokens until it is complete', async () => {
    const { tokenizer } = await byteTokenizer();
    const ids = tokenizer.encode('a€b'); // € is three UTF-8 bytes, so three byte tokens
    expect(ids).toHaveLength(5);
    const stream = createTokenTextStream(tokenizer);
    expect(ids.map((id) => stream.push(id))).toEqual(['a', '', '', '€', 'b']);
    expect(stream.flush()).toBe('');
  });

  it('pieces plus flush equal decoding the whole sequence, for random bytes including invalid UTF-8', async () => {
    const { tokenizer, idsOf } = await byteTokenizer();
    const rand = mulberry32(7);
    // Mostly well-formed text with multi-byte characters, with stray continuation and lead bytes mixed in.
    const alphabet = [...new TextEncoder().encode('aZ €ü😀\n')].concat([0x80, 0xbf, 0xc3, 0xe2, 0xf0, 0xff]);
    for (let trial = 0; trial < 200; trial++) {
      const bytes = Array.from({ length: 1 + Math.floor(rand() * 24) }, () => alphabet[Math.floor(rand() * alphabet.length)]!);
      const ids = idsOf(bytes);
      const stream = createTokenTextStream(tokenizer);
      const pieces = ids.map((id) => stream.push(id));
      const whole = tokenizer.decode(ids);
      const where = `bytes ${bytes.map((b) => b.toString(16)).join(' ')}`;
      expect(pieces.join('') + stream.flush(), where).toBe(whole);
      // What was on screen after each token is a prefix of the final text: nothing shown is ever taken back.
      let shown = '';
      for (const piece of pieces) {
        shown += piece;
        expect(whole.startsWith(shown), where).toBe(true);
      }
    }
  });

  it('shows ids as themselves without a tokenizer', () => {
    const stream = createTokenTextStream(null);
    expect([5, 0, 256].map((id) => stream.push(id))).toEqual(['5', '0', '256']);
    expect(stream.flush()).toBe('');
  });
});

describe('parseIdList', () => {
  it('reads comma-separated ids with any spacing', () => {
    expect(parseIdList(' 464, 2068 ,7586', 50257)).toEqual([464, 2068, 7586]);
  });

  it('names the bad item and the vocabulary range', () => {
    expect(() => parseIdList('1, x2', 257)).toThrow(PromptError);
    expect(() => parseIdList('1, x2', 257)).toThrow('item 2 ("x2") is not a whole number');
    expect(() => parseIdList('1, 2, 300', 257)).toThrow('Token id 300 (item 3) is outside the vocabulary (0 … 256)');
    expect(() => parseIdList('  ', 257)).toThrow('Enter at least one token id');
    expect(() => parseIdList('1,,2', 257)).toThrow('item 2 ("") is not a whole number');
  });
});
