// The model formats' own fuzz suite: seeded mutants of model.safetensors (header and data), config.json,
// tokenizer.json and BSR companions, generated here from a small valid model (nothing large committed).
// The contract, for every mutant, through the whole load path (parseModelFiles → loadGpt2Weights →
// loadTokenizer): either it still loads, or it throws exactly one ModelFormatError whose message names the
// mutated file and is bounded in length, within a time bound. The count of mutants per format is printed
// (and is in each test's name).

import { describe, expect, it } from 'vitest';
import { BSR_COL_SUFFIX, BSR_CROW_SUFFIX, BSR_VALUES_SUFFIX } from './bsr';
import { loadGpt2Weights, parseModelFiles, writeGpt2Checkpoint } from './checkpoint';
import { ModelFormatError } from './errors';
import { pruneGpt2 } from './prune';
import { parseSafetensors, writeSafetensors, type TensorToWrite } from './safetensors';
import { makeTestModel } from './testModel';
import { loadTokenizer, makeByteLevelTokenizerJson } from './tokenizer';
import { mulberry32 } from '../shared/random';

/** Parsed JSON trees are walked and mutated freely here: `any` is the honest type. */
type J = any;

const SOURCE = 'fz';
const FILES = { config: 'fz/config.json', safetensors: 'fz/model.safetensors', tokenizer: 'fz/tokenizer.json' } as const;
/** Longest message a mutant may produce (real ones are a few hundred characters). */
const MAX_MESSAGE = 1600;
/** Per-case time bound (ms): generous, the CI machine has two loaded cores. */
const MAX_MS = 3000;

const MERGES: Array<[string, string]> = [['h', 'e'], ['l', 'l'], ['he', 'll'], ['Ġ', 't'], ['o', 'r']];
const TOKENIZER = makeByteLevelTokenizerJson(MERGES); // 257 + 5 tokens, <|endoftext|> = 261
const VOCAB = 262;
// n_embd 24 is not a multiple of 16: the BSR matrices have partial edge blocks.
const SHAPE = { layers: 2, heads: 2, embd: 24, vocab: VOCAB, ctx: 8, seed: 3 };

interface Files { config: string; safetensors: Uint8Array; tokenizer?: string }

function baseFiles(dtype: 'F32' | 'F16' = 'F32'): Files {
  const m = makeTestModel({ ...SHAPE, dtype });
  return { config: JSON.stringify(m.configJson, null, 2), safetensors: m.safetensors, tokenizer: JSON.stringify(TOKENIZER) };
}

function bsrFiles(): Files {
  const m = makeTestModel(SHAPE);
  const st = parseSafetensors(m.safetensors, 'orig');
  const { weights } = pruneGpt2(loadGpt2Weights(st, m.config), { density: 0.5, block: 16, method: 'magnitude' });
  return { ...baseFiles(), safetensors: writeGpt2Checkpoint(weights, { format: 'bsr', block: 16, metadata: st.metadata }) };
}

/** The safetensors file split into its header JSON text and data section. */
function split(file: Uint8Array): { text: string; data: Uint8Array } {
  const n = new DataView(file.buffer, file.byteOffset, 8).getUint32(0, true);
  return { text: new TextDecoder().decode(file.subarray(8, 8 + n)), data: file.subarray(8 + n) };
}

