// What the activation grid draws, as plain data computed by pure functions (no DOM, tested in Node): which
// heads fire and which edges are drawn at a token (GridView), where every node and edge goes and how it is
// styled (GridDrawing), and how MLP neurons map onto each layer's bitmap strip. <sg-activation-grid> only
// paints what these return, so the tests of this module are tests of the picture.

import { drawnEdges, edgeCandidates, testBit, type EdgeCandidates } from '../probes/composition';
import { headFiringBits, NO_POSITION, neuronWords, popcount32, type AttentionTop, type StepProbes } from '../shared/probes';

/** The parts of a model's shape the grid depends on. */
export interface GridShape {
  nLayer: number;
  nHead: number;
  nEmbd: number;
}

/** What the grid reads of one token's probes (the engine's StepProbes, or a replayed recording's). */
export type GridFrame = Pick<StepProbes, 'headActivity' | 'neuronBits' | 'neuronFraction' | 'attnTop'>;

/** What the grid shows at one token: firing heads, drawn edges, neurons. Ready to paint. */
export interface GridView {
  /** Bitset over the nLayer·nHead heads (node n = layer·nHead + head): bit set when the head fires. */
  headFiring: Uint32Array;
  /** Number of firing heads (popcount of headFiring). */
  firingCount: number;
  /** Drawn edges as (src, dst) node pairs: both heads fire, different layers, c ≥ τ_edge. */
  edges: Uint16Array;
  neuronBits: Uint32Array;
  neuronFraction: Float32Array;
  /** a[l·nHead + h] behind the firing bits (tooltips, exports); absent when only the bits are known. */
  headActivity?: Float32Array;
  /** Each head's attention from the token's row (the head view); absent when the probes have none. */
  attnTop?: AttentionTop;
}

/** The seed picture's palette: firing = white with a black outline, silent = light gray, edges thin gray. */
export const gridStyle = {
  firing: { fill: '#ffffff', stroke: '#000000' },
  silent: { fill: '#d4d4d8', stroke: null },
  edge: { stroke: 'rgba(110, 110, 118, 0.55)', width: 0.75 },
  /** A cross over a zero-ablated head. */
  ablated: { stroke: '#c62828' },
  /** Neuron strips: firing neurons dark on a light ground. */
  neuronOn: [29, 29, 31] as const,
  neuronOff: [232, 232, 236] as const,
} as const;

export type NodeStyle = { fill: string; stroke: string | null };

/** Composition matrix → the pairs that may be drawn under τ_edge (cached by the caller per matrix and τ). */
export function gridEdgeCandidates(shape: Pick<GridShape, 'nLayer' | 'nHead'>, composition: Float32Array, tauEdge: number): EdgeCandidates {
  const nodes = shape.nLayer * shape.nHead;
  if (composition.length !== nodes * nodes) {
    throw new RangeError(`composition has ${composition.length} entries; ${shape.nLayer} × ${shape.nHead} heads need ${nodes * nodes}`);
  }
  return edgeCandidates({ nLayer: shape.nLayer, nHead: shape.nHead, strength: composition }, tauEdge);
}


export function countBits(bits: Uint32Array): number {
  let n = 0;
  for (const w of bits) n += popcount32(w);
  return n;
}

/**
 * The view of one live token: heads fire by τ_head; edges are the candidates (already filtered by τ_edge)
 * whose two heads both fire. Without a composition matrix there are no edges to draw.
 */
