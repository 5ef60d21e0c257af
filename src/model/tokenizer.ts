// Text <-> token ids through a Hugging Face tokenizer.json, using @huggingface/tokenizers. Also builds a
// genuine byte-level BPE tokenizer.json (GPT-2's byte alphabet, optional merges) for small test models.

import { Tokenizer } from '@huggingface/tokenizers';
import { ModelFormatError } from './errors';
import { clipText, previewJson } from '../shared/preview';

export interface TextTokenizer {
  encode(text: string): number[];
  /** Whole-sequence decode (byte-level tokens join into correct UTF-8). Ids the tokenizer lacks show as `<unk:ID>`. */
  decode(ids: number[]): string;
  /** One token on its own (a token holding part of a UTF-8 character decodes to U+FFFD). */
  decodeToken(id: number): string;
  /** End-of-text token id, when the tokenizer defines one (GPT-2: 50256). */
  readonly eosId?: number;
  /** One past the largest id the tokenizer knows. */
  readonly vocabSize: number;
}

export interface LoadTokenizerOptions {
  /** Name used in errors. */
  file?: string;
  /** The model's vocab_size: a tokenizer producing ids at or above it is rejected (they would index past wte). */
  vocabSize?: number;
}

const EOS_NAMES = ['<|endoftext|>', '</s>', '<eos>', '<|eos|>'];

