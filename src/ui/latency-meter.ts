// <sg-latency-meter>: one model's timing beside its grid: decode tokens/s, last and median ms/token, prefill
// ms, token counts, the weights' size and block density, and a small chart of ms/token over the generation.
// Shows "–" where there is no measurement yet, never a made-up number.

import { css, html, LitElement, nothing, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { WeightDensity } from '../app/engineClient';
import { emptyMetrics, type GenerationMetrics } from './view-model';
import { theme } from './theme';

function fixed(value: number | null, digits: number): string {
  return value === null || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
}

const CHART_W = 220;
const CHART_H = 56;

/** Polyline points of ms/token over the generation: x = step, y = ms (0 at the bottom), scaled to the chart. */
export function chartPoints(ms: readonly number[], width: number, height: number): { points: string; maxMs: number } {
  if (ms.length === 0) return { points: '', maxMs: 0 };
  let max = 0;
  for (const v of ms) max = Math.max(max, v);
  const top = max > 0 ? max * 1.1 : 1;
  const dx = ms.length > 1 ? width / (ms.length - 1) : 0;
  const pts: string[] = [];
  ms.forEach((v, i) => pts.push(`${(i * dx).toFixed(1)},${(height - (v / top) * height).toFixed(1)}`));
  if (ms.length === 1) pts.push(`${width},${(height - (ms[0]! / top) * height).toFixed(1)}`);
  return { points: pts.join(' '), maxMs: top };
}

@customElement('sg-latency-meter')
export class LatencyMeter extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
      }
      dl {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(6.6em, 1fr));
        gap: 0.4rem;
        margin: 0;
      }
      dl > div {
        background: var(--sg-bg);
        border-radius: var(--sg-radius);
        padding: 0.35em 0.6em;
      }
      dt {
        font-size: 0.75em;
        color: var(--sg-muted);
      }
      dd {
        margin: 0;
        font-size: 1.1em;
        font-variant-numeric: tabular-nums;
      }
      .tps dd {
        font-size: 1.5em;
        font-weight: 650;
      }
      .weights {
        margin: 0.45rem 0 0;
        font-size: 0.82em;
      }
      figure {
        margin: 0.45rem 0 0;
      }
      figcaption {
        font-size: 0.75em;
        color: var(--sg-muted);
        display: flex;
        justify-content: space-between;
      }
      svg {
        display: block;
        width: 100%;
        max-width: ${CHART_W}px;
        height: ${CHART_H}px;
        background: var(--sg-bg);
        border-radius: 6px;
      }
    `,
  ];

  /** Timing of the current or last generation. */
  @property({ attribute: false }) metrics: GenerationMetrics = emptyMetrics;
  /** Bytes of weights on the GPU, when a model is loaded. */
  @property({ attribute: false }) weightBytes: number | null = null;
  @property({ attribute: false }) density: WeightDensity | null = null;

  private renderChart() {
    const ms = this.metrics.decodeMs;
    const { points, maxMs } = chartPoints(ms, CHART_W, CHART_H);
    const med = this.metrics.medianMsPerToken;
    const medY = med !== null && maxMs > 0 ? CHART_H - (med / maxMs) * CHART_H : null;
    return html`<figure>
      <figcaption><span>ms/token over the generation</span><span>${maxMs > 0 ? `max ${maxMs.toFixed(0)} ms` : ''}</span></figcaption>
      <svg
        viewBox="0 0 ${CHART_W} ${CHART_H}"
        preserveAspectRatio="none"
        role="img"
        aria-label=${ms.length ? `ms per token chart, ${ms.length} decode steps` : 'ms per token chart, no steps yet'}
        data-testid="ms-chart"
      >
        ${medY !== null
          ? svg`<line x1="0" x2=${CHART_W} y1=${medY} y2=${medY} stroke="#9a9aa0" stroke-dasharray="3 3" stroke-width="1" vector-effect="non-scaling-stroke" />`
          : nothing}
        ${points ? svg`<polyline points=${points} fill="none" stroke="#1d1d1f" stroke-width="1.4" vector-effect="non-scaling-stroke" />` : nothing}
      </svg>
    </figure>`;
  }

  private renderWeights() {
    if (this.weightBytes === null) return nothing;
    const d = this.density;
    return html`<p class="weights muted" data-testid="weights">
      Weights ${megabytes(this.weightBytes)}${d
        ? html` · block density <strong data-testid="density">${(100 * d.blockDensity).toFixed(d.blockDensity < 0.1 ? 1 : 0)}%</strong>
            (${d.bsrMatrices} of ${d.matrices} matrices block-sparse) · ${d.activeHeads} of ${d.heads} heads live`
        : nothing}
    </p>`;
  }

  override render() {
    const m = this.metrics;
    return html`<dl aria-label="Latency">
        <div class="tps"><dt>tokens/s</dt><dd data-testid="tokens-per-s">${fixed(m.tokensPerS, 1)}</dd></div>
        <div><dt>ms/token (last)</dt><dd data-testid="ms-per-token">${fixed(m.lastMsPerToken, 1)}</dd></div>
        <div><dt>ms/token (median)</dt><dd data-testid="median-ms-per-token">${fixed(m.medianMsPerToken, 1)}</dd></div>
        <div><dt>prefill ms</dt><dd data-testid="prefill-ms">${fixed(m.prefillMs, 1)}</dd></div>
        <div>
          <dt>tokens (prompt + new)</dt>
          <dd data-testid="token-count">${m.promptTokens} + ${m.tokenCount}</dd>
        </div>
      </dl>
      ${this.renderWeights()} ${this.renderChart()}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-latency-meter': LatencyMeter;
  }
}
