// `generate`: run the engine on a prompt (text through tokenizer.json, or raw ids) and print the
// continuation, or with --json one object with ids, text, per-step top-5 logits and timings.

import { CliError, flag, floatOption, idList, intOption, optionalString, parseOptions, requireString } from './args';
import { openModel } from './session';
import { streamDecoder } from '../model/tokenizer';
import { DEFAULT_THRESHOLDS } from '../shared/probes';
import { writeRecording } from './record';
import { checkRecordTarget } from './outputs';
import { resolveModelArg } from './hubCache';
import { MODEL_FILES } from '../model/hub';
import { join } from 'node:path';
import { parseHeadNames } from '../model/engineApi';

export const HELP = `usage: npm run -s cli -- generate --model DIR (--prompt TEXT | --ids 1,2,3) --tokens N [--greedy] [--json]
                                  [--temperature T] [--top-k K] [--seed S] [--record FILE [--force]]
                                  [--tau-head X] [--tau-neuron X] [--tau-edge X] [--ablate L0H1,L2H3]

Generates N tokens after the prompt. Without --greedy it samples with temperature (default 0.8) and top-k (default 40).
  --record FILE  run with probes on and write what fired as a sparse-gpt2-recording (docs/instrumentation.md);
                 written under a temporary name and renamed at the end; an existing FILE is replaced only if it
                 is a recording (its "format" tag), never if it is one of the model's files
  --force        with --record: replace an existing FILE that is not a recording
  --tau-*        firing thresholds for the recording (defaults: src/probes/thresholds.ts)
  --ablate HEADS zero-ablate these heads (TransformerLens names, layer and head from 0) in every step;
                 the output is the same in shape (not with --record: recordings do not store an ablation)
  --json   one JSON object: {"prompt_ids","ids","text","steps":[{"id","top":[[id,logit] x5]}],"prefill_ms","decode_ms","decode_tokens_per_s","stop_reason"}`;

const OPTIONS = {
  model: { type: 'string' },
  prompt: { type: 'string' },
  ids: { type: 'string' },
  tokens: { type: 'string' },
  greedy: { type: 'boolean' },
  json: { type: 'boolean' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  seed: { type: 'string' },
  record: { type: 'string' },
  force: { type: 'boolean' },
  'tau-head': { type: 'string' },
  'tau-neuron': { type: 'string' },
  'tau-edge': { type: 'string' },
  ablate: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(args: string[]): Promise<void> {
  const v = parseOptions(args, OPTIONS, 'generate');
  if (flag(v, 'help')) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const dir = requireString(v, 'model');
  const prompt = optionalString(v, 'prompt');
  const givenIds = idList(v, 'ids');
  if ((prompt === undefined) === (givenIds === undefined)) throw new CliError('generate: give exactly one of --prompt TEXT or --ids 1,2,3');
  const tokens = intOption(v, 'tokens', { min: 0, required: true })!;
  const greedy = flag(v, 'greedy');
  const temperature = floatOption(v, 'temperature', { min: 0, minExclusive: true, default: 0.8 })!;
  const topK = intOption(v, 'top-k', { min: 1, max: 64, default: 40 })!;
  const seed = intOption(v, 'seed', { min: 0, default: 0 })!;
  const json = flag(v, 'json');
  const record = optionalString(v, 'record');
  const thresholds = {
    head: floatOption(v, 'tau-head', { min: 0, minExclusive: true, max: 1000, default: DEFAULT_THRESHOLDS.head })!,
    neuron: floatOption(v, 'tau-neuron', { min: 0, minExclusive: true, max: 1000, default: DEFAULT_THRESHOLDS.neuron })!,
    edge: floatOption(v, 'tau-edge', { min: 0, minExclusive: true, max: 1, default: DEFAULT_THRESHOLDS.edge })!,
  };

  const force = flag(v, 'force');
  if (force && record === undefined) throw new CliError('--force applies only to --record FILE');
  const ablate = optionalString(v, 'ablate');
  if (ablate !== undefined && record !== undefined) throw new CliError('--ablate cannot be combined with --record: a recording does not store which heads were ablated');
  let modelArg = dir;
  if (record !== undefined) {
    // Before any work: the recording's target must be writable and must not be an input or a foreign file.
    modelArg = await resolveModelArg(dir, (line) => process.stderr.write(`${line}\n`));
    await checkRecordTarget(record, force, MODEL_FILES.map((f) => join(modelArg, f)));
  }

  const s = await openModel(modelArg);
  if (ablate !== undefined) {
    const heads = parseHeadNames(ablate, s.engine.config.nLayer, s.engine.config.nHead);
    if (typeof heads === 'string') throw new CliError(`--ablate: ${heads}`);
    s.engine.setAblatedHeads(heads);
  }
  let promptIds: number[];
  if (prompt !== undefined) {
    if (!s.tokenizer) throw new CliError(`generate: ${dir} has no tokenizer.json; pass token ids with --ids instead of --prompt`);
    promptIds = s.tokenizer.encode(prompt);
    if (promptIds.length === 0) throw new CliError('generate: the prompt encodes to no tokens');
  } else {
    promptIds = givenIds!;
  }
  if (!json && prompt !== undefined) process.stdout.write(prompt);
  // Streamed text holds back a character split across byte tokens until it is complete.
  const stream = s.tokenizer ? streamDecoder(s.tokenizer) : null;
  const out = await s.engine.generate(
    promptIds,
    { maxTokens: tokens, greedy, temperature, topK, seed, topLogits: json ? 5 : 0, probes: record !== undefined, thresholds },
    json ? undefined : (step) => process.stdout.write(stream ? stream.push(step.id) : `${step.index ? ',' : ''}${step.id}`),
  );
  if (stream && !json) process.stdout.write(stream.flush());
  const text = s.tokenizer ? s.tokenizer.decode(out.ids) : '';
  const broken = out.stopReason === 'non-finite-logits';
  if (record !== undefined && !broken) {
    await writeRecording({
      file: record, modelDir: s.dir, engine: s.engine, tokenizer: s.tokenizer, prompt: prompt ?? promptIds.join(','), out, thresholds,
      sampling: greedy ? { greedy } : { greedy, temperature, topK, seed }, maxTokens: tokens,
    });
    if (!json) process.stderr.write(`recorded ${out.ids.length} tokens to ${record}\n`);
  }
  if (json) {
    const obj = {
      prompt_ids: out.promptIds,
      ids: out.ids,
      text,
      steps: out.steps.map((st) => ({ id: st.id, top: st.top ?? [] })),
      prefill_ms: out.prefillMs,
      decode_ms: out.decodeMs,
      decode_tokens_per_s: out.decodeTokensPerS,
      stop_reason: out.stopReason,
    };
    process.stdout.write(`${JSON.stringify(obj)}\n`);
  } else {
    process.stdout.write('\n');
    const note = out.stopReason === 'context-full' ? ` (stopped: context of ${s.engine.config.nCtx} tokens is full)` : '';
    process.stderr.write(
      `${out.ids.length} tokens; prefill ${out.prefillMs.toFixed(1)} ms for ${promptIds.length} tokens; decode ${out.decodeTokensPerS.toFixed(1)} tokens/s${note}\n`,
    );
  }
  s.engine.destroy();
  // The JSON above still says what ran (stop_reason "non-finite-logits"); the exit code says it failed.
  if (broken) throw new GenerationError(`${s.dir}: ${out.error ?? 'the logits are not finite'}${record !== undefined ? ' (no recording written)' : ''}`);
}

/** A generation that could not go on (the model produced non-finite logits). */
export class GenerationError extends Error {
  override readonly name = 'GenerationError';
}
