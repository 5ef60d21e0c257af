// inspect's report: density counts nonzeros per dtype (±0 is zero), and the JSON/table shapes.
import { describe, expect, it } from 'vitest';
import { f32ToF16Bits, f32ToBf16Bits } from '../shared/f16';
import { f32Bytes, parseSafetensors, u16Bytes, writeSafetensors } from '../model/safetensors';
import { countNonzero, formatReport, type InspectReport } from './inspect';

describe('countNonzero', () => {
  it('counts nonzero elements of every dtype, treating -0 as zero, aligned or not', () => {
    const values = [0, -0, 1, 0, -2.5, 0, 1e-30, 0];
    const file = writeSafetensors([
      { name: 'f32', dtype: 'F32', shape: [8], data: f32Bytes(new Float32Array(values)) },
      { name: 'f16', dtype: 'F16', shape: [8], data: u16Bytes(new Uint16Array(values.map(f32ToF16Bits))) },
      { name: 'bf16', dtype: 'BF16', shape: [8], data: u16Bytes(new Uint16Array(values.map(f32ToBf16Bits))) },
      { name: 'f64', dtype: 'F64', shape: [8], data: new Uint8Array(new Float64Array(values).buffer) },
      { name: 'i32', dtype: 'I32', shape: [4], data: new Uint8Array(new Int32Array([0, -1, 0, 1 << 31]).buffer) },
      { name: 'u8', dtype: 'U8', shape: [3], data: new Uint8Array([0, 128, 7]) },
    ]);
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    for (const bytes of [file, shifted.subarray(1)]) {
      const st = parseSafetensors(bytes, 'x');
      const count = (n: string) => countNonzero(st, st.tensors.get(n)!);
      expect(count('f32')).toBe(3);
      expect(count('f16')).toBe(2); // 1e-30 underflows to 0 in f16
      expect(count('bf16')).toBe(3); // bf16 has f32's range
      expect(count('f64')).toBe(3);
      expect(count('i32')).toBe(2); // INT_MIN is not -0
      expect(count('u8')).toBe(2);
    }
  });
});

describe('formatReport', () => {
  it('prints an aligned table with one row per tensor', () => {
    const report: InspectReport = {
      model: 'm', config: { n_layer: 1 }, parameters: 1234567, bytes: 89,
      tensors: [
        { name: 'wte.weight', dtype: 'F16', shape: [10, 4], bytes: 80, density: 1 },
        { name: 'h.0.mlp.c_fc.weight', dtype: 'F32', shape: [4, 16], bytes: 256, density: 0.25 },
        { name: 'empty', dtype: 'F32', shape: [0], bytes: 0, density: null },
      ],
    };
    const lines = formatReport(report).split('\n');
    expect(lines[2]).toMatch(/^parameters\s+1,234,567$/);
    const header = lines.findIndex((l) => l.startsWith('name'));
    const rows = lines.slice(header, header + 4);
    // Columns line up: every row has its dtype at the same offset as the header's "dtype".
    const col = rows[0].indexOf('dtype');
    expect(rows.slice(1).map((r) => r.slice(col, col + 3))).toEqual(['F16', 'F32', 'F32']);
    expect(rows[2]).toMatch(/0\.2500$/);
    expect(rows[3]).toMatch(/-$/);
  });
});
