// The strict safetensors reader on broken files (each problem gives its typed error naming file and tensor)
// and the writer/reader round trip.
import { describe, expect, it } from 'vitest';
import { ModelFormatError, type ModelFormatErrorCode } from './errors';
import { f32ToBf16Bits, f32ToF16Bits, f16BitsToF32, bf16BitsToF32 } from '../shared/f16';
import { f32Bytes, MAX_HEADER_BYTES, parseSafetensors, planSafetensors, u16Bytes, writeSafetensors } from './safetensors';

const FILE = 'models/tiny/model.safetensors';

/** A file from a literal header (object or raw text) and dataLen data bytes (value = index). */
function rawFile(header: unknown, dataLen: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataLen);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  for (let i = 0; i < dataLen; i++) out[8 + json.length + i] = i & 0xff;
  return out;
}

function expectError(bytes: Uint8Array, code: ModelFormatErrorCode, tensor?: string): ModelFormatError {
  let caught: unknown;
  try {
    parseSafetensors(bytes, FILE);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ModelFormatError);
  const err = caught as ModelFormatError;
  expect(err.code, err.message).toBe(code);
  expect(err.file).toBe(FILE);
  expect(err.message).toContain(FILE);
  expect(err.tensor).toBe(tensor);
  if (tensor !== undefined) expect(err.message).toContain(`[${tensor}]`);
  return err;
}

function validFile(): Uint8Array {
  return writeSafetensors([
    { name: 'a', dtype: 'F32', shape: [2, 3], data: f32Bytes(new Float32Array([1, 2, 3, 4, 5, 6])) },
    { name: 'b', dtype: 'F16', shape: [4], data: u16Bytes(new Uint16Array([0x3c00, 0x4000, 0xc200, 0x0001])) },
  ], { format: 'pt' });
}

