// Typed error for everything that can be wrong with a model's files (config.json, model.safetensors,
// tokenizer.json): it names the file, the tensor when there is one, the problem and what to do.

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
    const where = `${opts.file}${opts.tensor !== undefined ? ` [${opts.tensor}]` : ''}`;
    super(`${where}: ${opts.problem}${opts.hint ? ` — ${opts.hint}` : ''}`);
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
