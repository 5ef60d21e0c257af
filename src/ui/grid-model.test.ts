// Tests of the activation grid's drawing model (what <sg-activation-grid> paints): one node per head in
// layer rows and head columns, the seed picture's firing/silent styling, edges only between firing heads of
// different layers (and every such edge at or above τ_edge), and neuron strips that show each neuron once.

import { describe, expect, it } from 'vitest';
import {
  describeGrid,
  gridDrawing,
  gridEdgeCandidates,
  gridLayout,
  gridStyle,
  gridView,
  attentionShading,
  headAttention,
  moveNode,
  paintNeuronStrip,
  stripShape,
  type GridFrame,
  type GridShape,
} from './grid-model';
import { mulberry32 } from '../shared/random';
import { NO_POSITION } from '../shared/probes';

/** A random frame and a random composition matrix (zero unless layer(src) < layer(dst), some exact zeros). */
function randomCase(shape: GridShape, seed: number) {
  const rand = mulberry32(seed);
  const nodes = shape.nLayer * shape.nHead;
  const composition = new Float32Array(nodes * nodes);
  for (let src = 0; src < nodes; src++) {
    for (let dst = 0; dst < nodes; dst++) {
      if (Math.floor(src / shape.nHead) < Math.floor(dst / shape.nHead) && rand() < 0.8) composition[src * nodes + dst] = rand();
    }
  }
  const words = Math.ceil((4 * shape.nEmbd) / 32);
  const neuronBits = new Uint32Array(shape.nLayer * words);
  for (let i = 0; i < neuronBits.length; i++) neuronBits[i] = (rand() * 2 ** 32) >>> 0;
  const frame: GridFrame = {
    headActivity: Float32Array.from({ length: nodes }, () => rand() * 0.4),
    neuronBits,
    neuronFraction: new Float32Array(shape.nLayer),
  };
  return { composition, frame };
}

const shapes: GridShape[] = [
  { nLayer: 12, nHead: 12, nEmbd: 768 },
  { nLayer: 2, nHead: 4, nEmbd: 64 },
  { nLayer: 8, nHead: 8, nEmbd: 256 },
];

