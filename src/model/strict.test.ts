// "Nothing bad gets in": the pointed cases of the loader's strictness — config sizes bounded by what the
// file holds before anything is listed, bounded messages for any value, f16-range values, safetensors as
// strict as the reference implementation (exact cover, duplicate keys, exact header length), and the
// tokenizer.json checks.
import { describe, expect, it } from 'vitest';
import { checkConfigAgainstFile, fileBlockCount, firstOutOfF16RangeBytes, loadGpt2Weights, parseModelFiles, writeGpt2Checkpoint } from './checkpoint';
import { parseConfig } from './config';
import { ModelFormatError, type ModelFormatErrorCode } from './errors';
import { parseSafetensors, scanJsonKeys, writeSafetensors } from './safetensors';
import { makeTestModel, testModelSizeProblem } from './testModel';
import { checkBpeModel, loadTokenizer, makeByteLevelTokenizerJson } from './tokenizer';
import { f32ToBf16Bits } from '../shared/f16';
import { pruneGpt2 } from './prune';

const small = { layers: 2, heads: 2, embd: 16, vocab: 30, ctx: 8, seed: 4 };

function caught(f: () => unknown): ModelFormatError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ModelFormatError);
  return err as ModelFormatError;
}

function expectCode(f: () => unknown, code: ModelFormatErrorCode, pattern?: RegExp): ModelFormatError {
  const e = caught(f);
  expect(e.code, e.message).toBe(code);
  if (pattern) expect(e.message).toMatch(pattern);
  expect(e.message.length).toBeLessThan(1000);
  return e;
}

