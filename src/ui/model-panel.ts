// <sg-model-panel>: one model's panel: title, the model actually loaded (name, shape, size, adapter), its
// load progress or load error, the streamed output and its latency. Display only; the shell feeds it.

import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { LoadProgress, ModelInfo, StopReason } from './engineClient';
import './latency-meter';
import './model-output';
import { emptyMetrics, type GenerationMetrics, type OutputToken, type RunState } from './view-model';
import { theme } from './theme';

export type PanelStatus = 'waiting' | 'loading' | 'ready' | 'error';

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
}

function millions(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${(n / 1e3).toFixed(1)}k`;
}

const stopReasonText: Record<StopReason, string> = {
  'max-tokens': 'Stopped: reached the token limit.',
  'context-full': 'Stopped: the context window is full.',
  aborted: 'Stopped.',
};

@customElement('sg-model-panel')
export class ModelPanel extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
        background: var(--sg-surface);
        border: 1px solid var(--sg-border);
        border-radius: 12px;
        padding: 1rem 1.1rem 1.1rem;
      }
      header {
        margin-bottom: 0.8rem;
      }
      h2 {
        margin: 0;
        font-size: 1.15rem;
        font-weight: 650;
      }
      .model {
        margin-top: 0.15rem;
        font-size: 0.92em;
      }
      .shape {
        margin-top: 0.15rem;
        font-size: 0.85em;
      }
      .loading {
        display: flex;
        align-items: center;
        gap: 0.6em;
        padding: 0.6em 0;
      }
      .spinner {
        width: 1em;
        height: 1em;
        border: 2px solid var(--sg-faint);
        border-top-color: var(--sg-fg);
        border-radius: 50%;
        animation: spin 0.9s linear infinite;
      }
      @keyframes spin {
        to {
          transform: rotate(360deg);
        }
      }
      sg-latency-meter {
        margin-top: 0.8rem;
      }
      .status {
        margin-top: 0.5rem;
        font-size: 0.9em;
      }
    `,
  ];

  /** Panel title (e.g. "Sparse GPT-2"). */
  @property() heading = 'GPT-2';
  /** Where the model comes from (its base URL), named even when the load fails. */
  @property({ attribute: 'model-url' }) modelUrl = '';
  /** waiting (for the GPU) | loading | ready | error. */
  @property() status: PanelStatus = 'waiting';
  /** The loaded model, when status is ready. */
  @property({ attribute: false }) info: ModelInfo | null = null;
  /** Current load step, when status is loading. */
  @property({ attribute: false }) progress: LoadProgress | null = null;
  /** Why the load failed, when status is error. */
  @property({ attribute: false }) error: string | null = null;
  @property({ attribute: false }) promptText = '';
  @property({ attribute: false }) tokens: OutputToken[] = [];
  @property({ attribute: false }) metrics: GenerationMetrics = emptyMetrics;
  @property({ attribute: false }) runState: RunState = 'idle';
  @property({ attribute: false }) stopReason: StopReason | null = null;
  /** Why the last generation failed. */
  @property({ attribute: false }) runError: string | null = null;

  private renderModelLine() {
    const info = this.info;
    if (!info) return html`<div class="model muted">Model: <code>${this.modelUrl}</code></div>`;
    const c = info.config;
    return html`<div class="model">Model: <strong>${info.name}</strong> <span class="muted">(<code>${info.baseUrl}</code>)</span></div>
      <div class="shape muted" data-testid="model-shape">
        ${c.nLayer} layers × ${c.nHead} heads × ${c.nEmbd} wide · context ${c.nCtx} · vocab ${c.vocabSize} ·
        ${millions(info.parameterCount)} parameters · ${megabytes(info.weightBytes)} on GPU${info.hasTokenizer ? '' : ' · no tokenizer (ids)'}
        · ${info.adapterDescription}
      </div>`;
  }

  private renderBody() {
    switch (this.status) {
      case 'waiting':
        return html`<div class="loading muted" role="status">Waiting for WebGPU…</div>`;
      case 'loading':
        return html`<div class="loading" role="status" aria-live="polite">
          <span class="spinner" aria-hidden="true"></span>
          <span>Loading <code>${this.modelUrl}</code>: ${this.progress?.label ?? 'starting'}…</span>
        </div>`;
      case 'error':
        return html`<div class="error" role="alert">
          <strong>Could not load the model at <code>${this.modelUrl}</code>.</strong><br />${this.error}
        </div>`;
      case 'ready':
        return html`<sg-model-output
            .promptText=${this.promptText}
            .tokens=${this.tokens}
            ?id-mode=${this.info ? !this.info.hasTokenizer : false}
            ?streaming=${this.runState === 'running'}
          ></sg-model-output>
          <sg-latency-meter .metrics=${this.metrics}></sg-latency-meter>
          ${this.runError ? html`<div class="error" role="alert">Generation failed: ${this.runError}</div>` : nothing}
          ${this.runState === 'finished' && this.stopReason
            ? html`<div class="status muted" role="status">${stopReasonText[this.stopReason]}</div>`
            : nothing}`;
    }
  }

  override render() {
    return html`<section aria-labelledby="title">
      <header>
        <h2 id="title">${this.heading}</h2>
        ${this.renderModelLine()}
      </header>
      ${this.renderBody()}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-model-panel': ModelPanel;
  }
}
