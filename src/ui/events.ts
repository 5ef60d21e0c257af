// The typed events UI elements send upward, declared once here so that the element that dispatches and
// the shell that listens agree on names and payloads (and TypeScript checks both ends).

/** Generation settings the prompt form collects. */
export interface GenerateRequest {
  /** Prompt text, or comma-separated token ids for a model without tokenizer.json. */
  prompt: string;
  maxTokens: number;
  greedy: boolean;
  /** Softmax temperature (> 0), used when not greedy. */
  temperature: number;
  /** Sample among the k most likely tokens, used when not greedy. */
  topK: number;
}

/** "Generate" pressed (or Enter in the prompt box). */
export class GenerateRequestEvent extends Event {
  static readonly eventName = 'sg-generate';
  constructor(readonly request: GenerateRequest) {
    super(GenerateRequestEvent.eventName, { bubbles: true, composed: true });
  }
}

/** "Stop" pressed: end the running generation after the current token. */
export class StopRequestEvent extends Event {
  static readonly eventName = 'sg-stop';
  constructor() {
    super(StopRequestEvent.eventName, { bubbles: true, composed: true });
  }
}

/** Reload asked for after a device loss: acquire the GPU again and reload the models. */
export class ReloadRequestEvent extends Event {
  static readonly eventName = 'sg-reload';
  constructor() {
    super(ReloadRequestEvent.eventName, { bubbles: true, composed: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'sg-generate': GenerateRequestEvent;
    'sg-stop': StopRequestEvent;
    'sg-reload': ReloadRequestEvent;
  }
}
