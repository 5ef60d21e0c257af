// <sg-model-output>: the prompt and the generated tokens as they stream in. Every token is rendered as
// text through Lit's text bindings (never as markup), so a token such as "<img onerror=…>" shows literally.

import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { OutputToken } from './view-model';
import { theme } from './theme';

@customElement('sg-model-output')
export class ModelOutput extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
      }
      .text {
        font-family: var(--sg-mono);
        font-size: 0.95em;
        line-height: 1.55;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        min-height: 6.5em;
        max-height: 24em;
        overflow: auto;
        padding: 0.7em 0.8em;
        background: var(--sg-bg);
        border-radius: var(--sg-radius);
      }
      .prompt {
        color: var(--sg-muted);
      }
      .token:hover {
        background: var(--sg-faint);
      }
      .sep {
        color: var(--sg-muted);
      }
      .cursor {
        display: inline-block;
        width: 0.55em;
        height: 1.1em;
        vertical-align: text-bottom;
        background: var(--sg-muted);
        animation: blink 1s steps(1) infinite;
      }
      @keyframes blink {
        50% {
          opacity: 0;
        }
      }
      .placeholder {
        color: var(--sg-muted);
        font-family: var(--sg-font);
      }
    `,
  ];

  /** The prompt as text (or its ids joined by ", " in id mode), shown dimmed before the output. */
  @property({ attribute: false }) promptText = '';
  /** Generated tokens, in order. */
  @property({ attribute: false }) tokens: OutputToken[] = [];
  /** Show token ids instead of text (the model has no tokenizer). */
  @property({ type: Boolean, attribute: 'id-mode' }) idMode = false;
  /** A generation is streaming into this output (shows a cursor, marks the region busy). */
  @property({ type: Boolean }) streaming = false;

  private renderToken(token: OutputToken, index: number) {
    const sep = this.idMode && index > 0 ? html`<span class="sep">, </span>` : nothing;
    const text = this.idMode ? String(token.id) : token.text;
    return html`${sep}<span class="token" data-id=${token.id} title=${`token ${token.id}`}>${text}</span>`;
  }

  override render() {
    // The box is white-space: pre-wrap, so the template below deliberately has no whitespace between
    // tags inside it: any would show up as stray spaces and newlines around the text.
    const empty = !this.promptText && this.tokens.length === 0;
    const arrow = this.idMode && this.tokens.length ? html`<span class="sep"> → </span>` : nothing;
    const body = empty
      ? html`<span class="placeholder">Generated text appears here.</span>`
      : html`<span class="prompt">${this.promptText}</span>${arrow}${repeat(
          this.tokens,
          (_token, i) => i,
          (token, i) => this.renderToken(token, i),
        )}`;
    const cursor = this.streaming ? html`<span class="cursor" aria-hidden="true"></span>` : nothing;
    return html`<div
      class="text"
      role="log"
      aria-label="Generated text"
      aria-busy=${this.streaming ? 'true' : 'false'}
    >${body}${cursor}</div>`;
  }

  override updated(): void {
    // Keep the newest tokens in view while streaming.
    if (this.streaming) {
      const box = this.renderRoot.querySelector('.text');
      if (box) box.scrollTop = box.scrollHeight;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-model-output': ModelOutput;
  }
}
