// <sg-demo-app>: the page shell. Acquires WebGPU (or shows why it cannot), lets the user pick the models (the
// embedded pair, or GPT-2 124M from the Hugging Face Hub with its block-sparse copy made in the page, through
// the HubController), loads the two models into their panels ("Sparse GPT-2" left, "GPT-2 (baseline)" right)
// through one ModelSlot each, runs a Generate on both
// through the PairRunner (one after the other on the GPU), keeps the settings, records generations into the
// IndexedDB store and replays them, and handles device loss. It owns all async work; the elements it renders
// only display what it passes them and send events back.

import { Task, TaskStatus } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { DEFAULT_THRESHOLDS } from '../shared/probes';
import { boundedMessage } from '../shared/preview';
import { RecordingStore, type RecordingSummary } from '../probes/store';
import { openGpu, type PageGpu } from '../app/engineClient';
import { DEFAULT_HUB } from '../model/hub';
import type { TextDomain } from '../model/passage';
import { HUB_GPT2, HubController } from './hub-controller';
import type {
  HubActionEvent,
  ModelChoice,
  ModelChoiceEvent,
  PruneSettingsEvent,
  DemoSettings,
  GenerateRequest,
  GenerateRequestEvent,
  GridPngRequestEvent,
  AblationChangeEvent,
  RecordingActionEvent,
  RecordingCompareEvent,
  RecordingImportEvent,
  RecordingRenameEvent,
  RecordToggleEvent,
  SettingsChangeEvent,
} from './events';
import { ModelSlot } from './model-slot';
import type { PanelStatus } from './model-panel';
import { PairRunner, RUN_ORDER, type PairOutcome, type Side } from './pair-runner';
import { buildRecording, recordingName } from '../app/recorder';
import type { ListMessage } from './recording-list';
import { theme } from './theme';
import './device-lost';
import './model-picker';
import './model-panel';
import './no-webgpu';
import './prompt-form';
import './recording-list';
import './recording-compare';
import { compareRecordings, type RecordingComparison } from '../probes/compare';
import './speedup-meter';

const panelStatusOf: Record<TaskStatus, PanelStatus> = {
  [TaskStatus.INITIAL]: 'waiting',
  [TaskStatus.PENDING]: 'loading',
  [TaskStatus.COMPLETE]: 'ready',
  [TaskStatus.ERROR]: 'error',
};

/** The panels' titles, as in the seed picture. */
export const PANEL_TITLES: Record<Side, string> = { sparse: 'Sparse GPT-2', dense: 'GPT-2 (baseline)' };

export const DEFAULT_SETTINGS: DemoSettings = {
  maxTokens: 32,
  greedy: true,
  temperature: 0.8,
  topK: 40,
  thresholds: { ...DEFAULT_THRESHOLDS },
  probes: true,
  gridLive: true,
};

/** What the page shows of an error (error boxes, the recordings list): its message, bounded in length. */
function messageOf(e: unknown): string {
  return boundedMessage(e);
}

/** Offers a file to the user as a download. */
function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own reference by now; revoke on the next turn.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

function fileSlug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'recording';
}

