// The typed events UI elements send upward, declared once here so that the element that dispatches and
// the shell that listens agree on names and payloads (and TypeScript checks both ends).

import type { Thresholds } from '../shared/probes';
import type { PruneSettings } from '../app/pruneInPage';

/** Which models the page shows: the embedded pair (weights/), or GPT-2 124M from the Hub and its pruned copy. */
export type ModelChoice = 'embedded' | 'hub';

/** Generation and display settings the prompt form collects. */
export interface DemoSettings {
  maxTokens: number;
  greedy: boolean;
  /** Softmax temperature (> 0), used when not greedy. */
  temperature: number;
  /** Sample among the k most likely tokens, used when not greedy. */
  topK: number;
  /** τ_head, τ_neuron, τ_edge: heads and edges re-threshold what is shown at once; neurons apply from the next Generate. */
  thresholds: Thresholds;
  /** Ask the engines for probes (what fired) with every token. */
  probes: boolean;
  /** Draw the activation grids live; off hides them (the engines still run probes when asked to). */
  gridLive: boolean;
}

/** What "Generate" (or Enter in the prompt box) asks for. */
export interface GenerateRequest {
  /** Prompt text, or comma-separated token ids for a model without tokenizer.json. */
  prompt: string;
  settings: DemoSettings;
}

/** "Generate" pressed (or Enter in the prompt box). */
export class GenerateRequestEvent extends Event {
  static readonly eventName = 'sg-generate';
  constructor(readonly request: GenerateRequest) {
    super(GenerateRequestEvent.eventName, { bubbles: true, composed: true });
  }
}

/** "Stop" pressed: end the running generation after the current token, and skip any model still waiting. */
export class StopRequestEvent extends Event {
  static readonly eventName = 'sg-stop';
  constructor() {
    super(StopRequestEvent.eventName, { bubbles: true, composed: true });
  }
}

/** A setting changed (sent on every change, so the shell can re-threshold the grids at once). */
export class SettingsChangeEvent extends Event {
  static readonly eventName = 'sg-settings';
  constructor(readonly settings: DemoSettings) {
    super(SettingsChangeEvent.eventName, { bubbles: true, composed: true });
  }
}

/** "Record" toggled: record the next generations (one recording per model) while on. */
export class RecordToggleEvent extends Event {
  static readonly eventName = 'sg-record';
  constructor(readonly on: boolean) {
    super(RecordToggleEvent.eventName, { bubbles: true, composed: true });
  }
}

/** Reload asked for after a device loss: acquire the GPU again and reload the models. */
export class ReloadRequestEvent extends Event {
  static readonly eventName = 'sg-reload';
  constructor() {
    super(ReloadRequestEvent.eventName, { bubbles: true, composed: true });
  }
}

/**
 * The token strip asks to show one token's grid (hover, focus or click), or to go back to live (index null).
 * Handled by the panel that holds the strip; it does not leave the panel.
 */
export class ScrubEvent extends Event {
  static readonly eventName = 'sg-scrub';
  constructor(
    readonly index: number | null,
    /** Clicked: keep showing this token after the pointer leaves, until clicked again or Escape. */
    readonly pin: boolean,
  ) {
    super(ScrubEvent.eventName, { bubbles: true, composed: false });
  }
}

/** "Save PNG" under a grid: the panel asks the shell to download its grid as an image. */
export class GridPngRequestEvent extends Event {
  static readonly eventName = 'sg-grid-png';
  constructor(readonly blob: Blob, readonly fileName: string) {
    super(GridPngRequestEvent.eventName, { bubbles: true, composed: true });
  }
}

/** One of a saved recording's buttons: open (replay in the grids), delete, or export (download its file). */
export class RecordingActionEvent extends Event {
  static readonly eventName = 'sg-recording-action';
  constructor(
    readonly action: 'open' | 'delete' | 'export',
    readonly id: number,
  ) {
    super(RecordingActionEvent.eventName, { bubbles: true, composed: true });
  }
}

