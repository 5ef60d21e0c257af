// What the recording comparison draws, as plain data (no DOM, tested in Node): where the three head grids
// go on one canvas (A's firing frequency, B's, and A − B) and the colours of the two scales: frequency from
// light (never fired) to dark (fired at every token), and the difference on a diverging scale, red where A's
// heads fire more often, blue where B's do, white where they agree. <sg-recording-compare> only paints these.

/** The three grids of a comparison, left to right. */
export const COMPARE_GRIDS = ['a', 'b', 'diff'] as const;
export type CompareGrid = (typeof COMPARE_GRIDS)[number];

export interface CompareLayout {
  width: number;
  height: number;
  pitch: number;
  radius: number;
  /** Left edge of each grid's first column of nodes, CSS pixels. */
  left: Record<CompareGrid, number>;
  /** Top of the node rows (under the titles). */
  top: number;
  /** The legend's band: y and height. */
  legendY: number;
}

const PAD = 14;
const TITLE_H = 34;
const GAP = 26;
const LEGEND_H = 40;

/** Layout for nLayer × nHead heads, each grid at most maxGridPx wide or tall. */
export function compareLayout(nLayer: number, nHead: number, maxGridPx = 220): CompareLayout {
  const pitch = Math.max(8, Math.min(30, Math.floor(maxGridPx / Math.max(nLayer, nHead))));
  const gridW = pitch * nHead;
  const left = { a: PAD, b: PAD + gridW + GAP, diff: PAD + 2 * (gridW + GAP) };
  const top = PAD + TITLE_H;
  const legendY = top + pitch * nLayer + 12;
  return { width: PAD + 3 * gridW + 2 * GAP + PAD, height: legendY + LEGEND_H, pitch, radius: Math.max(3, pitch * 0.34), left, top, legendY };
}

/** Centre of head `node` in one of the grids, CSS pixels in the canvas. */
export function compareNodeCenter(layout: CompareLayout, nHead: number, grid: CompareGrid, node: number): { x: number; y: number } {
  const layer = Math.floor(node / nHead);
  const head = node % nHead;
  return { x: layout.left[grid] + (head + 0.5) * layout.pitch, y: layout.top + (layer + 0.5) * layout.pitch };
}

type Rgb = readonly [number, number, number];
const NEVER: Rgb = [244, 244, 245];
const ALWAYS: Rgb = [24, 24, 27];
const A_MORE: Rgb = [198, 40, 40];
const B_MORE: Rgb = [21, 101, 192];
const SAME: Rgb = [255, 255, 255];

const mix = (from: Rgb, to: Rgb, t: number): Rgb => {
  const u = Math.min(1, Math.max(0, t));
  return [0, 1, 2].map((i) => Math.round(from[i]! + (to[i]! - from[i]!) * u)) as unknown as Rgb;
};

/** A firing frequency in [0, 1]: light grey (never) to near black (every token). */
export function frequencyColor(f: number): Rgb {
  return mix(NEVER, ALWAYS, f);
}

/** A − B in [−1, 1]: red where A fires more, blue where B does, white at 0. */
export function differenceColor(d: number): Rgb {
  return d >= 0 ? mix(SAME, A_MORE, d) : mix(SAME, B_MORE, -d);
}

export const rgbCss = (c: Rgb): string => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
