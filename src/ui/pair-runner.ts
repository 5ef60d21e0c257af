// Runs one Generate on both models, one after the other: Sparse GPT-2 first, then GPT-2 (baseline), never
// both at once, so each model's tokens/s is measured with the GPU to itself (the other's kernels neither
// queue ahead of its own nor share the device while it runs). The speedup is the ratio of the two decode
// tokens/s of the same Generate. Stop aborts the running model between two tokens and skips the one still
// waiting; a new Generate first stops and waits for the old one, so two runs never interleave.

import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { PromptError } from '../app/engineClient';
import type { GenerateRequest } from './events';
import type { ModelSlot, RunOutcome } from './model-slot';

export type Side = 'sparse' | 'dense';

/** Run order: sparse first. Any warm-up benefit (clocks, caches) goes to the baseline, so the speedup is not flattered. */
export const RUN_ORDER: readonly Side[] = ['sparse', 'dense'];

export interface Speedup {
  /** sparse decode tokens/s ÷ dense decode tokens/s; null unless both decoded at least one token. */
  ratio: number | null;
  sparseTokensPerS: number | null;
  denseTokensPerS: number | null;
  /** True when the generation was stopped or failed, so the two may have run different token counts. */
  partial: boolean;
}

/** A finished Generate, for recordings: each model's outcome with the prompt it ran. */
export interface PairOutcome {
  request: GenerateRequest;
  seed: number;
  runs: Array<{ side: Side; promptIds: number[]; outcome: RunOutcome }>;
}

interface Run {
  abort: AbortController;
  done: Promise<void>;
}

export class PairRunner implements ReactiveController {
  /** The model holding the GPU now, while a Generate runs. */
  active: Side | null = null;
  /** Why the last prompt was refused (bad ids, too long, empty), shown under the prompt box. */
  promptError: string | null = null;
  speedup: Speedup | null = null;

  private run: Run | null = null;
  /** Numbers generate() requests, so only the newest of several pending ones runs. */
  private requestSeq = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly slots: Record<Side, ModelSlot>,
    /** Called once both runs are over (recording happens here, off the timed path). */
    private readonly onFinished: (outcome: PairOutcome) => Promise<void> | void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    void this.stop();
  }

  get running(): boolean {
    return this.run !== null;
  }

  /** Ends the running Generate (between two tokens; the waiting model is skipped) and waits until it has. */
  async stop(): Promise<void> {
    const run = this.run;
    if (!run) return;
    run.abort.abort();
    await run.done;
  }

  async generate(request: GenerateRequest): Promise<void> {
    const seq = ++this.requestSeq;
    // Abort whatever runs (it may be one a concurrent request started meanwhile) and wait for it to end.
    while (this.run) {
      this.run.abort.abort();
      await this.run.done;
    }
    if (seq !== this.requestSeq) return; // a newer request arrived while we waited; it runs instead

    const sides = RUN_ORDER.filter((side) => this.slots[side].loaded !== null);
    if (sides.length === 0) return;
    // Encode for every model before running any: a prompt one of them refuses runs on neither.
    const prompts = new Map<Side, number[]>();
    for (const side of sides) {
      try {
        prompts.set(side, this.slots[side].loaded!.encodePrompt(request.prompt));
      } catch (e) {
        const why = e instanceof PromptError ? e.message : `Could not encode the prompt: ${String(e)}`;
        this.promptError = sides.length > 1 ? `${this.slots[side].title}: ${why}` : why;
        this.host.requestUpdate();
        return;
      }
    }
    this.promptError = null;

    const abort = new AbortController();
    const run: Run = { abort, done: Promise.resolve() };
    this.run = run;
    // One sampler seed for both: with sampling on, both draw from the same random stream.
    const seed = (Math.random() * 2 ** 32) >>> 0;
    for (const side of sides) {
      const ids = prompts.get(side)!;
      this.slots[side].queue(this.slots[side].loaded!.promptText(ids), ids.length, request.settings.probes);
    }
    this.speedup = null;
    this.host.requestUpdate();

    run.done = (async () => {
      const runs: PairOutcome['runs'] = [];
      let partial = false;
      try {
        for (const side of sides) {
          const slot = this.slots[side];
          if (abort.signal.aborted || slot.loaded === null) {
            slot.skip();
            partial = true;
            continue;
          }
          // Perplexity and composition (edges) run on the GPU once per model; never let them overlap a timed run.
          for (const other of sides) await this.slots[other].backgroundSettled();
          await slot.prepareForRun(request.settings.probes);
          this.active = side;
          this.host.requestUpdate();
          const outcome = await slot.run(prompts.get(side)!, request.settings, seed, abort.signal);
          if (!outcome.summary || outcome.summary.stopReason === 'aborted') partial = true;
          runs.push({ side, promptIds: prompts.get(side)!, outcome });
        }
      } finally {
        this.active = null;
        // A model whose logits broke (non-finite) or whose perplexity is not finite is broken: it has no
        // speed worth comparing, so no speedup is shown.
        const tps = (side: Side) => {
          const s = runs.find((r) => r.side === side)?.outcome.summary;
          if (!s || s.stopReason === 'non-finite-logits' || this.slots[side].broken) return null;
          return s.decodeMs.length > 0 ? s.decodeTokensPerS : null;
        };
        const sparse = tps('sparse');
        const dense = tps('dense');
        this.speedup = {
          ratio: sparse !== null && dense !== null && dense > 0 ? sparse / dense : null,
          sparseTokensPerS: sparse,
          denseTokensPerS: dense,
          partial,
        };
        this.host.requestUpdate();
      }
      try {
        // Still inside the run, so a next Generate waits for it: saving never overlaps a timed run.
        await this.onFinished({ request, seed, runs });
      } finally {
        if (this.run === run) this.run = null;
        this.host.requestUpdate();
      }
    })();
    await run.done;
  }
}