describe('gridDrawing', () => {
  it.each(shapes)('draws one node per head, layers as rows top to bottom and heads as columns ($nLayer × $nHead)', (shape) => {
    const layout = gridLayout(shape, 300, 300);
    const drawing = gridDrawing(shape, layout, null);
    expect(drawing.nodes).toHaveLength(shape.nLayer * shape.nHead);
    drawing.nodes.forEach((node, n) => {
      expect([node.layer, node.head]).toEqual([Math.floor(n / shape.nHead), n % shape.nHead]);
      expect(node.x).toBeCloseTo(layout.x0 + node.head * layout.pitch);
      expect(node.y).toBeCloseTo(layout.y0 + node.layer * layout.pitch);
      // Inside the canvas, without overlapping its neighbours.
      expect(node.x - node.r).toBeGreaterThanOrEqual(0);
      expect(node.y + node.r).toBeLessThanOrEqual(layout.height);
      expect(2 * node.r).toBeLessThan(layout.pitch);
    });
    expect(layout.width).toBeLessThanOrEqual(300);
    expect(layout.height).toBeLessThanOrEqual(300);
    // No probe data: every node silent, no edges.
    expect(drawing.nodes.every((n) => !n.firing && n.style === gridStyle.silent)).toBe(true);
    expect(drawing.segments).toHaveLength(0);
  });

  it.each(shapes)('styles firing heads white with a black outline and silent ones light gray ($nLayer × $nHead)', (shape) => {
    const { frame } = randomCase(shape, 11 + shape.nLayer);
    const tauHead = 0.2;
    const view = gridView(shape, frame, null, tauHead);
    const drawing = gridDrawing(shape, gridLayout(shape, 300, 300), view);
    let firing = 0;
    drawing.nodes.forEach((node, n) => {
      const fires = frame.headActivity[n] >= Math.fround(tauHead);
      if (fires) firing++;
      expect(node.firing, `node ${n}`).toBe(fires);
      expect(node.style).toEqual(fires ? { fill: '#ffffff', stroke: '#000000' } : { fill: gridStyle.silent.fill, stroke: null });
    });
    expect(firing).toBeGreaterThan(0);
    expect(firing).toBeLessThan(shape.nLayer * shape.nHead);
    expect(view.firingCount).toBe(firing);
    expect(describeGrid(shape, view)).toBe(`${firing} of ${shape.nLayer * shape.nHead} heads firing`);
  });

  it('marks zero-ablated heads (drawn crossed) and counts them in the description', () => {
    const shape = { nLayer: 2, nHead: 4, nEmbd: 64 };
    const { frame } = randomCase(shape, 5);
    const view = gridView(shape, frame, null, 0.2);
    const drawing = gridDrawing(shape, gridLayout(shape, 300, 300), view, [1, 6]);
    expect(drawing.nodes.filter((n) => n.ablated).map((n) => [n.layer, n.head])).toEqual([[0, 1], [1, 2]]);
    expect(gridDrawing(shape, gridLayout(shape, 300, 300), view).nodes.some((n) => n.ablated)).toBe(false);
    expect(describeGrid(shape, view, [1, 6])).toBe(`${view.firingCount} of 8 heads firing, 2 ablated`);
  });

  it('fires a head whose activity equals τ_head as an f32 (the GPU compares in f32)', () => {
    const shape = { nLayer: 1, nHead: 3, nEmbd: 8 };
    const tau = 0.1; // not representable: Math.fround(0.1) < 0.1
    const frame: GridFrame = {
      headActivity: Float32Array.from([Math.fround(tau), 0.0999, 0.5]),
      neuronBits: new Uint32Array(1),
      neuronFraction: new Float32Array(1),
    };
    const view = gridView(shape, frame, null, tau);
    expect(gridDrawing(shape, gridLayout(shape, 100, 100), view).nodes.map((n) => n.firing)).toEqual([true, false, true]);
  });

  it.each(shapes)('draws edges only between firing heads of different layers, and every such pair with c ≥ τ_edge ($nLayer × $nHead)', (shape) => {
    const { composition, frame } = randomCase(shape, 97 + shape.nHead);
    const tauHead = 0.15;
    const tauEdge = 0.5;
    const nodes = shape.nLayer * shape.nHead;
    const view = gridView(shape, frame, gridEdgeCandidates(shape, composition, tauEdge), tauHead);
    const drawing = gridDrawing(shape, gridLayout(shape, 300, 300), view);
    const fires = (n: number) => frame.headActivity[n] >= Math.fround(tauHead);
    const layer = (n: number) => Math.floor(n / shape.nHead);

    const drawn = new Set<string>();
    for (let e = 0; e < view.edges.length; e += 2) {
      const [src, dst] = [view.edges[e], view.edges[e + 1]];
      expect(fires(src) && fires(dst), `edge ${src}→${dst} joins a silent head`).toBe(true);
      expect(layer(src)).toBeLessThan(layer(dst));
      expect(composition[src * nodes + dst]).toBeGreaterThanOrEqual(Math.fround(tauEdge));
      // The segment runs between the two nodes' centres.
      const seg = Array.from(drawing.segments.subarray(e * 2, e * 2 + 4));
      const [a, b] = [drawing.nodes[src], drawing.nodes[dst]];
      expect(seg).toEqual([a.x, a.y, b.x, b.y].map(Math.fround));
      drawn.add(`${src}-${dst}`);
    }
    // Brute force over all pairs: nothing that should be drawn is missing.
    let expected = 0;
    for (let src = 0; src < nodes; src++) {
      for (let dst = 0; dst < nodes; dst++) {
        const c = composition[src * nodes + dst];
        if (layer(src) < layer(dst) && fires(src) && fires(dst) && c > 0 && c >= Math.fround(tauEdge)) {
          expected++;
          expect(drawn.has(`${src}-${dst}`), `missing edge ${src}→${dst}`).toBe(true);
        }
      }
    }
    expect(drawn.size).toBe(expected);
    expect(expected).toBeGreaterThan(0);
    expect(drawing.segments).toHaveLength(4 * expected);
  });

  it('refuses a frame or composition of the wrong size, naming both sizes', () => {
    const shape = { nLayer: 2, nHead: 4, nEmbd: 64 };
    const frame: GridFrame = { headActivity: new Float32Array(7), neuronBits: new Uint32Array(16), neuronFraction: new Float32Array(2) };
    expect(() => gridView(shape, frame, null, 0.1)).toThrow('headActivity has 7 values; 2 × 4 heads need 8');
    expect(() => gridEdgeCandidates(shape, new Float32Array(63), 0.1)).toThrow('composition has 63 entries; 2 × 4 heads need 64');
  });
});