function assemble(text: string, data: Uint8Array, lengthDelta = 0): Uint8Array {
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, Math.max(0, h.length + lengthDelta), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const DEEP = '"__deep__"';
/** JSON text with every DEEP marker replaced by n nested arrays. */
const deepen = (text: string, n: number) => text.split(DEEP).join('['.repeat(n) + ']'.repeat(n));

type Rng = () => number;
const pick = <T>(r: Rng, a: readonly T[]): T => a[Math.floor(r() * a.length)];
const int = (r: Rng, n: number) => Math.floor(r() * n);

const ODD_VALUES: unknown[] = [null, true, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 32, '', 'x', '2', 'x'.repeat(100_000), [], [1, 2], {}, { a: 1 }, '__deep__'];

/** An odd JSON value as text (the deep marker stays a marker until deepen). */
const oddText = (r: Rng) => {
  const v = pick(r, ODD_VALUES);
  return v === '__deep__' ? DEEP : JSON.stringify(v);
};

interface Mutant { kind: string; files: Files; file: string }

// ---------------------------------------------------------------------------------------------------------
// Mutators, one per format. Each returns the mutated files and which file the error must name.

function safetensorsHeaderMutant(base: Files, r: Rng): Mutant {
  const { text, data } = split(base.safetensors);
  const header = JSON.parse(text) as Record<string, J>;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const name = pick(r, names);
  const kind = pick(r, ['dtype', 'shape', 'offsets', 'entry', 'metadata', 'duplicate', 'length', 'text', 'rename'] as const);
  let out = text;
  let lengthDelta = 0;
  const setField = (field: string, valueText: string) => {
    const entry = { ...header[name] };
    entry[field] = '__value__';
    const h = { ...header, [name]: entry };
    out = JSON.stringify(h).replace('"__value__"', valueText);
  };
  switch (kind) {
    case 'dtype':
      setField('dtype', pick(r, ['"F64"', '"I32"', '"U8"', '"BOOL"', '"F8_E4M3"', '"f32"', '""', 'null', '7', '[]', DEEP, oddText(r)]));
      break;
    case 'shape': {
      const s = [...header[name].shape] as J[];
      const v = pick(r, ['swap', 'push', 'pop', 'elem', 'odd'] as const);
      if (v === 'swap') s.reverse();
      else if (v === 'push') s.push(pick(r, [1, 2, 0]));
      else if (v === 'pop') s.pop();
      else if (v === 'elem' && s.length > 0) s[int(r, s.length)] = pick(r, [-1, 1.5, 0, 2 ** 53, 1e300, '4', null, [], 25, 23]);
      setField('shape', v === 'odd' ? oddText(r) : JSON.stringify(s));
      break;
    }
    case 'offsets': {
      const [b, e] = header[name].data_offsets as number[];
      setField('data_offsets', pick(r, [
        `[${b + 1},${e + 1}]`, `[${b},${e + 1}]`, `[${Math.max(0, b - 1)},${e}]`, `[${e},${b}]`, `[${b}]`, `[${b},${e},${e}]`,
        `["${b}",${e}]`, `[${b},1e20]`, `[${b + 4},${e + 4}]`, `[0,${e - b}]`, DEEP, 'null', oddText(r),
      ]));
      break;
    }
    case 'entry': {
      const v = pick(r, ['delete', 'odd', 'extra'] as const);
      if (v === 'delete') {
        const h = { ...header };
        delete h[name];
        out = JSON.stringify(h);
      } else if (v === 'odd') {
        out = JSON.stringify({ ...header, [name]: '__value__' }).replace('"__value__"', oddText(r));
      } else {
        const last = Math.max(...names.map((n) => header[n].data_offsets[1]));
        out = JSON.stringify({ ...header, extra: { dtype: 'F32', shape: [1], data_offsets: [last, last + 4] } });
      }
      break;
    }
    case 'metadata': {
      const v = pick(r, ['odd', 'value', 'delete', 'big'] as const);
      if (v === 'delete') {
        const h = { ...header };
        delete h.__metadata__;
        out = JSON.stringify(h);
      } else if (v === 'big') {
        out = JSON.stringify({ ...header, __metadata__: { ...header.__metadata__, note: 'y'.repeat(200_000) } });
      } else {
        const meta = v === 'odd' ? '__value__' : { ...header.__metadata__, format: '__value__' };
        out = JSON.stringify({ ...header, __metadata__: meta }).replace('"__value__"', oddText(r));
      }
      break;
    }
    case 'duplicate': {
      // A key twice: JSON.parse would keep the last silently.
      const where = pick(r, ['top', 'inner', 'meta'] as const);
      if (where === 'top') out = `{${JSON.stringify(name)}:${JSON.stringify(header[name])},${text.slice(1)}`;
      else if (where === 'inner') out = text.replace(`${JSON.stringify(name)}:{`, `${JSON.stringify(name)}:{"dtype":"F32",`);
      else out = text.replace('"__metadata__":{', '"__metadata__":{"format":"pt",');
      break;
    }
    case 'length':
      lengthDelta = pick(r, [-1, 1, -2, 8, -8, 1_000_000, -text.length]);
      break;
    case 'text': {
      const i = int(r, out.length);
      const v = pick(r, ['flip', 'delete', 'insert', 'lead', 'cut', 'utf8'] as const);
      if (v === 'flip') out = out.slice(0, i) + String.fromCharCode(out.charCodeAt(i) ^ (1 << int(r, 7))) + out.slice(i + 1);
      else if (v === 'delete') out = out.slice(0, i) + out.slice(i + 1);
      else if (v === 'insert') out = out.slice(0, i) + pick(r, ['{', '}', '"', ',', '[', '\\', ' ']) + out.slice(i);
      else if (v === 'lead') out = ` ${out}`;
      else if (v === 'cut') out = out.slice(0, i);
      else out = out.slice(0, i) + '\ud800' + out.slice(i); // a lone surrogate: invalid UTF-8 once encoded
      break;
    }
    case 'rename': {
      const to = pick(r, ['', 'x'.repeat(50_000), `${name}.bsr_values`, `transformer.${name}`, `${name} `, 'h.99.ln_1.weight', '__metadata__x']);
      out = text.replace(JSON.stringify(name), JSON.stringify(to));
      break;
    }
  }
  const safetensors = assemble(deepen(out, 10 + int(r, 50_000)), data, lengthDelta);
  return { kind, files: { ...base, safetensors }, file: FILES.safetensors };
}

function safetensorsDataMutant(base: Files, r: Rng): Mutant {
  const file = base.safetensors;
  const { text } = split(file);
  const dataStart = 8 + new TextEncoder().encode(text).length;
  const kind = pick(r, ['bitflip', 'value', 'truncate', 'append', 'cut'] as const);
  let out: Uint8Array;
  if (kind === 'bitflip') {
    out = file.slice();
    for (let k = 1 + int(r, 6); k > 0; k--) out[dataStart + int(r, out.length - dataStart)] ^= 1 << int(r, 8);
  } else if (kind === 'value') {
    out = file.slice();
    const st = parseSafetensors(out, 'x');
    const t = pick(r, [...st.tensors.values()]);
    const dv = new DataView(out.buffer);
    const n = (t.end - t.begin) / (t.dtype === 'F32' ? 4 : 2);
    const at = st.dataStart + t.begin + int(r, n) * (t.dtype === 'F32' ? 4 : 2);
    if (t.dtype === 'F32') dv.setFloat32(at, pick(r, [NaN, Infinity, -Infinity, 70000, -1e30, 65504, 3.4e38]), true);
    else dv.setUint16(at, pick(r, [0x7c00, 0xfc00, 0x7e00, 0x7bff]), true);
  } else if (kind === 'truncate') {
    out = file.slice(0, int(r, file.length));
  } else if (kind === 'append') {
    out = new Uint8Array([...file, ...Array.from({ length: 1 + int(r, 16) }, () => int(r, 256))]);
  } else {
    const at = dataStart + int(r, file.length - dataStart);
    out = new Uint8Array([...file.subarray(0, at), ...file.subarray(Math.min(file.length, at + 1 + int(r, 64)))]);
  }
  return { kind, files: { ...base, safetensors: out }, file: FILES.safetensors };
}

function configMutant(base: Files, r: Rng): Mutant {
  const cfg = JSON.parse(base.config) as Record<string, J>;
  const keys = Object.keys(cfg);
  const kind = pick(r, ['value', 'delete', 'unsupported', 'duplicate', 'deep', 'text', 'whole', 'size'] as const);
  let out: string;
  if (kind === 'value') {
    const k = pick(r, keys);
    out = JSON.stringify({ ...cfg, [k]: '__value__' }).replace('"__value__"', oddText(r));
  } else if (kind === 'size') {
    // Sizes the file cannot hold: the bounds derived from model.safetensors must catch them before any list is built.
    const k = pick(r, ['n_layer', 'n_embd', 'n_head', 'n_positions', 'n_ctx', 'vocab_size']);
    out = JSON.stringify({ ...cfg, [k]: pick(r, [100_000_000, 2 ** 40, 3, 1, 48, VOCAB + 1, VOCAB - 1, 9, 2 ** 31]) });
  } else if (kind === 'delete') {
    const c = { ...cfg };
    delete c[pick(r, keys)];
    out = JSON.stringify(c);
  } else if (kind === 'unsupported') {
    out = JSON.stringify({ ...cfg, ...pick(r, [
      { activation_function: 'relu' }, { n_inner: 7 }, { tie_word_embeddings: false }, { scale_attn_weights: false },
      { add_cross_attention: true }, { model_type: 'llama' }, { layer_norm_epsilon: 0 }, { layer_norm_epsilon: 'small' },
    ]) });
  } else if (kind === 'duplicate') {
    const k = pick(r, keys);
    out = `{${JSON.stringify(k)}: ${oddText(r)}, ${base.config.trim().slice(1)}`;
  } else if (kind === 'deep') {
    out = JSON.stringify({ ...cfg, [pick(r, [...keys, 'extra'])]: '__deep__' }).replace('"__deep__"', DEEP);
  } else if (kind === 'text') {
    const i = int(r, base.config.length);
    out = pick(r, [base.config.slice(0, i), base.config.slice(0, i) + base.config.slice(i + 1), `${base.config.slice(0, i)}\u0000${base.config.slice(i)}`]);
  } else {
    out = pick(r, ['', 'null', '[]', '"x"', '{', '7', '{"n_layer": 2}', '\ufeff{}']);
  }
  return { kind, files: { ...base, config: deepen(out, 10 + int(r, 50_000)) }, file: FILES.config };
}

function tokenizerMutant(base: Files, r: Rng): Mutant {
  const tok = structuredClone(TOKENIZER) as Record<string, J>;
  const vocab = tok.model.vocab as Record<string, number>;
  const tokens = Object.keys(vocab);
  const kind = pick(r, ['type', 'id', 'vocab', 'merge', 'merges', 'added', 'duplicate', 'deep', 'text'] as const);
  let out: string | undefined;
  switch (kind) {
    case 'type':
      if (r() < 0.2) delete tok.model.type;
      else tok.model.type = pick(r, ['WordPiece', 'Unigram', 'WordLevel', 'bpe', null, 7, '__deep__']);
      break;
    case 'id': {
      const t = pick(r, tokens);
      vocab[t] = pick(r, [-1, 1.5, '7', null, 1e9, VOCAB, VOCAB - 1, vocab[pick(r, tokens)], 2 ** 53, '__deep__']) as number;
      break;
    }
    case 'vocab':
      tok.model.vocab = pick(r, [{}, [], null, 'x', { a: 0 }, '__deep__']);
      break;
    case 'merge': {
      const merges = tok.model.merges as J[];
      merges[int(r, merges.length)] = pick(r, ['a', 'a b c', '', ' ', 'Ġ Ġ Ġ', ['a'], ['a', 'b', 'c'], [1, 2], ['', 'a'], 'zz a', 'a z', ['h', 'x'], null, '__deep__']);
      break;
    }
    case 'merges':
      tok.model.merges = pick(r, [null, {}, 'x', [[]], '__deep__']);
      break;
    case 'added': {
      const v = pick(r, ['id', 'content', 'whole', 'extra'] as const);
      if (v === 'id') tok.added_tokens[0].id = pick(r, [-1, 1.5, '5', 0, 1e9, VOCAB]);
      else if (v === 'content') tok.added_tokens[0].content = pick(r, ['', 7, null, 'a']);
      else if (v === 'whole') tok.added_tokens = pick(r, ['x', {}, null, [7]]);
      else tok.added_tokens.push({ ...tok.added_tokens[0], content: '<|other|>' });
      break;
    }
    case 'duplicate': {
      const text = JSON.stringify(tok);
      out = text.replace('"vocab":{', `"vocab":{${JSON.stringify(pick(r, tokens))}:${int(r, VOCAB)},`);
      break;
    }
    case 'deep':
      tok[pick(r, ['normalizer', 'pre_tokenizer', 'decoder', 'extra'])] = '__deep__';
      break;
    case 'text': {
      const text = JSON.stringify(tok);
      const i = int(r, text.length);
      out = pick(r, [text.slice(0, i), text.slice(0, i) + text.slice(i + 1)]);
      break;
    }
  }
  out ??= JSON.stringify(tok);
  return { kind, files: { ...base, tokenizer: deepen(out.split('"__deep__"').join(DEEP), 10 + int(r, 50_000)) }, file: FILES.tokenizer };
}

function bsrMutant(base: Files, r: Rng): Mutant {
  const st = parseSafetensors(base.safetensors, 'x');
  const tensors: TensorToWrite[] = [...st.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], data: st.bytes(t.name).slice() }));
  const matrices = tensors.filter((t) => t.name.endsWith(BSR_VALUES_SUFFIX)).map((t) => t.name.slice(0, -BSR_VALUES_SUFFIX.length));
  const m = pick(r, matrices);
  const find = (suffix: string) => tensors.find((t) => t.name === m + suffix)!;
  const i32 = (t: TensorToWrite) => new Int32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4);
  const meta = { ...st.metadata };
  const kind = pick(r, ['crow', 'col', 'values', 'dtype', 'metadata', 'shape-key', 'both', 'missing', 'padding', 'nonprunable'] as const);
  let out = tensors;
  switch (kind) {
    case 'crow': {
      const t = find(BSR_CROW_SUFFIX);
      const a = i32(t);
      const v = pick(r, ['elem', 'first', 'longer', 'shorter'] as const);
      if (v === 'elem') a[int(r, a.length)] = pick(r, [-1, 1_000_000, a[0] + 1, 2 ** 31 - 1]);
      else if (v === 'first') a[0] = 1;
      else if (v === 'longer') { t.data = new Uint8Array([...t.data, 0, 0, 0, 0]); t.shape = [a.length + 1]; }
      else { t.data = t.data.slice(0, -4); t.shape = [a.length - 1]; }
      break;
    }
    case 'col': {
      const a = i32(find(BSR_COL_SUFFIX));
      if (a.length > 0) a[int(r, a.length)] = pick(r, [-1, 100, a[0], 2 ** 31 - 1, 5]);
      break;
    }
    case 'values': {
      const t = find(BSR_VALUES_SUFFIX);
      const [n, b] = t.shape;
      const v = pick(r, ['shape', 'nan'] as const);
      if (v === 'shape') {
        t.shape = pick(r, [[n, b * b], [2 * n, b, b / 2], [n, b / 2, b * 2], [b, b, n]]);
      } else {
        new DataView(t.data.buffer, t.data.byteOffset).setFloat32(4 * int(r, t.data.byteLength / 4), pick(r, [NaN, Infinity, 1e6]), true);
      }
      break;
    }
    case 'dtype': {
      const t = pick(r, [find(BSR_CROW_SUFFIX), find(BSR_COL_SUFFIX), find(BSR_VALUES_SUFFIX)]);
      t.dtype = pick(r, ['U32', 'F32', 'I32'] as const);
      if (t.name.endsWith(BSR_VALUES_SUFFIX)) t.dtype = pick(r, ['I32', 'U32'] as const);
      break;
    }
    case 'metadata': {
      const k = pick(r, ['sparse_format', 'bsr_block_size']);
      if (r() < 0.3) delete meta[k];
      else meta[k] = pick(r, ['csr', '33', 'abc', '', '16.0', '32', '64', ' 16', 'x'.repeat(10_000)]);
      break;
    }
    case 'shape-key': {
      const k = `${m}.shape`;
      if (r() < 0.3) delete meta[k];
      else meta[k] = pick(r, ['[24]', '[24,72,1]', 'x', '[-1,72]', '[1e400,1]', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, '[24,71]', '[23,72]', '[72,24]']);
      break;
    }
    case 'both': {
      const [rows, cols] = JSON.parse(meta[`${m}.shape`]) as number[];
      out = [...tensors, { name: m, dtype: 'F32', shape: [rows, cols], data: new Uint8Array(rows * cols * 4) }];
      break;
    }
    case 'missing': {
      const gone = m + pick(r, [BSR_CROW_SUFFIX, BSR_COL_SUFFIX, BSR_VALUES_SUFFIX]);
      out = tensors.filter((t) => t.name !== gone);
      break;
    }
    case 'padding': {
      // A nonzero value in an edge block, past the logical shape (24 columns in blocks of 16: columns 8..15 of the last block).
      const t = find(BSR_VALUES_SUFFIX);
      const b = t.shape[1];
      const nnz = t.shape[0];
      if (nnz > 0) new DataView(t.data.buffer, t.data.byteOffset).setFloat32(4 * (int(r, nnz) * b * b + b - 1), 1, true);
      break;
    }
    case 'nonprunable': {
      const ln = pick(r, ['h.0.ln_1.weight', 'wte.weight', 'h.1.mlp.c_fc.bias']);
      out = [...tensors.filter((t) => t.name !== ln), { name: `${ln}${BSR_VALUES_SUFFIX}`, dtype: 'F32', shape: [1, 16, 16], data: new Uint8Array(1024) }];
      break;
    }
  }
  return { kind, files: { ...base, safetensors: writeSafetensors(out, meta) }, file: FILES.safetensors };
}