/** A recording renamed in the list. */
export class RecordingRenameEvent extends Event {
  static readonly eventName = 'sg-recording-rename';
  constructor(
    readonly id: number,
    readonly name: string,
  ) {
    super(RecordingRenameEvent.eventName, { bubbles: true, composed: true });
  }
}

/** A file picked with "Import": to be validated and stored, or rejected with a message. */
export class RecordingImportEvent extends Event {
  static readonly eventName = 'sg-recording-import';
  constructor(readonly file: File) {
    super(RecordingImportEvent.eventName, { bubbles: true, composed: true });
  }
}

/** Leave a replay and show the live generation again. */
export class ReplayCloseEvent extends Event {
  static readonly eventName = 'sg-replay-close';
  constructor() {
    super(ReplayCloseEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The model picker changed: load the embedded pair, or GPT-2 124M from the Hub (cache first). */
export class ModelChoiceEvent extends Event {
  static readonly eventName = 'sg-model-choice';
  constructor(readonly choice: ModelChoice) {
    super(ModelChoiceEvent.eventName, { bubbles: true, composed: true });
  }
}

/** A button of the Hub download, the cache or the pruning: each names what it asks for. */
export class HubActionEvent extends Event {
  static readonly eventName = 'sg-hub-action';
  constructor(readonly action: 'retry-download' | 'cancel-download' | 'clear-cache' | 'prune' | 'cancel-prune') {
    super(HubActionEvent.eventName, { bubbles: true, composed: true });
  }
}

/** Density, block size or method changed for the next Prune. */
export class PruneSettingsEvent extends Event {
  static readonly eventName = 'sg-prune-settings';
  constructor(readonly settings: PruneSettings) {
    super(PruneSettingsEvent.eventName, { bubbles: true, composed: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'sg-generate': GenerateRequestEvent;
    'sg-stop': StopRequestEvent;
    'sg-settings': SettingsChangeEvent;
    'sg-record': RecordToggleEvent;
    'sg-reload': ReloadRequestEvent;
    'sg-scrub': ScrubEvent;
    'sg-grid-png': GridPngRequestEvent;
    'sg-recording-action': RecordingActionEvent;
    'sg-recording-rename': RecordingRenameEvent;
    'sg-recording-import': RecordingImportEvent;
    'sg-replay-close': ReplayCloseEvent;
    'sg-model-choice': ModelChoiceEvent;
    'sg-hub-action': HubActionEvent;
    'sg-prune-settings': PruneSettingsEvent;
  }
}

/** A panel's set of zero-ablated heads changed (ids layer · nHead + head; [] ends the ablation). */
export class AblationChangeEvent extends Event {
  static readonly eventName = 'sg-ablation-change';
  constructor(readonly heads: readonly number[]) {
    super(AblationChangeEvent.eventName, { bubbles: true, composed: true });
  }
}

/**
 * A head picked in a grid (click or Enter): select it for the head view, or, with Shift held, toggle it in
 * the panel's set of heads to ablate. Handled by the panel that holds the grid.
 */
export class HeadPickEvent extends Event {
  static readonly eventName = 'sg-head-pick';
  constructor(
    /** The head, layer · nHead + head. */
    readonly node: number,
    /** Shift held: toggle its ablation instead of selecting it. */
    readonly ablate: boolean,
  ) {
    super(HeadPickEvent.eventName, { bubbles: true, composed: false });
  }
}

/** The head view's Close: no head is selected any more. Handled by the panel that shows it. */
export class HeadViewCloseEvent extends Event {
  static readonly eventName = 'sg-head-view-close';
  constructor() {
    super(HeadViewCloseEvent.eventName, { bubbles: true, composed: false });
  }
}

/** Compare two saved recordings (ids), or close the comparison (null). */
export class RecordingCompareEvent extends Event {
  static readonly eventName = 'sg-recording-compare';
  constructor(readonly ids: readonly [number, number] | null) {
    super(RecordingCompareEvent.eventName, { bubbles: true, composed: true });
  }
}