export function gridView(shape: GridShape, frame: GridFrame, candidates: EdgeCandidates | null, tauHead: number): GridView {
  const heads = shape.nLayer * shape.nHead;
  if (frame.headActivity.length !== heads) {
    throw new RangeError(`headActivity has ${frame.headActivity.length} values; ${shape.nLayer} × ${shape.nHead} heads need ${heads}`);
  }
  const headFiring = headFiringBits(frame.headActivity, tauHead);
  return {
    headFiring,
    firingCount: countBits(headFiring),
    edges: candidates ? drawnEdges(candidates, headFiring) : new Uint16Array(0),
    neuronBits: frame.neuronBits,
    neuronFraction: frame.neuronFraction,
    headActivity: frame.headActivity,
    ...(frame.attnTop ? { attnTop: frame.attnTop } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// Head view

/** One head's attention from the row that produced a token: its top positions, strongest first. */
export interface HeadAttention {
  node: number;
  /** The query row's context position (step i of a P-token prompt: P + i − 1). */
  row: number;
  /** Used entries only, weight-descending. */
  entries: Array<{ pos: number; weight: number }>;
}

/** Head `node`'s attention at step `step` after a `promptTokens`-token prompt; null when the view has no rows. */
export function headAttention(view: GridView | null, node: number, step: number, promptTokens: number): HeadAttention | null {
  const top = view?.attnTop;
  if (!top) return null;
  const entries: HeadAttention['entries'] = [];
  for (let j = 0; j < top.k; j++) {
    const pos = top.pos[node * top.k + j];
    if (pos === NO_POSITION) break;
    entries.push({ pos, weight: top.weight[node * top.k + j] });
  }
  return { node, row: promptTokens + step - 1, entries };
}

/**
 * The shading of the context chips: weight per position 0..row (positions outside the top k get 0, and
 * positions past the row are not in the context: NaN).
 */
export function attentionShading(att: HeadAttention, positions: number): Float32Array {
  const out = new Float32Array(positions).fill(Number.NaN);
  for (let p = 0; p <= att.row && p < positions; p++) out[p] = 0;
  for (const e of att.entries) if (e.pos < positions) out[e.pos] = e.weight;
  return out;
}

/** The node a grid key moves to from `node` (arrows, Home/End along the layer, PageUp/PageDown to the first/last layer), or null for other keys. */
export function moveNode(shape: Pick<GridShape, 'nLayer' | 'nHead'>, node: number, key: string): number | null {
  const { nLayer, nHead } = shape;
  const layer = Math.floor(node / nHead);
  const head = node % nHead;
  const at = (l: number, h: number) => Math.min(nLayer - 1, Math.max(0, l)) * nHead + Math.min(nHead - 1, Math.max(0, h));
  switch (key) {
    case 'ArrowRight': return at(layer, head + 1);
    case 'ArrowLeft': return at(layer, head - 1);
    case 'ArrowDown': return at(layer + 1, head);
    case 'ArrowUp': return at(layer - 1, head);
    case 'Home': return at(layer, 0);
    case 'End': return at(layer, nHead - 1);
    case 'PageUp': return at(0, head);
    case 'PageDown': return at(nLayer - 1, head);
    default: return null;
  }
}

/** The accessible description of a grid: "k of N heads firing". */
export function describeGrid(shape: Pick<GridShape, 'nLayer' | 'nHead'>, view: GridView | null, ablated: readonly number[] = []): string {
  const total = shape.nLayer * shape.nHead;
  const base = view ? `${view.firingCount} of ${total} heads firing` : `0 of ${total} heads firing (no probe data)`;
  return ablated.length ? `${base}, ${ablated.length} ablated` : base;
}

// ---------------------------------------------------------------------------------------------------
// Geometry

/** Where things go, in CSS pixels. Rows = layers top to bottom, columns = heads left to right. */
export interface GridLayout {
  width: number;
  height: number;
  /** Distance between node centres, both ways. */
  pitch: number;
  radius: number;
  /** Centre of the first node. */
  x0: number;
  y0: number;
}

/** Layout fitting nHead columns into at most maxWidth and nLayer rows into at most maxHeight. */
export function gridLayout(shape: Pick<GridShape, 'nLayer' | 'nHead'>, maxWidth: number, maxHeight: number): GridLayout {
  const pitch = Math.max(6, Math.min(36, Math.floor(Math.min(maxWidth / shape.nHead, maxHeight / shape.nLayer))));
  const radius = Math.max(2, pitch * 0.3);
  return {
    width: pitch * shape.nHead,
    height: pitch * shape.nLayer,
    pitch,
    radius,
    x0: pitch / 2,
    y0: pitch / 2,
  };
}

export interface DrawnNode {
  layer: number;
  head: number;
  x: number;
  y: number;
  r: number;
  firing: boolean;
  /** Zero-ablated in the run shown (drawn crossed). */
  ablated: boolean;
  style: NodeStyle;
}

/** Everything the painter draws for the heads: nodes in node order, then edges as line segments. */
export interface GridDrawing {
  nodes: DrawnNode[];
  /** (4·E): x1, y1, x2, y2 of each drawn edge, in view.edges order. */
  segments: Float32Array;
}

export function gridDrawing(shape: Pick<GridShape, 'nLayer' | 'nHead'>, layout: GridLayout, view: GridView | null, ablated: readonly number[] = []): GridDrawing {
  const { nLayer, nHead } = shape;
  const crossed = new Set(ablated);
  const nodes: DrawnNode[] = [];
  for (let layer = 0; layer < nLayer; layer++) {
    for (let head = 0; head < nHead; head++) {
      const firing = view !== null && testBit(view.headFiring, layer * nHead + head);
      nodes.push({
        layer,
        head,
        x: layout.x0 + head * layout.pitch,
        y: layout.y0 + layer * layout.pitch,
        r: layout.radius,
        firing,
        ablated: crossed.has(layer * nHead + head),
        style: firing ? gridStyle.firing : gridStyle.silent,
      });
    }
  }
  const edges = view?.edges ?? new Uint16Array(0);
  const segments = new Float32Array(edges.length * 2);
  for (let e = 0; e < edges.length; e += 2) {
    const a = nodes[edges[e]];
    const b = nodes[edges[e + 1]];
    segments.set([a.x, a.y, b.x, b.y], e * 2);
  }
  return { nodes, segments };
}

// ---------------------------------------------------------------------------------------------------
// Neuron strips: one per layer, each neuron one cell of a bitmap, row-major

/** Shape of one layer's neuron bitmap: `rows` rows of `cols` cells, each `cell` CSS pixels square, hold the 4·nEmbd neurons. */
export interface StripShape {
  neurons: number;
  cols: number;
  rows: number;
  cell: number;
}

/**
 * The bitmap for a strip at most heightPx tall: the largest whole-pixel cell whose strip fits in maxWidthPx
 * (1 px per neuron for GPT-2 124M's 3072: 20 rows × 154 columns beside a 24 px grid row), so no neuron is
 * ever lost to downscaling.
 */
export function stripShape(shape: Pick<GridShape, 'nEmbd'>, heightPx: number, maxWidthPx: number): StripShape {
  const neurons = 4 * shape.nEmbd;
  for (let cell = Math.max(1, Math.floor(heightPx)); cell > 1; cell--) {
    const rows = Math.floor(heightPx / cell);
    const cols = Math.ceil(neurons / rows);
    if (cols * cell <= maxWidthPx) return { neurons, cols, rows, cell };
  }
  const rows = Math.max(1, Math.min(neurons, Math.floor(heightPx)));
  return { neurons, cols: Math.ceil(neurons / rows), rows, cell: 1 };
}

/**
 * Writes one layer's neurons into an RGBA bitmap (strip.cols × strip.rows, neuron i at column i % cols,
 * row ⌊i / cols⌋); cells past the last neuron stay transparent. Returns how many neurons are on.
 */
export function paintNeuronStrip(
  rgba: Uint8ClampedArray,
  strip: StripShape,
  neuronBits: Uint32Array,
  layer: number,
  shape: Pick<GridShape, 'nEmbd' | 'nLayer'>,
): number {
  const words = neuronWords({ nEmbd: shape.nEmbd, nHead: 1, nLayer: shape.nLayer });
  const base = layer * words;
  const [onR, onG, onB] = gridStyle.neuronOn;
  const [offR, offG, offB] = gridStyle.neuronOff;
  let on = 0;
  rgba.fill(0);
  for (let i = 0; i < strip.neurons; i++) {
    const bit = (neuronBits[base + (i >>> 5)] >>> (i & 31)) & 1;
    const p = i * 4; // row-major, so cell i is pixel i
    if (bit) {
      on++;
      rgba[p] = onR; rgba[p + 1] = onG; rgba[p + 2] = onB;
    } else {
      rgba[p] = offR; rgba[p + 1] = offG; rgba[p + 2] = offB;
    }
    rgba[p + 3] = 255;
  }
  return on;
}

/** The node under a point (CSS pixels in the heads canvas), or null between nodes. */
export function nodeAt(shape: Pick<GridShape, 'nLayer' | 'nHead'>, layout: GridLayout, x: number, y: number): number | null {
  const head = Math.round((x - layout.x0) / layout.pitch);
  const layer = Math.round((y - layout.y0) / layout.pitch);
  if (head < 0 || head >= shape.nHead || layer < 0 || layer >= shape.nLayer) return null;
  const dx = x - (layout.x0 + head * layout.pitch);
  const dy = y - (layout.y0 + layer * layout.pitch);
  return dx * dx + dy * dy <= (layout.radius + 2) ** 2 ? layer * shape.nHead + head : null;
}
