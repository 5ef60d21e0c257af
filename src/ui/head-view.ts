// <sg-head-view>: what one selected head attended to from the shown token's row, under a panel's grid: the
// head's name (L{layer}H{head}, TransformerLens style), which row the attention is from, and its top
// positions with their weights, strongest first (the token strip shades the same weights). Display only:
// the panel computes the HeadAttention (grid-model.ts); Close goes out as HeadViewCloseEvent.

import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { HeadViewCloseEvent } from './events';
import type { HeadAttention } from './grid-model';
import { chipText } from './token-strip';
import type { OutputToken } from './view-model';
import { theme } from './theme';

@customElement('sg-head-view')
export class HeadView extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
        margin-top: 0.5rem;
        font-size: 0.85rem;
      }
      .head {
        display: flex;
        flex-wrap: wrap;
        gap: 0.3rem 0.8rem;
        align-items: baseline;
      }
      h3 {
        margin: 0;
        font-size: 0.95rem;
        font-family: var(--sg-mono);
      }
      button {
        font-size: 0.85em;
        padding: 0.15em 0.6em;
      }
      ol {
        margin: 0.3rem 0 0;
        padding-left: 1.6rem;
        font-variant-numeric: tabular-nums;
      }
      code {
        white-space: pre;
      }
      .bar {
        display: inline-block;
        height: 0.55em;
        background: rgb(26, 115, 232);
        margin-left: 0.4em;
        vertical-align: middle;
      }
    `,
  ];

  /** The panel's title, for the region's accessible name. */
  @property() heading = '';
  /** The head's name, L{layer}H{head}. */
  @property() name = '';
  /** The shown token, counted from 1 (the row is the one that produced it). */
  @property({ type: Number }) token = 0;
  /** Its attention; null when the probes of this token carry no attention rows. */
  @property({ attribute: false }) attention: HeadAttention | null = null;
  /** Why there is no attention to show (e.g. a version 1 recording). */
  @property() missing = '';
  /** Every context position's token: the prompt's, then the generated ones. */
  @property({ attribute: false }) context: OutputToken[] = [];
  @property({ type: Boolean, attribute: 'id-mode' }) idMode = false;

  private tokenAt(p: number): string {
    const t = this.context[p];
    return t ? chipText(t, this.idMode) : '?';
  }

  override render() {
    const a = this.attention;
    return html`<section role="region" aria-label=${`Head view in ${this.heading}`}>
      <div class="head">
        <h3 data-testid="head-name">${this.name}</h3>
        <span class="muted" data-testid="head-row"
          >${a
            ? html`token ${this.token}: attention from position ${a.row} (<code>${this.tokenAt(a.row)}</code>) over ${a.row + 1} position${a.row === 0 ? '' : 's'}`
            : this.missing}</span
        >
        <button type="button" @click=${() => this.dispatchEvent(new HeadViewCloseEvent())}>Close</button>
      </div>
      ${a
        ? html`<ol aria-label=${`Top positions of ${this.name}`} data-testid="head-top">
            ${a.entries.map(
              (e) => html`<li data-position=${e.pos} data-weight=${e.weight.toFixed(4)}>
                <code>${this.tokenAt(e.pos)}</code> at ${e.pos}: ${e.weight.toFixed(3)}<span class="bar" style=${`width:${(4 * e.weight).toFixed(2)}em`}></span>
              </li>`,
            )}
          </ol>`
        : nothing}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-head-view': HeadView;
  }
}
