// One model on the page: loads it (a @lit/task keyed on the GPU and the base URL), runs generations on it
// and keeps what the panel displays (streamed tokens, timing). A ReactiveController, so the shell can hold
// one per panel (today one; the dense + sparse pair later) without the panels doing any async work.

import { initialState, Task } from '@lit/task';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import {
  loadModel,
  PromptError,
  type LoadedModel,
  type LoadProgress,
  type PageGpu,
  type StepResult,
  type StopReason,
} from './engineClient';
import type { GenerateRequest } from './events';
import { emptyMetrics, type GenerationMetrics, type OutputToken, type RunState } from './view-model';

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Run {
  abort: AbortController;
  done: Promise<void>;
}

export class ModelSlot implements ReactiveController {
  /** The phase of the load in progress, for the panel's progress line. */
  progress: LoadProgress | null = null;
  /** The prompt of the current/last run as displayed (text, or ids without a tokenizer). */
  promptText = '';
  tokens: OutputToken[] = [];
  metrics: GenerationMetrics = emptyMetrics;
  runState: RunState = 'idle';
  stopReason: StopReason | null = null;
  /** Why the last run failed (an engine or GPU error), shown in the panel. */
  runError: string | null = null;
  /** Why the last prompt was refused (bad ids, too long), shown under the prompt box. */
  promptError: string | null = null;

  private model: LoadedModel | null = null;
  private run: Run | null = null;
  /** Numbers generate() requests, so only the newest of several pending ones runs. */
  private requestSeq = 0;

  readonly load: Task<[PageGpu | null, string], LoadedModel>;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly gpu: () => PageGpu | null,
    private readonly baseUrl: () => string,
  ) {
    host.addController(this);
    this.load = new Task(host, {
      args: () => [this.gpu(), this.baseUrl()] as [PageGpu | null, string],
      task: async ([gpu, baseUrl], { signal }) => {
        await this.release();
        if (!gpu) return initialState;
        this.progress = null;
        const model = await loadModel(
          gpu,
          baseUrl,
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
        return model;
      },
    });
  }

  get running(): boolean {
    return this.runState === 'running';
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    void this.release();
  }

  /** Stops any run and frees the model's GPU memory (device lost, reload, page teardown). */
  async release(): Promise<void> {
    await this.stop();
    this.model?.destroy();
    this.model = null;
  }

  /** Ends the running generation (between two tokens) and waits until it has. */
  async stop(): Promise<void> {
    const run = this.run;
    if (!run) return;
    run.abort.abort();
    await run.done;
  }

  /**
   * Runs one generation. A request while another runs first stops that one, so two runs never
   * interleave their tokens; steps of a superseded run are dropped.
   */
  async generate(request: GenerateRequest): Promise<void> {
    const seq = ++this.requestSeq;
    // Abort whatever runs (it may be one a concurrent request started meanwhile) and wait for it to end.
    while (this.run) {
      this.run.abort.abort();
      await this.run.done;
    }
    if (seq !== this.requestSeq) return; // a newer request arrived while we waited; it runs instead
    const model = this.model;
    if (!model) return;
    let promptIds: number[];
    try {
      promptIds = model.encodePrompt(request.prompt);
    } catch (e) {
      // PromptError says what to fix; a tokenizer failure is shown the same way rather than lost.
      this.promptError = e instanceof PromptError ? e.message : `Could not encode the prompt: ${String(e)}`;
      this.host.requestUpdate();
      return;
    }

    const abort = new AbortController();
    const run: Run = { abort, done: Promise.resolve() };
    this.run = run;
    const stream = model.createTextStream();
    const stepMs: number[] = [];
    this.promptError = null;
    this.runError = null;
    this.stopReason = null;
    this.promptText = model.promptText(promptIds);
    this.tokens = [];
    this.metrics = { ...emptyMetrics, promptTokens: promptIds.length };
    this.runState = 'running';
    this.host.requestUpdate();

    const onStep = (step: StepResult) => {
      if (this.run !== run) return;
      stepMs.push(step.ms);
      const decodeMs = stepMs.slice(1);
      const decodeTotal = decodeMs.reduce((a, b) => a + b, 0);
      this.tokens = [...this.tokens, { id: step.id, text: stream.push(step.id) }];
      this.metrics = {
        ...this.metrics,
        tokenCount: stepMs.length,
        prefillMs: stepMs[0]!,
        lastMsPerToken: decodeMs.length ? step.ms : null,
        medianMsPerToken: median(decodeMs),
        tokensPerS: decodeTotal > 0 ? (1000 * decodeMs.length) / decodeTotal : null,
      };
      this.host.requestUpdate();
    };

    run.done = (async () => {
      try {
        const summary = await model.generate(
          promptIds,
          {
            maxTokens: request.maxTokens,
            greedy: request.greedy,
            temperature: request.temperature,
            topK: request.topK,
            // A fresh sampler seed per run: pressing Generate again gives another sample, as people expect.
            seed: (Math.random() * 2 ** 32) >>> 0,
            signal: abort.signal,
          },
          onStep,
        );
        // The engine's own totals are authoritative once the run is over.
        this.stopReason = summary.stopReason;
        this.metrics = {
          ...this.metrics,
          tokenCount: summary.ids.length,
          prefillMs: summary.prefillMs,
          medianMsPerToken: median(summary.decodeMs),
          tokensPerS: summary.decodeMs.length ? summary.decodeTokensPerS : null,
        };
      } catch (e) {
        this.runError = e instanceof Error ? e.message : String(e);
      } finally {
        const rest = stream.flush();
        if (rest && this.tokens.length) {
          const last = this.tokens[this.tokens.length - 1]!;
          this.tokens = [...this.tokens.slice(0, -1), { ...last, text: last.text + rest }];
        }
        this.runState = this.runError ? 'failed' : 'finished';
        if (this.run === run) this.run = null;
        this.host.requestUpdate();
      }
    })();
    await run.done;
  }
}