// ---------------------------------------------------------------------------------------------------------
// The contract.

async function loadAll(files: Files): Promise<void> {
  const parsed = parseModelFiles(SOURCE, files);
  const w = loadGpt2Weights(parsed.safetensors, parsed.config);
  expect(w.layers.length).toBe(parsed.config.nLayer);
  if (parsed.tokenizerJson !== undefined) {
    await loadTokenizer(parsed.tokenizerJson, { file: FILES.tokenizer, vocabSize: parsed.config.vocabSize });
  }
}

interface Tally { cases: number; accepted: number; worstMs: number; longest: number; codes: Record<string, number> }

async function fuzz(name: string, cases: number, seed: number, make: (r: Rng) => Mutant): Promise<Tally> {
  const tally: Tally = { cases, accepted: 0, worstMs: 0, longest: 0, codes: {} };
  for (let c = 0; c < cases; c++) {
    const r = mulberry32(seed + c);
    const m = make(r);
    const label = `${name} case ${c} (${m.kind})`;
    const t0 = performance.now();
    let outcome: string;
    try {
      await loadAll(m.files);
      outcome = 'accepted';
      tally.accepted++;
    } catch (e) {
      if (!(e instanceof ModelFormatError)) throw new Error(`${label}: expected a ModelFormatError, got ${(e as Error)?.name}: ${String((e as Error)?.message ?? e).slice(0, 300)}`);
      expect(e.name, label).toBe('ModelFormatError');
      expect(e.message, label).toContain(m.file);
      expect(e.message.length, `${label}: ${e.message.slice(0, 300)}`).toBeLessThanOrEqual(MAX_MESSAGE);
      tally.longest = Math.max(tally.longest, e.message.length);
      outcome = e.code;
    }
    const ms = performance.now() - t0;
    expect(ms, label).toBeLessThan(MAX_MS);
    tally.worstMs = Math.max(tally.worstMs, ms);
    tally.codes[`${m.kind}:${outcome}`] = (tally.codes[`${m.kind}:${outcome}`] ?? 0) + 1;
  }
  console.log(`fuzz ${name}: ${cases} mutants, ${tally.accepted} still valid, ${cases - tally.accepted} rejected with a ModelFormatError ` +
    `(longest message ${tally.longest} chars, slowest ${tally.worstMs.toFixed(1)} ms)`, tally.codes);
  return tally;
}

