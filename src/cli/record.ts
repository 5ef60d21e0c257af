// `generate --record FILE`: the generation with probes on, written as a sparse-gpt2-recording
// (docs/instrumentation.md), the same file the page's Record / Export produces.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GenerationSummary } from '../model/engineApi';
import type { Gpt2Engine } from '../model/gpt2';
import type { TextTokenizer } from '../model/tokenizer';
import { compositionOnGpu, edgeCandidates } from '../probes/composition';
import type { Thresholds } from '../shared/probes';
import { encodeRecording, sha256Hex, type RecordingSampling } from '../probes/snapshot';
import { buildRecording } from '../app/recorder';
import { MODEL_FILES } from '../model/hub';
import { writeFileAtomic } from './outputs';

export async function writeRecording(o: {
  file: string;
  modelDir: string;
  engine: Gpt2Engine;
  tokenizer?: TextTokenizer;
  prompt: string;
  out: GenerationSummary;
  thresholds: Thresholds;
  sampling: RecordingSampling;
  maxTokens: number;
}): Promise<void> {
  const cfg = o.engine.config;
  const strength = await compositionOnGpu(o.engine)!;
  const rec = buildRecording({
    name: `${o.modelDir}: ${o.prompt.replace(/\s+/g, ' ').trim().slice(0, 60) || '(ids)'}`,
    createdAt: new Date(),
    model: {
      id: o.modelDir,
      sha256: await sha256Hex(new Uint8Array(await readFile(join(o.modelDir, 'model.safetensors')))),
      nLayer: cfg.nLayer, nHead: cfg.nHead, nEmbd: cfg.nEmbd, nCtx: cfg.nCtx, vocabSize: cfg.vocabSize,
    },
    thresholds: o.thresholds,
    sampling: o.sampling,
    maxTokens: o.maxTokens,
    prompt: o.prompt,
    promptIds: o.out.promptIds,
    candidates: edgeCandidates({ nLayer: cfg.nLayer, nHead: cfg.nHead, strength }, o.thresholds.edge),
    tokens: o.out.steps.map((s) => ({ id: s.id, text: o.tokenizer ? o.tokenizer.decode([s.id]) : String(s.id), ms: s.ms, probes: s.probes! })),
  });
  // Atomic, and never over one of the model's files (checkRecordTarget ran before the generation).
  await writeFileAtomic(o.file, encodeRecording(rec), MODEL_FILES.map((f) => join(o.modelDir, f)));
}
