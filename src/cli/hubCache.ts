// `--model hf:owner/name[@revision]` for the CLI: downloads the model's files from the Hub once into
// a local cache folder and returns that folder. The Hub address comes from HF_ENDPOINT (as in
// huggingface_hub), the folder from SPARSE_GPT2_CACHE or XDG_CACHE_HOME (default ~/.cache).
// Nothing bad gets in: the files are downloaded into memory and validated together (parseModelFiles, and
// every weight within f16's range) before the cache folder is even created; each is then written beside its name and renamed, and a
// failure removes what this call wrote, so an unreachable Hub leaves no empty folder behind.

import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { downloadFile, hubFileUrl, parseHubRef, DEFAULT_HUB, MODEL_FILES, type ModelFileName } from '../model/hub';
import { checkWeightValues, parseModelFiles, validateGpt2Tensors } from '../model/checkpoint';
import { readModelDir } from '../model/files';

export function cacheRoot(): string {
  return process.env.SPARSE_GPT2_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sparse-gpt2');
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/** A model directory for a --model argument: a plain path as is, an hf: reference downloaded once. */
export async function resolveModelArg(arg: string, log: (line: string) => void = () => {}): Promise<string> {
  const ref = parseHubRef(arg);
  if (!ref) return arg;
  const dir = join(cacheRoot(), 'hub', ref.repo.replace('/', '--'), ref.revision);
  const endpoint = process.env.HF_ENDPOINT ?? DEFAULT_HUB;

  // 1. Everything not cached yet, downloaded into memory (null: the Hub has no such optional file).
  const fetched = new Map<ModelFileName, Uint8Array | null>();
  for (const file of MODEL_FILES) {
    const path = join(dir, file);
    if ((await exists(path)) || (await exists(`${path}.absent`))) continue;
    const url = hubFileUrl(ref, file, endpoint);
    log(`downloading ${url}`);
    fetched.set(file, await downloadFile(url, file, { optional: file === 'tokenizer.json' }));
  }
  if (fetched.size === 0) {
    await readModelDir(dir);
    return dir;
  }

  // 2. The three files validated together, new and cached alike, before anything is written.
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  const bytesOf = async (file: ModelFileName): Promise<Uint8Array | null> => {
    if (fetched.has(file)) return fetched.get(file)!;
    const path = join(dir, file);
    return (await exists(path)) ? new Uint8Array(await readFile(path)) : null;
  };
  const config = await bytesOf('config.json');
  const weights = await bytesOf('model.safetensors');
  const tokenizer = await bytesOf('tokenizer.json');
  if (config !== null && weights !== null) {
    const parsed = parseModelFiles(dir, { config: text(config), safetensors: weights, tokenizer: tokenizer === null ? undefined : text(tokenizer) });
    checkWeightValues(parsed.safetensors, validateGpt2Tensors(parsed.safetensors, parsed.config));
  }

  // 3. Written: the folder made only now; each file beside its name, then renamed; a failure undoes this call.
  let created: string | undefined;
  const written: string[] = [];
  try {
    created = await mkdir(dir, { recursive: true });
    for (const [file, bytes] of fetched) {
      const path = join(dir, file);
      if (bytes === null) {
        await writeFile(`${path}.absent`, '');
        written.push(`${path}.absent`);
        continue;
      }
      written.push(`${path}.part`);
      await writeFile(`${path}.part`, bytes);
      await rename(`${path}.part`, path);
      written.push(path);
    }
  } catch (e) {
    for (const p of written) await rm(p, { force: true }).catch(() => undefined);
    if (created !== undefined) await rm(created, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  await readModelDir(dir);
  return dir;
}
