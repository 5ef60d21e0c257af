// Typed error for everything that can be wrong with a model's files (config.json, model.safetensors,
// tokenizer.json): it names the file, the tensor when there is one, the problem and what to do. The message
// is bounded (at most about 1,650 characters): the file name shows at most 2 · PREVIEW_CHARS characters, a
// tensor name PREVIEW_CHARS, the problem MAX_PROBLEM_CHARS and the hint MAX_HINT_CHARS (values echoed inside
// them go through previewJson, src/shared/preview.ts, so these limits only cut runaways).

import { clipText, PREVIEW_CHARS } from '../shared/preview';

/** Longest problem and hint texts a message carries. */
export const MAX_PROBLEM_CHARS = 800;
export const MAX_HINT_CHARS = 400;

/** Which kind of problem a ModelFormatError reports; tests and callers switch on this, not on the text. */
export type ModelFormatErrorCode =
  | 'truncated'
  | 'header-length'
  | 'header-json'
  | 'unknown-dtype'
  | 'offsets'
  | 'overlap'
  | 'missing-tensor'
  | 'shape'
  | 'dtype'
  | 'unsupported'
  | 'config'
  | 'tokenizer'
  | 'value'
  | 'io';

export interface ModelFormatErrorOptions {
  /** File (path or URL) the problem is in. */
  file: string;
  /** Tensor name, when the problem is about one tensor. */
  tensor?: string;
  /** What is wrong, e.g. "shape [768, 2304] expected, file has [768, 768]". */
  problem: string;
  code: ModelFormatErrorCode;
  /** What to do about it, when there is something useful to say. */
  hint?: string;
}

export class ModelFormatError extends Error {
  readonly file: string;
  readonly tensor?: string;
  readonly problem: string;
  readonly code: ModelFormatErrorCode;
  readonly hint?: string;

  constructor(opts: ModelFormatErrorOptions) {
    const where = `${clipText(opts.file, 2 * PREVIEW_CHARS)}${opts.tensor !== undefined ? ` [${clipText(opts.tensor, PREVIEW_CHARS)}]` : ''}`;
    super(`${where}: ${clipText(opts.problem, MAX_PROBLEM_CHARS)}${opts.hint ? ` — ${clipText(opts.hint, MAX_HINT_CHARS)}` : ''}`);
    this.name = 'ModelFormatError';
    this.file = opts.file;
    this.tensor = opts.tensor;
    this.problem = opts.problem;
    this.code = opts.code;
    this.hint = opts.hint;
  }
}

/** Joins a model source (directory or URL) and a file name without doubling the slash. */
export function joinSource(source: string, name: string): string {
  if (source === '') return name;
  return `${source.replace(/[\\/]+$/, '')}/${name}`;
}
