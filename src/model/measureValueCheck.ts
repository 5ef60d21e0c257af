// Measures what the load-time value check (every weight finite and within f16's range, checkWeightValues in
// checkpoint.ts) costs on a model directory (Node script, not part of the page):
//
//   npm run -s cli -- make-test-model --preset gpt2-124m --out /tmp/gpt2-124m
//   npx tsx src/model/measureValueCheck.ts /tmp/gpt2-124m [--reps 5]
//
// Prints the median of --reps runs of the check alone (one pass over the stored bytes of every weight
// loadGpt2Weights reads) next to the whole loadGpt2Weights (validation, check and conversion), in ms.

import { checkWeightValues, loadGpt2Weights, validateGpt2Tensors } from './checkpoint';
import { readModelDir } from './files';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main(): Promise<void> {
  const [dir, ...rest] = process.argv.slice(2);
  if (!dir) throw new Error('usage: npx tsx src/model/measureValueCheck.ts MODEL_DIR [--reps N]');
  const i = rest.indexOf('--reps');
  const reps = i >= 0 ? Math.max(1, Number(rest[i + 1]) || 1) : 5;
  const files = await readModelDir(dir);
  const load: number[] = [];
  const check: number[] = [];
  const resolved = validateGpt2Tensors(files.safetensors, files.config);
  let values = 0;
  for (const t of resolved.values()) values += (t.bsr ? t.bsr.valuesInfo.end - t.bsr.valuesInfo.begin : t.end - t.begin) / (t.dtype === 'F32' ? 4 : 2);
  for (let r = 0; r < reps; r++) {
    let t0 = performance.now();
    checkWeightValues(files.safetensors, resolved);
    check.push(performance.now() - t0);
    t0 = performance.now();
    loadGpt2Weights(files.safetensors, files.config);
    load.push(performance.now() - t0);
  }
  const dtype = files.safetensors.tensors.get('wte.weight')?.dtype ?? files.safetensors.tensors.get('transformer.wte.weight')?.dtype;
  console.log(`${dir}: ${values.toLocaleString('en-US')} values (${dtype}); value check ${median(check).toFixed(1)} ms ` +
    `(median of ${reps}); loadGpt2Weights with it ${median(load).toFixed(1)} ms`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
