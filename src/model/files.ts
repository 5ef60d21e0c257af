// Reading a model's three files (config.json, model.safetensors, optional tokenizer.json) from a Node
// directory or over HTTP in the browser. Node modules are imported lazily so this bundles for the web.

import { parseModelFiles, type ModelFiles } from './checkpoint';
import { joinSource, ModelFormatError } from './errors';
import { clipText } from '../shared/preview';

const MAKE_HINT = 'create a model with `npm run -s cli -- make-test-model --out DIR --layers 2 --heads 2 --embd 64 --vocab 256 --ctx 128 --seed 1`';

/** Node's fs/promises, imported at run time only (a variable specifier keeps bundlers from resolving it). */
export async function nodeFs(): Promise<typeof import('node:fs/promises')> {
  const name = 'node:fs/promises';
  return (await import(/* @vite-ignore */ name)) as typeof import('node:fs/promises');
}

function ioError(file: string, e: unknown, required: boolean): ModelFormatError {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') {
    return new ModelFormatError({
      file, code: 'io', problem: 'file not found',
      hint: required ? `a model directory needs config.json and model.safetensors; ${MAKE_HINT}` : undefined,
    });
  }
  if (code === 'EISDIR') return new ModelFormatError({ file, code: 'io', problem: 'is a directory, expected a file' });
  return new ModelFormatError({ file, code: 'io', problem: `cannot read (${clipText(String((e as Error)?.message ?? e), 300)})` });
}

/** Reads and validates a model directory (Node). Missing or unreadable files give a ModelFormatError with code 'io'. */
export async function readModelDir(dir: string): Promise<ModelFiles> {
  const fs = await nodeFs();
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory()) {
      throw new ModelFormatError({ file: dir, code: 'io', problem: 'not a directory', hint: '--model takes the directory holding config.json and model.safetensors' });
    }
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    if ((e as { code?: string }).code === 'ENOENT') {
      throw new ModelFormatError({ file: dir, code: 'io', problem: 'model directory not found', hint: MAKE_HINT });
    }
    throw ioError(dir, e, true);
  }
  const configPath = joinSource(dir, 'config.json');
  const weightsPath = joinSource(dir, 'model.safetensors');
  const tokenizerPath = joinSource(dir, 'tokenizer.json');
  const config = await fs.readFile(configPath, 'utf8').catch((e: unknown) => { throw ioError(configPath, e, true); });
  const tokenizer = await fs.readFile(tokenizerPath, 'utf8').catch((e: unknown) => {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw ioError(tokenizerPath, e, false);
  });
  const buf = await fs.readFile(weightsPath).catch((e: unknown) => { throw ioError(weightsPath, e, true); });
  const safetensors = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return parseModelFiles(dir, { config, safetensors, tokenizer });
}

async function get(url: string, fetchImpl: typeof fetch, accept: string): Promise<Response> {
  try {
    return await fetchImpl(url, { headers: { Accept: accept } });
  } catch (e) {
    throw new ModelFormatError({ file: url, code: 'io', problem: `request failed (${clipText(String((e as Error)?.message ?? e), 300)})`, hint: 'check the URL and that the server is running' });
  }
}

/** Dev servers answer unknown paths with their index.html (SPA fallback): that is a missing file, not a model file. */
function isHtml(res: Response): boolean {
  return (res.headers.get('content-type') ?? '').toLowerCase().startsWith('text/html');
}

async function required(url: string, res: Response): Promise<Response> {
  if (!res.ok) {
    throw new ModelFormatError({
      file: url, code: 'io', problem: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`,
      hint: res.status === 404 ? 'put config.json and model.safetensors under that path on the server' : undefined,
    });
  }
  if (isHtml(res)) {
    throw new ModelFormatError({ file: url, code: 'io', problem: 'server returned an HTML page instead of the file (is the file missing?)' });
  }
  return res;
}

/** Fetches and validates a model from baseUrl (browser or Node with fetch). tokenizer.json may be absent (404). */
export async function fetchModelFiles(baseUrl: string, fetchImpl: typeof fetch = fetch): Promise<ModelFiles> {
  const configUrl = joinSource(baseUrl, 'config.json');
  const weightsUrl = joinSource(baseUrl, 'model.safetensors');
  const tokenizerUrl = joinSource(baseUrl, 'tokenizer.json');
  const [configRes, weightsRes, tokenizerRes] = await Promise.all([
    get(configUrl, fetchImpl, 'application/json'),
    get(weightsUrl, fetchImpl, 'application/octet-stream'),
    get(tokenizerUrl, fetchImpl, 'application/json'),
  ]);
  const config = await (await required(configUrl, configRes)).text();
  let tokenizer: string | undefined;
  if (tokenizerRes.status === 404 || (tokenizerRes.ok && isHtml(tokenizerRes))) {
    tokenizer = undefined;
  } else {
    tokenizer = await (await required(tokenizerUrl, tokenizerRes)).text();
  }
  const safetensors = new Uint8Array(await (await required(weightsUrl, weightsRes)).arrayBuffer());
  return parseModelFiles(baseUrl, { config, safetensors, tokenizer });
}
