// The shader loader's rules: kernels from shaders/, includes only from shaders/lib/ (each once, none nested),
// every lib file headed by what it needs, and the bundled set equal to what plain Node reads from disk.

import { describe, expect, it } from 'vitest';
import { expandIncludes, readShaderDir, shaderFiles, shaderSource, type ShaderFiles } from './shaders';

const fake = (kernel: string, lib: Record<string, string> = { a: 'const A = 1u;\n' }): ShaderFiles => ({ kernels: { k: kernel, a: 'kernel a' }, lib });

describe('shader loader', () => {
  it('splices lib files in place of their include lines', () => {
    expect(expandIncludes('k', fake('x\n// #include a\ny\n'))).toBe('x\nconst A = 1u;\n\ny\n');
  });

  it('refuses an include of a non-lib name, a repeated include, a nested include and a malformed one', () => {
    expect(() => expandIncludes('k', fake('// #include k\n'))).toThrow(/'k', which is not in shaders\/lib\//);
    expect(() => expandIncludes('k', fake('// #include a\n// #include a\n'))).toThrow(/twice/);
    expect(() => expandIncludes('k', fake('// #include a\n', { a: '// #include b\n', b: '' }))).toThrow(/lib\/a.wgsl has an include/);
    expect(() => expandIncludes('k', fake('//#include a\n'))).toThrow(/malformed include/);
    expect(() => expandIncludes('nope', fake(''))).toThrow(/not found/);
  });

  it('serves kernels only, with every include expanded', () => {
    const { kernels, lib } = shaderFiles();
    expect(Object.keys(kernels)).toContain('gemv');
    expect(Object.keys(lib)).toContain('step');
    expect(() => shaderSource('step')).toThrow(/not found/);
    for (const k of Object.keys(kernels)) expect(shaderSource(k)).not.toMatch(/^\/\/\s*#include/m);
  });

  it('heads every lib file with a comment naming what it needs from the including file', () => {
    for (const [name, text] of Object.entries(shaderFiles().lib)) {
      const header = text.slice(0, text.search(/^(?!\/\/)/m));
      expect(header, `lib/${name}.wgsl`).toMatch(/^\/\/ Needs from the including file: /m);
    }
  });

  it('reads the same files from disk (the CLI path) as the bundle holds', () => {
    expect(readShaderDir()).toEqual(shaderFiles());
  });
});
