// <sg-demo-app>: the page shell. Acquires WebGPU (or shows why it cannot), loads the model through a
// ModelSlot, wires the prompt form's events to generation, and handles device loss. It owns all async
// work; the elements it renders only display what it passes them.

import { Task, TaskStatus } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { openGpu, type PageGpu } from './engineClient';
import type { GenerateRequestEvent } from './events';
import { ModelSlot } from './model-slot';
import type { PanelStatus } from './model-panel';
import { theme } from './theme';
import './device-lost';
import './model-panel';
import './no-webgpu';
import './prompt-form';

const panelStatusOf: Record<TaskStatus, PanelStatus> = {
  [TaskStatus.INITIAL]: 'waiting',
  [TaskStatus.PENDING]: 'loading',
  [TaskStatus.COMPLETE]: 'ready',
  [TaskStatus.ERROR]: 'error',
};

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
        padding: 1.4rem clamp(0.8rem, 3vw, 2.4rem) 2rem;
      }
      header {
        max-width: 72rem;
        margin: 0 auto 1.2rem;
      }
      h1 {
        margin: 0;
        font-size: 1.5rem;
        font-weight: 700;
        letter-spacing: -0.01em;
      }
      header p {
        margin: 0.25rem 0 0;
      }
      main {
        max-width: 72rem;
        margin: 0 auto;
        display: grid;
        gap: 1rem;
      }
      sg-prompt-form {
        background: var(--sg-surface);
        border: 1px solid var(--sg-border);
        border-radius: 12px;
        padding: 1rem 1.1rem;
      }
      .starting {
        padding: 1rem 0;
      }
    `,
  ];

  /** Base URL of the model folder (config.json, model.safetensors, optional tokenizer.json). */
  @property({ attribute: 'model-url' }) modelUrl = '/weights/dense/';
  /** Title of the model's panel. */
  @property({ attribute: 'panel-heading' }) panelHeading = 'GPT-2 (dense)';

  /** The GPU in use; null before it is acquired, after it is lost, and while reloading. */
  @state() private gpu: PageGpu | null = null;
  /** Set when the device was lost, until the user reloads. */
  @state() private lostReason: string | null = null;
  /** Bumped by "Reload models" to acquire a fresh device. */
  @state() private gpuEpoch = 0;

  private readonly gpuTask = new Task(this, {
    args: () => [this.gpuEpoch] as [number],
    task: async () => {
      const result = await openGpu();
      if (result.ok) {
        const gpu = result.gpu;
        gpu.onLost((reason) => this.onDeviceLost(gpu, reason));
        // onLost may already have fired (a device lost during startup); only adopt a live one.
        if (this.lostReason === null) this.gpu = gpu;
      }
      return result;
    },
  });

  private readonly model = new ModelSlot(
    this,
    () => this.gpu,
    () => this.modelUrl,
  );

  private onDeviceLost(gpu: PageGpu, reason: string): void {
    if (gpu !== this.gpu) return; // an old device from before a reload
    this.lostReason = reason;
    this.gpu = null; // the slot's load task re-runs with no GPU: it stops the run and drops the model
  }

  private onReload(): void {
    this.lostReason = null;
    this.gpu = null;
    this.gpuEpoch++;
  }

  private onGenerate(e: GenerateRequestEvent): void {
    void this.model.generate(e.request);
  }

  private renderDemo() {
    const slot = this.model;
    const load = slot.load;
    const status = this.lostReason !== null ? 'waiting' : panelStatusOf[load.status];
    const info = load.status === TaskStatus.COMPLETE ? load.value!.info : null;
    return html`
      ${this.lostReason !== null
        ? html`<sg-device-lost .reason=${this.lostReason} @sg-reload=${this.onReload}></sg-device-lost>`
        : nothing}
      <sg-prompt-form
        ?ready=${status === 'ready'}
        ?running=${slot.running}
        ?id-mode=${info ? !info.hasTokenizer : false}
        .error=${slot.promptError}
        @sg-generate=${this.onGenerate}
        @sg-stop=${() => void slot.stop()}
      ></sg-prompt-form>
      <sg-model-panel
        heading=${this.panelHeading}
        model-url=${this.modelUrl}
        .status=${status}
        .info=${info}
        .progress=${slot.progress}
        .error=${load.status === TaskStatus.ERROR ? messageOf(load.error) : null}
        .promptText=${slot.promptText}
        .tokens=${slot.tokens}
        .metrics=${slot.metrics}
        .runState=${slot.runState}
        .stopReason=${slot.stopReason}
        .runError=${slot.runError}
      ></sg-model-panel>
    `;
  }

  override render() {
    return html`
      <header>
        <h1>Sparse GPT-2 on WebGPU</h1>
        <p class="muted">GPT-2 running in this page on WebGPU compute shaders; nothing leaves your machine.</p>
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
