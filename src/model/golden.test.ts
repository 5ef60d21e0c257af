// The embedded models (weights/dense, weights/sparse) reproduce their golden.json, computed by the
// training tool in PyTorch (f32 compute, f16-rounded weights): identical top-10 ids at the last four
// prompt positions, logits within 1e-3 of the logit scale, identical 20-token greedy continuations.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testGpu, gpuCheck } from '../kernels/testing';
import { readModelDir } from './files';
import { loadGpt2Weights } from './checkpoint';
import { Gpt2Engine } from './gpt2';

interface Golden {
  format: string;
  prompts: Array<{
    text: string;
    input_ids: number[];
    last_positions: Array<{ pos: number; top10: Array<[number, number]> }>;
    greedy_ids: number[];
  }>;
}

const WEIGHTS = fileURLToPath(new URL('../../weights/', import.meta.url));

describe('embedded models reproduce golden.json', async () => {
  const gpu = await testGpu();
  for (const name of ['dense', 'sparse']) {
    it(`weights/${name}`, async () => {
      const dir = `${WEIGHTS}${name}`;
      const golden = JSON.parse(readFileSync(`${dir}/golden.json`, 'utf8')) as Golden;
      expect(golden.format).toBe('sparse-gpt2-golden/1');
      expect(golden.prompts.length).toBe(4);
      const files = await readModelDir(dir);
      const engine = await Gpt2Engine.create(gpu, loadGpt2Weights(files.safetensors, files.config), { label: name });
      await gpuCheck(gpu, name, async () => {
        for (const p of golden.prompts) {
          const logits = await engine.prefillLogits(p.input_ids);
          for (const { pos, top10 } of p.last_positions) {
            const row = logits[pos];
            const scale = Math.max(1, ...top10.map(([, v]) => Math.abs(v)));
            // Same ids in the same order, except where PyTorch's two neighbours are within 1e-4 of the
            // scale of each other (a tie that f32 summation order may break either way).
            const ours = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b).slice(0, 10);
            for (let j = 0; j < 10; j++) {
              const [id, value] = top10[j];
              expect(Math.abs(row[id] - value) / scale, `${p.text} pos ${pos} id ${id}`).toBeLessThan(1e-3);
              const tiedWithNeighbour = [j - 1, j + 1].some((k) => k >= 0 && k < 10 && Math.abs(top10[k][1] - value) < 1e-4 * scale);
              if (!tiedWithNeighbour) expect(ours[j], `${p.text} pos ${pos} rank ${j}`).toBe(id);
            }
          }
          const out = await engine.generate(p.input_ids, { maxTokens: p.greedy_ids.length, greedy: true });
          expect(out.ids, p.text).toEqual(p.greedy_ids);
        }
      });
      engine.destroy();
    });
  }
});
