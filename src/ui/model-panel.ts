// <sg-model-panel>: one model's panel, as in the seed picture: its title, the model actually loaded (name,
// shape, size, adapter), its load progress or load error, then the activation grid with the latency and
// the perplexity on the built-in passage beside it, the token strip (point at a token to see its grid) and the streamed text. Display only: the shell
// feeds it; the only state it keeps is which token the pointer is on.

import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { LoadProgress, ModelInfo, StopReason } from '../app/engineClient';
import { AblationChangeEvent, GridPngRequestEvent, ReplayCloseEvent, type HeadPickEvent, type ScrubEvent } from './events';
import { attentionShading, headAttention } from './grid-model';
import { headName } from '../model/engineApi';
import type { ActivationGrid } from './activation-grid';
import type { EdgeState, PanelData, PerplexityState } from './model-slot';
import { emptyMetrics, formatPerplexity, type AblationReport, type ReplayInfo, type RunState } from './view-model';
import './ablation-panel';
import './activation-grid';
import './head-view';
import './latency-meter';
import './model-output';
import './token-strip';
import { theme } from './theme';

export type PanelStatus = 'waiting' | 'loading' | 'ready' | 'error';

function millions(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${(n / 1e3).toFixed(1)}k`;
}

const stopReasonText: Record<StopReason, string> = {
  'max-tokens': 'Stopped: reached the token limit.',
  'context-full': 'Stopped: the context window is full.',
  aborted: 'Stopped.',
  'end-of-text': 'Stopped: the model wrote <|endoftext|>, the end of its text.',
  'non-finite-logits': 'Stopped: the model produced non-finite logits (NaN or Infinity); its weights or arithmetic are broken.',
};

const emptyData: PanelData = { promptText: '', tokens: [], promptTokens: [], metrics: emptyMetrics, views: [] };

@customElement('sg-model-panel')
export class ModelPanel extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
        min-width: 0;
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
        font-size: 1.3rem;
        font-weight: 650;
        text-align: center;
      }
      .model {
        margin-top: 0.2rem;
        font-size: 0.92em;
        text-align: center;
        overflow-wrap: anywhere;
      }
      .shape {
        margin-top: 0.15rem;
        font-size: 0.8em;
        text-align: center;
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
      .viz {
        display: flex;
        flex-wrap: wrap;
        gap: 0.8rem 1.2rem;
        align-items: flex-start;
      }
      sg-latency-meter {
        flex: 1 1 14rem;
        min-width: 12rem;
      }
      .note {
        font-size: 0.85em;
        margin: 0.3rem 0;
      }
      .grid-tools {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.4rem 0.8rem;
        font-size: 0.85em;
        margin-top: 0.3rem;
      }
      .grid-tools button {
        font-size: 0.85em;
        padding: 0.2em 0.7em;
      }
      .replay {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.4rem 0.8rem;
        background: #eef3fb;
        border-radius: 6px;
        padding: 0.4em 0.7em;
        margin-bottom: 0.6rem;
        font-size: 0.9em;
      }
      .replay button {
        font-size: 0.9em;
        padding: 0.2em 0.7em;
      }
      sg-token-strip {
        margin-top: 0.6rem;
      }
      sg-model-output {
        margin-top: 0.4rem;
      }
      .status {
        margin-top: 0.5rem;
        font-size: 0.9em;
      }
      .ppl {
        font-size: 0.9em;
        margin-top: 0.5rem;
      }
      .ppl output {
        font-size: 1.25em;
        font-weight: 650;
        font-variant-numeric: tabular-nums;
      }
    `,
  ];

  /** Panel title ("Sparse GPT-2", "GPT-2 (baseline)"). */
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
  /** What to show: the live generation, or the open recording's. */
  @property({ attribute: false }) data: PanelData = emptyData;
  /** The open recording shown instead of the live generation. */
  @property({ attribute: false }) replay: ReplayInfo | null = null;
  @property({ attribute: false }) runState: RunState = 'idle';
  @property({ attribute: false }) stopReason: StopReason | null = null;
  /** Why the last generation failed. */
  @property({ attribute: false }) runError: string | null = null;
  /** The model that has the GPU while this one waits (shown in the queued message). */
  @property({ attribute: false }) waitingFor: string | null = null;
  /** The last run asked for probes, and whether the engine returned none. */
  @property({ attribute: false }) probesAsked = true;
  @property({ attribute: false }) probesMissing = false;
  @property({ attribute: false }) edgeState: EdgeState = 'pending';
  @property({ attribute: false }) edgeError: string | null = null;
  /** What to say while waiting for something other than WebGPU (a download, a Prune); null: waiting for WebGPU. */
  @property({ attribute: false }) waitingText: string | null = null;
  /** Perplexity of the model on the built-in passage. */
  @property({ attribute: false }) perplexity: PerplexityState = { state: 'pending' };
  /** Heads zero-ablated in this panel's runs, and what the last ablated run changed. */
  @property({ attribute: false }) ablated: readonly number[] = [];
  @property({ attribute: false }) ablation: AblationReport | null = null;
  @property({ attribute: false }) ablationPending = false;
  /** Heads that were ablated in the live run shown (the grid crosses them). */
  @property({ attribute: false }) ablatedInRun: readonly number[] = [];
  /** Draw the grid (the "Live grid" setting). */
  @property({ type: Boolean, attribute: 'grid-live' }) gridLive = true;

  /** The token under the pointer or focus, and the one pinned by a click. */
  @state() private hovered: number | null = null;
  @state() private pinned: number | null = null;
  /** The head shown in the head view (layer · nHead + head), or null. */
  @state() private selectedHead: number | null = null;

  @query('sg-activation-grid') private grid!: ActivationGrid | null;

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Another model: its heads are other heads.
    if (changed.has('info') && changed.get('info')?.config !== this.info?.config) this.selectedHead = null;
    // A new generation or another recording: scrubbing starts over at live.
    if (changed.has('data') && (changed.get('data')?.promptText !== this.data.promptText || this.data.tokens.length < (changed.get('data')?.tokens.length ?? 0))) {
      this.hovered = null;
      this.pinned = null;
    }
    if (changed.has('replay') && changed.get('replay')?.id !== this.replay?.id) {
      this.hovered = null;
      this.pinned = null;
    }
  }

  private onScrub(e: ScrubEvent): void {
    if (e.pin) {
      this.pinned = e.index;
      this.hovered = e.index;
    } else {
      this.hovered = e.index;
    }
  }

  /** A head picked in the grid: shown in the head view, or (Shift) toggled in the heads to ablate. */
  private onHeadPick(e: HeadPickEvent): void {
    if (!e.ablate) {
      this.selectedHead = e.node;
      return;
    }
    // Ablation applies to the next live run; not while one runs, nor to a replay.
    if (this.replay || this.runState === 'running' || this.runState === 'queued') return;
    const set = new Set(this.ablated);
    if (set.has(e.node)) set.delete(e.node);
    else set.add(e.node);
    this.dispatchEvent(new AblationChangeEvent([...set].sort((a, b) => a - b)));
  }

  /** The token whose grid is shown: pointer/focus first, then a pinned one, else the newest (live). */
  private shownIndex(): number | null {
    const n = this.data.views.length;
    const i = this.hovered ?? this.pinned;
    return i !== null && i < n ? i : null;
  }

  private async savePng(): Promise<void> {
    const grid = this.grid;
    if (!grid) return;
    const blob = await grid.toPngBlob();
    const slug = this.heading.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    const shown = this.shownIndex();
    this.dispatchEvent(new GridPngRequestEvent(blob, `${slug}-grid${shown !== null ? `-token-${shown + 1}` : ''}.png`));
  }

  private renderModelLine() {
    const info = this.info;
    if (!info) return html`<div class="model muted">Model: <code>${this.modelUrl}</code></div>`;
    const c = info.config;
    return html`<div class="model" data-testid="model-name">
        Model: <strong>${info.name}</strong> <span class="muted">(<code>${info.baseUrl}</code>)</span>
      </div>
      <div class="shape muted" data-testid="model-shape">
        ${c.nLayer} layers × ${c.nHead} heads × ${c.nEmbd} wide · context ${c.nCtx} · vocab ${c.vocabSize} ·
        ${millions(info.parameterCount)} parameters${info.hasTokenizer ? '' : ' · no tokenizer (ids)'} · ${info.adapterDescription}
      </div>`;
  }

  private gridNote(shown: number | null): string {
    const n = this.data.views.length;
    if (n === 0) return '';
    if (shown === null) return `${this.replay ? 'recorded' : 'live'} · token ${n}`;
    return `token ${shown + 1} of ${n}${this.pinned === shown ? ' (pinned)' : ''}`;
  }

  private renderProbeNote() {
    if (this.replay) return nothing;
    if (!this.probesAsked && this.data.views.length === 0 && this.runState !== 'idle') {
      return html`<p class="note muted">Probes are off: turn on <em>Probes</em> to see which heads and neurons fire.</p>`;
    }
    if (this.probesAsked && this.probesMissing) {
      return html`<p class="note muted" role="status">This engine returned no probes, so the grid cannot show what fires.</p>`;
    }
    switch (this.edgeState) {
      case 'deferred':
        return html`<p class="note muted">Edges: the head composition is computed at the first Generate with Probes on.</p>`;
      case 'pending':
        return html`<p class="note muted">Computing head composition for the edges…</p>`;
      case 'unavailable':
        return html`<p class="note muted">This engine gives no head composition: edges are not drawn.</p>`;
      case 'failed':
        return html`<p class="note error">Could not compute the edges: ${this.edgeError}</p>`;
      default:
        return nothing;
    }
  }

  private renderPerplexity() {
    const p = this.perplexity;
    switch (p.state) {
      case 'pending':
        return html`<div class="ppl muted" role="status">Measuring perplexity on the built-in passage…</div>`;
      case 'done': {
        const what = `on the built-in ${p.passage.name} passage`;
        return html`<div class="ppl" role="group" aria-label="Perplexity of ${this.heading}">
          Perplexity <output aria-label="Perplexity" data-testid="perplexity">${formatPerplexity(p.result.perplexity)}</output>
          · <output aria-label="Bits per byte" data-testid="bits-per-byte">${p.result.bitsPerByte.toFixed(3)}</output> bits/byte
          <span class="muted" data-testid="perplexity-tokens"
            >${what}: ${p.result.predicted} predicted of ${p.result.tokens} tokens${p.result.windows > 1 ? ` in ${p.result.windows} windows` : ''},
            mean NLL ${p.result.meanNll.toFixed(3)} nats (${(p.ms / 1000).toFixed(1)} s)</span
          >
        </div>`;
      }
      case 'unavailable':
        return html`<div class="ppl muted">Perplexity: not available (${p.message}).</div>`;
      case 'failed':
        return html`<div class="ppl error" role="alert">Could not measure the perplexity: ${p.message}</div>`;
    }
  }

  private renderRunStatus() {
    switch (this.runState) {
      case 'queued':
        return html`<div class="status muted" role="status">
          Waiting for the GPU: runs after ${this.waitingFor ?? 'the other model'} finishes (the two never share the GPU).
        </div>`;
      case 'skipped':
        return html`<div class="status muted" role="status">Stopped before its turn: not run.</div>`;
      case 'finished':
        return this.stopReason ? html`<div class="status muted" role="status">${stopReasonText[this.stopReason]}</div>` : nothing;
      default:
        return nothing;
    }
  }

  private renderReady() {
    const info = this.info!;
    const data = this.data;
    const shape = { nLayer: info.config.nLayer, nHead: info.config.nHead, nEmbd: info.config.nEmbd };
    const shown = this.shownIndex();
    const views = data.views;
    const index = views.length ? (shown ?? views.length - 1) : null;
    const view = index !== null ? views[index]! : null;
    // The head view: the selected head's attention from the row that produced the shown token.
    const head = this.selectedHead;
    const context = head !== null ? [...data.promptTokens, ...data.tokens] : [];
    const attention = head !== null && index !== null ? headAttention(view, head, index, data.promptTokens.length) : null;
    const shading = attention ? attentionShading(attention, context.length) : null;
    return html`${this.replay
        ? html`<div class="replay" role="status">
            <span
              >Replaying <strong>${this.replay.name}</strong>, recorded ${new Date(this.replay.createdAt).toLocaleString()}${this.replay.note
                ? html` <span class="muted">(${this.replay.note})</span>`
                : nothing}</span
            >
            <button type="button" @click=${() => this.dispatchEvent(new ReplayCloseEvent())}>Back to live</button>
          </div>`
        : nothing}
      <div class="viz">
        <div>
          <sg-activation-grid
            label=${this.heading}
            .shape=${shape}
            .view=${view}
            .ablated=${this.replay ? [] : this.ablatedInRun}
            note=${this.gridNote(shown)}
            .selected=${head}
            .marked=${this.replay ? [] : this.ablated}
            ?hidden=${!this.gridLive}
            @sg-head-pick=${this.onHeadPick}
          ></sg-activation-grid>
          ${head !== null && this.gridLive
            ? html`<sg-head-view
                heading=${this.heading}
                name=${headName(head, info.config.nHead)}
                .token=${(index ?? 0) + 1}
                .attention=${attention}
                missing=${index === null
                  ? 'Generate, or open a recording, to see what it attends to.'
                  : this.replay
                    ? 'This recording has no attention rows (recorded before version 2).'
                    : 'These probes carry no attention rows.'}
                .context=${context}
                ?id-mode=${!info.hasTokenizer}
                @sg-head-view-close=${() => (this.selectedHead = null)}
              ></sg-head-view>`
            : nothing}
          ${this.gridLive
            ? html`<div class="grid-tools">
                <button type="button" @click=${() => void this.savePng()}>Save PNG</button>
                <span class="muted">Click a head (or focus it, arrows, Enter) for its attention${this.replay ? '' : '; Shift+click marks it for ablation'}.</span>
              </div>`
            : html`<p class="note muted">Grid hidden (<em>Live grid</em> is off).</p>`}
          ${this.renderProbeNote()}
        </div>
        <div>
          <sg-latency-meter .metrics=${data.metrics} .weightBytes=${info.weightBytes} .density=${info.density}></sg-latency-meter>
          ${this.renderPerplexity()}
          ${this.replay
            ? nothing
            : html`<sg-ablation
                heading=${this.heading}
                .nLayer=${info.config.nLayer}
                .nHead=${info.config.nHead}
                .ablated=${this.ablated}
                .report=${this.ablation}
                ?pending=${this.ablationPending}
                ?disabled=${this.runState === 'running' || this.runState === 'queued'}
              ></sg-ablation>`}
        </div>
      </div>
      <sg-token-strip
        label=${this.heading}
        .tokens=${data.tokens}
        ?id-mode=${!info.hasTokenizer}
        .shown=${shown}
        .pinned=${this.pinned}
        .context=${data.promptTokens}
        .shading=${shading}
        .row=${attention?.row ?? null}
        @sg-scrub=${this.onScrub}
      ></sg-token-strip>
      <sg-model-output
        .promptText=${data.promptText}
        .tokens=${data.tokens}
        ?id-mode=${!info.hasTokenizer}
        ?streaming=${!this.replay && this.runState === 'running'}
      ></sg-model-output>
      ${this.runError && !this.replay ? html`<div class="error" role="alert">Generation failed: ${this.runError}</div>` : nothing}
      ${this.replay ? nothing : this.renderRunStatus()}`;
  }

  private renderBody() {
    switch (this.status) {
      case 'waiting':
        return html`<div class="loading muted" role="status">${this.waitingText ?? 'Waiting for WebGPU…'}</div>`;
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
        return this.renderReady();
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
