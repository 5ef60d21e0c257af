// <sg-token-strip>: the generated tokens as a row of chips under a panel's grid. Hovering or focusing a chip
// asks to show that token's grid; clicking pins it (until clicked again or Escape); leaving the strip goes
// back to live. Token text is rendered through Lit text bindings (never as markup), with whitespace made
// visible so that a space or newline token is still something to point at.

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

  private scrub(index: number | null, pin = false): void {
    this.dispatchEvent(new ScrubEvent(index, pin));
  }

  private onKeyDown(e: KeyboardEvent): void {
    if (e.key === 'Escape') this.scrub(null, true);
  }

  override render() {
    if (this.tokens.length === 0) return html`<div class="empty muted">Tokens appear here; point at one to see its grid.</div>`;
    return html`<ol
      aria-label=${`${this.label} tokens`}
      @pointerleave=${() => this.scrub(null)}
      @focusout=${(e: FocusEvent) => {
        if (!this.renderRoot.contains(e.relatedTarget as Node | null)) this.scrub(null);
      }}
      @keydown=${this.onKeyDown}
    >
      ${repeat(
        this.tokens,
        (_t, i) => i,
        (token, i) => html`<li>
          <button
            type="button"
            data-index=${i}
            data-id=${token.id}
            title=${`token ${i + 1}: id ${token.id}`}
            aria-current=${this.shown === i ? 'true' : nothing}
            aria-pressed=${this.pinned === i ? 'true' : 'false'}
            @pointerenter=${() => this.scrub(i)}
            @focus=${() => this.scrub(i)}
            @click=${() => this.scrub(this.pinned === i ? null : i, true)}
          >${chipText(token, this.idMode)}</button>
        </li>`,
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