@customElement('sg-demo-app')
export class DemoApp extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
        min-height: 100vh;
        background: var(--sg-bg);
        padding: 1.2rem clamp(0.6rem, 2vw, 1.6rem) 2rem;
      }
      header,
      main {
        max-width: 110rem;
        margin: 0 auto;
      }
      header {
        margin-bottom: 1rem;
      }
      h1 {
        margin: 0;
        font-size: 1.45rem;
        font-weight: 700;
        letter-spacing: -0.01em;
      }
      header p {
        margin: 0.25rem 0 0;
      }
      main {
        display: grid;
        gap: 1rem;
      }
      sg-prompt-form,
      sg-model-picker,
      sg-recording-list {
        background: var(--sg-surface);
        border: 1px solid var(--sg-border);
        border-radius: 12px;
        padding: 1rem 1.1rem;
      }
      .pair {
        display: grid;
        grid-template-columns: minmax(0, 1fr) 10.5rem minmax(0, 1fr);
        gap: 0.8rem;
        align-items: start;
      }
      sg-speedup-meter {
        position: sticky;
        top: 1rem;
        background: var(--sg-surface);
        border: 1px solid var(--sg-border);
        border-radius: 12px;
        padding: 0.8rem 0.6rem;
      }
      @media (max-width: 900px) {
        .pair {
          grid-template-columns: minmax(0, 1fr);
        }
        sg-speedup-meter {
          position: static;
          order: 3;
        }
        .dense {
          order: 2;
        }
      }
      .starting {
        padding: 1rem 0;
      }
    `,
  ];

  /** Base URL of the sparse model's folder (config.json, model.safetensors, optional tokenizer.json). */
  @property({ attribute: 'sparse-url' }) sparseUrl = '/weights/sparse/';
  /** Base URL of the dense baseline's folder. */
  @property({ attribute: 'dense-url' }) denseUrl = '/weights/dense/';
  /** Which models to run: the embedded pair (the two URLs above) or GPT-2 124M from the Hub and its pruned copy. */
  @property() model: ModelChoice = 'embedded';

  /** What the chosen models read and write: the embedded pair was trained on Python only, GPT-2 on English web text. */
  private get domain(): TextDomain {
    return this.model === 'hub' ? 'english' : 'code';
  }
  /** The Hub's address (?hub=): https://huggingface.co, or a mirror laid out like it. */
  @property({ attribute: 'hub-endpoint' }) hubEndpoint = DEFAULT_HUB;

  /** The GPU in use; null before it is acquired, after it is lost, and while reloading. */
  @state() private gpu: PageGpu | null = null;
  /** Set when the device was lost, until the user reloads. */
  @state() private lostReason: string | null = null;
  /** Bumped by "Reload models" to acquire a fresh device. */
  @state() private gpuEpoch = 0;
  @state() private settings: DemoSettings = DEFAULT_SETTINGS;
  @state() private recordOn = false;
  @state() private recordings: RecordingSummary[] = [];
  @state() private listMessage: ListMessage | null = null;
  @state() private openRecording: number | null = null;
  /** The two recordings being compared, and what the comparison found. */
  @state() private comparison: { result: RecordingComparison; nameA: string; nameB: string } | null = null;

  /** Generate requests made while Record was on. */
  private readonly recordRequests = new WeakSet<GenerateRequest>();

  private readonly gpuTask = new Task(this, {
    args: () => [this.gpuEpoch] as [number],
    task: async () => {
      const result = await openGpu();
      if (result.ok) {
        const gpu = result.gpu;
        gpu.onLost((reason) => this.onDeviceLost(gpu, reason));
        // onLost may already have fired (a device lost during startup); only adopt a live one.
        if (this.lostReason === null) this.gpu = gpu;
        // ?model=gpt2-hf: fetch the Hub model (from the cache when stored) once there is a GPU to run it on.
        if (this.model === 'hub' && this.hub.download.phase === 'idle') void this.hub.start();
      }
      return result;
    },
  });

  /** GPT-2 124M from the Hub: download, cache, and its block-sparse copy made in a worker. */
  private readonly hub = new HubController(this, HUB_GPT2, () => this.hubEndpoint);

  private readonly slots: Record<Side, ModelSlot> = {
    sparse: new ModelSlot(this, PANEL_TITLES.sparse, () => this.gpu, () => (this.model === 'hub' ? this.hub.sparse : this.sparseUrl), DEFAULT_SETTINGS.thresholds, () => this.domain),
    dense: new ModelSlot(this, PANEL_TITLES.dense, () => this.gpu, () => (this.model === 'hub' ? this.hub.dense : this.denseUrl), DEFAULT_SETTINGS.thresholds, () => this.domain),
  };

  /** The picker changed: stop any run, switch the models, and keep the choice in the address (a reload keeps it). */
  private onModelChoice(e: ModelChoiceEvent): void {
    if (e.choice === this.model) return;
    void this.runner.stop();
    this.model = e.choice;
    const url = new URL(location.href);
    if (e.choice === 'hub') url.searchParams.set('model', 'gpt2-hf');
    else url.searchParams.delete('model');
    history.replaceState(history.state, '', url);
    if (e.choice === 'hub') void this.hub.start();
    else this.hub.stop();
  }

  private onHubAction(e: HubActionEvent): void {
    switch (e.action) {
      case 'retry-download':
        void this.hub.start();
        return;
      case 'cancel-download':
        this.hub.cancelDownload();
        return;
      case 'clear-cache':
        void this.hub.clearCache();
        return;
      case 'prune':
        void this.runner.stop();
        void this.hub.runPrune(this.hub.prune.settings);
        return;
      case 'cancel-prune':
        this.hub.cancelPrune();
        return;
    }
  }

  private onPruneSettings(e: PruneSettingsEvent): void {
    void this.runner.stop();
    this.hub.setPruneSettings(e.settings);
  }

  /** What a panel says while it has nothing to load (Hub mode, before the download or the pruning). */
  private waitingText(side: Side): string | null {
    if (this.model !== 'hub' || this.gpu === null) return null;
    if (side === 'dense') return this.hub.dense ? null : `Waiting for ${HUB_GPT2.repo} (see the download above)…`;
    if (this.hub.sparse) return null;
    return this.hub.dense ? 'Press Prune above to make the block-sparse model from the downloaded GPT-2.' : 'Made from the downloaded GPT-2 once it is loaded.';
  }

  private panelUrl(side: Side): string {
    if (this.model !== 'hub') return side === 'sparse' ? this.sparseUrl : this.denseUrl;
    const src = side === 'sparse' ? this.hub.sparse : this.hub.dense;
    return src?.location ?? `hf:${HUB_GPT2.repo}`;
  }

  private readonly runner = new PairRunner(this, this.slots, (outcome) => this.saveRecordings(outcome));

  /** The recordings store; opened once. A failure leaves the list unavailable and the rest of the page working. */
  private readonly storeTask = new Task(this, {
    args: () => [] as [],
    task: async () => {
      const store = await RecordingStore.open();
      this.recordings = await store.list();
      return store;
    },
  });

  private onDeviceLost(gpu: PageGpu, reason: string): void {
    if (gpu !== this.gpu) return; // an old device from before a reload
    this.lostReason = reason;
    void this.runner.stop();
    this.gpu = null; // the slots' load tasks re-run with no GPU: they drop the models
  }

  private onReload(): void {
    this.lostReason = null;
    this.gpu = null;
    this.gpuEpoch++;
  }

  private onGenerate(e: GenerateRequestEvent): void {
    if (this.recordOn) this.recordRequests.add(e.request);
    for (const side of RUN_ORDER) this.slots[side].closeReplay();
    this.openRecording = null;
    void this.runner.generate(e.request);
  }

  private onSettings(e: SettingsChangeEvent): void {
    this.settings = e.settings;
    for (const side of RUN_ORDER) this.slots[side].setThresholds(e.settings.thresholds);
  }

  private onRecord(e: RecordToggleEvent): void {
    this.recordOn = e.on;
  }

  private store(): RecordingStore | null {
    return this.storeTask.status === TaskStatus.COMPLETE ? this.storeTask.value! : null;
  }

  private async refreshList(): Promise<void> {
    const store = this.store();
    if (store) this.recordings = await store.list();
  }

  /** After a Generate made with Record on: one recording per model that returned probes for every token. */
  private async saveRecordings(outcome: PairOutcome): Promise<void> {
    if (!this.recordRequests.has(outcome.request)) return;
    const store = this.store();
    if (!store) {
      this.listMessage = { kind: 'error', text: 'Not recorded: the recordings store is unavailable.' };
      return;
    }
    const saved: string[] = [];
    const problems: string[] = [];
    for (const { side, promptIds, outcome: run } of outcome.runs) {
      const slot = this.slots[side];
      const model = slot.loaded;
      if (!model || !run.summary) continue;
      if (!run.recorded) {
        problems.push(slot.ablated.length > 0
          ? `${slot.title} ran with heads ablated (a recording does not store an ablation)`
          : `${slot.title} returned no probes${outcome.request.settings.probes ? '' : ' (Probes is off)'}`);
        continue;
      }
      if (run.recorded.length === 0) continue;
      try {
        const c = model.info.config;
        const s = outcome.request.settings;
        const rec = buildRecording({
          name: recordingName(slot.title, outcome.request.prompt),
          createdAt: new Date(),
          model: { id: model.info.name, sha256: await model.sha256(), nLayer: c.nLayer, nHead: c.nHead, nEmbd: c.nEmbd, nCtx: c.nCtx, vocabSize: c.vocabSize },
          thresholds: run.thresholds,
          sampling: s.greedy ? { greedy: true } : { greedy: false, temperature: s.temperature, topK: s.topK, seed: outcome.seed },
          maxTokens: s.maxTokens,
          prompt: outcome.request.prompt,
          promptIds,
          candidates: run.candidates,
          tokens: run.recorded,
        });
        const summary = await store.put(rec);
        saved.push(`“${summary.name}”`);
      } catch (e) {
        problems.push(`${slot.title}: ${messageOf(e)}`);
      }
    }
    await this.refreshList();
    const text = [saved.length ? `Saved ${saved.join(' and ')}.` : '', problems.length ? `Not recorded: ${problems.join('; ')}.` : '']
      .filter(Boolean)
      .join(' ');
    if (text) this.listMessage = { kind: problems.length ? 'error' : 'info', text };
  }

  private async onRecordingAction(e: RecordingActionEvent): Promise<void> {
    const store = this.store();
    if (!store) return;
    try {
      switch (e.action) {
        case 'open':
          await this.openInPanel(store, e.id);
          return;
        case 'delete': {
          const summary = await store.summary(e.id);
          await store.delete(e.id);
          if (this.openRecording === e.id) this.closeReplays();
          await this.refreshList();
          this.listMessage = { kind: 'info', text: `Deleted “${summary?.name ?? e.id}”.` };
          return;
        }
        case 'export': {
          const summary = await store.summary(e.id);
          const bytes = await store.export(e.id);
          download(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/json' }), `${fileSlug(summary?.name ?? 'recording')}.recording.json`);
          return;
        }
      }
    } catch (err) {
      this.listMessage = { kind: 'error', text: messageOf(err) };
    }
  }

  /** Compare: both recordings read from the store, compared head for head; a refusal goes to the list's message. */
  private async onCompare(e: RecordingCompareEvent): Promise<void> {
    if (e.ids === null) {
      this.comparison = null;
      return;
    }
    const store = this.store();
    if (!store) return;
    try {
      const [a, b] = await Promise.all(e.ids.map((id) => store.get(id)));
      if (!a || !b) throw new Error('One of the two recordings is no longer stored.');
      this.comparison = { result: compareRecordings(a, b), nameA: a.name, nameB: b.name };
      this.listMessage = null;
    } catch (err) {
      this.comparison = null;
      this.listMessage = { kind: 'error', text: `Cannot compare: ${messageOf(err)}` };
    }
  }

  /**
   * Replays a recording in the panel whose model made it (same model.safetensors hash), else in one of the
   * same shape (saying so); a recording neither panel can show is refused with a message.
   */
  private async openInPanel(store: RecordingStore, id: number): Promise<void> {
    const rec = await store.get(id);
    if (!rec) throw new Error(`Recording ${id} is no longer stored.`);
    const m = rec.model;
    // A panel still loading (just after a page load) is waited for, not passed over.
    await Promise.allSettled(RUN_ORDER.map((side) => this.slots[side].load.taskComplete));
    let target: Side | null = null;
    let note: string | null = null;
    for (const side of RUN_ORDER) {
      const model = this.slots[side].loaded;
      if (model && (await model.sha256().catch(() => null)) === m.sha256) {
        target = side;
        break;
      }
    }
    if (target === null) {
      target = RUN_ORDER.find((side) => {
        const s = this.slots[side].shape;
        return s !== null && s.nLayer === m.nLayer && s.nHead === m.nHead && s.nEmbd === m.nEmbd;
      }) ?? null;
      note = `recorded with ${m.id}, a model of the same shape but other weights`;
    }
    if (target === null) {
      throw new Error(`“${rec.name}” was recorded with ${m.id} (${m.nLayer} layers × ${m.nHead} heads × ${m.nEmbd} wide); neither loaded model has that shape.`);
    }
    this.closeReplays();
    this.slots[target].showReplay({ id, name: rec.name, createdAt: rec.createdAt, note }, rec);
    this.openRecording = id;
    this.listMessage = { kind: 'info', text: `Replaying “${rec.name}” in ${PANEL_TITLES[target]}.` };
  }

  private closeReplays(): void {
    for (const side of RUN_ORDER) this.slots[side].closeReplay();
    this.openRecording = null;
  }

  private async onRename(e: RecordingRenameEvent): Promise<void> {
    const store = this.store();
    if (!store) return;
    try {
      await store.rename(e.id, e.name);
      await this.refreshList();
      this.listMessage = { kind: 'info', text: `Renamed to “${e.name}”.` };
    } catch (err) {
      this.listMessage = { kind: 'error', text: messageOf(err) };
    }
  }

  /** Imports a recording file; an invalid one is rejected with the validator's message and nothing stored changes. */
  private async onImport(e: RecordingImportEvent): Promise<void> {
    const store = this.store();
    if (!store) return;
    try {
      const bytes = new Uint8Array(await e.file.arrayBuffer());
      const summary = await store.import(bytes);
      await this.refreshList();
      this.listMessage = { kind: 'info', text: `Imported “${summary.name}” from ${e.file.name}.` };
    } catch (err) {
      this.listMessage = { kind: 'error', text: `Rejected ${e.file.name}: ${messageOf(err)}` };
    }
  }

  private onGridPng(e: GridPngRequestEvent): void {
    download(e.blob, e.fileName);
  }

  private panelStatus(side: Side): PanelStatus {
    return this.lostReason !== null ? 'waiting' : panelStatusOf[this.slots[side].load.status];
  }

  private renderPanel(side: Side) {
    const slot = this.slots[side];
    const load = slot.load;
    const status = this.panelStatus(side);
    const info = status === 'ready' ? load.value!.info : null;
    const other = RUN_ORDER.find((s) => s !== side)!;
    return html`<sg-model-panel
      class=${side}
      heading=${PANEL_TITLES[side]}
      model-url=${this.panelUrl(side)}
      .waitingText=${this.waitingText(side)}
      .perplexity=${slot.perplexity}
      .status=${status}
      .info=${info}
      .progress=${slot.progress}
      .error=${load.status === TaskStatus.ERROR ? messageOf(load.error) : null}
      .data=${slot.replay?.data ?? slot.live}
      .replay=${slot.replay?.info ?? null}
      .runState=${slot.runState}
      .stopReason=${slot.stopReason}
      .runError=${slot.runError}
      .waitingFor=${PANEL_TITLES[other]}
      .probesAsked=${slot.probesAsked}
      .probesMissing=${slot.probesMissing}
      .edgeState=${slot.edgeState}
      .edgeError=${slot.edgeError}
      ?grid-live=${this.settings.gridLive}
      @sg-grid-png=${this.onGridPng}
      @sg-replay-close=${() => {
        slot.closeReplay();
        this.openRecording = null;
      }}
      .ablated=${slot.ablated}
      .ablation=${slot.ablation}
      .ablationPending=${slot.ablationPending}
      .ablatedInRun=${slot.ablatedInRun}
      @sg-ablation-change=${(e: AblationChangeEvent) => slot.setAblation(e.heads)}
    ></sg-model-panel>`;
  }

  private renderDemo() {
    const ready = RUN_ORDER.filter((side) => this.panelStatus(side) === 'ready');
    // Generate waits until neither model is still loading: a Generate must run on every model that can run,
    // or the speedup would compare a run with nothing. A failed load does not hold the other model back.
    // In Hub mode a panel with nothing to load yet (no Prune made) does not hold the other back either.
    const settled = RUN_ORDER.every((side) => ['ready', 'error'].includes(this.panelStatus(side)) || this.waitingText(side) !== null);
    // Id mode when a loaded model has no tokenizer: its prompt is a list of token ids.
    const idMode = ready.some((side) => !this.slots[side].loaded?.info.hasTokenizer);
    return html`
      ${this.lostReason !== null
        ? html`<sg-device-lost .reason=${this.lostReason} @sg-reload=${this.onReload}></sg-device-lost>`
        : nothing}
      <sg-model-picker
        .choice=${this.model}
        repo=${HUB_GPT2.repo}
        .download=${this.hub.download}
        .prune=${this.hub.prune}
        .cacheMessage=${this.hub.cacheMessage}
        @sg-model-choice=${this.onModelChoice}
        @sg-hub-action=${this.onHubAction}
        @sg-prune-settings=${this.onPruneSettings}
      ></sg-model-picker>
      <sg-prompt-form
        ?ready=${ready.length > 0 && settled}
        ?running=${this.runner.running}
        ?recording=${this.recordOn}
        ?id-mode=${idMode}
        .domain=${this.domain}
        .settings=${this.settings}
        .error=${this.runner.promptError}
        @sg-generate=${this.onGenerate}
        @sg-stop=${() => void this.runner.stop()}
        @sg-settings=${this.onSettings}
        @sg-record=${this.onRecord}
      ></sg-prompt-form>
      <div class="pair">
        ${this.renderPanel('sparse')}
        <sg-speedup-meter
          .speedup=${this.runner.speedup}
          .active=${this.runner.active}
          .order=${RUN_ORDER.map((side) => ({ side, title: PANEL_TITLES[side] }))}
        ></sg-speedup-meter>
        ${this.renderPanel('dense')}
      </div>
      <sg-recording-list
        .recordings=${this.recordings}
        .openId=${this.openRecording}
        .unavailable=${this.storeTask.status === TaskStatus.ERROR ? messageOf(this.storeTask.error) : null}
        .message=${this.listMessage}
        @sg-recording-action=${(e: RecordingActionEvent) => void this.onRecordingAction(e)}
        @sg-recording-rename=${(e: RecordingRenameEvent) => void this.onRename(e)}
        @sg-recording-import=${(e: RecordingImportEvent) => void this.onImport(e)}
        @sg-recording-compare=${(e: RecordingCompareEvent) => void this.onCompare(e)}
      ></sg-recording-list>
      ${this.comparison
        ? html`<sg-recording-compare
            .comparison=${this.comparison.result}
            .nameA=${this.comparison.nameA}
            .nameB=${this.comparison.nameB}
            @sg-recording-compare=${(e: RecordingCompareEvent) => void this.onCompare(e)}
            @sg-grid-png=${this.onGridPng}
          ></sg-recording-compare>`
        : nothing}
    `;
  }

  override render() {
    return html`
      <header>
        <h1>Sparse GPT-2 on WebGPU</h1>
        <p class="muted">
          A block-sparse GPT-2 and its dense baseline, running in this page on WebGPU compute shaders, with what fires
          in each: nothing leaves your machine.
        </p>
      </header>
      <main>
        ${this.gpuTask.render({
          initial: () => html`<p class="starting muted" role="status">Starting…</p>`,
          pending: () => html`<p class="starting muted" role="status">Requesting a WebGPU adapter…</p>`,
          complete: (result) =>
            result.ok
              ? this.renderDemo()
              : html`<sg-no-webgpu
                  reason=${result.diagnosis.reason}
                  message=${result.diagnosis.message}
                  origin=${result.diagnosis.origin}
                  user-agent=${result.diagnosis.userAgent}
                ></sg-no-webgpu>`,
          error: (e) => html`<div class="error" role="alert">Could not start WebGPU: ${messageOf(e)}</div>`,
        })}
      </main>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-demo-app': DemoApp;
  }
}
