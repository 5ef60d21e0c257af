// One model on the page: loads it (a @lit/task keyed on the GPU and the model source: a base URL or files
// in memory), fetches its head composition for the grid's edges, measures its perplexity on the built-in
// passage, runs generations on it when the pair runner gives it the GPU, and keeps
// what its panel displays: streamed tokens, timing, one grid view per token (re-thresholded when τ_head or
// τ_edge change), and a replayed recording when one is open. A ReactiveController: the shell holds one per
// panel and the panels do no async work.

import { initialState, Task } from '@lit/task';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { EdgeCandidates } from '../probes/composition';
import { neuronFractions, type Thresholds } from '../shared/probes';
import { boundedMessage } from '../shared/preview';
import type { Recording } from '../probes/snapshot';
import { PASSAGES, type Passage, type TextDomain } from '../model/passage';
import {
  loadModel,
  type ModelSource,
  type PerplexityMeasurement,
  type GenerationSummary,
  type LoadedModel,
  type LoadProgress,
  type PageGpu,
  type StepResult,
  type StopReason,
} from '../app/engineClient';
import type { DemoSettings } from './events';
import { countBits, gridEdgeCandidates, gridView, type GridFrame, type GridShape, type GridView } from './grid-model';
import type { RecordedToken } from '../app/recorder';
import { emptyMetrics, median, type AblationReport, type GenerationMetrics, type OutputToken, type ReplayInfo, type RunState } from './view-model';
import { headName } from '../model/engineApi';

/**
 * Where the edges of the grid stand: the composition is computed once per model, on the GPU, when first
 * needed (the first Generate with probes on): 'deferred' until then. On a software GPU it takes minutes for
 * GPT-2 124M, so a model that is only timed or measured never pays for it.
 */
export type EdgeState = 'deferred' | 'pending' | 'ready' | 'unavailable' | 'failed';

/** Perplexity of the loaded model on the built-in passage of its domain (PASSAGES), measured once per load. */
export type PerplexityState =
  | { state: 'pending' }
  | { state: 'done'; result: PerplexityMeasurement; ms: number; passage: Passage }
  | { state: 'unavailable' | 'failed'; message: string };

/** What a finished run hands back to the pair runner (for the speedup and for recordings). */
export interface RunOutcome {
  summary: GenerationSummary | null;
  /** Every token with its probes, when the engine returned probes for all of them. */
  recorded: RecordedToken[] | null;
  /** Thresholds and edge candidates in force when the run started (what a recording must state). */
  thresholds: Thresholds;
  candidates: EdgeCandidates | null;
}

/** The data one panel shows: the live generation or a replayed recording. */
export interface PanelData {
  promptText: string;
  tokens: OutputToken[];
  /** The prompt's tokens (context positions 0..P−1: the head view shades them too). */
  promptTokens: OutputToken[];
  metrics: GenerationMetrics;
  /** Grid view of each token, in order; empty when there are no probes. */
  views: GridView[];
}

/** Greedy tokens compared between the model as it is and the ablated one (the first that differs is shown). */
export const ABLATION_COMPARE_TOKENS = 16;

export class ModelSlot implements ReactiveController {
  /** The phase of the load in progress, for the panel's progress line. */
  progress: LoadProgress | null = null;
  /** The live generation as displayed. */
  live: PanelData = { promptText: '', tokens: [], promptTokens: [], metrics: emptyMetrics, views: [] };
  runState: RunState = 'idle';
  stopReason: StopReason | null = null;
  /** Why the last run failed (an engine or GPU error), shown in the panel. */
  runError: string | null = null;
  /** Set when probes were asked for but the engine returned none (the grid then says so). */
  probesMissing = false;
  /** Whether the last run asked for probes. */
  probesAsked = false;
  edgeState: EdgeState = 'pending';
  edgeError: string | null = null;
  perplexity: PerplexityState = { state: 'pending' };
  /** Heads zero-ablated in this panel's runs (ids layer · nHead + head), ascending. */
  ablated: readonly number[] = [];
  /** What the ablation changed in the last run; null without one (or while it is being measured). */
  ablation: AblationReport | null = null;
  /** The comparison with the model as it is runs after the generation. */
  ablationPending = false;
  /** Heads ablated in the live run shown (ablated may have changed since). */
  ablatedInRun: readonly number[] = [];

