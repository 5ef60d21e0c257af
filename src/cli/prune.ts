// `prune`: block-prunes a model's attention and MLP matrices to a density (src/model/prune.ts) and writes a
// loadable BSR checkpoint; this file only reads and writes files (the pruning itself runs in browsers too).

import { readFile } from 'node:fs/promises';
import { BSR_BLOCK_SIZES } from '../model/bsr';
import { loadGpt2Weights, validateGpt2Tensors, writeGpt2Checkpoint, type WeightDtype } from '../model/checkpoint';
import { joinSource, ModelFormatError } from '../model/errors';
import { readModelDir } from '../model/files';
import {
  calibrationWindows, collectActivationNorms, DEFAULT_CALIBRATION_TEXT, PRUNE_METADATA_KEYS, PRUNE_METHODS, pruneGpt2,
  type ActivationNorms, type PruneMethod,
} from '../model/prune';
import { loadTokenizer } from '../model/tokenizer';
import { clipText } from '../shared/preview';
import { choice, CliError, flag, floatOption, optionalString, parseOptions, requireString } from './args';
import { blockOption, checkOutDir, writeConvertedDir } from './convert';
import { resolveModelArg } from './hubCache';

export const HELP = `usage: npm run -s cli -- prune --model DIR --density 0.125 --block 32 [--method magnitude|activation] [--calibration FILE] --out DIR

Keeps, in every attn.c_attn, attn.c_proj, mlp.c_fc and mlp.c_proj weight, exactly round(density × blocks)
B×B blocks, the highest-scoring ones (ties: lower block index), zeroes the rest and writes OUT as a BSR
checkpoint (config.json and tokenizer.json copied; __metadata__ records method, density and block).

  --model DIR          model directory, or hf:owner/name[@revision] (downloaded once into a cache)
  --density D          fraction of blocks kept per matrix, in (0, 1]
  --block B            block size: ${BSR_BLOCK_SIZES.join(', ')}
  --method M           magnitude (default): Frobenius norm of the block;
                       activation: Wanda-style, sqrt(Σ (|W[k,n]| · ‖X_k‖)²) with ‖X_k‖ the L2 norm of input
                       feature k over the calibration tokens (CPU reference forward; needs tokenizer.json)
  --calibration FILE   calibration text for --method activation (default: a built-in paragraph); split
                       into windows of the model's context length
  --out DIR            output directory (created if missing; must differ from --model). Written as one
                       unit: nothing is left there if the command fails, and no input file is ever replaced`;

const OPTIONS = {
  model: { type: 'string' },
  density: { type: 'string' },
  block: { type: 'string' },
  method: { type: 'string' },
  calibration: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function readCalibration(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new ModelFormatError({ file, code: 'io', problem: code === 'ENOENT' ? 'calibration file not found' : `cannot read calibration file (${clipText(String((e as Error).message))})` });
  }
}

export async function run(args: string[]): Promise<void> {
  const values = parseOptions(args, OPTIONS, 'prune');
  if (flag(values, 'help')) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const model = requireString(values, 'model');
  if (values.density === undefined) throw new CliError('--density is required (fraction of blocks kept, e.g. 0.125)');
  const density = floatOption(values, 'density', { min: 0, minExclusive: true, max: 1 })!;
  const block = blockOption(values);
  if (block === undefined) throw new CliError(`--block is required (${BSR_BLOCK_SIZES.join(', ')})`);
  const method: PruneMethod = choice(values, 'method', PRUNE_METHODS, 'magnitude')!;
  const calibration = optionalString(values, 'calibration');
  if (calibration !== undefined && method !== 'activation') throw new CliError('--calibration applies only to --method activation');
  const out = requireString(values, 'out');
  checkOutDir(model, out);
  // The calibration file first: a wrong path fails before the model is read.
  const text = method !== 'activation' ? undefined : calibration === undefined ? DEFAULT_CALIBRATION_TEXT : await readCalibration(calibration);

  const dir = await resolveModelArg(model, (line) => process.stderr.write(`${line}\n`));
  checkOutDir(dir, out);
  const files = await readModelDir(dir);
  const st = files.safetensors;
  const dtypes = new Map([...validateGpt2Tensors(st, files.config)].map(([name, info]) => [name, info.dtype as WeightDtype]));
  const weights = loadGpt2Weights(st, files.config);

  let norms: ActivationNorms | undefined;
  if (method === 'activation') {
    if (files.tokenizerJson === undefined) {
      throw new ModelFormatError({
        file: joinSource(dir, 'tokenizer.json'), code: 'io', problem: 'file not found',
        hint: '--method activation encodes the calibration text with it; use --method magnitude for a model without a tokenizer',
      });
    }
    const tokenizer = await loadTokenizer(files.tokenizerJson, { file: joinSource(dir, 'tokenizer.json'), vocabSize: files.config.vocabSize });
    const ids = tokenizer.encode(text!);
    if (ids.length === 0) throw new Error(`${calibration ?? 'built-in calibration text'}: encodes to no tokens`);
    norms = collectActivationNorms(weights, calibrationWindows(ids, files.config.nCtx));
  }

  const pruned = pruneGpt2(weights, { density, block, method, activationNorms: norms });
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(st.metadata)) if (!k.startsWith('prune_')) metadata[k] = v;
  metadata[PRUNE_METADATA_KEYS.method] = method;
  metadata[PRUNE_METADATA_KEYS.density] = String(density);
  metadata[PRUNE_METADATA_KEYS.block] = String(block);
  if (norms) metadata[PRUNE_METADATA_KEYS.calibrationTokens] = String(norms.tokens);
  const bytes = writeGpt2Checkpoint(pruned.weights, { format: 'bsr', block, dtype: (name) => dtypes.get(name) ?? 'F32', metadata });
  await writeConvertedDir(files, out, bytes, calibration !== undefined ? [calibration] : []);

  const kept = pruned.matrices.reduce((s, m) => s + m.keptBlocks, 0);
  const total = pruned.matrices.reduce((s, m) => s + m.totalBlocks, 0);
  const num = (n: number) => n.toLocaleString('en-US');
  process.stdout.write(
    `wrote ${out}: ${method} pruning to density ${density} in ${block}×${block} blocks` +
    `${norms ? ` (${num(norms.tokens)} calibration tokens)` : ''}: kept ${num(kept)} of ${num(total)} blocks in ` +
    `${pruned.matrices.length} matrices; model.safetensors ${num(st.raw.byteLength)} → ${num(bytes.byteLength)} bytes\n`,
  );
}