/** Builds a tokenizer from parsed tokenizer.json. Malformed input gives ModelFormatError code 'tokenizer'. */
export async function loadTokenizer(tokenizerJson: unknown, opts: LoadTokenizerOptions = {}): Promise<TextTokenizer> {
  const file = opts.file ?? 'tokenizer.json';
  const fail = (problem: string, hint?: string): never => {
    throw new ModelFormatError({ file, code: 'tokenizer', problem, hint });
  };
  if (tokenizerJson === null || typeof tokenizerJson !== 'object' || Array.isArray(tokenizerJson)) {
    fail('must be a JSON object (Hugging Face tokenizers format)');
  }
  const json = tokenizerJson as Record<string, unknown>;
  if (json.model === null || typeof json.model !== 'object') fail('missing "model" object', 'expected a Hugging Face tokenizer.json');
  if (json.added_tokens !== undefined && !Array.isArray(json.added_tokens)) fail('"added_tokens" must be an array');
  checkBpeModel(json, file, opts.vocabSize);

  let tok: Tokenizer;
  try {
    // Components a file may omit default to none; decoding keeps text exactly (no " ." -> "." clean-up).
    tok = new Tokenizer(
      { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json },
      { clean_up_tokenization_spaces: false },
    );
  } catch (e) {
    return fail(`cannot build tokenizer (${clipText(String((e as Error)?.message ?? e))})`);
  }

  let maxId = -1;
  let maxToken = '';
  for (const [token, id] of tok.get_vocab(true)) {
    if (id > maxId) {
      maxId = id;
      maxToken = token;
    }
  }
  if (maxId < 0) fail('vocabulary is empty');
  if (opts.vocabSize !== undefined && maxId >= opts.vocabSize) {
    fail(`token ${previewJson(maxToken)} has id ${maxId}, outside the model's vocab_size ${opts.vocabSize}`,
      'the tokenizer does not belong to this model');
  }

  let eosId: number | undefined;
  for (const [id, added] of tok.get_added_tokens_decoder()) {
    if (added.special && EOS_NAMES.includes(added.content)) {
      eosId = id;
      break;
    }
  }

  const known = (id: number): boolean => Number.isInteger(id) && id >= 0 && tok.id_to_token(id) !== undefined;
  const decode = (ids: number[]): string => {
    let text = '';
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0) text += tok.decode(run, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
      run = [];
    };
    for (const id of ids) {
      if (known(id)) {
        run.push(id);
      } else {
        flush();
        text += `<unk:${id}>`;
      }
    }
    flush();
    return text;
  };

  return {
    encode(text: string): number[] {
      const ids = tok.encode(text, { add_special_tokens: false }).ids;
      const bad = ids.findIndex((id) => !Number.isInteger(id));
      if (bad >= 0) throw new RangeError(`tokenizer has no id (and no unk token) for part ${bad} of the text`);
      return ids;
    },
    decode,
    decodeToken: (id: number) => decode([id]),
    eosId,
    vocabSize: maxId + 1,
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The parts of tokenizer.json the engine relies on, checked before the tokenizers library sees them (it
 * accepts ids like -1, 1.5 or "7" and then reports nonsense such as `token undefined has id 4096`):
 * model.type is "BPE"; model.vocab is a non-empty object whose ids are integers in [0, vocab_size) (or
 * [0, 2³¹) without a model), each used once; every merge is two non-empty tokens ("a b" or ["a", "b"]),
 * both in the vocabulary, whose concatenation is in it too; every added token has a non-empty content and
 * such an id, unique among the added tokens, and equal to the vocabulary's id when its content is there.
 * Errors name the file, the field (model.vocab, model.merges[i], added_tokens[i]), the token and the bad value.
 */
export function checkBpeModel(json: Record<string, unknown>, file: string, vocabSize?: number): void {
  const fail = (problem: string, hint?: string): never => {
    throw new ModelFormatError({ file, code: 'tokenizer', problem, hint });
  };
  const model = json.model as Record<string, unknown>;
  if (model.type !== 'BPE') {
    fail(`model.type is ${previewJson(model.type)}, expected "BPE"`, 'the engine runs byte-level BPE tokenizers such as GPT-2\'s');
  }
  const limit = vocabSize ?? 2 ** 31;
  const range = vocabSize !== undefined ? `[0, ${vocabSize}) (the model's vocab_size ${vocabSize})` : `[0, ${limit})`;
  const badId = (where: string, token: string, id: unknown): never => {
    const integer = typeof id === 'number' && Number.isInteger(id);
    const tooLarge = integer && vocabSize !== undefined && (id as number) >= vocabSize;
    return fail(
      `${where}: token ${previewJson(token)} has id ${previewJson(id)}, ${!integer ? 'not an integer' : tooLarge ? `outside the model's vocab_size ${vocabSize}` : 'out of range'}; ids must be integers in ${range}`,
      tooLarge ? 'the tokenizer does not belong to this model' : undefined,
    );
  };
  const vocab = model.vocab;
  if (!isPlainObject(vocab)) fail(`model.vocab must be an object mapping tokens to ids (got ${previewJson(vocab)})`);
  const byId = new Map<number, string>();
  const v = vocab as Record<string, unknown>;
  for (const token in v) {
    if (!Object.prototype.hasOwnProperty.call(v, token)) continue;
    const id = v[token];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= limit) {
      badId('model.vocab', token, id);
    }
    const other = byId.get(id as number);
    if (other !== undefined) fail(`model.vocab: tokens ${previewJson(other)} and ${previewJson(token)} both have id ${id}; each id must be used once`);
    byId.set(id as number, token);
  }
  if (byId.size === 0) fail('model.vocab is empty', 'a BPE tokenizer needs at least its byte alphabet');
  const merges = model.merges ?? [];
  if (!Array.isArray(merges)) fail(`model.merges must be an array (got ${previewJson(merges)})`);
  const m = merges as unknown[];
  for (let i = 0; i < m.length; i++) {
    const entry = m[i];
    let pair: unknown[];
    if (typeof entry === 'string') pair = entry.split(' ');
    else if (Array.isArray(entry)) pair = entry;
    else return fail(`model.merges[${i}] must be "a b" or ["a", "b"] (got ${previewJson(entry)})`);
    if (pair.length !== 2 || pair.some((t) => typeof t !== 'string' || t === '')) {
      fail(`model.merges[${i}] must be two non-empty tokens (got ${previewJson(entry)})`);
    }
    const [a, b] = pair as [string, string];
    for (const t of [a, b, a + b]) {
      if (!Object.prototype.hasOwnProperty.call(v, t)) {
        fail(`model.merges[${i}] ${previewJson(entry)}: ${t === a + b ? 'the merged token' : 'token'} ${previewJson(t)} is not in model.vocab`,
          'every merge joins two tokens of the vocabulary into a third');
      }
    }
  }
  const added = (json.added_tokens ?? []) as unknown[];
  const addedIds = new Map<number, string>();
  for (let i = 0; i < added.length; i++) {
    const t = added[i];
    if (!isPlainObject(t)) return fail(`added_tokens[${i}] must be an object with "id" and "content" (got ${previewJson(t)})`);
    const { id, content } = t;
    if (typeof content !== 'string' || content === '') fail(`added_tokens[${i}].content must be a non-empty string (got ${previewJson(content)})`);
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= limit) {
      badId(`added_tokens[${i}]`, content as string, id);
    }
    const c = content as string;
    const n = id as number;
    const prev = addedIds.get(n);
    if (prev !== undefined) fail(`added_tokens[${i}]: tokens ${previewJson(prev)} and ${previewJson(c)} both have id ${n}`);
    addedIds.set(n, c);
    const inVocab = Object.prototype.hasOwnProperty.call(v, c) ? (v[c] as number) : undefined;
    if (inVocab !== undefined && inVocab !== n) fail(`added_tokens[${i}]: token ${previewJson(c)} has id ${n}, but model.vocab gives it ${inVocab}`);
    const holder = byId.get(n);
    if (inVocab === undefined && holder !== undefined) fail(`added_tokens[${i}]: token ${previewJson(c)} has id ${n}, which model.vocab gives to ${previewJson(holder)}`);
  }
}

