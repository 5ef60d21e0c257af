// Prints the dense-vs-BSR Markdown table from bench/sparse-table.sh's JSON (one run).
import { readFileSync } from 'node:fs';

const dir = process.argv[2] ?? 'bench/results';
const dense = JSON.parse(readFileSync(`${dir}/dense-kernels.json`, 'utf8'));
const bsr = JSON.parse(readFileSync(`${dir}/bsr-kernels.json`, 'utf8'));
const cross = JSON.parse(readFileSync(`${dir}/crossover.json`, 'utf8'));
const name = (m) => m.replace(/^.*\/(d[0-9.]+)$/, 'gpt2-124m $1').replace(/^weights\//, 'embedded ');
const f = (x, d = 2) => (x === undefined ? '–' : x.toFixed(d));
console.log(`Adapter: ${[dense[0].adapter.vendor, dense[0].adapter.architecture, dense[0].adapter.description].filter(Boolean).join(' / ')}\n`);
console.log('| model | block density | kernels | prefill tok/s | decode tok/s | decode ms: blocks | decode ms: LM head | blocks speedup | whole-model speedup | bound |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const d of dense) {
  const b = bsr.find((r) => r.model === d.model);
  // The dense LM head bounds the whole-model gain: blocks shrink to the density, the head does not.
  const bound = d.weight_bytes_per_token / ((d.weight_bytes_per_token - d.block_bytes_per_token) + d.block_bytes_per_token * d.mean_block_density);
  console.log(`| ${name(d.model)} | ${f(d.mean_block_density, 3)} | dense | ${f(d.prefill_tokens_per_s, 1)} | ${f(d.decode_tokens_per_s)} | ${f(d.decode_ms_blocks)} | ${f(d.decode_ms_lm_head)} | | | |`);
  if (b) {
    console.log(`| ${name(b.model)} | ${f(b.mean_block_density, 3)} | bsr | ${f(b.prefill_tokens_per_s, 1)} | ${f(b.decode_tokens_per_s)} | ${f(b.decode_ms_blocks)} | ${f(b.decode_ms_lm_head)} | ${f(d.decode_ms_blocks / b.decode_ms_blocks)}× | ${f(b.decode_tokens_per_s / d.decode_tokens_per_s)}× | ${f(bound)}× |`);
  }
}
const emb = dense.find((r) => r.model === 'weights/dense');
const embS = bsr.find((r) => r.model === 'weights/sparse');
if (emb && embS) console.log(`\nEmbedded pair, sparse (BSR) over dense: ${f(embS.decode_tokens_per_s / emb.decode_tokens_per_s)}× decode tokens/s.`);
console.log(`\nCrossover (gemv ${cross.shape.N} x ${cross.shape.K}, ${cross.shape.block} x ${cross.shape.block} blocks): BSR faster at density ≤ ${cross.crossover_density}`);
console.log('| kernel | variant | density | ms | GB/s |\n|---|---|---|---|---|');
for (const r of cross.rows) console.log(`| ${r.kernel} | ${r.variant} | ${r.density} | ${r.ms.toFixed(3)} | ${r.gbPerS.toFixed(3)} |`);
