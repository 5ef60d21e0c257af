// <sg-speedup-meter>: between the two panels, the measured speedup of the sparse model over the dense one
// (the ratio of their decode tokens/s in the same Generate) and how the two runs share the GPU: one after
// the other, in the order shown, with the one holding the GPU marked while a Generate runs.

import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Side, Speedup } from './pair-runner';
import { theme } from './theme';

@customElement('sg-speedup-meter')
export class SpeedupMeter extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
        text-align: center;
        font-size: 0.85rem;
      }
      h2 {
        margin: 0 0 0.2rem;
        font-size: 0.95rem;
        font-weight: 650;
      }
      .ratio {
        font-size: 2.1rem;
        font-weight: 700;
        font-variant-numeric: tabular-nums;
        line-height: 1.1;
      }
      .sub {
        margin: 0.2rem 0 0;
      }
      ol {
        list-style: none;
        padding: 0;
        margin: 0.5rem 0 0;
        display: grid;
        gap: 0.25rem;
        text-align: left;
      }
      li {
        display: flex;
        align-items: center;
        gap: 0.4rem;
        padding: 0.25em 0.45em;
        border-radius: 6px;
        background: var(--sg-bg);
      }
      li[aria-current='step'] {
        background: var(--sg-fg);
        color: var(--sg-accent-fg);
      }
      .n {
        font-weight: 700;
        font-variant-numeric: tabular-nums;
      }
      .how {
        margin: 0.6rem 0 0;
        text-align: left;
        line-height: 1.35;
      }
    `,
  ];

  /** The last Generate's measurement (null before the first, and while one runs). */
  @property({ attribute: false }) speedup: Speedup | null = null;
  /** The model holding the GPU now, while a Generate runs. */
  @property({ attribute: false }) active: Side | null = null;
  /** Run order and the panels' titles. */
  @property({ attribute: false }) order: ReadonlyArray<{ side: Side; title: string }> = [];

  private ratioText(): string {
    const r = this.speedup?.ratio;
    return r === null || r === undefined || !Number.isFinite(r) ? '–' : `${r.toFixed(2)}×`;
  }

  override render() {
    const s = this.speedup;
    const tps = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(1));
    return html`<section aria-labelledby="h">
      <h2 id="h">Speedup</h2>
      <div class="ratio" data-testid="speedup">${this.ratioText()}</div>
      <p class="sub muted">
        sparse ÷ baseline decode tokens/s${s ? html`: ${tps(s.sparseTokensPerS)} ÷ ${tps(s.denseTokensPerS)}` : nothing}, same Generate
      </p>
      ${s?.partial ? html`<p class="sub muted">Stopped early: the two may have run different token counts.</p>` : nothing}
      <ol aria-label="GPU order">
        ${this.order.map(
          (o, i) => html`<li aria-current=${this.active === o.side ? 'step' : nothing}>
            <span class="n">${i + 1}</span><span>${o.title}</span>${this.active === o.side ? html`<span>· on GPU</span>` : nothing}
          </li>`,
        )}
      </ol>
      <p class="how muted" data-testid="gpu-sharing">
        The GPU runs one model at a time: ${this.order[0]?.title ?? 'the first'} generates all its tokens, then
        ${this.order[1]?.title ?? 'the second'} does, so neither's timing includes the other's work.
      </p>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sg-speedup-meter': SpeedupMeter;
  }
}