/** GPT-2's reversible byte -> printable character map (bytes_to_unicode in the original encoder.py), in vocab order. */
export function byteLevelAlphabet(): Array<[byte: number, char: string]> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const out: Array<[number, string]> = printable.map((b) => [b, String.fromCodePoint(b)]);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!printable.includes(b)) out.push([b, String.fromCodePoint(256 + n++)]);
  }
  return out;
}

/**
 * A byte-level BPE tokenizer.json like GPT-2's: ids 0..255 are the bytes (GPT-2's order), then one token per
 * merge (merges are pairs of existing tokens in byte-level characters, e.g. ["Ġ", "t"]), then `<|endoftext|>`.
 * Any text round-trips. Vocabulary size: 257 + merges.length.
 */
export function makeByteLevelTokenizerJson(merges: Array<[string, string]> = []): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  let next = 0;
  for (const [, ch] of byteLevelAlphabet()) vocab[ch] = next++;
  for (const [a, b] of merges) {
    if (!(a in vocab) || !(b in vocab)) throw new RangeError(`merge ${a} ${b}: both parts must already be tokens`);
    if (!(a + b in vocab)) vocab[a + b] = next++;
  }
  return byteLevelBpeJson(vocab, merges.map(([a, b]) => `${a} ${b}`), next);
}

/** An HF tokenizer.json for a byte-level BPE (GPT-2's scheme): vocab, merges ("a b"), and <|endoftext|> at eosId. */
export function byteLevelBpeJson(vocab: Record<string, number>, merges: string[], eosId: number): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: eosId, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, vocab, merges,
    },
  };
}

/**
 * Turns a stream of generated ids into text deltas. A byte-level token may hold only part of a UTF-8
 * character (decoding it alone gives U+FFFD), so ids whose text ends in U+FFFD are held back (up to 4,
 * the longest UTF-8 sequence) until the character completes.
 */
export function streamDecoder(tok: TextTokenizer): { push(id: number): string; flush(): string } {
  let pending: number[] = [];
  return {
    push(id: number): string {
      pending.push(id);
      const text = tok.decode(pending);
      if (text.endsWith('\uFFFD') && pending.length < 4) return '';
      pending = [];
      return text;
    },
    flush(): string {
      const text = pending.length > 0 ? tok.decode(pending) : '';
      pending = [];
      return text;
    },
  };
}
