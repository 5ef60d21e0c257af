// The comparison's picture as data: three grids that never overlap, node centres inside their own grid,
// and the two colour scales at their ends and in the middle.

import { describe, expect, it } from 'vitest';
import { compareLayout, compareNodeCenter, COMPARE_GRIDS, differenceColor, frequencyColor } from './compare-model';

describe('compare model', () => {
  it('lays out three grids left to right, each node inside its own grid', () => {
    for (const [L, H] of [[8, 8], [12, 12], [2, 4], [3, 17]] as const) {
      const lay = compareLayout(L, H);
      const gridW = lay.pitch * H;
      expect(lay.left.b - lay.left.a).toBeGreaterThan(gridW);
      expect(lay.left.diff - lay.left.b).toBeGreaterThan(gridW);
      expect(lay.left.diff + gridW).toBeLessThan(lay.width);
      expect(lay.legendY).toBeGreaterThan(lay.top + lay.pitch * L);
      for (const g of COMPARE_GRIDS) {
        for (const n of [0, H - 1, L * H - 1]) {
          const c = compareNodeCenter(lay, H, g, n);
          expect(c.x).toBeGreaterThan(lay.left[g]);
          expect(c.x).toBeLessThan(lay.left[g] + gridW);
          expect(c.y).toBeGreaterThan(lay.top);
          expect(c.y).toBeLessThan(lay.top + lay.pitch * L);
        }
      }
    }
  });

  it('colours: frequency light to dark, difference red for A, blue for B, white when equal', () => {
    expect(frequencyColor(0)).toEqual([244, 244, 245]);
    expect(frequencyColor(1)).toEqual([24, 24, 27]);
    expect(differenceColor(0)).toEqual([255, 255, 255]);
    expect(differenceColor(1)).toEqual([198, 40, 40]);
    expect(differenceColor(-1)).toEqual([21, 101, 192]);
    const [r, , b] = differenceColor(0.5);
    expect(r).toBeGreaterThan(b);
    const [r2, , b2] = differenceColor(-0.5);
    expect(b2).toBeGreaterThan(r2);
    expect(differenceColor(2)).toEqual(differenceColor(1)); // clamped
  });
});
