// The ONNX export the browser benchmark feeds to ONNX Runtime Web (bench/build/dense.onnx), made by
// tools/train/export_onnx.py with PyTorch when it is missing or stale. Shared by `npm run bench:browser`
// and the benchmark page's e2e test.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
export const ONNX_FILE = resolve(root, 'bench/build/dense.onnx');

function python(): string {
  if (process.env.PYTHON) return process.env.PYTHON;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/**
 * Re-exports weights/dense when the ONNX file is missing, older than the weights or the export script,
 * or its greedy check (the PyTorch model's tokens the page compares every engine with) has fewer than `tokens`.
 */
export function ensureOnnx(tokens: number, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
  const script = resolve(root, 'tools/train/export_onnx.py');
  const weights = resolve(root, 'weights/dense/model.safetensors');
  const checkFile = `${ONNX_FILE}.check.json`;
  let fresh = existsSync(ONNX_FILE) && existsSync(checkFile) &&
    statSync(ONNX_FILE).mtimeMs >= Math.max(statSync(weights).mtimeMs, statSync(script).mtimeMs);
  if (fresh) fresh = (JSON.parse(readFileSync(checkFile, 'utf8')) as { greedy_ids: number[] }).greedy_ids.length >= tokens;
  if (fresh) return;
  log(`exporting weights/dense to ${ONNX_FILE} (PyTorch, tools/train/export_onnx.py)`);
  execFileSync(python(), [script, '--model', resolve(root, 'weights/dense'), '--out', ONNX_FILE, '--check-tokens', String(Math.max(tokens, 32))], { stdio: ['ignore', 'pipe', 'inherit'] });
}
