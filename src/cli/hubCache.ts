// `--model hf:owner/name[@revision]` for the CLI: downloads the model's files from the Hub once into
// a local cache folder and returns that folder. The Hub address comes from HF_ENDPOINT (as in
// huggingface_hub), the folder from SPARSE_GPT2_CACHE or XDG_CACHE_HOME (default ~/.cache).

import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { downloadFile, hubFileUrl, parseHubRef, DEFAULT_HUB, MODEL_FILES } from '../model/hub';
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
  await mkdir(dir, { recursive: true });
  const endpoint = process.env.HF_ENDPOINT ?? DEFAULT_HUB;
  for (const file of MODEL_FILES) {
    const path = join(dir, file);
    const missingMarker = `${path}.absent`;
    if ((await exists(path)) || (await exists(missingMarker))) continue;
    const url = hubFileUrl(ref, file, endpoint);
    log(`downloading ${url}`);
    const bytes = await downloadFile(url, file, { optional: file === 'tokenizer.json' });
    if (bytes === null) {
      await writeFile(missingMarker, '');
      continue;
    }
    // Write beside, then rename: an interrupted download never leaves a half file under the real name.
    await writeFile(`${path}.part`, bytes);
    await rename(`${path}.part`, path);
  }
  // Validate now, so a bad download is reported as such (and can be deleted) before any GPU work.
  await readModelDir(dir);
  return dir;
}