  /** The model computes non-finite values (its perplexity on the passage is NaN or Infinity): no speedup is shown for it. */
  get broken(): boolean {
    const p = this.perplexity;
    return (p.state === 'done' && !Number.isFinite(p.result.perplexity)) || (p.state === 'failed' && /non-finite/.test(p.message));
  }
  /** A recording shown instead of the live generation, with its data. */
  replay: { info: ReplayInfo; data: PanelData } | null = null;

  private model: LoadedModel | null = null;
  private composition: Float32Array | null = null;
  private thresholds: Thresholds;
  private candidatesFor: { tau: number; candidates: EdgeCandidates } | null = null;
  /** Probes of each live token, kept to re-threshold the views. */
  private frames: GridFrame[] = [];
  /** Bumped for every load and run, so late results of an old one are dropped. */
  private epoch = 0;
  /** Bumped for every load (not for runs), so a late composition of a released model is dropped. */
  private loadEpoch = 0;

  readonly load: Task<[PageGpu | null, ModelSource | null], LoadedModel>;
  /** The perplexity measurement: GPU work done once per load, before any generation. */
  private afterLoad: Promise<void> = Promise.resolve();
  /** The composition, once asked for (prepareForRun with probes). */
  private compositionRun: Promise<void> | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    /** The panel's title ("Sparse GPT-2"), for messages and recording names. */
    readonly title: string,
    private readonly gpu: () => PageGpu | null,
    /** What to load; null while there is nothing to load yet (the panel waits). */
    private readonly source: () => ModelSource | null,
    initialThresholds: Thresholds,
    /** What the model was trained on: picks the perplexity passage (Python for the embedded pair, English for GPT-2). */
    private readonly domain: () => TextDomain,
  ) {
    this.thresholds = initialThresholds;
    host.addController(this);
    this.load = new Task(host, {
      args: () => [this.gpu(), this.source()] as [PageGpu | null, ModelSource | null],
      task: async ([gpu, source], { signal }) => {
        this.release();
        if (!gpu || source === null) return initialState;
        this.progress = null;
        const model = await loadModel(
          gpu,
          source,
          (p) => {
            this.progress = p;
            this.host.requestUpdate();
          },
          signal,
        );
        if (signal.aborted) {
          model.destroy();
          signal.throwIfAborted();
        }
        this.model = model;
        this.edgeState = 'deferred';
        this.afterLoad = this.measurePerplexity(model);
        return model;
      },
    });
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.release();
  }

  get loaded(): LoadedModel | null {
    return this.model;
  }

  get shape(): GridShape | null {
    const c = this.model?.info.config;
    return c ? { nLayer: c.nLayer, nHead: c.nHead, nEmbd: c.nEmbd } : null;
  }

  get running(): boolean {
    return this.runState === 'running';
  }

  /** Frees the model's GPU memory (device lost, reload, page teardown). The pair runner stops runs first. */
  release(): void {
    this.epoch++;
    this.loadEpoch++;
    this.model?.destroy();
    this.model = null;
    this.composition = null;
    this.candidatesFor = null;
    this.edgeState = 'pending';
    this.edgeError = null;
    this.perplexity = { state: 'pending' };
    this.afterLoad = Promise.resolve();
    this.compositionRun = null;
    if (this.runState === 'running' || this.runState === 'queued') this.runState = 'idle';
  }

  private fetchComposition(model: LoadedModel): Promise<void> {
    const epoch = this.loadEpoch;
    this.edgeState = 'pending';
    return model.composition().then(
      (c) => {
        if (epoch !== this.loadEpoch) return;
        this.composition = c;
        this.edgeState = c ? 'ready' : 'unavailable';
        this.candidatesFor = null;
        this.rebuildViews();
      },
      (e: unknown) => {
        if (epoch !== this.loadEpoch) return;
        this.edgeState = 'failed';
        this.edgeError = boundedMessage(e);
        this.host.requestUpdate();
      },
    );
  }

  /** Perplexity on the built-in passage, after the composition (one GPU job at a time); never throws. */
  private async measurePerplexity(model: LoadedModel): Promise<void> {
    const epoch = this.loadEpoch;
    let next: PerplexityState;
    if (!model.info.hasTokenizer) {
      next = { state: 'unavailable', message: 'no tokenizer.json: the passage cannot be encoded' };
    } else {
      try {
        const passage = PASSAGES[this.domain()];
        const result = await model.perplexity(passage.text);
        next = { state: 'done', result, ms: result.ms, passage };
      } catch (e) {
        next = { state: 'failed', message: boundedMessage(e) };
      }
    }
    if (epoch !== this.loadEpoch) return;
    this.perplexity = next;
    this.host.requestUpdate();
  }

  /** Waits for the GPU work this slot started in the background (perplexity, composition); never throws. */
  async backgroundSettled(): Promise<void> {
    await this.afterLoad.catch(() => undefined);
    await this.compositionRun?.catch(() => undefined);
  }

  /**
   * Before a run: the background work done and, when the run asks for probes, the composition computed (the
   * edges need it), so neither overlaps a timed run. Never throws (a failed composition leaves the edges out).
   */
  async prepareForRun(probes: boolean): Promise<void> {
    await this.backgroundSettled();
    const model = this.model;
    if (probes && model && this.compositionRun === null) {
      this.compositionRun = this.fetchComposition(model);
      this.host.requestUpdate();
    }
    await this.compositionRun?.catch(() => undefined);
  }

  private candidates(): EdgeCandidates | null {
    const shape = this.shape;
    if (!this.composition || !shape) return null;
    const tau = this.thresholds.edge;
    if (this.candidatesFor?.tau !== tau) this.candidatesFor = { tau, candidates: gridEdgeCandidates(shape, this.composition, tau) };
    return this.candidatesFor.candidates;
  }

  /** New τ_head / τ_edge: every live view is re-thresholded at once (τ_neuron applies from the next run). */
  setThresholds(t: Thresholds): void {
    const changed = t.head !== this.thresholds.head || t.edge !== this.thresholds.edge;
    this.thresholds = t;
    if (changed) this.rebuildViews();
  }

  private rebuildViews(): void {
    const shape = this.shape;
    if (shape) {
      const candidates = this.candidates();
      this.live = { ...this.live, views: this.frames.map((f) => gridView(shape, f, candidates, this.thresholds.head)) };
    }
    this.host.requestUpdate();
  }

  /** The heads this panel's next runs zero-ablate; the last comparison no longer applies. */
  setAblation(heads: readonly number[]): void {
    this.ablated = [...new Set(heads)].sort((a, b) => a - b);
    this.ablation = null;
    this.host.requestUpdate();
  }

  /**
   * After an ablated run: the same prompt greedily with and without the ablation (top 5 of the next token,
   * the continuation), and the passage's perplexity under it (the load measured it without). Leaves the
   * ablation set on the model. Null when stopped meanwhile.
   */
  private async compareAblation(model: LoadedModel, promptIds: number[], maxTokens: number, signal: AbortSignal): Promise<AblationReport | null> {
    const heads = this.ablated;
    const n = Math.max(1, Math.min(maxTokens, ABLATION_COMPARE_TOKENS));
    const greedy = async (ablate: readonly number[]) => {
      model.setAblatedHeads(ablate);
      return model.generate(promptIds, { maxTokens: n, greedy: true, topLogits: 5, signal, stopIds: model.eosId === undefined ? [] : [model.eosId] }, () => undefined);
    };
    const before = await greedy([]);
    const after = await greedy(heads);
    if (signal.aborted || before.stopReason === 'aborted' || after.stopReason === 'aborted') return null;
    const p0 = this.perplexity.state === 'done' ? this.perplexity.result : null;
    const p1 = model.info.hasTokenizer ? await model.perplexity(PASSAGES[this.domain()].text, signal) : null;
    if (signal.aborted) return null;
    const top = (s: GenerationSummary) => (s.steps[0]?.top ?? []).map(([id, logit]) => ({ text: model.tokenText(id), logit }));
    let firstDiff: AblationReport['firstDiff'] = null;
    const m = Math.max(before.ids.length, after.ids.length);
    for (let i = 0; i < m; i++) {
      if (before.ids[i] !== after.ids[i]) {
        const text = (ids: number[]) => (i < ids.length ? model.tokenText(ids[i]!) : '(ended)');
        firstDiff = { index: i, before: text(before.ids), after: text(after.ids) };
        break;
      }
    }
    const nHead = model.info.config.nHead;
    return {
      heads: heads.map((h) => headName(h, nHead)),
      topBefore: top(before), topAfter: top(after),
      perplexityBefore: p0?.perplexity ?? null, perplexityAfter: p1?.perplexity ?? null,
      bitsPerByteBefore: p0?.bitsPerByte ?? null, bitsPerByteAfter: p1?.bitsPerByte ?? null,
      compared: Math.min(before.ids.length, after.ids.length), firstDiff,
    };
  }

  /** Clears the live display and marks the model as waiting for its turn on the GPU. */
  queue(promptText: string, promptTokens: number, probes: boolean): void {
    this.epoch++;
    this.frames = [];
    this.live = { promptText, tokens: [], promptTokens: [], metrics: { ...emptyMetrics, promptTokens }, views: [] };
    this.runState = 'queued';
    this.stopReason = null;
    this.runError = null;
    this.probesMissing = false;
    this.probesAsked = probes;
    this.replay = null;
    this.host.requestUpdate();
  }

  /** Stop came before this model's turn. */
  skip(): void {
    if (this.runState === 'queued') this.runState = 'skipped';
    this.host.requestUpdate();
  }

  /** Runs one generation with the GPU to itself (the pair runner guarantees that). Never throws. */
  async run(promptIds: number[], settings: DemoSettings, seed: number, signal: AbortSignal): Promise<RunOutcome> {
    const model = this.model;
    const epoch = this.epoch;
    const thresholds = { ...this.thresholds, neuron: settings.thresholds.neuron };
    this.thresholds = thresholds;
    const candidates = this.candidates();
    const shape = this.shape!;
    const stream = model?.createTextStream();
    const recorded: RecordedToken[] = [];
    let everyStepHadProbes = true;
    const stepMs: number[] = [];
    const outcome: RunOutcome = { summary: null, recorded: null, thresholds, candidates };
    if (!model || !stream) {
      this.runState = 'failed';
      this.runError = 'The model is not loaded.';
      this.host.requestUpdate();
      return outcome;
    }
    this.runState = 'running';
    this.live = { ...this.live, promptTokens: promptIds.map((id) => ({ id, text: model.tokenText(id) })) };
    this.ablation = null;
    this.ablatedInRun = this.ablated;
    this.host.requestUpdate();

    const onStep = (step: StepResult) => {
      if (epoch !== this.epoch) return;
      stepMs.push(step.ms);
      const decodeMs = stepMs.slice(1);
      const decodeTotal = decodeMs.reduce((a, b) => a + b, 0);
      const live = this.live;
      let views = live.views;
      if (step.probes) {
        const p = step.probes;
        this.frames.push(p);
        views = [...views, gridView(shape, p, this.candidates(), this.thresholds.head)];
        recorded.push({ id: step.id, text: model.tokenText(step.id), ms: step.ms, probes: p });
      } else if (settings.probes) {
        everyStepHadProbes = false;
        this.probesMissing = true;
      }
      this.live = {
        ...live,
        tokens: [...live.tokens, { id: step.id, text: stream.push(step.id) }],
        views,
        metrics: {
          ...live.metrics,
          tokenCount: stepMs.length,
          prefillMs: stepMs[0]!,
          lastMsPerToken: decodeMs.length ? step.ms : null,
          medianMsPerToken: median(decodeMs),
          tokensPerS: decodeTotal > 0 ? (1000 * decodeMs.length) / decodeTotal : null,
          decodeMs,
        },
      };
      this.host.requestUpdate();
    };

    try {
      // Every run states its heads: [] puts back any ablation an earlier run left on the model.
      model.setAblatedHeads(this.ablated);
      const summary = await model.generate(
        promptIds,
        {
          maxTokens: settings.maxTokens,
          greedy: settings.greedy,
          temperature: settings.temperature,
          topK: settings.topK,
          seed,
          signal,
          // A code model ends a file with <|endoftext|>; what it writes after that is another file.
          stopIds: model.eosId === undefined ? [] : [model.eosId],
          probes: settings.probes,
          thresholds,
        },
        onStep,
      );
      outcome.summary = summary;
      if (epoch === this.epoch) {
        // The engine's own totals are authoritative once the run is over.
        this.stopReason = summary.stopReason;
        this.live = {
          ...this.live,
          metrics: {
            ...this.live.metrics,
            tokenCount: summary.ids.length,
            prefillMs: summary.ids.length ? summary.prefillMs : null,
            medianMsPerToken: median(summary.decodeMs),
            tokensPerS: summary.decodeMs.length ? summary.decodeTokensPerS : null,
            decodeMs: summary.decodeMs,
          },
        };
      }
      // A recording does not store an ablation, so an ablated run is not recorded (it would pass for the model's own).
      if (settings.probes && everyStepHadProbes && recorded.length === summary.ids.length && this.ablated.length === 0) outcome.recorded = recorded;
      if (this.ablated.length > 0 && summary.stopReason !== 'aborted' && summary.stopReason !== 'non-finite-logits' && epoch === this.epoch) {
        this.ablationPending = true;
        this.host.requestUpdate();
        try {
          const report = await this.compareAblation(model, promptIds, settings.maxTokens, signal);
          if (epoch === this.epoch) this.ablation = report;
        } finally {
          this.ablationPending = false;
        }
      }
    } catch (e) {
      if (epoch === this.epoch) this.runError = boundedMessage(e);
    } finally {
      if (epoch === this.epoch) {
        const rest = stream.flush();
        const tokens = this.live.tokens;
        if (rest && tokens.length) {
          const last = tokens[tokens.length - 1]!;
          this.live = { ...this.live, tokens: [...tokens.slice(0, -1), { ...last, text: last.text + rest }] };
        }
        this.runState = this.runError ? 'failed' : 'finished';
        this.host.requestUpdate();
      }
    }
    return outcome;
  }

  /** Shows a recording in this panel (the live generation stays underneath, back with closeReplay). */
  showReplay(info: ReplayInfo, rec: Recording): void {
    const shape = { nLayer: rec.model.nLayer, nHead: rec.model.nHead, nEmbd: rec.model.nEmbd };
    const decodeMs = rec.steps.slice(1).map((s) => s.ms);
    const decodeTotal = decodeMs.reduce((a, b) => a + b, 0);
    this.replay = {
      info,
      data: {
        promptText: rec.prompt,
        tokens: rec.steps.map((s) => ({ id: s.id, text: s.text })),
        // A recording keeps the prompt's ids, not its token texts: this panel's tokenizer spells them.
        promptTokens: rec.promptIds.map((id) => ({ id, text: this.model?.tokenText(id) ?? '' })),
        metrics: {
          tokenCount: rec.steps.length,
          promptTokens: rec.promptIds.length,
          prefillMs: rec.steps[0]?.ms ?? null,
          lastMsPerToken: decodeMs.length ? decodeMs[decodeMs.length - 1]! : null,
          medianMsPerToken: median(decodeMs),
          tokensPerS: decodeTotal > 0 ? (1000 * decodeMs.length) / decodeTotal : null,
          decodeMs,
        },
        // What was recorded, exactly: its firing bits and drawn edges, not a re-thresholding.
        views: rec.steps.map((s) => ({
          headFiring: s.headFiring,
          firingCount: countBits(s.headFiring),
          edges: s.edges,
          neuronBits: s.neuronBits,
          neuronFraction: neuronFractions(s.neuronBits, shape),
          headActivity: s.headActivity,
          ...(s.attnTop ? { attnTop: s.attnTop } : {}),
        })),
      },
    };
    this.host.requestUpdate();
  }

  closeReplay(): void {
    this.replay = null;
    this.host.requestUpdate();
  }
}
