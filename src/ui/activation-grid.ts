// <sg-activation-grid>: the seed picture for one model at one token. Heads on a canvas (layers as rows top to
// bottom beside a "Layers" arrow pointing down, heads as columns; firing = white with a black outline, silent
// = light gray; thin gray edges between firing heads of different layers) and, beside each layer's row, a
// bitmap strip of its MLP neurons with the fraction firing. Display only: it paints the GridView it is given
// (grid-model.ts computes it). Painting is batched to one requestAnimationFrame and skipped while the grid is
// off screen or hidden, so a token costs the engine nothing but a property set. Over the canvas lies one
// focusable cell per head (an ARIA grid with a roving tabindex: arrow keys move, Enter or a click picks the
// head for the head view, Shift+Enter or Shift+click marks it for ablation), so the picture is usable
// without a mouse and every head has a name (L{layer}H{head}).

import { css, html, LitElement, nothing, unsafeCSS, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { headName } from '../model/engineApi';
import { HeadPickEvent } from './events';
import {
  describeGrid,
  gridDrawing,
  gridLayout,
  gridStyle,
  moveNode,
  paintNeuronStrip,
  stripShape,
  type GridLayout,
  type GridShape,
  type GridView,
  type StripShape,
} from './grid-model';
import { theme } from './theme';

/** Largest heads canvas, CSS pixels: 12 × 12 heads get a 25 px pitch. */
const MAX_GRID_PX = 300;
/** Widest neuron strip, CSS pixels (GPT-2 124M's 3072 neurons fit at 1 px each). */
const MAX_STRIP_PX = 160;
/**
 * Paints per second at most while tokens stream: drawing (and the browser compositing the canvases) shares
 * the CPU with an emulated GPU, and a person cannot follow more than this anyway.
 */
const MAX_PAINTS_PER_S = 20;
const MIN_PAINT_INTERVAL_MS = 1000 / MAX_PAINTS_PER_S;
/** Room right of the strips for the firing fraction ("100%"). */
const FRACTION_PX = 38;

/**
 * The grid's 2D contexts are software-rasterized (willReadFrequently): a few hundred lines and a bitmap per
 * token are cheap on the CPU, and this keeps them out of the GPU process, where an accelerated canvas would
 * queue behind (or ahead of) the models' WebGPU work and distort their timing.
 */
function context2d(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  return canvas.getContext('2d', { willReadFrequently: true })!;
}

function sameShape(a: GridShape | null | undefined, b: GridShape | null | undefined): boolean {
  return a === b || (!!a && !!b && a.nLayer === b.nLayer && a.nHead === b.nHead && a.nEmbd === b.nEmbd);
}

function percent(f: number): string {
  return `${(100 * f).toFixed(f > 0 && f < 0.1 ? 1 : 0)}%`;
}

@customElement('sg-activation-grid')
export class ActivationGrid extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
      }
      :host([hidden]) {
        display: none;
      }
      figure {
        margin: 0;
        display: grid;
        grid-template-columns: auto auto auto;
        grid-template-areas: 'arrow heads neurons' '. caption caption';
        column-gap: 0.55rem;
        row-gap: 0.35rem;
        align-items: start;
        justify-content: start;
      }
      .arrow {
        grid-area: arrow;
        display: flex;
        flex-direction: column;
        align-items: center;
        gap: 0.3rem;
        height: 100%;
        font-size: 0.82rem;
        font-weight: 600;
        color: var(--sg-fg);
      }
      .arrow span {
        writing-mode: vertical-rl;
        transform: rotate(180deg);
        letter-spacing: 0.02em;
      }
      .arrow .shaft {
        flex: 1 1 auto;
        width: 2px;
        min-height: 16px;
        margin-bottom: -2px;
        background: currentColor;
      }
      .arrow .head {
        width: 11px;
        height: 9px;
        flex: none;
      }
      canvas {
        display: block;
        /* Shrinks with a narrow panel, keeping its aspect ratio (set per shape in sizeCanvases). */
        max-width: 100%;
        height: auto;
      }
      /* Phones: the neuron strip goes under the heads instead of beside them. */
      @media (max-width: 560px) {
        figure {
          grid-template-columns: auto minmax(0, 1fr);
          grid-template-areas: 'arrow heads' '. neurons' '. caption';
        }
      }
      .heads-box {
        grid-area: heads;
        position: relative;
        max-width: 100%;
      }
      .nodes,
      .nodes [role='row'] {
        display: contents;
      }
      .node {
        position: absolute;
        transform: translate(-50%, -50%);
        border-radius: 50%;
        box-sizing: border-box;
        cursor: pointer;
        outline: none;
      }
      .node:focus-visible {
        box-shadow: 0 0 0 2px var(--sg-bg, #fff), 0 0 0 4px #1a73e8;
      }
      .node[aria-selected='true'] {
        border: 2px solid #1a73e8;
      }
      .node.marked {
        border: 2px dashed ${unsafeCSS(gridStyle.ablated.stroke)};
      }
      .neurons {
        grid-area: neurons;
      }
      figcaption {
        grid-area: caption;
        display: flex;
        flex-wrap: wrap;
        justify-content: space-between;
        gap: 0.2rem 1rem;
        font-size: 0.85rem;
        font-variant-numeric: tabular-nums;
        color: var(--sg-muted);
      }
    `,
  ];

  /** The panel's title: the grid is named "<label> activation grid". */
  @property() label = '';
  /**
   * Layers, heads and width of the model; nothing is drawn without it. Compared by value: an equal shape in a
   * new object (a parent re-rendering) must not resize the canvases, which would clear and repaint them.
   */
  @property({ attribute: false, hasChanged: (a: GridShape | null, b: GridShape | null) => !sameShape(a, b) }) shape: GridShape | null = null;
  /** What fired at the token shown; null = no probe data (all heads drawn silent). */
  @property({ attribute: false }) view: GridView | null = null;
  /** Heads zero-ablated in the run shown (ids layer · nHead + head): drawn crossed, counted in the description. */
  @property({ attribute: false }) ablated: readonly number[] = [];
  /** A short note after the description, e.g. which token is shown ("token 7 of 32"). */
  @property() note = '';
  /** The head shown in the head view (outlined), or null. */
  @property({ attribute: false }) selected: number | null = null;
  /** Heads marked for ablation in the next run (dashed outline; the crosses are the run shown's). */
  @property({ attribute: false }) marked: readonly number[] = [];

  /** The head that holds the tab stop (roving tabindex). */
  @state() private focusNode = 0;

  @query('canvas.heads') private headsCanvas!: HTMLCanvasElement;
  @query('canvas.neurons') private neuronsCanvas!: HTMLCanvasElement;

  /** Milliseconds the last paint took (heads, edges and neuron strips), for the cost checks. */
  lastPaintMs = 0;
  /** Paints done since the element was created (a token shown while off screen is not painted). */
  paintCount = 0;
  /** Milliseconds spent painting since the element was created. */
  totalPaintMs = 0;

  private layout: GridLayout | null = null;
  private strip: StripShape | null = null;
  private frame = 0;
  private timer: ReturnType<typeof setTimeout> | 0 = 0;
  /** performance.now() at the end of the last paint. */
  private lastPaintAt = -Infinity;
  private onScreen = false;
  private dirty = true;
  private observer: IntersectionObserver | null = null;
  /** Offscreen bitmap of every layer's strip stacked (cols × nLayer·rows), scaled up by one drawImage each. */
  private stripBitmap: HTMLCanvasElement | null = null;
  private stripPixels: ImageData | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.observer = new IntersectionObserver((entries) => {
      this.onScreen = entries[entries.length - 1]!.isIntersecting;
      if (this.onScreen && this.dirty) this.schedulePaint();
    });
    this.observer.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.observer?.disconnect();
    this.observer = null;
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.timer) clearTimeout(this.timer);
    this.frame = 0;
    this.timer = 0;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('shape')) {
      const s = this.shape;
      this.layout = s ? gridLayout(s, MAX_GRID_PX, MAX_GRID_PX) : null;
      this.strip = s && this.layout ? stripShape(s, this.layout.pitch - 4, MAX_STRIP_PX) : null;
      this.stripBitmap = null;
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('shape')) this.sizeCanvases();
    if (changed.has('shape') || changed.has('view') || changed.has('ablated')) {
      this.dirty = true;
      this.schedulePaint();
    }
  }

  private sizeCanvases(): void {
    const dpr = globalThis.devicePixelRatio || 1;
    const size = (canvas: HTMLCanvasElement, w: number, h: number) => {
      canvas.style.width = `${w}px`;
      canvas.style.aspectRatio = `${w} / ${h}`;
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    };
    if (!this.layout || !this.strip || !this.headsCanvas) return;
    size(this.headsCanvas, this.layout.width, this.layout.height);
    size(this.neuronsCanvas, this.strip.cols * this.strip.cell + FRACTION_PX, this.layout.height);
  }

  /**
   * One paint per animation frame at most, at most MAX_PAINTS_PER_S a second, and none while off screen (it
   * happens on coming back). Each paint draws the newest view, so a faster stream skips frames, never tokens'
   * data: every token stays in the strip to scrub to, and the last one is always painted.
   */
  private schedulePaint(): void {
    if (!this.onScreen || this.frame || this.timer) return;
    const wait = this.lastPaintAt + MIN_PAINT_INTERVAL_MS - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.schedulePaint();
      }, wait);
      return;
    }
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (!this.onScreen || !this.dirty) return;
      this.dirty = false;
      const t0 = performance.now();
      this.paint();
      this.lastPaintAt = performance.now();
      this.lastPaintMs = this.lastPaintAt - t0;
      this.totalPaintMs += this.lastPaintMs;
      this.paintCount++;
    });
  }

  private paint(): void {
    const shape = this.shape;
    const layout = this.layout;
    const strip = this.strip;
    if (!shape || !layout || !strip || !this.headsCanvas) return;
    const dpr = this.headsCanvas.width / layout.width;
    this.paintHeads(context2d(this.headsCanvas), shape, layout, dpr);
    this.paintNeurons(context2d(this.neuronsCanvas), shape, layout, strip, dpr);
  }

  private paintHeads(ctx: CanvasRenderingContext2D, shape: GridShape, layout: GridLayout, dpr: number): void {
    const drawing = gridDrawing(shape, layout, this.view, this.ablated);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, layout.width, layout.height);
    // Edges first, under the nodes, as one path.
    const seg = drawing.segments;
    if (seg.length) {
      ctx.beginPath();
      for (let i = 0; i < seg.length; i += 4) {
        ctx.moveTo(seg[i], seg[i + 1]);
        ctx.lineTo(seg[i + 2], seg[i + 3]);
      }
      ctx.strokeStyle = gridStyle.edge.stroke;
      ctx.lineWidth = gridStyle.edge.width;
      ctx.stroke();
    }
    // Silent nodes in one fill, firing nodes in one fill and one stroke.
    const silent = new Path2D();
    const firing = new Path2D();
    for (const node of drawing.nodes) {
      const path = node.firing ? firing : silent;
      path.moveTo(node.x + node.r, node.y);
      path.arc(node.x, node.y, node.r, 0, 2 * Math.PI);
    }
    ctx.fillStyle = gridStyle.silent.fill;
    ctx.fill(silent);
    ctx.fillStyle = gridStyle.firing.fill;
    ctx.fill(firing);
    ctx.strokeStyle = gridStyle.firing.stroke;
    ctx.lineWidth = Math.max(1, layout.radius * 0.22);
    ctx.stroke(firing);
    const cross = new Path2D();
    for (const node of drawing.nodes) {
      if (!node.ablated) continue;
      const d = node.r * 0.9;
      cross.moveTo(node.x - d, node.y - d);
      cross.lineTo(node.x + d, node.y + d);
      cross.moveTo(node.x + d, node.y - d);
      cross.lineTo(node.x - d, node.y + d);
    }
    ctx.strokeStyle = gridStyle.ablated.stroke;
    ctx.stroke(cross);
  }

  private paintNeurons(ctx: CanvasRenderingContext2D, shape: GridShape, layout: GridLayout, strip: StripShape, dpr: number): void {
    const width = strip.cols * strip.cell + FRACTION_PX;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, layout.height);
    const view = this.view;
    if (!this.stripBitmap) {
      this.stripBitmap = document.createElement('canvas');
      this.stripBitmap.width = strip.cols;
      this.stripBitmap.height = strip.rows * shape.nLayer;
      this.stripPixels = new ImageData(strip.cols, strip.rows);
    }
    const bitmap = context2d(this.stripBitmap);
    const pixels = this.stripPixels!;
    const stripH = strip.rows * strip.cell;
    ctx.imageSmoothingEnabled = false;
    ctx.font = `11px ${getComputedStyle(this).getPropertyValue('--sg-font') || 'sans-serif'}`;
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#6b6b70';
    for (let l = 0; l < shape.nLayer; l++) {
      const y = layout.y0 + l * layout.pitch;
      if (view) {
        paintNeuronStrip(pixels.data, strip, view.neuronBits, l, shape);
        bitmap.putImageData(pixels, 0, l * strip.rows);
        ctx.drawImage(this.stripBitmap, 0, l * strip.rows, strip.cols, strip.rows, 0, Math.round(y - stripH / 2), strip.cols * strip.cell, stripH);
        ctx.fillText(percent(view.neuronFraction[l]), strip.cols * strip.cell + 4, y);
      } else {
        ctx.fillStyle = `rgb(${gridStyle.neuronOff.join(',')})`;
        const full = Math.floor(strip.neurons / strip.cols);
        ctx.fillRect(0, Math.round(y - stripH / 2), strip.cols * strip.cell, full * strip.cell);
        const rest = strip.neurons - full * strip.cols;
        if (rest) ctx.fillRect(0, Math.round(y - stripH / 2) + full * strip.cell, rest * strip.cell, strip.cell);
        ctx.fillStyle = '#6b6b70';
        ctx.fillText('–', strip.cols * strip.cell + 4, y);
      }
    }
  }

  /** A cell's tooltip and description: its name, whether it fires, its activity when known. */
  private nodeState(n: number): string {
    const firing = this.view ? ((this.view.headFiring[n >>> 5] >>> (n & 31)) & 1) === 1 : false;
    const a = this.view?.headActivity?.[n];
    const parts = [this.view ? (firing ? 'firing' : 'silent') : 'no probe data'];
    if (a !== undefined) parts.push(`activity ${a.toFixed(3)}`);
    if (this.ablated.includes(n)) parts.push('ablated in this run');
    if (this.marked.includes(n)) parts.push('marked for ablation');
    return parts.join(', ');
  }

  private pick(n: number, ablate: boolean): void {
    this.focusNode = n;
    this.dispatchEvent(new HeadPickEvent(n, ablate));
  }

  private onNodeKey(e: KeyboardEvent, n: number): void {
    const shape = this.shape;
    if (!shape) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.pick(n, e.shiftKey);
      return;
    }
    const next = moveNode(shape, n, e.key);
    if (next === null) return;
    e.preventDefault();
    this.focusNode = next;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`.node[data-node="${next}"]`)?.focus());
  }

  private renderNodes(shape: GridShape, layout: GridLayout) {
    const tab = this.selected ?? this.focusNode;
    const size = `${(100 * 2 * (layout.radius + 2)) / layout.width}%`;
    const rows = [];
    for (let layer = 0; layer < shape.nLayer; layer++) {
      const cells = [];
      for (let head = 0; head < shape.nHead; head++) {
        const n = layer * shape.nHead + head;
        const name = headName(n, shape.nHead);
        const stateText = this.nodeState(n);
        cells.push(html`<div
          class="node ${this.marked.includes(n) ? 'marked' : ''}"
          role="gridcell"
          data-node=${n}
          tabindex=${n === tab ? 0 : -1}
          aria-label=${name}
          aria-description=${stateText}
          aria-selected=${this.selected === n ? 'true' : 'false'}
          title=${`${name}: ${stateText}`}
          style=${`left:${(100 * (layout.x0 + head * layout.pitch)) / layout.width}%;top:${(100 * (layout.y0 + layer * layout.pitch)) / layout.height}%;width:${size};aspect-ratio:1`}
          @click=${(e: MouseEvent) => this.pick(n, e.shiftKey)}
          @keydown=${(e: KeyboardEvent) => this.onNodeKey(e, n)}
        ></div>`);
      }
      rows.push(html`<div role="row" aria-label=${`layer ${layer}`}>${cells}</div>`);
    }
    return html`<div class="nodes" role="grid" aria-label=${`${this.label} heads`}>${rows}</div>`;
  }

  /** The grid as a PNG: title, the Layers arrow, heads, neuron strips and the description, on white. */
  async toPngBlob(): Promise<Blob> {
    const shape = this.shape;
    const layout = this.layout;
    if (!shape || !layout) throw new Error('the grid has no model shape yet: nothing to export');
    if (this.dirty) this.paint(); // an off-screen grid may be behind
    this.dirty = false;
    const scale = 2;
    const pad = 16;
    const arrowW = 28;
    const titleH = 26;
    const captionH = 22;
    const neuronsW = this.neuronsCanvas.width / (this.headsCanvas.width / layout.width);
    const w = pad + arrowW + layout.width + 10 + neuronsW + pad;
    const h = pad + titleH + layout.height + captionH + pad;
    const out = document.createElement('canvas');
    out.width = Math.round(w * scale);
    out.height = Math.round(h * scale);
    const ctx = out.getContext('2d')!;
    ctx.scale(scale, scale);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = '#1d1d1f';
    ctx.font = '600 15px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.fillText(this.label, pad + arrowW, pad);
    // The Layers arrow: label rotated, shaft and head pointing down.
    const top = pad + titleH;
    ctx.save();
    ctx.translate(pad + 8, top + layout.height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.font = '600 12px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText('Layers', 0, 0);
    ctx.restore();
    ctx.strokeStyle = '#1d1d1f';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(pad + 20, top + 2);
    ctx.lineTo(pad + 20, top + layout.height - 2);
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(pad + 16, top + layout.height - 8);
    ctx.lineTo(pad + 20, top + layout.height);
    ctx.lineTo(pad + 24, top + layout.height - 8);
    ctx.fill();
    ctx.drawImage(this.headsCanvas, pad + arrowW, top, layout.width, layout.height);
    ctx.drawImage(this.neuronsCanvas, pad + arrowW + layout.width + 10, top, neuronsW, layout.height);
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillStyle = '#6b6b70';
    ctx.fillText(this.description(), pad + arrowW, top + layout.height + 6);
    return new Promise((resolve, reject) =>
      out.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode the grid as PNG'))), 'image/png'),
    );
  }

  private description(): string {
    return this.shape ? describeGrid(this.shape, this.view, this.ablated) : '';
  }

  override render() {
    if (!this.shape) return nothing;
    const view = this.view;
    const edges = view ? view.edges.length / 2 : 0;
    const fractions = view ? Array.from(view.neuronFraction, (f, l) => `layer ${l + 1} ${percent(f)}`).join(', ') : 'no probe data';
    return html`<figure>
      <div class="arrow" aria-hidden="true">
        <span>Layers</span>
        <div class="shaft"></div>
        <svg class="head" viewBox="0 0 12 10"><path d="M0 0 L6 10 L12 0 Z" fill="currentColor" /></svg>
      </div>
      <div class="heads-box">
        <canvas class="heads" role="img" aria-label=${`${this.label} activation grid`} aria-describedby="description"></canvas>
        ${this.layout ? this.renderNodes(this.shape, this.layout) : nothing}
      </div>
      <canvas class="neurons" role="img" aria-label=${`${this.label} MLP neurons firing per layer`} aria-description=${fractions}></canvas>
      <figcaption>
        <span id="description" data-testid="grid-description">${this.description()}</span>
        <span data-testid="grid-note">${edges} edge${edges === 1 ? '' : 's'}${this.note ? ` · ${this.note}` : ''}</span>
      </figcaption>
    </figure>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-activation-grid': ActivationGrid;
  }
}
