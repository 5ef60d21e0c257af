// <sg-prompt-form>: the prompt box ("Prompt"), "Generate" and "Stop", and the generation settings.
// It only collects input: Generate / Enter sends sg-generate with the settings, Stop sends sg-stop.

import { html, LitElement, css, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { GenerateRequestEvent, StopRequestEvent } from './events';
import { theme } from './theme';

@customElement('sg-prompt-form')
export class PromptForm extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
      }
      form {
        display: grid;
        gap: 0.6rem;
      }
      label.prompt {
        font-weight: 600;
      }
      textarea {
        font: inherit;
        width: 100%;
        min-height: 4.5em;
        resize: vertical;
        padding: 0.6em 0.7em;
        border: 1px solid var(--sg-border);
        border-radius: var(--sg-radius);
        background: var(--sg-surface);
        color: var(--sg-fg);
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.6rem 1.2rem;
      }
      .settings label {
        display: inline-flex;
        align-items: center;
        gap: 0.4em;
        color: var(--sg-muted);
        font-size: 0.92em;
      }
      .settings input[type='number'] {
        font: inherit;
        width: 5.5em;
        padding: 0.2em 0.4em;
        border: 1px solid var(--sg-border);
        border-radius: 6px;
      }
      .hint {
        font-size: 0.88em;
      }
      .error {
        margin: 0;
      }
    `,
  ];

  /** A model is loaded and can take a prompt. Generate is disabled until then. */
  @property({ type: Boolean }) ready = false;
  /** A generation is running: Stop is enabled, Generate waits. */
  @property({ type: Boolean }) running = false;
  /** The model has no tokenizer.json: the prompt is comma-separated token ids. */
  @property({ type: Boolean, attribute: 'id-mode' }) idMode = false;
  /** Why the last prompt was refused, shown under the box (and tied to it for screen readers). */
  @property() error: string | null = null;
  /** Initial prompt text. */
  @property() prompt = 'The meaning of life is';
  /** Initial number of tokens to generate. */
  @property({ type: Number, attribute: 'max-tokens' }) maxTokens = 32;

  @state() private greedy = true;
  @state() private temperature = 0.8;
  @state() private topK = 40;

  private submit(e?: Event): void {
    e?.preventDefault();
    if (!this.ready || this.running) return;
    this.dispatchEvent(
      new GenerateRequestEvent({
        prompt: this.prompt,
        maxTokens: this.maxTokens,
        greedy: this.greedy,
        temperature: this.temperature,
        topK: this.topK,
      }),
    );
  }

  private onKeyDown(e: KeyboardEvent): void {
    // Enter generates; Shift+Enter is a new line; Enter that confirms an IME composition is left alone.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) this.submit(e);
  }

  /** Reads a number input, keeping the previous value when the field is empty or out of range. */
  private numberFrom(e: Event, previous: number): number {
    const input = e.target as HTMLInputElement;
    const value = input.valueAsNumber;
    return input.checkValidity() && Number.isFinite(value) ? value : previous;
  }

  override render() {
    const describedBy = [this.idMode ? 'id-hint' : '', this.error ? 'prompt-error' : ''].filter(Boolean).join(' ');
    return html`
      <form @submit=${this.submit}>
        <label class="prompt" for="prompt">Prompt</label>
        <textarea
          id="prompt"
          .value=${this.prompt}
          placeholder=${this.idMode ? 'Token ids, e.g. 464, 2068, 7586' : 'Type a prompt'}
          aria-describedby=${describedBy || nothing}
          aria-invalid=${this.error ? 'true' : 'false'}
          spellcheck="false"
          @input=${(e: Event) => (this.prompt = (e.target as HTMLTextAreaElement).value)}
          @keydown=${this.onKeyDown}
        ></textarea>
        ${this.idMode
          ? html`<div id="id-hint" class="hint muted">
              This model has no <code>tokenizer.json</code>: enter comma-separated token ids; the output shows ids.
            </div>`
          : nothing}
        ${this.error ? html`<div id="prompt-error" class="error" role="alert">${this.error}</div>` : nothing}
        <div class="row">
          <button class="primary" type="submit" ?disabled=${!this.ready || this.running}>Generate</button>
          <button type="button" ?disabled=${!this.running} @click=${() => this.dispatchEvent(new StopRequestEvent())}>
            Stop
          </button>
          <div class="row settings">
            <label
              >Max tokens
              <input
                type="number"
                min="1"
                max="1024"
                step="1"
                .value=${String(this.maxTokens)}
                @change=${(e: Event) => (this.maxTokens = this.numberFrom(e, this.maxTokens))}
            /></label>
            <label
              ><input
                type="checkbox"
                .checked=${this.greedy}
                @change=${(e: Event) => (this.greedy = (e.target as HTMLInputElement).checked)}
              />Greedy</label
            >
            <label
              >Temperature
              <input
                type="number"
                min="0.05"
                max="5"
                step="0.05"
                ?disabled=${this.greedy}
                .value=${String(this.temperature)}
                @change=${(e: Event) => (this.temperature = this.numberFrom(e, this.temperature))}
            /></label>
            <label
              >Top-k
              <input
                type="number"
                min="1"
                max="64"
                step="1"
                ?disabled=${this.greedy}
                .value=${String(this.topK)}
                @change=${(e: Event) => (this.topK = this.numberFrom(e, this.topK))}
            /></label>
          </div>
        </div>
      </form>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-prompt-form': PromptForm;
  }
}