describe('neuron strips', () => {
  it('fit GPT-2 124M at one pixel per neuron beside a 24 px row, and scale small models up', () => {
    const big = stripShape({ nEmbd: 768 }, 19, 200);
    expect(big.cell).toBe(1);
    expect(big.rows * big.cols).toBeGreaterThanOrEqual(3072);
    expect(big.cols * big.cell).toBeLessThanOrEqual(200);
    const small = stripShape({ nEmbd: 64 }, 28, 160);
    expect(small.cell).toBeGreaterThan(1);
    expect(small.rows * small.cols).toBeGreaterThanOrEqual(256);
    expect(small.rows * small.cell).toBeLessThanOrEqual(28);
    expect(small.cols * small.cell).toBeLessThanOrEqual(160);
  });

  it('paints each neuron of a layer once, on where its bit is set', () => {
    const shape = { nLayer: 3, nHead: 2, nEmbd: 40 }; // 160 neurons: 5 words per layer
    const rand = mulberry32(5);
    const bits = Uint32Array.from({ length: 15 }, () => (rand() * 2 ** 32) >>> 0);
    const strip = stripShape(shape, 7, 40);
    const rgba = new Uint8ClampedArray(strip.cols * strip.rows * 4);
    for (let layer = 0; layer < shape.nLayer; layer++) {
      const on = paintNeuronStrip(rgba, strip, bits, layer, shape);
      let expectedOn = 0;
      for (let i = 0; i < 160; i++) {
        const bit = (bits[layer * 5 + (i >> 5)] >>> (i & 31)) & 1;
        expectedOn += bit;
        const p = ((Math.floor(i / strip.cols) * strip.cols) + (i % strip.cols)) * 4;
        expect(Array.from(rgba.subarray(p, p + 4)), `layer ${layer} neuron ${i}`).toEqual(
          bit ? [...gridStyle.neuronOn, 255] : [...gridStyle.neuronOff, 255],
        );
      }
      expect(on).toBe(expectedOn);
      // Cells past the last neuron stay transparent.
      for (let p = 160 * 4; p < rgba.length; p += 4) expect(rgba[p + 3]).toBe(0);
    }
  });
});

describe('head view', () => {
  const shape = { nLayer: 3, nHead: 4, nEmbd: 8 };
  it('moves between heads with arrows, Home/End and PageUp/PageDown, stopping at the edges', () => {
    expect(moveNode(shape, 0, 'ArrowRight')).toBe(1);
    expect(moveNode(shape, 0, 'ArrowLeft')).toBe(0);
    expect(moveNode(shape, 1, 'ArrowDown')).toBe(5);
    expect(moveNode(shape, 9, 'ArrowDown')).toBe(9);
    expect(moveNode(shape, 5, 'ArrowUp')).toBe(1);
    expect(moveNode(shape, 5, 'End')).toBe(7);
    expect(moveNode(shape, 7, 'Home')).toBe(4);
    expect(moveNode(shape, 6, 'PageDown')).toBe(10);
    expect(moveNode(shape, 10, 'PageUp')).toBe(2);
    expect(moveNode(shape, 3, 'a')).toBeNull();
  });

  it('reads a head\'s used entries and shades the row\'s context (0 off the top, NaN past the row)', () => {
    const k = 3;
    const pos = new Uint32Array(12 * k).fill(NO_POSITION);
    const weight = new Float32Array(12 * k);
    // Head 6 (L1H2) at step 1 of a 3-token prompt: row 3, keys 0..3.
    pos.set([3, 0, 2], 6 * k);
    weight.set([0.5, 0.3, 0.15], 6 * k);
    pos.set([1], 7 * k); // head 7: one key used
    weight.set([1], 7 * k);
    const view = { headFiring: new Uint32Array(1), firingCount: 0, edges: new Uint16Array(0), neuronBits: new Uint32Array(0), neuronFraction: new Float32Array(0), attnTop: { k, pos, weight } };
    const att = headAttention(view, 6, 1, 3)!;
    expect(att.row).toBe(3);
    expect(att.entries).toEqual([{ pos: 3, weight: 0.5 }, { pos: 0, weight: Math.fround(0.3) }, { pos: 2, weight: Math.fround(0.15) }]);
    expect(headAttention(view, 7, 1, 3)!.entries).toEqual([{ pos: 1, weight: 1 }]);
    expect(Array.from(attentionShading(att, 6))).toEqual([Math.fround(0.3), 0, Math.fround(0.15), 0.5, Number.NaN, Number.NaN]);
    expect(headAttention({ ...view, attnTop: undefined }, 6, 1, 3)).toBeNull();
    expect(headAttention(null, 6, 1, 3)).toBeNull();
  });
});
