// <sg-recording-list>: the saved recordings (IndexedDB): name, date, model and token count, with Open
// (replay in the grids), Rename, Delete and Export (download) on each, Import (file picker) for the list,
// and Compare: two recordings picked as A and B for the difference view. Display only: every action is an event; the shell does the storing and reports back via `message`.

import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { RecordingSummary } from '../probes/store';
import { RecordingActionEvent, RecordingCompareEvent, RecordingImportEvent, RecordingRenameEvent } from './events';
import { theme } from './theme';

/** A status line under the list: what just happened, or what went wrong. */
export interface ListMessage {
  kind: 'info' | 'error';
  text: string;
}

@customElement('sg-recording-list')
export class RecordingList extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
      }
      .head {
        display: flex;
        flex-wrap: wrap;
        align-items: baseline;
        gap: 0.4rem 1rem;
        margin-bottom: 0.5rem;
      }
      h2 {
        margin: 0;
        font-size: 1.05rem;
      }
      .head .grow {
        flex: 1;
      }
      table {
        width: 100%;
        border-collapse: collapse;
        font-size: 0.9em;
      }
      th,
      td {
        text-align: left;
        padding: 0.35em 0.5em;
        border-bottom: 1px solid var(--sg-border);
        vertical-align: middle;
      }
      th {
        font-weight: 600;
        color: var(--sg-muted);
        font-size: 0.9em;
      }
      td.num {
        font-variant-numeric: tabular-nums;
      }
      td.actions {
        white-space: nowrap;
      }
      td.actions button {
        font-size: 0.85em;
        padding: 0.2em 0.6em;
      }
      tr[aria-current='true'] {
        background: #eef3fb;
      }
      input[type='text'] {
        font: inherit;
        width: 100%;
        min-width: 12em;
        padding: 0.15em 0.35em;
      }
      .empty {
        font-size: 0.9em;
      }
      .message {
        margin: 0.5rem 0 0;
        font-size: 0.9em;
      }
      form.compare {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem 0.8rem;
        align-items: center;
        margin-top: 0.6rem;
        font-size: 0.9em;
      }
      form.compare select {
        max-width: 22em;
      }
    `,
  ];

  /** Saved recordings, newest first. */
  @property({ attribute: false }) recordings: RecordingSummary[] = [];
  /** The recording open in the grids, if any. */
  @property({ attribute: false }) openId: number | null = null;
  /** The store could not be opened: why (the list is then unavailable, the rest of the page works). */
  @property({ attribute: false }) unavailable: string | null = null;
  /** The outcome of the last action (an import rejected, a recording saved…). */
  @property({ attribute: false }) message: ListMessage | null = null;

  /** The recording whose name is being edited. */
  @state() private editing: number | null = null;

  private pickFile(): void {
    this.renderRoot.querySelector<HTMLInputElement>('input[type=file]')!.click();
  }

  private onFile(e: Event): void {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = ''; // picking the same file again still fires change
    if (file) this.dispatchEvent(new RecordingImportEvent(file));
  }

  private commitRename(id: number, input: HTMLInputElement, current: string): void {
    const name = input.value.trim();
    this.editing = null;
    if (name && name !== current) this.dispatchEvent(new RecordingRenameEvent(id, name));
  }

  private renderName(r: RecordingSummary) {
    if (this.editing !== r.id) return html`<span data-testid="recording-name">${r.name}</span>`;
    return html`<input
      type="text"
      aria-label="New name"
      maxlength="200"
      .value=${r.name}
      @keydown=${(e: KeyboardEvent) => {
        if (e.key === 'Enter') this.commitRename(r.id, e.target as HTMLInputElement, r.name);
        if (e.key === 'Escape') this.editing = null;
      }}
      @blur=${(e: FocusEvent) => {
        if (this.editing === r.id) this.commitRename(r.id, e.target as HTMLInputElement, r.name);
      }}
    />`;
  }

  override updated(changed: PropertyValues): void {
    // Rename puts the caret in the name field at once.
    if (changed.has('editing') && this.editing !== null) this.renderRoot.querySelector<HTMLInputElement>('input[type=text]')?.focus();
  }

  private renderRow(r: RecordingSummary) {
    const act = (action: RecordingActionEvent['action']) => () => this.dispatchEvent(new RecordingActionEvent(action, r.id));
    const date = new Date(r.createdAt);
    return html`<tr aria-current=${this.openId === r.id ? 'true' : 'false'} data-recording-id=${r.id}>
      <td>${this.renderName(r)}</td>
      <td><time datetime=${r.createdAt}>${date.toLocaleString()}</time></td>
      <td><code>${r.modelId}</code></td>
      <td class="num">${r.promptTokens} + ${r.generatedTokens}</td>
      <td class="actions">
        <button type="button" @click=${act('open')}>Open</button>
        <button type="button" @click=${() => (this.editing = r.id)}>Rename</button>
        <button type="button" @click=${act('export')}>Export</button>
        <button type="button" @click=${act('delete')}>Delete</button>
      </td>
    </tr>`;
  }

  private onCompare(e: Event): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const a = Number((form.elements.namedItem('a') as HTMLSelectElement).value);
    const b = Number((form.elements.namedItem('b') as HTMLSelectElement).value);
    this.dispatchEvent(new RecordingCompareEvent([a, b]));
  }

  /** A and B default to the two newest recordings (typically one Generate's two models). */
  private renderCompare() {
    const rs = this.recordings;
    if (rs.length < 2) return nothing;
    const select = (name: string, label: string, chosen: number) => html`<label
      >${label}
      <select name=${name}>
        ${rs.map((r) => html`<option value=${r.id} ?selected=${r.id === chosen}>${r.name}</option>`)}
      </select></label
    >`;
    return html`<form class="compare" @submit=${this.onCompare}>
      ${select('a', 'Recording A', rs[0]!.id)} ${select('b', 'Recording B', rs[1]!.id)}
      <button type="submit">Compare</button>
    </form>`;
  }

  override render() {
    return html`<section aria-labelledby="h">
      <div class="head">
        <h2 id="h">Recordings</h2>
        <span class="grow muted">Saved in this browser. Turn on <em>Record</em>, then Generate: one recording per model.</span>
        <button type="button" ?disabled=${this.unavailable !== null} @click=${this.pickFile}>Import</button>
        <input type="file" accept=".json,application/json" hidden @change=${this.onFile} />
      </div>
      ${this.unavailable !== null
        ? html`<p class="error" role="alert">Recordings are unavailable: ${this.unavailable}</p>`
        : this.recordings.length === 0
          ? html`<p class="empty muted">No recordings yet.</p>`
          : html`<table aria-label="Saved recordings">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Date</th>
                  <th scope="col">Model</th>
                  <th scope="col">Tokens</th>
                  <th scope="col"><span class="muted">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${repeat(this.recordings, (r) => r.id, (r) => this.renderRow(r))}
              </tbody>
            </table>`}
      ${this.unavailable === null ? this.renderCompare() : nothing}
      ${this.message
        ? html`<p class="message ${this.message.kind === 'error' ? 'error' : 'muted'}" role=${this.message.kind === 'error' ? 'alert' : 'status'}>${this.message.text}</p>`
        : nothing}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-recording-list': RecordingList;
  }
}
