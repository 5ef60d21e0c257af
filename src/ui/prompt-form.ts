// <sg-prompt-form>: the prompt box ("Prompt"), "Generate", "Stop" and the "Record" toggle, and the settings
// (max tokens, greedy or temperature/top-k, the three firing thresholds, probes on/off, live grid on/off).
// It only collects input: the settings are the shell's (a property in, sg-settings out on every change);
// Generate / Enter sends sg-generate, Stop sg-stop, Record sg-record. The first prompt and the example
// prompts follow the models' domain (Python for the embedded pair, English for GPT-2).

import { html, LitElement, css, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { PropertyValues } from 'lit';
import { PROMPTS, type TextDomain } from '../model/passage';
import { thresholdProblem, type Thresholds } from '../shared/probes';
import { GenerateRequestEvent, RecordToggleEvent, SettingsChangeEvent, StopRequestEvent, type DemoSettings } from './events';
import { theme } from './theme';

@customElement('sg-prompt-form')
export class PromptForm extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
      }
      .examples {
        display: flex;
        flex-wrap: wrap;
        gap: 0.3rem;
        align-items: center;
        margin: 0.3rem 0;
        font-size: 0.85em;
      }
      .example {
        font-family: ui-monospace, monospace;
        padding: 0.1rem 0.4rem;
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
      .record .dot {
        display: inline-block;
        width: 0.62em;
        height: 0.62em;
        margin-right: 0.45em;
        border-radius: 50%;
        background: var(--sg-faint);
        vertical-align: 0.02em;
      }
      .record[aria-pressed='true'] {
        border-color: var(--sg-error);
        color: var(--sg-error);
      }
      .record[aria-pressed='true'] .dot {
        background: var(--sg-error);
      }
    `,
  ];

  /** A model is loaded and can take a prompt. Generate is disabled until then. */
  @property({ type: Boolean }) ready = false;
  /** A generation is running: Stop is enabled (Generate stays enabled: a new one stops the running one first). */
  @property({ type: Boolean }) running = false;
  /** Record is on: the next generations are saved as recordings. */
  @property({ type: Boolean }) recording = false;
  /** The model has no tokenizer.json: the prompt is comma-separated token ids. */
  @property({ type: Boolean, attribute: 'id-mode' }) idMode = false;
  /** Why the last prompt was refused, shown under the box (and tied to it for screen readers). */
  @property() error: string | null = null;
  /** What the models were trained on: picks the first prompt and the examples. */
  @property({ attribute: false }) domain: TextDomain = 'code';
  /** Initial prompt text. */
  @property() prompt = PROMPTS.code.initial;

  override willUpdate(changed: PropertyValues<this>): void {
    // A switch of models replaces the prompt only while it is still the other domain's untouched first prompt.
    const was = changed.get('domain') as TextDomain | undefined;
    if (was !== undefined && was !== this.domain && this.prompt === PROMPTS[was].initial) this.prompt = PROMPTS[this.domain].initial;
  }
  /** The current settings (the shell's); every edit is sent back as sg-settings. */
  @property({ attribute: false }) settings!: DemoSettings;

  private submit(e?: Event): void {
    e?.preventDefault();
    if (!this.ready) return;
    this.dispatchEvent(new GenerateRequestEvent({ prompt: this.prompt, settings: this.settings }));
  }

  private onKeyDown(e: KeyboardEvent): void {
    // Enter generates; Shift+Enter is a new line; Enter that confirms an IME composition is left alone.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) this.submit(e);
  }

  private change(patch: Partial<DemoSettings>): void {
    // Taken here at once as well: a click on Generate that blurs an edited field (its change event) must
    // submit the edited value, before the shell's copy comes back down.
    this.settings = { ...this.settings, ...patch };
    this.dispatchEvent(new SettingsChangeEvent(this.settings));
  }

  /** Reads a number input, keeping the previous value when the field is empty or out of range. */
  private numberFrom(e: Event, previous: number): number {
    const input = e.target as HTMLInputElement;
    const value = input.valueAsNumber;
    return input.checkValidity() && Number.isFinite(value) ? value : previous;
  }

  /** A threshold edit: taken when it is a valid threshold, otherwise the field goes back to the current value. */
  private threshold(e: Event, field: keyof Thresholds): void {
    const input = e.target as HTMLInputElement;
    const next = { ...this.settings.thresholds, [field]: input.valueAsNumber };
    if (thresholdProblem(next) === null) this.change({ thresholds: next });
    else input.value = String(this.settings.thresholds[field]);
  }

  private renderThreshold(field: keyof Thresholds, label: string, max: number, help: string) {
    return html`<label title=${help}
      >${label}
      <input
        type="number"
        min="0"
        max=${max}
        step="any"
        .value=${String(this.settings.thresholds[field])}
        @change=${(e: Event) => this.threshold(e, field)}
    /></label>`;
  }

  override render() {
    const s = this.settings;
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
        ${this.idMode
          ? nothing
          : html`<div class="examples" role="group" aria-label="Example prompts">
              <span class="muted">Examples:</span>
              ${PROMPTS[this.domain].examples.map(
                (ex) => html`<button type="button" class="example" title=${ex} @click=${() => (this.prompt = ex)}>${ex.split('\n')[0]}</button>`,
              )}
            </div>`}
        <div class="row">
          <button class="primary" type="submit" ?disabled=${!this.ready}>Generate</button>
          <button type="button" ?disabled=${!this.running} @click=${() => this.dispatchEvent(new StopRequestEvent())}>
            Stop
          </button>
          <button
            type="button"
            class="record"
            aria-pressed=${this.recording ? 'true' : 'false'}
            title="While on, each Generate is saved as one recording per model (needs probes)"
            @click=${() => this.dispatchEvent(new RecordToggleEvent(!this.recording))}
          >
            <span class="dot" aria-hidden="true"></span>Record
          </button>
          <div class="row settings">
            <label
              >Max tokens
              <input
                type="number"
                min="1"
                max="1024"
                step="1"
                .value=${String(s.maxTokens)}
                @change=${(e: Event) => this.change({ maxTokens: this.numberFrom(e, s.maxTokens) })}
            /></label>
            <label
              ><input
                type="checkbox"
                .checked=${s.greedy}
                @change=${(e: Event) => this.change({ greedy: (e.target as HTMLInputElement).checked })}
              />Greedy</label
            >
            <label
              >Temperature
              <input
                type="number"
                min="0.05"
                max="5"
                step="0.05"
                ?disabled=${s.greedy}
                .value=${String(s.temperature)}
                @change=${(e: Event) => this.change({ temperature: this.numberFrom(e, s.temperature) })}
            /></label>
            <label
              >Top-k
              <input
                type="number"
                min="1"
                max="64"
                step="1"
                ?disabled=${s.greedy}
                .value=${String(s.topK)}
                @change=${(e: Event) => this.change({ topK: this.numberFrom(e, s.topK) })}
            /></label>
          </div>
        </div>
        <div class="row settings">
          ${this.renderThreshold('head', 'τ head', 1000, 'A head fires when ‖z_h·W_O^h‖ / ‖x_l‖ ≥ τ head (applies at once)')}
          ${this.renderThreshold('neuron', 'τ neuron', 1000, 'An MLP neuron fires when its post-GELU activation ≥ τ neuron (applies from the next Generate)')}
          ${this.renderThreshold('edge', 'τ edge', 1, 'An edge joins two firing heads when their composition strength ≥ τ edge (applies at once)')}
          <label
            ><input
              type="checkbox"
              .checked=${s.probes}
              @change=${(e: Event) => this.change({ probes: (e.target as HTMLInputElement).checked })}
            />Probes</label
          >
          <label
            ><input
              type="checkbox"
              .checked=${s.gridLive}
              @change=${(e: Event) => this.change({ gridLive: (e.target as HTMLInputElement).checked })}
            />Live grid</label
          >
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