/** Mutants per format (the counts are in the test names). */
export const FUZZ_COUNTS = { 'safetensors header': 120, 'safetensors data': 50, 'config.json': 70, 'tokenizer.json': 70, 'BSR companions': 60 } as const;

describe('model formats fuzzing: every mutant loads or gives one bounded ModelFormatError naming its file', () => {
  const dense = baseFiles();
  const half = baseFiles('F16');
  const sparse = bsrFiles();

  it('the unmutated files load', async () => {
    await loadAll(dense);
    await loadAll(half);
    await loadAll(sparse);
  });

  it(`safetensors header: ${FUZZ_COUNTS['safetensors header']} mutants`, async () => {
    const t = await fuzz('safetensors header', FUZZ_COUNTS['safetensors header'], 10_000, (r) => safetensorsHeaderMutant(pick(r, [dense, sparse]), r));
    expect(t.accepted).toBeLessThan(t.cases / 4);
  });

  it(`safetensors data: ${FUZZ_COUNTS['safetensors data']} mutants (bit flips, NaN/Inf/out-of-f16 values, truncation, extra bytes)`, async () => {
    await fuzz('safetensors data', FUZZ_COUNTS['safetensors data'], 20_000, (r) => safetensorsDataMutant(pick(r, [dense, half]), r));
  });

  it(`config.json: ${FUZZ_COUNTS['config.json']} mutants`, async () => {
    await fuzz('config.json', FUZZ_COUNTS['config.json'], 30_000, (r) => configMutant(dense, r));
  });

  it(`tokenizer.json: ${FUZZ_COUNTS['tokenizer.json']} mutants`, async () => {
    const t = await fuzz('tokenizer.json', FUZZ_COUNTS['tokenizer.json'], 40_000, (r) => tokenizerMutant(dense, r));
    expect(t.accepted).toBeLessThan(t.cases / 2);
  });

  it(`BSR companions: ${FUZZ_COUNTS['BSR companions']} mutants`, async () => {
    const t = await fuzz('BSR companions', FUZZ_COUNTS['BSR companions'], 50_000, (r) => bsrMutant(sparse, r));
    expect(t.accepted).toBeLessThan(t.cases / 2);
  });
});
