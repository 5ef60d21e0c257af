// Command-line option parsing for the CLI: node:util parseArgs plus typed readers whose errors are one
// line saying which flag is wrong, what it needs and what was given.

import { parseArgs } from 'node:util';
import { clipText, previewJson } from '../shared/preview';

/** Bad usage: main prints `error: <message>` and exits 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export type OptionSpecs = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** Parses args strictly: unknown flags, missing values and stray positionals are CliErrors. */
export function parseOptions(args: string[], options: OptionSpecs, command: string): OptionValues {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new CliError(`${command}: unexpected argument ${previewJson(positionals[0])}`);
    return values as OptionValues;
  } catch (e) {
    if (e instanceof CliError) throw e;
    // parseArgs' messages are multi-sentence; keep the first, which names the flag.
    const msg = ((e as Error).message ?? String(e)).split('\n')[0].replace(/\. To specify a positional.*$/, '');
    throw new CliError(`${command}: ${clipText(msg, 400)}`);
  }
}

/** Every value of a repeatable string option (declared with multiple: true), in order. */
export function stringList(values: OptionValues, name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  if (list.some((x) => typeof x !== 'string' || x === '')) throw new CliError(`--${name} needs a value`);
  return list as string[];
}

function str(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new CliError(`--${name} may be given only once`);
  if (typeof v !== 'string') throw new CliError(`--${name} needs a value`);
  return v;
}

export function requireString(values: OptionValues, name: string): string {
  const v = str(values, name);
  if (v === undefined || v === '') throw new CliError(`--${name} is required`);
  return v;
}

export function optionalString(values: OptionValues, name: string): string | undefined {
  const v = str(values, name);
  if (v === '') throw new CliError(`--${name} must not be empty`);
  return v;
}

export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

const INT = /^[+-]?[0-9]+$/;

/** An integer option in [min, max]; min 1 or 0 words the message as positive / non-negative. Absent: default, or a CliError when required. */
export function intOption(
  values: OptionValues,
  name: string,
  opts: { min?: number; max?: number; default?: number; required?: boolean } = {},
): number | undefined {
  const raw = str(values, name);
  if (raw === undefined) {
    if (opts.required) throw new CliError(`--${name} is required`);
    return opts.default;
  }
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const kind = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : 'an integer';
  const n = Number(raw);
  if (!INT.test(raw.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new CliError(`--${name} must be ${kind} (got ${previewJson(raw)})`);
  }
  if (opts.max !== undefined && n > opts.max) {
    throw new CliError(`--${name} must be at most ${opts.max} (got ${previewJson(raw)})`);
  }
  return n;
}

/** A positive integer option (≥ 1). */
export function positiveInt(values: OptionValues, name: string, def?: number): number | undefined {
  return intOption(values, name, { min: 1, default: def });
}

export function requirePositiveInt(values: OptionValues, name: string): number {
  return intOption(values, name, { min: 1, required: true })!;
}

/** A finite number option within [min, max] (exclusive min when minExclusive). */
export function floatOption(
  values: OptionValues,
  name: string,
  opts: { min?: number; max?: number; minExclusive?: boolean; default?: number } = {},
): number | undefined {
  const raw = str(values, name);
  if (raw === undefined) return opts.default;
  const n = Number(raw);
  const tooLow = opts.min !== undefined && (opts.minExclusive ? n <= opts.min : n < opts.min);
  const tooHigh = opts.max !== undefined && n > opts.max;
  if (raw.trim() === '' || !Number.isFinite(n) || tooLow || tooHigh) {
    const range = [
      opts.min !== undefined ? `${opts.minExclusive ? '>' : '≥'} ${opts.min}` : '',
      opts.max !== undefined ? `≤ ${opts.max}` : '',
    ].filter(Boolean).join(' and ');
    throw new CliError(`--${name} must be a number${range ? ` ${range}` : ''} (got ${previewJson(raw)})`);
  }
  return n;
}

/** A comma-separated list of non-negative integers, e.g. `--ids 464,2068,7586`. */
export function idList(values: OptionValues, name: string): number[] | undefined {
  const raw = str(values, name);
  if (raw === undefined) return undefined;
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^[0-9]+$/.test(p) || !Number.isSafeInteger(Number(p)))) {
    throw new CliError(`--${name} must be comma-separated non-negative integers like 464,2068,7586 (got ${previewJson(raw)})`);
  }
  return parts.map(Number);
}

/** One of a fixed set of words. */
export function choice<T extends string>(values: OptionValues, name: string, allowed: readonly T[], def?: T): T | undefined {
  const raw = str(values, name);
  if (raw === undefined) return def;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new CliError(`--${name} must be one of ${allowed.join(', ')} (got ${previewJson(raw)})`);
  }
  return raw as T;
}
