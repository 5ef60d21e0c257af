// <sg-token-strip>: the generated tokens as a row of chips under a panel's grid. Hovering or focusing a chip
// asks to show that token's grid; clicking pins it (until clicked again or Escape); leaving the strip goes
// back to live. Token text is rendered through Lit text bindings (never as markup), with whitespace made
// visible so that a space or newline token is still something to point at. With a head selected (the head
// view) the strip also shows the prompt's tokens before the generated ones and shades every context position
// by the head's attention weight from the shown token's row (its weight on hover, the row itself outlined).

import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { ScrubEvent } from './events';
import type { OutputToken } from './view-model';
import { theme } from './theme';

/** The chip's label: whitespace shown as visible marks, ids when there is no text (id-mode models). */
export function chipText(token: OutputToken, idMode: boolean): string {
  if (idMode) return String(token.id);
  if (token.text === '') return '…'; // part of a character completed by a later token
  return token.text.replace(/ /g, '·').replace(/\n/g, '↵').replace(/\t/g, '⇥');
}

@customElement('sg-token-strip')
export class TokenStrip extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
      }
      ol {
        list-style: none;
        margin: 0;
        padding: 0.3rem 0.1rem;
        display: flex;
        gap: 3px;
        overflow-x: auto;
        scrollbar-width: thin;
        min-height: 2rem;
      }
      li {
        flex: none;
      }
      button {
        font-family: var(--sg-mono);
        font-size: 0.8rem;
        padding: 0.12em 0.4em;
        border-radius: 4px;
        background: var(--sg-bg);
        border: 1px solid transparent;
        white-space: pre;
        max-width: 12em;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      button:hover,
      button[aria-current='true'] {
        border-color: var(--sg-fg);
        background: var(--sg-surface);
      }
      button[aria-pressed='true'] {
        background: var(--sg-fg);
        color: var(--sg-accent-fg);
      }
      .empty {
        font-size: 0.85rem;
        padding: 0.4rem 0.2rem;
      }
      .ctx {
        display: inline-block;
        font-family: var(--sg-mono);
        font-size: 0.8rem;
        padding: 0.12em 0.4em;
        border-radius: 4px;
        border: 1px dashed var(--sg-border);
        white-space: pre;
        max-width: 12em;
        overflow: hidden;
        text-overflow: ellipsis;
        color: var(--sg-muted);
      }
      [data-weight] {
        color: var(--sg-fg);
      }
      [data-weight].strong {
        color: #fff;
      }
      .row {
        outline: 2px solid #1a73e8;
        outline-offset: 1px;
      }
    `,
  ];

  /** Generated tokens, in order. */
  @property({ attribute: false }) tokens: OutputToken[] = [];
  /** Show ids instead of text (the model has no tokenizer). */
  @property({ type: Boolean, attribute: 'id-mode' }) idMode = false;
  /** The token whose grid is shown (null: live, the newest token). */
  @property({ attribute: false }) shown: number | null = null;
  /** The token pinned by a click, if any. */
  @property({ attribute: false }) pinned: number | null = null;
  /** Whose tokens these are, for the list's accessible name ("Sparse GPT-2 tokens"). */
  @property() label = '';
  /** The prompt's tokens (context positions 0..P−1), shown only while `shading` is set. */
  @property({ attribute: false }) context: OutputToken[] = [];
  /** The head view's attention weight per context position (prompt, then generated; NaN: not in the row's context). */
  @property({ attribute: false }) shading: Float32Array | null = null;
  /** The context position of the row the shading is from. */
  @property({ attribute: false }) row: number | null = null;

  /** Style and data attributes of the chip at context position p under the shading. */
  private shade(p: number): { style: string; weight: string | undefined; strong: boolean } {
    const w = this.shading ? this.shading[p] : Number.NaN;
    if (w === undefined || Number.isNaN(w)) return { style: '', weight: undefined, strong: false };
    // Blue with the weight as alpha: 0 leaves the chip plain, 1 fills it.
    return { style: `background: rgba(26, 115, 232, ${Math.min(1, w).toFixed(3)})`, weight: w.toFixed(4), strong: w > 0.55 };
  }

  private scrub(index: number | null, pin = false): void {
    this.dispatchEvent(new ScrubEvent(index, pin));
  }

  private onKeyDown(e: KeyboardEvent): void {
    if (e.key === 'Escape') this.scrub(null, true);
  }

  override render() {
    if (this.tokens.length === 0) return html`<div class="empty muted">Tokens appear here; point at one to see its grid.</div>`;
    const P = this.context.length;
    const shaded = this.shading !== null;
    return html`<ol
      aria-label=${`${this.label} tokens`}
      @pointerleave=${() => this.scrub(null)}
      @focusout=${(e: FocusEvent) => {
        if (!this.renderRoot.contains(e.relatedTarget as Node | null)) this.scrub(null);
      }}
      @keydown=${this.onKeyDown}
    >
      ${shaded
        ? this.context.map((token, p) => {
            const sh = this.shade(p);
            return html`<li>
              <span
                class="ctx ${sh.strong ? 'strong' : ''} ${this.row === p ? 'row' : ''}"
                data-position=${p}
                data-id=${token.id}
                data-weight=${sh.weight ?? nothing}
                style=${sh.style}
                title=${`prompt token, position ${p}: id ${token.id}${sh.weight !== undefined ? `, attention ${sh.weight}` : ''}`}
              >${chipText(token, this.idMode)}</span>
            </li>`;
          })
        : nothing}
      ${repeat(
        this.tokens,
        (_t, i) => i,
        (token, i) => {
          const sh = shaded ? this.shade(P + i) : { style: '', weight: undefined, strong: false };
          return html`<li>
          <button
            type="button"
            class="${sh.strong ? 'strong' : ''} ${shaded && this.row === P + i ? 'row' : ''}"
            data-index=${i}
            data-position=${P + i}
            data-id=${token.id}
            data-weight=${sh.weight ?? nothing}
            style=${sh.style}
            title=${`token ${i + 1}, position ${P + i}: id ${token.id}${sh.weight !== undefined ? `, attention ${sh.weight}` : ''}`}
            aria-current=${this.shown === i ? 'true' : nothing}
            aria-pressed=${this.pinned === i ? 'true' : 'false'}
            @pointerenter=${() => this.scrub(i)}
            @focus=${() => this.scrub(i)}
            @click=${() => this.scrub(this.pinned === i ? null : i, true)}
          >${chipText(token, this.idMode)}</button>
        </li>`;
        },
      )}
    </ol>`;
  }

  override updated(): void {
    // Live: keep the newest token in view.
    if (this.shown === null) {
      const list = this.renderRoot.querySelector('ol');
      if (list) list.scrollLeft = list.scrollWidth;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-token-strip': TokenStrip;
  }
}
