// <sg-recording-compare>: two recordings' circuits side by side, as in the seed picture: per-head firing
// frequency of A and of B and their difference A − B on a diverging scale (one canvas, exportable as PNG),
// the mean fraction of MLP neurons firing per layer in each, and the heads that fired in only one of them.
// Display only: the shell computes the RecordingComparison (src/probes/compare.ts); Save PNG goes out as
// GridPngRequestEvent, Close as RecordingCompareEvent(null).

import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import type { RecordingComparison } from '../probes/compare';
import { headName } from '../model/engineApi';
import { compareLayout, compareNodeCenter, differenceColor, frequencyColor, rgbCss, type CompareGrid, type CompareLayout } from './compare-model';
import { GridPngRequestEvent, RecordingCompareEvent } from './events';
import { theme } from './theme';

const pct = (f: number): string => `${(100 * f).toFixed(1)}%`;
const signed = (f: number): string => `${f > 0 ? '+' : f < 0 ? '−' : '±'}${(100 * Math.abs(f)).toFixed(1)}`;

@customElement('sg-recording-compare')
export class RecordingCompare extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
        margin-top: 1rem;
      }
      .head {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem 1rem;
        align-items: baseline;
      }
      h2 {
        margin: 0;
        font-size: 1.05rem;
      }
      .grow {
        flex: 1;
      }
      canvas {
        display: block;
        max-width: 100%;
        height: auto;
        margin: 0.5rem 0;
      }
      table {
        border-collapse: collapse;
        font-size: 0.85rem;
        font-variant-numeric: tabular-nums;
      }
      th,
      td {
        padding: 0.15rem 0.6rem;
        text-align: right;
        border-bottom: 1px solid var(--sg-border);
      }
      th:first-child,
      td:first-child {
        text-align: left;
      }
      p {
        margin: 0.35rem 0;
        font-size: 0.9rem;
      }
      .cols {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 2rem;
        align-items: flex-start;
      }
    `,
  ];

  @property({ attribute: false }) comparison: RecordingComparison | null = null;
  @property() nameA = '';
  @property() nameB = '';

  @query('canvas') private canvas!: HTMLCanvasElement | null;
  private layout: CompareLayout | null = null;

  /** Centre of a head in one of the three grids, CSS pixels from the canvas's top left (for tests and tools). */
  nodeCenter(grid: CompareGrid, node: number): { x: number; y: number } | null {
    const c = this.comparison;
    return c && this.layout ? compareNodeCenter(this.layout, c.nHead, grid, node) : null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('comparison')) this.layout = this.comparison ? compareLayout(this.comparison.nLayer, this.comparison.nHead) : null;
  }

  protected override updated(): void {
    this.paint();
  }

  private paint(): void {
    const c = this.comparison;
    const lay = this.layout;
    const canvas = this.canvas;
    if (!c || !lay || !canvas) return;
    const scale = 2; // crisp when exported and on high-density screens
    canvas.width = lay.width * scale;
    canvas.height = lay.height * scale;
    canvas.style.width = `${lay.width}px`;
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, lay.width, lay.height);
    const grids: Array<[CompareGrid, string, (n: number) => readonly [number, number, number]]> = [
      ['a', `A: ${this.nameA}`, (n) => frequencyColor(c.freqA[n]!)],
      ['b', `B: ${this.nameB}`, (n) => frequencyColor(c.freqB[n]!)],
      ['diff', 'A − B', (n) => differenceColor(c.diff[n]!)],
    ];
    const gridW = lay.pitch * c.nHead;
    for (const [grid, title, color] of grids) {
      ctx.fillStyle = '#1d1d1f';
      ctx.font = '600 12px system-ui, sans-serif';
      ctx.textBaseline = 'alphabetic';
      ctx.fillText(fit(ctx, title, gridW + 20), lay.left[grid], lay.top - 18);
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillStyle = '#6b6b70';
      ctx.fillText(fit(ctx, grid === 'diff' ? 'red: A more, blue: B more' : 'firing frequency', gridW + 20), lay.left[grid], lay.top - 5);
      for (let n = 0; n < c.nLayer * c.nHead; n++) {
        const { x, y } = compareNodeCenter(lay, c.nHead, grid, n);
        ctx.beginPath();
        ctx.arc(x, y, lay.radius, 0, 2 * Math.PI);
        ctx.fillStyle = rgbCss(color(n));
        ctx.fill();
        ctx.strokeStyle = '#a1a1aa';
        ctx.lineWidth = 0.75;
        ctx.stroke();
      }
    }
    // Legends: the frequency ramp under A and B, the diverging one under A − B.
    const bar = (x: number, w: number, from: number, to: number, color: (t: number) => readonly [number, number, number], labels: [string, string, string]) => {
      for (let i = 0; i < w; i++) {
        ctx.fillStyle = rgbCss(color(from + ((to - from) * (i + 0.5)) / w));
        ctx.fillRect(x + i, lay.legendY, 1, 9);
      }
      ctx.strokeStyle = '#a1a1aa';
      ctx.strokeRect(x, lay.legendY, w, 9);
      ctx.fillStyle = '#6b6b70';
      ctx.font = '10px system-ui, sans-serif';
      ctx.textBaseline = 'top';
      ctx.textAlign = 'left';
      ctx.fillText(labels[0], x, lay.legendY + 12);
      ctx.textAlign = 'center';
      ctx.fillText(labels[1], x + w / 2, lay.legendY + 12);
      ctx.textAlign = 'right';
      ctx.fillText(labels[2], x + w, lay.legendY + 12);
      ctx.textAlign = 'left';
    };
    bar(lay.left.a, lay.left.b - lay.left.a + gridW, 0, 1, frequencyColor, ['never', 'half the tokens', 'every token']);
    bar(lay.left.diff, gridW, -1, 1, differenceColor, ['B', '0', 'A']);
  }

  /** The comparison picture as a PNG (what the canvas shows: three grids, titles and legends, on white). */
  async toPngBlob(): Promise<Blob> {
    this.paint();
    const canvas = this.canvas;
    if (!canvas || !this.comparison) throw new Error('nothing is being compared: no picture to export');
    return new Promise((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not encode the comparison as PNG'))), 'image/png'),
    );
  }

  private async savePng(): Promise<void> {
    const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'recording';
    this.dispatchEvent(new GridPngRequestEvent(await this.toPngBlob(), `compare-${slug(this.nameA)}-vs-${slug(this.nameB)}.png`));
  }

  private heads(list: number[]): string {
    const c = this.comparison!;
    return list.length ? list.map((n) => headName(n, c.nHead)).join(', ') : 'none';
  }

  override render() {
    const c = this.comparison;
    if (!c) return nothing;
    const nodes = c.nLayer * c.nHead;
    let larger = 0;
    for (let n = 0; n < nodes; n++) if (Math.abs(c.diff[n]!) > Math.abs(c.diff[larger]!)) larger = n;
    const meanA = c.freqA.reduce((s, f) => s + f, 0) / nodes;
    const meanB = c.freqB.reduce((s, f) => s + f, 0) / nodes;
    return html`<section role="region" aria-label="Recording comparison">
      <div class="head">
        <h2>Compare</h2>
        <span class="grow muted">A: <strong>${this.nameA}</strong> (${c.stepsA} tokens) · B: <strong>${this.nameB}</strong> (${c.stepsB} tokens)</span>
        <button type="button" @click=${() => void this.savePng()}>Save PNG</button>
        <button type="button" @click=${() => this.dispatchEvent(new RecordingCompareEvent(null))}>Close</button>
      </div>
      <canvas
        role="img"
        aria-label="Head firing frequency of A, of B, and A − B"
        aria-description=${`Heads fire at ${pct(meanA)} of tokens on average in A and ${pct(meanB)} in B; the largest difference is ${headName(larger, c.nHead)}, ${signed(c.diff[larger]!)} points.`}
      ></canvas>
      <div class="cols">
        <div>
          <p data-testid="only-a">Fire only in A: ${this.heads(c.onlyA)}</p>
          <p data-testid="only-b">Fire only in B: ${this.heads(c.onlyB)}</p>
        </div>
        <table aria-label="MLP neurons firing per layer, A and B" data-testid="compare-neurons">
          <thead><tr><th>layer</th><th>A</th><th>B</th><th>A − B (points)</th></tr></thead>
          <tbody>
            ${Array.from(c.neuronsA, (fa, l) => html`<tr><td>${l}</td><td>${pct(fa)}</td><td>${pct(c.neuronsB[l]!)}</td><td>${signed(fa - c.neuronsB[l]!)}</td></tr>`)}
          </tbody>
        </table>
      </div>
    </section>`;
  }
}

/** text shortened with an ellipsis to fit maxPx. */
function fit(ctx: CanvasRenderingContext2D, text: string, maxPx: number): string {
  if (ctx.measureText(text).width <= maxPx) return text;
  let s = text;
  while (s.length > 1 && ctx.measureText(`${s}…`).width > maxPx) s = s.slice(0, -1);
  return `${s}…`;
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-recording-compare': RecordingCompare;
  }
}
