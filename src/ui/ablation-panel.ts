// <sg-ablation>: which heads a panel zero-ablates (typed as TransformerLens names, L0H1) and what the last
// ablated run changed against the model as it is: the next token's top 5, the passage's perplexity and the
// first token where the greedy continuations part. Display only: the heads go out as AblationChangeEvent,
// the report comes in (ModelSlot measures it).

import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { headName, parseHeadNames } from '../model/engineApi';
import { AblationChangeEvent } from './events';
import { formatPerplexity, type AblationReport, type TopToken } from './view-model';
import { theme } from './theme';

/** A token's text with its whitespace visible, as a researcher wants to compare it. */
const shown = (text: string): string => JSON.stringify(text);

@customElement('sg-ablation')
export class AblationPanel extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
        margin-top: 0.4rem;
      }
      form {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: center;
      }
      input {
        width: 11rem;
      }
      table {
        border-collapse: collapse;
        margin: 0.3rem 0;
        font-size: 0.85rem;
      }
      th,
      td {
        padding: 0.1rem 0.5rem;
        text-align: left;
      }
      td.logit {
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
      .report p {
        margin: 0.2rem 0;
      }
    `,
  ];

  /** The panel's model title, for accessible names. */
  @property() heading = '';
  @property({ type: Number }) nLayer = 0;
  @property({ type: Number }) nHead = 0;
  /** Heads ablated in this panel's next runs (ids layer · nHead + head). */
  @property({ attribute: false }) ablated: readonly number[] = [];
  @property({ attribute: false }) report: AblationReport | null = null;
  @property({ type: Boolean }) pending = false;
  /** While a generation runs the heads cannot change. */
  @property({ type: Boolean }) disabled = false;

  @state() private problem: string | null = null;

  private names(heads: readonly number[]): string {
    return heads.map((h) => headName(h, this.nHead)).join(', ');
  }

  private onSubmit(e: Event): void {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).elements.namedItem('heads') as HTMLInputElement;
    const text = input.value.trim();
    const heads = text === '' ? [] : parseHeadNames(text, this.nLayer, this.nHead);
    if (typeof heads === 'string') {
      this.problem = heads;
      return;
    }
    this.problem = null;
    this.dispatchEvent(new AblationChangeEvent(heads));
  }

  private clear(): void {
    this.problem = null;
    const input = this.renderRoot.querySelector('input');
    if (input) input.value = '';
    this.dispatchEvent(new AblationChangeEvent([]));
  }

  private renderTop(before: TopToken[], after: TopToken[]) {
    const rows = Math.max(before.length, after.length);
    const cell = (t: TopToken | undefined) => (t ? html`<td><code>${shown(t.text)}</code></td><td class="logit">${t.logit.toFixed(2)}</td>` : html`<td></td><td></td>`);
    return html`<table aria-label="Next token, top 5, before and after the ablation" data-testid="ablation-top5">
      <thead><tr><th>#</th><th>before</th><th>logit</th><th>after</th><th>logit</th></tr></thead>
      <tbody>
        ${Array.from({ length: rows }, (_, i) => html`<tr><td>${i + 1}</td>${cell(before[i])}${cell(after[i])}</tr>`)}
      </tbody>
    </table>`;
  }

  private renderReport(r: AblationReport) {
    const num = (x: number | null, digits: number) => (x === null ? 'n/a' : x.toFixed(digits));
    const ppl = (x: number | null) => (x === null ? 'n/a' : formatPerplexity(x));
    return html`<div class="report" role="region" aria-label="Ablation effect in ${this.heading}" data-testid="ablation-report">
      <p>With <strong>${r.heads.join(', ')}</strong> ablated, against the model as it is, on the same prompt:</p>
      ${this.renderTop(r.topBefore, r.topAfter)}
      <p data-testid="ablation-perplexity">
        Perplexity of the passage: <output aria-label="Perplexity before">${ppl(r.perplexityBefore)}</output> →
        <output aria-label="Perplexity after">${ppl(r.perplexityAfter)}</output>
        <span class="muted">(bits/byte ${num(r.bitsPerByteBefore, 3)} → ${num(r.bitsPerByteAfter, 3)})</span>
      </p>
      <p data-testid="ablation-first-diff">
        ${r.firstDiff
          ? html`Greedy continuation: first differs at token ${r.firstDiff.index + 1}: <code>${shown(r.firstDiff.before)}</code> →
              <code>${shown(r.firstDiff.after)}</code>`
          : html`Greedy continuation: the same for all ${r.compared} tokens compared.`}
      </p>
    </div>`;
  }

  override render() {
    const names = this.names(this.ablated);
    return html`<form @submit=${this.onSubmit} aria-label="Ablation of ${this.heading}">
        <label>Ablate heads <input name="heads" placeholder="e.g. L0H1, L2H3" .value=${names} ?disabled=${this.disabled} autocomplete="off" /></label>
        <button type="submit" ?disabled=${this.disabled}>Apply</button>
        ${this.ablated.length ? html`<button type="button" ?disabled=${this.disabled} @click=${this.clear}>Clear</button>` : nothing}
        <span class="muted" data-testid="ablation-status"
          >${this.ablated.length
            ? `Ablated: ${names} (zeroed in every step of the next Generate)`
            : 'Zero the output of heads, TransformerLens names (layer and head from 0).'}</span
        >
      </form>
      ${this.problem ? html`<div class="error" role="alert">${this.problem}</div>` : nothing}
      ${this.pending ? html`<div class="muted" role="status">Comparing with the model as it is…</div>` : nothing}
      ${this.report ? this.renderReport(this.report) : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-ablation': AblationPanel;
  }
}