describe('parseSafetensors rejects broken files', () => {
  it('truncated before the length field', () => {
    expectError(validFile().subarray(0, 5), 'truncated');
    expectError(new Uint8Array(0), 'truncated');
  });

  it('truncated inside the data section names the first tensor that does not fit', () => {
    const file = validFile();
    const err = expectError(file.subarray(0, file.length - 3), 'truncated', 'b');
    expect(err.problem).toMatch(/truncated/);
  });

  it('header longer than the file', () => {
    const file = validFile();
    new DataView(file.buffer).setUint32(0, file.length, true);
    expect(expectError(file, 'header-length').problem).toMatch(/longer than/);
  });

  it('header length beyond the 100 MB limit (including a nonzero high word)', () => {
    const huge = rawFile({}, 0);
    new DataView(huge.buffer).setUint32(0, MAX_HEADER_BYTES + 1, true);
    expect(expectError(huge, 'header-length').problem).toMatch(/limit/);
    const high = rawFile({}, 0);
    new DataView(high.buffer).setUint32(4, 1, true);
    expectError(high, 'header-length');
  });

  it('header that is not JSON, not UTF-8, or not an object', () => {
    expectError(rawFile('{"a": {"dtype": "F32",', 16), 'header-json');
    const bad = rawFile('{"a":1}', 0);
    bad[9] = 0xff; // invalid UTF-8 byte inside the header
    expect(expectError(bad, 'header-json').problem).toMatch(/UTF-8/);
    expectError(rawFile('[1,2]', 0), 'header-json');
    expectError(rawFile('null', 0), 'header-json');
  });

  it('malformed tensor entries and metadata', () => {
    expectError(rawFile({ a: 'F32' }, 0), 'header-json', 'a');
    expectError(rawFile({ a: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, 8), 'header-json', 'a');
    expectError(rawFile({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 8), 'header-json', 'a');
    expectError(rawFile({ __metadata__: { format: 1 } }, 0), 'header-json');
  });

  it('unknown dtype', () => {
    const err = expectError(rawFile({ w: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, 4), 'unknown-dtype', 'w');
    expect(err.problem).toContain('F8_E4M3');
  });

  it('offsets whose span does not match dtype and shape', () => {
    const err = expectError(rawFile({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, 16), 'offsets', 'w');
    expect(err.problem).toContain('needs 16');
    expectError(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, 16), 'offsets', 'w');
    expectError(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 16), 'offsets', 'w');
  });

  it('overlapping tensors', () => {
    const err = expectError(rawFile({
      x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
      y: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
    }, 24), 'overlap', 'y');
    expect(err.problem).toContain('"x"');
  });

  it('offsets outside the data section', () => {
    const err = expectError(rawFile({
      x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      y: { dtype: 'F32', shape: [2], data_offsets: [40, 48] },
    }, 16), 'offsets', 'y');
    expect(err.problem).toContain('outside');
  });
});

describe('writeSafetensors / parseSafetensors round trip', () => {
  it('restores names, dtypes, shapes, metadata and values', () => {
    const st = parseSafetensors(validFile(), FILE);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect([...st.tensors.keys()]).toEqual(['a', 'b']);
    expect(st.tensors.get('a')).toMatchObject({ dtype: 'F32', shape: [2, 3], begin: 0, end: 24 });
    expect([...st.getF32('a')]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...st.getF32('b')]).toEqual([1, 2, -3, 2 ** -24]);
    expect(st.has('b')).toBe(true);
    expect(st.has('c')).toBe(false);
  });

  it('pads the header with spaces to 8-byte alignment and points bytes() into the file', () => {
    const file = validFile();
    const len = new DataView(file.buffer).getUint32(0, true);
    expect(len % 8).toBe(0);
    const text = new TextDecoder().decode(file.subarray(8, 8 + len));
    expect(text).toMatch(/^\{.*\} *$/);
    const st = parseSafetensors(file, FILE);
    const a = st.bytes('a');
    expect(a.buffer).toBe(file.buffer);
    expect(a.byteOffset).toBe(8 + len);
    expect(a.byteLength).toBe(24);
  });

  it('converts BF16, F64 and F16 and reads unaligned data', () => {
    const values = [1.5, -0.09375, 3e-5, 1024];
    const bf = new Uint16Array(values.map(f32ToBf16Bits));
    const h = new Uint16Array(values.map(f32ToF16Bits));
    const f64 = new Uint8Array(new Float64Array(values).buffer);
    const file = writeSafetensors([
      { name: 'bf', dtype: 'BF16', shape: [4], data: u16Bytes(bf) },
      { name: 'h', dtype: 'F16', shape: [2, 2], data: u16Bytes(h) },
      { name: 'd', dtype: 'F64', shape: [4], data: f64 },
      { name: 'f', dtype: 'F32', shape: [4], data: f32Bytes(new Float32Array(values)) },
      { name: 'i', dtype: 'I32', shape: [2], data: new Uint8Array(new Int32Array([7, -1]).buffer) },
    ]);
    // Shift the whole file by one byte inside a larger buffer: every typed view is now misaligned.
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    for (const bytes of [file, shifted.subarray(1)]) {
      const st = parseSafetensors(bytes, FILE);
      expect([...st.getF32('bf')]).toEqual([...bf].map(bf16BitsToF32));
      expect([...st.getF32('h')]).toEqual([...h].map(f16BitsToF32));
      expect([...st.getF32('d')]).toEqual([...new Float32Array(values)]);
      expect([...st.getF32('f')]).toEqual([...new Float32Array(values)]);
      expect(st.tensors.get('i')).toMatchObject({ dtype: 'I32', shape: [2] });
      expect(() => st.getF32('i')).toThrowError(ModelFormatError);
    }
  });

  it('accepts empty tensors and an empty file header', () => {
    const st = parseSafetensors(writeSafetensors([{ name: 'e', dtype: 'F32', shape: [0, 3], data: new Uint8Array(0) }]), FILE);
    expect(st.getF32('e').length).toBe(0);
    expect(parseSafetensors(writeSafetensors([]), FILE).tensors.size).toBe(0);
  });

  it('rejects data of the wrong size and names it', () => {
    expect(() => writeSafetensors([{ name: 'w', dtype: 'F16', shape: [3], data: new Uint8Array(4) }])).toThrow(/w: F16 \[3\] needs 6 bytes/);
  });

  it('planSafetensors offsets match what the reader finds', () => {
    const specs = [{ name: 'p', dtype: 'F32' as const, shape: [3] }, { name: 'q', dtype: 'BF16' as const, shape: [5] }];
    const layout = planSafetensors(specs, { k: 'v' });
    const file = new Uint8Array(layout.totalBytes);
    file.set(layout.headerBytes);
    const st = parseSafetensors(file, FILE);
    expect(st.bytes('p').byteOffset).toBe(layout.offsets[0]);
    expect(st.bytes('q').byteOffset).toBe(layout.offsets[1]);
    expect(st.metadata).toEqual({ k: 'v' });
  });
});
