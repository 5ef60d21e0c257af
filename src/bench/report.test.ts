// The benchmark's Markdown table and SVG chart say what the result holds: every row, the ratios against
// the targets, the agreement with the reference, and escaped text.

import { describe, expect, it } from 'vitest';
import { adapterSlug, markdownTable, svgChart } from './report';
import type { BenchResult, BenchRow } from './types';

const row = (engine: BenchRow['engine'], tps: number, pct: number): BenchRow => ({
  engine, model: engine === 'sparse' ? '/weights/sparse/' : '/weights/dense/', prefill_ms: 100 / tps, decode_tokens_per_s: tps,
  pct_of_floor: pct, floor_ms_per_token: (pct * 10) / tps, bytes_per_token: 1e6, flops_per_token: 2e6, ids: [1, 2],
});

const result: BenchResult = {
  adapter: { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader <Vulkan>', features: ['timestamp-query'], bandwidth_gb_per_s: 1.5, gflops: 20, timing: 'timestamp-query' },
  browser: 'HeadlessChrome', date: '2026-11-22T06:00:00.000Z', prompt_tokens: 8, tokens: 32, runs: 3, reference_ids: [1, 2],
  agreement: [{ engine: 'ort-webgpu', matches: true, first_mismatch: null }, { engine: 'dense', matches: true, first_mismatch: null }],
  rows: [row('ort-webgpu', 5, 10), row('ort-wasm', 8, 16), { ...row('dense', 15, 30), wall_ms_per_token: 66.5, gpu_ms_per_token: 63.175, gap_pct: 5 }, row('sparse', 45, 60)],
  ratios: { dense_over_ort_webgpu: 3, sparse_over_ort_webgpu: 9, sparse_over_dense: 3, sparse_over_ort_wasm: 45 / 8 }, targets: { dense_over_ort_webgpu: 2, sparse_over_ort_webgpu: 4 },
  notes: ['a note'],
};

describe('benchmark report', () => {
  it('Markdown: a row per engine, ratios against targets, agreement, notes', () => {
    const md = markdownTable(result);
    expect(md.split('\n').filter((l) => /^\| (ort-|dense|sparse)/.test(l))).toHaveLength(4);
    expect(md).toContain('| dense | /weights/dense/ | 6.7 | 15.00 | 66.67 | 66.50 | 63.17 | 5.0% | 20.000 | 30.0% |');
    // A row without the wall/GPU columns (an older result file) shows dashes there.
    expect(md).toContain('| sparse | /weights/sparse/ | 2.2 | 45.00 | 22.22 | – | – | – | 13.333 | 60.0% |');
    expect(md).toContain('sparse ÷ dense decode: 3.00×');
    expect(md).toContain('sparse ÷ ort-wasm decode: 5.63×');
    expect(md).toContain('dense ÷ ort-webgpu decode: 3.00× (target ≥ 2×: met)');
    expect(md).toContain('sparse ÷ ort-webgpu decode: 9.00× (target ≥ 4×: met)');
    expect(md).toContain('ort-webgpu yes, dense yes');
    expect(markdownTable({ ...result, ratios: { dense_over_ort_webgpu: 1.5, sparse_over_ort_webgpu: null } })).toContain('1.50× (target ≥ 2×: not met)');
  });

  it('SVG: one bar per engine, widths proportional to tokens/s, text escaped', () => {
    const svg = svgChart(result);
    const widths = [...svg.matchAll(/<rect x="110" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(4);
    expect(widths[3]).toBeCloseTo(380, 0); // the fastest bar spans the plot
    expect(widths[2] / widths[3]).toBeCloseTo(15 / 45, 2);
    expect(svg).toContain('SwiftShader &lt;Vulkan&gt;');
    expect(svg).not.toContain('<Vulkan>');
  });

  it('adapter slug for file names', () => {
    expect(adapterSlug(result)).toBe('google-swiftshader');
    expect(adapterSlug({ ...result, adapter: { ...result.adapter, vendor: '', architecture: '', description: 'NVIDIA H100 (Vulkan)' } })).toBe('nvidia-h100-vulkan');
  });
});