/** A file from raw header text and data bytes, with the header length field off by lengthDelta. */
function rawFile(text: string, data: Uint8Array, lengthDelta = 0): Uint8Array {
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length + lengthDelta, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('config.json sizes are bounded by the file before anything is listed', () => {
  const model = makeTestModel(small);
  const configOf = (edit: Record<string, unknown>) => JSON.stringify({ ...model.configJson, ...edit });

  it('n_layer beyond the blocks present fails at once, naming the field, its value, the limit and what to do', () => {
    const t0 = performance.now();
    const e = expectCode(() => parseModelFiles('d', { config: configOf({ n_layer: 100_000_000 }), safetensors: model.safetensors }), 'missing-tensor');
    expect(performance.now() - t0).toBeLessThan(200);
    expect(e.file).toBe('d/model.safetensors');
    expect(e.tensor).toBe('h.2.ln_1.weight');
    expect(e.message).toContain('d/config.json has "n_layer": 100000000, but this file holds 2 blocks (h.0 … h.1), so n_layer can be at most 2');
    expect(e.hint).toMatch(/set "n_layer" to 2/);
    expect(fileBlockCount(parseSafetensors(model.safetensors, 'x'))).toBe(2);
  });

  it('vocab_size, n_embd and n_positions must match wte and wpe, whatever their size', () => {
    for (const [field, value, tensor] of [['vocab_size', 1e12, 'wte.weight'], ['n_embd', 2 ** 40, 'wte.weight'], ['n_positions', 1e9, 'wpe.weight']] as const) {
      const e = expectCode(() => parseModelFiles('d', { config: configOf({ [field]: value, ...(field === 'n_embd' ? { n_head: 1 } : {}) }), safetensors: model.safetensors }), 'shape');
      expect(e.tensor).toBe(tensor);
      expect(e.message).toContain(`d/config.json has "${field}": ${value}`);
      expect(e.message).toMatch(/the file's limit: \d+/);
    }
    const st = parseSafetensors(model.safetensors, 'm/model.safetensors');
    expect(() => checkConfigAgainstFile(st, model.config, 'm/config.json')).not.toThrow();
  });

  it('make-test-model sizes are checked by arithmetic only, with the limit and how many layers fit', () => {
    const p = testModelSizeProblem({ layers: 200_000, heads: 2, embd: 64, vocab: 256, ctx: 128 });
    expect(p).toMatch(/over the 2,147,483,647 bytes \(2 GiB\)/);
    expect(p).toMatch(/at most 10,638 layers fit/);
    expect(testModelSizeProblem({ layers: 12, heads: 12, embd: 768, vocab: 50257, ctx: 1024 })).toBeUndefined();
    expect(() => makeTestModel({ ...small, layers: 2 ** 40 })).toThrow(/makeTestModel: .*2 GiB/);
  });
});

describe('messages are bounded for any value', () => {
  const model = makeTestModel(small);
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

  it('deeply nested or huge values in config.json fields', () => {
    const text = JSON.stringify(model.configJson);
    for (const v of [deep(50), deep(200_000), JSON.stringify('x'.repeat(1_000_000)), JSON.stringify({ a: Array(100_000).fill(1) })]) {
      const e = caught(() => parseModelFiles('d', { config: text.replace('"n_layer":2', `"n_layer":${v}`), safetensors: model.safetensors }));
      expect(e.code).toBe('config');
      expect(e.message).toContain('n_layer');
      expect(e.message.length).toBeLessThan(500);
    }
    expect(caught(() => parseConfig({ n_layer: JSON.parse(deep(40)) }, 'c.json')).message).toMatch(/"n_layer" must be a positive integer \(got \[\[\[\[\[\[\[\[\[\.\.\.\]/);
  });

  it('deeply nested values in a header shape, dtype, data_offsets or __metadata__', () => {
    const { text, data } = split(model.safetensors);
    for (const field of ['shape', 'dtype', 'data_offsets']) {
      for (const n of [20, 100_000]) {
        const e = caught(() => parseSafetensors(rawFile(text.replace(`"${field}":`, `"${field}":${deep(n)},"x":`), data), 'm/model.safetensors'));
        expect(e.code).toMatch(/header-json|unknown-dtype|offsets/);
        expect(e.tensor).toBe('wte.weight');
        expect(e.message.length).toBeLessThan(500);
      }
    }
    const e = caught(() => parseSafetensors(rawFile(text.replace('"format":"pt"', `"format":${deep(100_000)}`), data), 'm/model.safetensors'));
    expect(e.message).toContain('"__metadata__.format" nests arrays or objects more than 64 levels deep');
    const wide = caught(() => parseSafetensors(rawFile(text.replace('"format":"pt"', `"format":[${JSON.stringify('y'.repeat(1_000_000))}]`), data), 'm'));
    expect(wide.message).toMatch(/__metadata__\["format"\] must be a string \(got \["y+…"/);
    expect(wide.message.length).toBeLessThan(500);
  });

  it('a huge tensor name is clipped in the message', () => {
    const f = writeSafetensors([{ name: 'n'.repeat(100_000), dtype: 'F32', shape: [1], data: new Uint8Array(4) }]);
    const bad = f.slice(0, f.length - 4);
    const e = caught(() => parseSafetensors(bad, 'm'));
    expect(e.message.length).toBeLessThan(700);
    expect(e.tensor).toBe('n'.repeat(100_000));
  });
});

function split(file: Uint8Array): { text: string; data: Uint8Array } {
  const n = new DataView(file.buffer, file.byteOffset, 8).getUint32(0, true);
  return { text: new TextDecoder().decode(file.subarray(8, 8 + n)), data: file.subarray(8 + n) };
}

describe('weights an f16 cannot hold are refused at load, naming the tensor and the first bad index', () => {
  it('NaN, ±Inf and |x| > 65504 in F32, F16 and BF16 tensors and in BSR values', () => {
    const m = makeTestModel(small);
    const st0 = parseSafetensors(m.safetensors, 'm/model.safetensors');
    const set = (name: string, index: number, value: number) => {
      const b = m.safetensors.slice();
      const st = parseSafetensors(b, 'm/model.safetensors');
      new DataView(b.buffer).setFloat32(st.dataStart + st.tensors.get(name)!.begin + 4 * index, value, true);
      return parseSafetensors(b, 'm/model.safetensors');
    };
    expectCode(() => loadGpt2Weights(set('h.1.mlp.c_fc.weight', 37, NaN), m.config), 'value', /\[h\.1\.mlp\.c_fc\.weight\]: value NaN at index 37 \(row 0, column 37\) is not finite/);
    expectCode(() => loadGpt2Weights(set('wte.weight', 20, 70000), m.config), 'value', /\[wte\.weight\]: value 70000 at index 20 \(row 1, column 4\) is outside the f16 range \(\|x\| ≤ 65504\)/);
    expectCode(() => loadGpt2Weights(set('ln_f.bias', 3, -Infinity), m.config), 'value', /value -Infinity at index 3 is not finite/);
    expect(() => loadGpt2Weights(set('ln_f.bias', 3, 65504), m.config)).not.toThrow();

    const f16 = makeTestModel({ ...small, dtype: 'F16' });
    const b16 = f16.safetensors.slice();
    const st16 = parseSafetensors(b16, 'm/model.safetensors');
    new DataView(b16.buffer).setUint16(st16.dataStart + st16.tensors.get('wpe.weight')!.begin + 2 * 5, 0x7c00, true);
    expectCode(() => loadGpt2Weights(parseSafetensors(b16, 'm/model.safetensors'), f16.config), 'value', /\[wpe\.weight\]: value Infinity at index 5/);

    const bf = makeTestModel({ ...small, dtype: 'BF16' });
    const bb = bf.safetensors.slice();
    const stb = parseSafetensors(bb, 'm/model.safetensors');
    new DataView(bb.buffer).setUint16(stb.dataStart + stb.tensors.get('h.0.attn.c_proj.bias')!.begin + 2, f32ToBf16Bits(1e20), true);
    expectCode(() => loadGpt2Weights(parseSafetensors(bb, 'm/model.safetensors'), bf.config), 'value', /\[h\.0\.attn\.c_proj\.bias\]: value \d+ at index 1 is outside the f16 range/);

    const { weights } = pruneGpt2(loadGpt2Weights(st0, m.config), { density: 0.5, block: 16, method: 'magnitude' });
    weights.layers[0].fcW[0] = weights.layers[0].fcW[0] || 1; // block (0, 0) is stored
    const sparse = writeGpt2Checkpoint(weights, { format: 'bsr', block: 16 });
    const sst = parseSafetensors(sparse, 'm/model.safetensors');
    const v = sst.tensors.get('h.0.mlp.c_fc.weight.bsr_values')!;
    const bs = sparse.slice();
    new DataView(bs.buffer).setFloat32(sst.dataStart + v.begin, NaN, true);
    expectCode(() => loadGpt2Weights(parseSafetensors(bs, 'm/model.safetensors'), m.config), 'value', /\[h\.0\.mlp\.c_fc\.weight\.bsr_values\]: value NaN at index 0/);
  });
});

describe('the raw-bytes range check', () => {
  it('draws the line at 65504 for every dtype, aligned or not', () => {
    const u16 = (...v: number[]) => new Uint8Array(Uint16Array.from(v).buffer);
    const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
    expect(firstOutOfF16RangeBytes(u16(0x3c00, 0x7bff, 0xfbff), 'F16')).toBe(-1);
    expect(firstOutOfF16RangeBytes(u16(0x3c00, 0xfc00), 'F16')).toBe(1);
    expect(firstOutOfF16RangeBytes(u16(0x477f, 0xc77f, 0x3f80), 'BF16')).toBe(-1); // ±65280
    expect(firstOutOfF16RangeBytes(u16(0, 0x4780), 'BF16')).toBe(1); // 65536
    expect(firstOutOfF16RangeBytes(f32(65504, -65504, -0), 'F32')).toBe(-1);
    expect(firstOutOfF16RangeBytes(f32(1, Math.fround(65504.01)), 'F32')).toBe(1);
    const shifted = new Uint8Array(13);
    shifted.set(f32(1, 2, NaN), 1);
    expect(firstOutOfF16RangeBytes(shifted.subarray(1), 'F32')).toBe(2);
    const shifted16 = new Uint8Array(5);
    shifted16.set(u16(1, 0x7e00), 1);
    expect(firstOutOfF16RangeBytes(shifted16.subarray(1), 'F16')).toBe(1);
  });
});

describe('safetensors as strict as the reference implementation', () => {
  const good = writeSafetensors([
    { name: 'a', dtype: 'F32', shape: [2], data: new Uint8Array(8) },
    { name: 'b', dtype: 'F32', shape: [1], data: new Uint8Array(4) },
  ], { format: 'pt' });
  const { text, data } = split(good);

  it('the data section is covered exactly: no hole, no trailing byte, the first tensor at byte 0', () => {
    expect(() => parseSafetensors(good, 'm')).not.toThrow();
    const hole = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    expectCode(() => parseSafetensors(rawFile(hole, new Uint8Array(12)), 'm'), 'offsets', /\[b\]: bytes \[4, 8\) of the data section belong to no tensor \(after "a", before this one\)/);
    const late = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expectCode(() => parseSafetensors(rawFile(late, new Uint8Array(8)), 'm'), 'offsets', /bytes \[0, 4\) of the data section belong to no tensor \(before the first tensor/);
    expectCode(() => parseSafetensors(rawFile(text, new Uint8Array([...data, 0])), 'm'), 'offsets', /the data section has 1 byte after the last tensor/);
    expectCode(() => parseSafetensors(rawFile('{}', new Uint8Array(3)), 'm'), 'offsets', /3 bytes after the last tensor/);
  });

  it('a header length one byte short or long fails instead of reading one byte off', () => {
    expect(text.endsWith(' ')).toBe(true); // padded: one byte short still parses as JSON
    expectCode(() => parseSafetensors(rawFile(text, data, -1), 'm'), 'offsets', /header length field is wrong/);
    const long = rawFile(text, data, 1);
    expect(() => parseSafetensors(long, 'm')).toThrow(ModelFormatError);
    expectCode(() => parseSafetensors(rawFile(` ${text.trimEnd()}`, data), 'm'), 'header-json', /must start with "\{"/);
  });

  it('a key twice anywhere in the header is refused (JSON.parse would keep the last)', () => {
    const top = `{"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},${text.slice(1)}`;
    const e = expectCode(() => parseSafetensors(rawFile(top, data), 'm'), 'header-json', /key "b" appears twice in the header/);
    expect(e.tensor).toBe('b');
    expectCode(() => parseSafetensors(rawFile(text.replace('"a":{', '"a":{"dtype":"F64",'), data), 'm'), 'header-json', /key "dtype" appears twice in the header entry "a"/);
    expectCode(() => parseSafetensors(rawFile(text.replace('"__metadata__":{', '"__metadata__":{"format":"x",'), data), 'm'), 'header-json', /key "format" appears twice in the header entry "__metadata__"/);
    expect(scanJsonKeys('{"a\\u0062":1,"ab":2}')?.duplicate?.key).toBe('ab');
    expect(scanJsonKeys('{"a":[{"k":1},{"k":2}],"b":"a"}')).toBeUndefined();
  });

  it('duplicate keys in config.json and tokenizer.json are refused too', () => {
    const model = makeTestModel(small);
    const config = JSON.stringify(model.configJson);
    expectCode(() => parseModelFiles('d', { config: `{"n_layer": 1, ${config.slice(1)}`, safetensors: model.safetensors }), 'config', /d\/config\.json: key "n_layer" appears twice/);
    const tok = JSON.stringify(makeByteLevelTokenizerJson());
    expectCode(() => parseModelFiles('d', { config, safetensors: model.safetensors, tokenizer: tok.replace('"vocab":{', '"vocab":{"a":5,') }), 'tokenizer', /d\/tokenizer\.json: key "a" appears twice in "model\.vocab"/);
  });
});

describe('tokenizer.json: BPE, well-formed merges, integer ids in range and unique', () => {
  const file = 'm/tokenizer.json';
  const base = () => structuredClone(makeByteLevelTokenizerJson([['h', 'e'], ['he', 'l']])) as any;
  const problem = (edit: (t: any) => void, vocabSize = 300) => {
    const t = base();
    edit(t);
    return caught(() => checkBpeModel(t, file, vocabSize));
  };

  it('names the file, the token and the bad id', () => {
    expect(problem((t) => { t.model.vocab.a = -1; }).message).toBe(`${file}: model.vocab: token "a" has id -1, out of range; ids must be integers in [0, 300) (the model's vocab_size 300)`);
    expect(problem((t) => { t.model.vocab.a = 1.5; }).message).toContain('token "a" has id 1.5, not an integer');
    expect(problem((t) => { t.model.vocab.a = '7'; }).message).toContain('token "a" has id "7", not an integer');
    expect(problem((t) => { t.model.vocab.a = 5000; }).message).toContain(`token "a" has id 5000, outside the model's vocab_size 300`);
    expect(problem((t) => { t.model.vocab.a = t.model.vocab.b; }).message).toMatch(/tokens "[ab]" and "[ab]" both have id \d+/);
    expect(problem((t) => { t.model.vocab = {}; t.model.merges = []; }).message).toBe(`${file}: model.vocab is empty — a BPE tokenizer needs at least its byte alphabet`);
    expect(problem((t) => { t.model.type = 'WordPiece'; }).message).toContain('model.type is "WordPiece", expected "BPE"');
  });

  it('merges are two non-empty tokens of the vocabulary whose concatenation is in it', () => {
    expect(problem((t) => { t.model.merges[0] = 'h'; }).message).toContain('model.merges[0] must be two non-empty tokens (got "h")');
    expect(problem((t) => { t.model.merges[0] = 'h e x'; }).message).toContain('model.merges[0] must be two non-empty tokens');
    expect(problem((t) => { t.model.merges[1] = ['he', '']; }).message).toContain('model.merges[1] must be two non-empty tokens');
    expect(problem((t) => { t.model.merges[0] = 'h zz'; }).message).toContain('token "zz" is not in model.vocab');
    expect(problem((t) => { t.model.merges[0] = 'a b'; }).message).toContain('the merged token "ab" is not in model.vocab');
    expect(() => checkBpeModel(base(), file, 300)).not.toThrow();
  });

  it('added tokens have such ids too, and loadTokenizer reports these before the library sees them', async () => {
    expect(problem((t) => { t.added_tokens[0].id = -1; }).message).toContain('added_tokens[0]: token "<|endoftext|>" has id -1');
    expect(problem((t) => { t.added_tokens[0].id = 0; }).message).toMatch(/added_tokens\[0\]: token "<\|endoftext\|>" has id 0, which model\.vocab gives to/);
    const t = base();
    t.model.vocab.a = 4096;
    const e = await loadTokenizer(t, { file, vocabSize: 300 }).then(() => undefined, (err: unknown) => err as ModelFormatError);
    expect(e?.message).toContain('token "a" has id 4096, outside the model\'s vocab_size 300');
  });
});
