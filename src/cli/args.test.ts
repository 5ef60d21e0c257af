// Option parsing: strictness and the one-line messages that name the flag and the bad value.
import { describe, expect, it } from 'vitest';
import { choice, CliError, floatOption, idList, intOption, parseOptions, positiveInt, requireString } from './args';

const specs = { tokens: { type: 'string' }, json: { type: 'boolean' }, model: { type: 'string' } } as const;

describe('parseOptions', () => {
  it('parses known flags', () => {
    expect(parseOptions(['--tokens', '5', '--json'], specs, 'generate')).toEqual({ tokens: '5', json: true });
  });

  it('rejects unknown flags, missing values and stray arguments as CliError', () => {
    expect(() => parseOptions(['--frob'], specs, 'generate')).toThrowError(CliError);
    expect(() => parseOptions(['--frob'], specs, 'generate')).toThrow(/^generate: .*--frob/);
    expect(() => parseOptions(['--tokens'], specs, 'generate')).toThrowError(CliError);
    expect(() => parseOptions(['extra'], specs, 'generate')).toThrow('generate: unexpected argument "extra"');
  });
});

describe('value readers', () => {
  it('integers: the message names the flag, the requirement and the value', () => {
    expect(positiveInt({ tokens: '12' }, 'tokens')).toBe(12);
    expect(positiveInt({}, 'tokens', 8)).toBe(8);
    for (const bad of ['x', '0', '-3', '1.5', '1e3', '', '99999999999999999999']) {
      expect(() => positiveInt({ tokens: bad }, 'tokens')).toThrow(`--tokens must be a positive integer (got ${JSON.stringify(bad)})`);
    }
    expect(intOption({ seed: '0' }, 'seed', { min: 0 })).toBe(0);
    expect(() => intOption({ seed: '-1' }, 'seed', { min: 0 })).toThrow('--seed must be a non-negative integer (got "-1")');
    expect(() => intOption({ k: '65' }, 'k', { min: 1, max: 64 })).toThrow('--k must be at most 64 (got "65")');
    expect(() => intOption({}, 'layers', { min: 1, required: true })).toThrow('--layers is required');
  });

  it('floats, strings, choices and id lists', () => {
    expect(floatOption({ t: '0.7' }, 't', { min: 0, minExclusive: true })).toBe(0.7);
    expect(() => floatOption({ t: '0' }, 't', { min: 0, minExclusive: true })).toThrow('--t must be a number > 0 (got "0")');
    expect(() => floatOption({ t: 'abc' }, 't')).toThrow('--t must be a number (got "abc")');
    expect(requireString({ model: 'dir' }, 'model')).toBe('dir');
    expect(() => requireString({}, 'model')).toThrow('--model is required');
    expect(choice({ dtype: 'F16' }, 'dtype', ['F32', 'F16'] as const)).toBe('F16');
    expect(() => choice({ dtype: 'F8' }, 'dtype', ['F32', 'F16'] as const)).toThrow('--dtype must be one of F32, F16 (got "F8")');
    expect(idList({ ids: '464, 2068,7586' }, 'ids')).toEqual([464, 2068, 7586]);
    expect(() => idList({ ids: '1,,2' }, 'ids')).toThrow(/--ids must be comma-separated non-negative integers/);
    expect(() => idList({ ids: '1,-2' }, 'ids')).toThrowError(CliError);
  });
});
