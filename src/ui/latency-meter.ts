// <sg-latency-meter>: the timing of one model's generation: decode tokens/s, last and median ms/token,
// prefill ms and token counts. Shows "–" where there is no measurement yet, never a made-up number.

import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { emptyMetrics, type GenerationMetrics } from './view-model';
import { theme } from './theme';

function fixed(value: number | null, digits: number): string {
  return value === null || !Number.isFinite(value) ? '–' : value.toFixed(digits);
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
        grid-template-columns: repeat(auto-fit, minmax(7.5em, 1fr));
        gap: 0.5rem;
        margin: 0;
      }
      div {
        background: var(--sg-bg);
        border-radius: var(--sg-radius);
        padding: 0.45em 0.7em;
      }
      dt {
        font-size: 0.8em;
        color: var(--sg-muted);
      }
      dd {
        margin: 0;
        font-size: 1.25em;
        font-variant-numeric: tabular-nums;
      }
    `,
  ];

  /** Timing of the current or last generation. */
  @property({ attribute: false }) metrics: GenerationMetrics = emptyMetrics;

  override render() {
    const m = this.metrics;
    return html`<dl aria-label="Latency">
      <div><dt>tokens/s</dt><dd data-testid="tokens-per-s">${fixed(m.tokensPerS, 1)}</dd></div>
      <div><dt>ms/token (last)</dt><dd data-testid="ms-per-token">${fixed(m.lastMsPerToken, 1)}</dd></div>
      <div><dt>ms/token (median)</dt><dd data-testid="median-ms-per-token">${fixed(m.medianMsPerToken, 1)}</dd></div>
      <div><dt>prefill ms</dt><dd data-testid="prefill-ms">${fixed(m.prefillMs, 1)}</dd></div>
      <div>
        <dt>tokens (prompt + new)</dt>
        <dd data-testid="token-count">${m.promptTokens} + ${m.tokenCount}</dd>
      </div>
    </dl>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-latency-meter': LatencyMeter;
  }
}
