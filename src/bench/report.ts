// Writes a browser benchmark result (src/bench/types.ts) as a Markdown table and as an SVG bar chart of
// decode tokens/s; both are plain functions of the result, so the page, the Node driver and the tests agree.

import type { BenchResult } from './types';

const fmt = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/** The adapter in a line: description (or vendor / architecture), bandwidth and arithmetic rate. */
export function adapterLine(r: BenchResult): string {
  const a = r.adapter;
  const name = a.description || [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  return `${name}: ${fmt(a.bandwidth_gb_per_s, 2)} GB/s streamed, ${fmt(a.gflops, 1)} GFLOP/s (${a.timing})`;
}

export function markdownTable(r: BenchResult): string {
  const lines = [
    `Adapter: ${adapterLine(r)}. Prompt ${r.prompt_tokens} tokens, ${r.tokens} generated, median of ${r.runs} runs, ${r.date.slice(0, 10)}.`,
    '',
    '| engine | model | prefill ms | decode tokens/s | ms/token | wall ms/token | GPU ms/token | gap | floor ms/token | % of floor |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of r.rows) {
    // Files written before the wall/GPU columns lack them: they show as '–'.
    const gap = row.gap_pct ?? NaN;
    lines.push(`| ${row.engine} | ${row.model} | ${fmt(row.prefill_ms, 1)} | ${fmt(row.decode_tokens_per_s, 2)} | ${fmt(1e3 / row.decode_tokens_per_s, 2)} | ${fmt(row.wall_ms_per_token ?? NaN, 2)} | ${fmt(row.gpu_ms_per_token ?? NaN, 2)} | ${Number.isFinite(gap) ? `${fmt(gap, 1)}%` : '–'} | ${fmt(row.floor_ms_per_token, 3)} | ${fmt(row.pct_of_floor, 1)}% |`);
  }
  lines.push('');
  const { dense_over_ort_webgpu: d, sparse_over_ort_webgpu: s } = r.ratios;
  if (d !== null) lines.push(`- dense ÷ ort-webgpu decode: ${fmt(d, 2)}× (target ≥ ${r.targets.dense_over_ort_webgpu}×: ${d >= r.targets.dense_over_ort_webgpu ? 'met' : 'not met'})`);
  if (s !== null) lines.push(`- sparse ÷ ort-webgpu decode: ${fmt(s, 2)}× (target ≥ ${r.targets.sparse_over_ort_webgpu}×: ${s >= r.targets.sparse_over_ort_webgpu ? 'met' : 'not met'})`);
  const { sparse_over_dense: sd, sparse_over_ort_wasm: sw } = r.ratios;
  if (sd != null) lines.push(`- sparse ÷ dense decode: ${fmt(sd, 2)}×`);
  if (sw != null) lines.push(`- sparse ÷ ort-wasm decode: ${fmt(sw, 2)}×`);
  lines.push(`- greedy tokens equal to the PyTorch reference: ${r.agreement.map((a) => `${a.engine} ${a.matches ? 'yes' : `no (from token ${a.first_mismatch})`}`).join(', ')}`);
  for (const n of r.notes) lines.push(`- ${n}`);
  return lines.join('\n') + '\n';
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars of decode tokens/s per engine, each labelled with its value and % of floor. */
export function svgChart(r: BenchResult): string {
  const barH = 26;
  const gap = 10;
  const left = 110;
  const width = 640;
  const top = 44;
  const plotW = width - left - 150;
  const max = Math.max(1e-9, ...r.rows.map((x) => x.decode_tokens_per_s));
  const height = top + r.rows.length * (barH + gap) + 30;
  const colors: Record<string, string> = { 'ort-webgpu': '#8e8e93', 'ort-wasm': '#c7c7cc', dense: '#0a84ff', sparse: '#30d158' };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="20" font-size="15" font-weight="600">Decode tokens/s, ${esc(String(r.tokens))} tokens after a ${esc(String(r.prompt_tokens))}-token prompt</text>`,
    `<text x="12" y="36" fill="#555">${esc(adapterLine(r))}</text>`,
  ];
  r.rows.forEach((row, i) => {
    const y = top + i * (barH + gap);
    const w = Math.max(1, (plotW * row.decode_tokens_per_s) / max);
    parts.push(
      `<text x="${left - 8}" y="${y + barH / 2 + 4}" text-anchor="end">${esc(row.engine)}</text>`,
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colors[row.engine] ?? '#666'}"/>`,
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + barH / 2 + 4}">${fmt(row.decode_tokens_per_s, 2)} tok/s · ${fmt(row.pct_of_floor, 1)}% of floor</text>`,
    );
  });
  parts.push(`<text x="12" y="${height - 10}" fill="#555">Bars: median decode tokens/s. Floor: max(bytes/bandwidth, flops/rate) per token, measured on this adapter.</text>`, '</svg>');
  return parts.join('\n') + '\n';
}

/** File-name slug of the adapter, e.g. "google-swiftshader". */
export function adapterSlug(r: BenchResult): string {
  const a = r.adapter;
  const raw = [a.vendor, a.architecture].filter(Boolean).join('-') || a.description || 'adapter';
  return raw.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'adapter';
}
