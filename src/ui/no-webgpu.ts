// <sg-no-webgpu>: the page shown when the browser gives no WebGPU: what is missing (navigator.gpu, an
// adapter or a device), why that usually happens, and how to turn WebGPU on in each browser.

import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { NoWebGpuReason } from '../app/engineClient';
import { theme } from './theme';

@customElement('sg-no-webgpu')
export class NoWebGpu extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
        max-width: 46rem;
        margin: 0 auto;
        background: var(--sg-surface);
        border: 1px solid var(--sg-border);
        border-radius: 12px;
        padding: 1.4rem 1.6rem;
        line-height: 1.5;
      }
      h2 {
        margin: 0 0 0.6rem;
        font-size: 1.35rem;
      }
      h3 {
        margin: 1.2rem 0 0.3rem;
        font-size: 1rem;
      }
      ul {
        margin: 0.3rem 0;
        padding-left: 1.3rem;
      }
      li {
        margin: 0.25rem 0;
      }
      .detail {
        font-size: 0.85em;
        overflow-wrap: anywhere;
      }
    `,
  ];

  /** What is missing: insecure-context and no-api (no navigator.gpu), no-adapter, no-device. */
  @property() reason: NoWebGpuReason = 'no-api';
  /** The engine's message (NoWebGPUError.message), shown as the technical detail. */
  @property() message = '';
  /** The page's origin, named in the insecure-context explanation. */
  @property() origin = '';
  /** The browser's user agent string, to help match it against the list below. */
  @property({ attribute: 'user-agent' }) userAgent = '';

  private renderWhy() {
    switch (this.reason) {
      case 'insecure-context':
        return html`<p>
          <code>navigator.gpu</code> is missing because this page is not a <em>secure context</em>: it was opened
          over plain HTTP from <code>${this.origin}</code>. Browsers only give WebGPU to pages served over
          <code>https://</code> or from <code>http://localhost</code>. Open the demo through https, or on this
          machine at <code>http://localhost</code> (e.g. <code>npm run dev</code> and the URL it prints).
        </p>`;
      case 'no-api':
        return html`<p>
          <code>navigator.gpu</code> is missing: this browser does not implement WebGPU, or it has been turned off
          (by a flag, an enterprise policy or a privacy setting).
        </p>`;
      case 'no-adapter':
        return html`<p>
          The browser has the WebGPU API (<code>navigator.gpu</code>), but
          <code>navigator.gpu.requestAdapter()</code> returned no adapter: it found no GPU it is willing to use.
          Usually the GPU or its driver is on the browser's blocklist, hardware acceleration is switched off, or
          (on Linux and in headless browsers) WebGPU still needs a flag.
        </p>`;
      case 'no-device':
        return html`<p>
          The browser found a GPU adapter but could not create a WebGPU device on it (out of memory, or the
          adapter's limits are too small). Closing other GPU-heavy tabs or restarting the browser may help.
        </p>`;
    }
  }

  override render() {
    return html`<section role="alert" aria-labelledby="title">
      <h2 id="title">WebGPU is not available</h2>
      <p>
        This demo runs GPT-2 with WebGPU compute shaders on your GPU, in the page. There is no fallback: without
        WebGPU it cannot run.
      </p>
      <h3>Why</h3>
      ${this.renderWhy()}
      <h3>How to enable WebGPU</h3>
      <ul>
        <li>
          <strong>Chrome or Edge 113+</strong> on Windows, macOS and ChromeOS: on by default. Check that
          <em>Settings → System → Use graphics acceleration when available</em> is on, then look at
          <code>chrome://gpu</code>: "WebGPU" should read "Hardware accelerated".
        </li>
        <li>
          <strong>Chrome or Chromium on Linux</strong>: enable <code>chrome://flags/#enable-unsafe-webgpu</code> and
          <code>chrome://flags/#enable-vulkan</code> and restart, or start it with
          <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>. Headless Chromium without a GPU gets a
          software adapter (SwiftShader) with <code>--enable-unsafe-webgpu</code>.
        </li>
        <li><strong>Chrome on Android</strong>: Chrome 121+ on Android 12+ with a recent Qualcomm or ARM GPU.</li>
        <li>
          <strong>Firefox</strong>: on by default on Windows since Firefox 141. Elsewhere use
          <strong>Firefox Nightly</strong>, or set <code>dom.webgpu.enabled</code> to <code>true</code> in
          <code>about:config</code> and restart.
        </li>
        <li>
          <strong>Safari</strong>: on by default in Safari 26 (macOS, iOS, iPadOS). Earlier: use
          <strong>Safari Technology Preview</strong>, or turn on WebGPU under <em>Develop → Feature Flags</em>.
        </li>
        <li>
          If WebGPU works elsewhere but not here: update the GPU driver, and check that no extension or policy
          disables it. In Chrome, <code>chrome://flags/#ignore-gpu-blocklist</code> lifts the GPU blocklist (at your
          own risk).
        </li>
      </ul>
      <h3>Details</h3>
      <p class="detail muted">
        ${this.message}${this.userAgent ? html`<br />Browser: <code>${this.userAgent}</code>` : nothing}
      </p>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-no-webgpu': NoWebGpu;
  }
}
