// <sg-device-lost>: shown when the GPU device is lost mid-session (driver reset, GPU process crash, tab
// backgrounded too long): says so and offers "Reload models", which asks the shell to start over.

import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { ReloadRequestEvent } from './events';
import { theme } from './theme';

@customElement('sg-device-lost')
export class DeviceLost extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
      }
      .box {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.6rem 1rem;
      }
      p {
        margin: 0;
        flex: 1 1 20rem;
      }
    `,
  ];

  /** The reason the device reported (GPUDeviceLostInfo reason and message). */
  @property() reason = '';

  override render() {
    return html`<div class="box error" role="alert">
      <p>
        <strong>The GPU device was lost</strong>, so the models are gone from GPU memory. This happens when the
        driver resets or the browser's GPU process restarts. ${this.reason ? html`(<code>${this.reason}</code>)` : ''}
      </p>
      <button class="primary" type="button" @click=${() => this.dispatchEvent(new ReloadRequestEvent())}>
        Reload models
      </button>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-device-lost': DeviceLost;
  }
}
