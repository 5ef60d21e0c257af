// <sg-model-picker>: which models the page runs ("Embedded pair" or "GPT-2 124M (Hugging Face)"), and for the
// Hub model its download (progress bar with bytes, MB/s and time left; Cancel; "from cache"), the browser
// cache (Clear cache, space freed), and the making of its block-sparse counterpart (density, block size,
// method, Prune with per-layer progress, Cancel). Display only: the shell's HubController does the work.

import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { PruneMethod } from '../model/prune';
import { HubActionEvent, ModelChoiceEvent, PruneSettingsEvent, type ModelChoice } from './events';
import type { DownloadView, PruneView } from './hub-controller';
import { PRUNE_DENSITIES, type PruneSettings } from '../app/pruneInPage';
import { theme } from './theme';

/** The picker's option texts (the Hub one is exact: tests and users look for it). */
export const MODEL_CHOICE_LABELS: Record<ModelChoice, string> = {
  embedded: 'Embedded pair',
  hub: 'GPT-2 124M (Hugging Face)',
};

function mb(n: number): string {
  return (n / 1e6).toFixed(1);
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 60) return `${Math.max(0, Math.round(s))} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function densityText(d: number): string {
  return `1/${Math.round(1 / d)}`;
}

@customElement('sg-model-picker')
export class ModelPicker extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem 1rem;
      }
      .hub {
        margin-top: 0.7rem;
        display: grid;
        gap: 0.6rem;
      }
      fieldset {
        border: 1px solid var(--sg-border);
        border-radius: 8px;
        padding: 0.5rem 0.8rem 0.7rem;
        margin: 0;
      }
      legend {
        font-weight: 600;
        padding: 0 0.3em;
      }
      progress {
        width: min(28rem, 100%);
        height: 0.9rem;
      }
      button {
        font-size: 0.9em;
        padding: 0.25em 0.9em;
      }
      .line {
        font-size: 0.9em;
      }
      select {
        font: inherit;
      }
    `,
  ];

  /** The models in use. */
  @property() choice: ModelChoice = 'embedded';
  /** Where the Hub model comes from, e.g. "openai-community/gpt2". */
  @property() repo = '';
  /** State of the Hub model's download (choice "hub"). */
  @property({ attribute: false }) download: DownloadView | null = null;
  /** State of the pruning and its settings. */
  @property({ attribute: false }) prune: PruneView | null = null;
  /** Outcome of the last Clear cache. */
  @property({ attribute: false }) cacheMessage: string | null = null;

  private act(a: HubActionEvent['action']): void {
    this.dispatchEvent(new HubActionEvent(a));
  }

  private setPrune(patch: Partial<PruneSettings>): void {
    if (!this.prune) return;
    this.dispatchEvent(new PruneSettingsEvent({ ...this.prune.settings, ...patch }));
  }

  private renderDownload() {
    const d = this.download;
    if (!d) return nothing;
    switch (d.phase) {
      case 'idle':
        return nothing;
      case 'cache':
        return html`<div class="line muted" role="status">Looking for ${this.repo} in the browser cache…</div>`;
      case 'downloading': {
        const pct = d.total ? ` (${Math.floor((100 * d.loaded) / d.total)}%)` : '';
        const parts = [
          `Downloading ${d.file}: ${mb(d.loaded)}${d.total ? ` of ${mb(d.total)}` : ''} MB${pct}`,
          d.bytesPerS ? `${mb(d.bytesPerS)} MB/s` : null,
          d.etaS !== undefined ? `${duration(d.etaS)} left` : null,
        ];
        return html`<div class="row">
            <progress aria-label="Download progress" max=${d.total ?? 1} value=${d.total ? d.loaded : 0}></progress>
            <button type="button" @click=${() => this.act('cancel-download')}>Cancel download</button>
          </div>
          <div class="line" role="status" data-testid="download-status">${parts.filter(Boolean).join(' · ')}</div>`;
      }
      case 'validating':
        return html`<div class="line" role="status" data-testid="download-status">Checking the files against config.json…</div>`;
      case 'storing':
        return html`<div class="line" role="status" data-testid="download-status">Storing ${mb(d.total ?? d.loaded)} MB in the browser cache…</div>`;
      case 'ready':
        return html`<div class="line" role="status" data-testid="download-status">
            ${d.fromCache
              ? html`Loaded ${this.repo} from cache (${mb(d.total ?? 0)} MB, no download).`
              : d.storageNote
                ? html`Downloaded ${this.repo} (${mb(d.total ?? 0)} MB); not stored:`
                : html`Downloaded ${this.repo} (${mb(d.total ?? 0)} MB) and stored it in the browser cache.`}
          </div>
          ${d.storageNote ? html`<div class="line error" role="alert">${d.storageNote}</div>` : nothing}`;
      case 'canceled':
        return html`<div class="row">
          <span class="line" role="status" data-testid="download-status">Download canceled; nothing was stored.</span>
          <button type="button" @click=${() => this.act('retry-download')}>Download again</button>
        </div>`;
      case 'error':
        return html`<div class="error" role="alert" data-testid="download-error">
            <strong>Could not load ${this.repo}.</strong><br />${d.error}<br />Nothing was stored.
          </div>
          <button type="button" @click=${() => this.act('retry-download')}>Retry download</button>`;
    }
  }

  private renderPrune() {
    const p = this.prune;
    const ready = this.download?.phase === 'ready';
    if (!p || !ready) return nothing;
    const s = p.settings;
    const running = p.phase === 'running' || p.phase === 'storing';
    const progress = p.progress;
    return html`<fieldset>
      <legend>Block-sparse counterpart, made in this page</legend>
      <div class="row">
        <label
          >Density
          <select aria-label="Density" ?disabled=${running} @change=${(e: Event) => this.setPrune({ density: Number((e.target as HTMLSelectElement).value) })}>
            ${PRUNE_DENSITIES.map((d) => html`<option value=${d} ?selected=${d === s.density}>${densityText(d)}</option>`)}
          </select></label
        >
        <label
          >Block size
          <select aria-label="Block size" ?disabled=${running} @change=${(e: Event) => this.setPrune({ block: Number((e.target as HTMLSelectElement).value) })}>
            ${[16, 32, 64].map((b) => html`<option value=${b} ?selected=${b === s.block}>${b} × ${b}</option>`)}
          </select></label
        >
        <label
          >Method
          <select aria-label="Method" ?disabled=${running} @change=${(e: Event) => this.setPrune({ method: (e.target as HTMLSelectElement).value as PruneMethod })}>
            <option value="magnitude" ?selected=${s.method === 'magnitude'}>magnitude</option>
            <option value="activation" ?selected=${s.method === 'activation'}>activation-aware (calibration text)</option>
          </select></label
        >
        ${running
          ? html`<button type="button" @click=${() => this.act('cancel-prune')}>Cancel pruning</button>`
          : html`<button type="button" class="primary" @click=${() => this.act('prune')}>Prune</button>`}
      </div>
      ${running
        ? html`<div class="row">
              <progress aria-label="Pruning progress" max=${progress?.total || 1} value=${progress?.done ?? 0}></progress>
            </div>
            <div class="line" role="status" data-testid="prune-status">
              ${p.phase === 'storing' ? 'Storing the block-sparse model in the browser cache…' : `${progress?.label ?? 'Starting'}… (${progress?.done ?? 0} of ${progress?.total ?? '?'} matrices)`}
            </div>`
        : nothing}
      ${p.phase === 'ready'
        ? html`<div class="line" role="status" data-testid="prune-status">
            Block-sparse model ${p.fromCache ? 'loaded from cache' : 'made'} (${s.method}, density ${densityText(s.density)}, ${s.block} × ${s.block} blocks)${p.summary ? `: ${p.summary}` : ''}.
          </div>`
        : nothing}
      ${p.phase === 'idle' ? html`<div class="line muted" data-testid="prune-status">Choose the settings and press Prune to make the sparse model (in a worker).</div>` : nothing}
      ${p.phase === 'canceled' ? html`<div class="line" role="status" data-testid="prune-status">Pruning canceled; nothing was stored.</div>` : nothing}
      ${p.phase === 'error' ? html`<div class="error" role="alert">${p.error}</div>` : nothing}
      ${p.storageNote ? html`<div class="line error" role="alert">${p.storageNote}</div>` : nothing}
    </fieldset>`;
  }

  override render() {
    return html`<div class="row">
        <label
          >Model
          <select
            aria-label="Model"
            @change=${(e: Event) => this.dispatchEvent(new ModelChoiceEvent((e.target as HTMLSelectElement).value as ModelChoice))}
          >
            ${(Object.keys(MODEL_CHOICE_LABELS) as ModelChoice[]).map(
              (c) => html`<option value=${c} ?selected=${c === this.choice}>${MODEL_CHOICE_LABELS[c]}</option>`,
            )}
          </select></label
        >
        <button type="button" @click=${() => this.act('clear-cache')}>Clear cache</button>
        ${this.cacheMessage ? html`<span class="line" role="status" data-testid="cache-message">${this.cacheMessage}</span>` : nothing}
      </div>
      ${this.choice === 'hub' ? html`<div class="hub">${this.renderDownload()} ${this.renderPrune()}</div>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-model-picker': ModelPicker;
  }
}
