// Turns one model's generation (tokens with the engine's probes) into a Recording (src/probes/snapshot.ts):
// heads fire and edges are drawn by the thresholds in force when the run started, exactly as the grid drew
// them, so a replay shows what was seen. Pure: the shell stores the result (src/probes/store.ts).

import type { StepProbes } from '../shared/probes';
import { drawnEdges, type EdgeCandidates } from '../probes/composition';
import type { Thresholds } from '../shared/probes';
import { recordStep, type Recording, type RecordingModel, type RecordingSampling } from '../probes/snapshot';
import { headFiringBits } from '../shared/probes';

/** One generated token as the page saw it. */
export interface RecordedToken {
  id: number;
  /** The token's own text (tokenizer.decode([id])). */
  text: string;
  /** StepResult.ms: the step that produced it (token 0: the prefill). */
  ms: number;
  probes: StepProbes;
}

export interface RecordingInput {
  name: string;
  createdAt: Date;
  model: RecordingModel;
  thresholds: Thresholds;
  sampling: RecordingSampling;
  maxTokens: number;
  prompt: string;
  promptIds: number[];
  /** Pairs with c ≥ thresholds.edge; null when the model has no composition (no edges are recorded). */
  candidates: EdgeCandidates | null;
  tokens: RecordedToken[];
}

const noCandidates: EdgeCandidates = { pairs: new Uint16Array(0), strength: new Float32Array(0) };

/** The longest name a recording may have (RECORDING_LIMITS.nameChars). */
const NAME_CHARS = 200;

/** "<panel title>: <start of the prompt>", within the format's name limit. */
export function recordingName(panelTitle: string, prompt: string): string {
  const flat = prompt.replace(/\s+/g, ' ').trim();
  const head = flat.length > 48 ? `${flat.slice(0, 47)}…` : flat;
  return `${panelTitle}: ${head || '(empty prompt)'}`.slice(0, NAME_CHARS);
}

export function buildRecording(input: RecordingInput): Recording {
  const candidates = input.candidates ?? noCandidates;
  return {
    name: input.name.slice(0, NAME_CHARS) || 'recording',
    createdAt: input.createdAt.toISOString(),
    model: input.model,
    settings: { thresholds: { ...input.thresholds }, sampling: { ...input.sampling }, maxTokens: input.maxTokens },
    prompt: input.prompt,
    promptIds: [...input.promptIds],
    edgeCandidates: candidates,
    steps: input.tokens.map((t) => {
      const headFiring = headFiringBits(t.probes.headActivity, input.thresholds.head);
      return recordStep(
        {
          headActivity: t.probes.headActivity,
          headFiring,
          neuronBits: t.probes.neuronBits,
          attnWriteNorm: t.probes.attnWriteNorm,
          mlpWriteNorm: t.probes.mlpWriteNorm,
          edges: drawnEdges(candidates, headFiring),
          // The head view's attention rows (absent from engines without them: the file is then version 1).
          ...(t.probes.attnTop ? { attnTop: t.probes.attnTop } : {}),
        },
        t.id,
        t.text,
        t.ms,
      );
    }),
  };
}
