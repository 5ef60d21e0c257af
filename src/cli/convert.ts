// `convert`: rewrites a model directory with its block matrices dense or block-sparse (BSR), losslessly:
// dense-with-zeros ⇄ BSR, byte-exact round trips, config.json and tokenizer.json copied unchanged.

import { resolve } from 'node:path';
import { BSR_BLOCK_SIZES, BSR_VALUES_SUFFIX, fileBsrBlockSize } from '../model/bsr';
import { prunableMatrices, validateGpt2Tensors, writeGpt2Checkpoint } from '../model/checkpoint';
import type { GPT2Config } from '../model/config';
import { joinSource } from '../model/errors';
import { readModelDir } from '../model/files';
import { PRUNE_METADATA_KEYS } from '../model/prune';
import { parseSafetensors, type SafetensorsFile } from '../model/safetensors';
import { choice, CliError, flag, parseOptions, requireString, type OptionValues } from './args';
import { resolveModelArg } from './hubCache';
import { previewJson } from '../shared/preview';
import { readInput, writeOutputDir, type OutputFile } from './outputs';

export const HELP = `usage: npm run -s cli -- convert --model DIR --to dense|bsr [--block B] --out DIR

Writes OUT/model.safetensors with every attn.c_attn, attn.c_proj, mlp.c_fc and mlp.c_proj weight stored
dense (--to dense) or block-sparse (--to bsr, companion tensors <name>.bsr_crow_indices / .bsr_col_indices /
.bsr_values, docs/bsr.md), and copies config.json and tokenizer.json unchanged. Lossless: a BSR block is
stored iff it holds a nonzero element, dtypes and tensor order are kept, and dense → bsr → dense (or
bsr → dense → bsr) gives back the same bytes.

  --model DIR   model directory (config.json, model.safetensors, optional tokenizer.json), or
                hf:owner/name[@revision] (downloaded once into a cache)
  --to FORMAT   dense or bsr
  --block B     BSR block size: ${BSR_BLOCK_SIZES.join(', ')} (--to bsr only; default: the model's own BSR block or
                the block it was pruned with, else 32)
  --out DIR     output directory (created if missing; must differ from --model). Written as one unit:
                nothing is left there if the command fails, and no input file is ever replaced`;

const OPTIONS = {
  model: { type: 'string' },
  to: { type: 'string' },
  block: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** --block as one of the BSR block sizes. */
export function blockOption(values: OptionValues): number | undefined {
  const raw = choice(values, 'block', BSR_BLOCK_SIZES.map(String));
  return raw === undefined ? undefined : Number(raw);
}

/** The BSR block a file already uses or was pruned with, if any. */
function sourceBlock(st: SafetensorsFile): number | undefined {
  const sparse = [...st.tensors.keys()].find((n) => n.endsWith(BSR_VALUES_SUFFIX));
  if (sparse !== undefined) return fileBsrBlockSize(st, sparse);
  const pruned = Number(st.metadata[PRUNE_METADATA_KEYS.block]);
  return (BSR_BLOCK_SIZES as readonly number[]).includes(pruned) ? pruned : undefined;
}

/** Refuses to write over the model being read. */
export function checkOutDir(model: string, out: string): void {
  if (resolve(model) === resolve(out)) throw new CliError(`--out must differ from --model (both are ${previewJson(out)})`);
}

/**
 * Checks that the new model.safetensors loads against the config (so a bug here can never leave an
 * unloadable model behind), then writes it into OUT with config.json and tokenizer.json (when present)
 * copied byte for byte, as one unit (src/cli/outputs.ts): under temporary names, renamed into place at the
 * end, removed again on any failure; never over an input file. Returns the written file, parsed.
 */
export async function writeConvertedDir(
  source: { source: string; config: GPT2Config; tokenizerJson?: unknown }, out: string, safetensors: Uint8Array, extraInputs: readonly string[] = [],
): Promise<SafetensorsFile> {
  const written = parseSafetensors(safetensors, joinSource(out, 'model.safetensors'));
  validateGpt2Tensors(written, source.config, joinSource(out, 'config.json'));
  const inputs = ['config.json', 'model.safetensors', 'tokenizer.json'].map((n) => joinSource(source.source, n));
  const files: OutputFile[] = [{ name: 'config.json', data: await readInput(inputs[0]) }];
  if (source.tokenizerJson !== undefined) files.push({ name: 'tokenizer.json', data: await readInput(inputs[2]) });
  files.push({ name: 'model.safetensors', data: safetensors });
  await writeOutputDir(out, files, [...inputs, ...extraInputs]);
  return written;
}

/** Stored blocks over all blocks of a checked file's BSR matrices (null when none is BSR). */
export function overallBlockDensity(st: SafetensorsFile, config: GPT2Config): number | null {
  let stored = 0;
  let total = 0;
  for (const info of validateGpt2Tensors(st, config).values()) {
    if (!info.bsr) continue;
    stored += info.bsr.col.length;
    total += Math.ceil(info.bsr.rows / info.bsr.block) * Math.ceil(info.bsr.cols / info.bsr.block);
  }
  return total === 0 ? null : stored / total;
}

export async function run(args: string[]): Promise<void> {
  const values = parseOptions(args, OPTIONS, 'convert');
  if (flag(values, 'help')) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const model = requireString(values, 'model');
  const to = choice(values, 'to', ['dense', 'bsr'] as const);
  if (to === undefined) throw new CliError('--to is required (dense or bsr)');
  const out = requireString(values, 'out');
  let block = blockOption(values);
  if (to === 'dense' && block !== undefined) throw new CliError('--block applies only to --to bsr');
  checkOutDir(model, out);

  const dir = await resolveModelArg(model, (line) => process.stderr.write(`${line}\n`));
  checkOutDir(dir, out);
  const files = await readModelDir(dir);
  const st = files.safetensors;
  if (to === 'bsr') block ??= sourceBlock(st) ?? 32;
  const bytes = writeGpt2Checkpoint(st, { format: to, block });
  const written = await writeConvertedDir(files, out, bytes);

  const num = (n: number) => n.toLocaleString('en-US');
  const density = overallBlockDensity(written, files.config);
  const detail = to === 'bsr' ? ` (block ${block}${density === null ? '' : `, block density ${density.toFixed(4)}`})` : '';
  process.stdout.write(
    `wrote ${out}: ${prunableMatrices(files.config).length} matrices ${to}${detail}, ` +
    `model.safetensors ${num(st.raw.byteLength)} → ${num(bytes.byteLength)} bytes\n`,
  );
}
