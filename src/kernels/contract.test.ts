// The host–shader contract, checked without a GPU: every `var<uniform>` of every kernel shader (includes
// expanded) has a TS declaration at its binding whose fields match the WGSL struct in name, order, type,
// offset and size; shared structs and the epilogue codes are declared once and agree between TS and WGSL.

import { describe, expect, it } from 'vitest';
import { defineUniform, type ShaderUniforms, type UniformLayout } from '../gpu/uniform';
import { shaderFiles, shaderSource } from '../gpu/shaders';
import { stepUniform, thresholdsUniform } from './kernel';
import { EPILOGUES } from './gelu';
import { ATTENTION_SHADER } from './attention';
import { BLOCKNORM_SHADER } from './blocknorm';
import { BSR_GEMV_SHADER, BSR_MATMUL_SHADER } from './bsr';
import { EMBED_SHADER } from './embed';
import { GEMV_SHADER, GEMV_ROWS_PER_THREAD, gemvParams } from './gemv';
import { LAYERNORM_SHADER } from './layernorm';
import { MATMUL_SHADER } from './matmul';
import { PROBE_SHADER } from './probe';
import { ROOFLINE_SHADER } from './roofline';
import { SAMPLE_SHADER } from './sample';

/** Every kernel module's declaration; a shader missing here fails 'every kernel shader is declared'. */
const DECLARED: readonly ShaderUniforms[] = [
  ATTENTION_SHADER, BLOCKNORM_SHADER, BSR_GEMV_SHADER, BSR_MATMUL_SHADER, EMBED_SHADER, GEMV_SHADER,
  LAYERNORM_SHADER, MATMUL_SHADER, PROBE_SHADER, ROOFLINE_SHADER, SAMPLE_SHADER,
];

interface WgslField { name: string; type: string; offset: number }
interface WgslStruct { name: string; fields: WgslField[]; bytes: number }
interface UniformVar { group: number; binding: number; name: string; struct: string }

/** WGSL host-shareable layout (align, size) of the types a uniform may use here; anything else is refused. */
const LAYOUT: Record<string, { align: number; size: number }> = {
  u32: { align: 4, size: 4 }, i32: { align: 4, size: 4 }, f32: { align: 4, size: 4 },
  'vec4<f32>': { align: 16, size: 16 }, vec4f: { align: 16, size: 16 },
  'vec4<u32>': { align: 16, size: 16 }, vec4u: { align: 16, size: 16 },
  'vec4<i32>': { align: 16, size: 16 }, vec4i: { align: 16, size: 16 },
};

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

/** The structs declared in src, laid out by WGSL's rules (offset: rounded up to the member's alignment). */
function parseStructs(src: string): Map<string, WgslStruct> {
  const out = new Map<string, WgslStruct>();
  for (const m of stripComments(src).matchAll(/\bstruct\s+(\w+)\s*\{([^}]*)\}/g)) {
    const name = m[1];
    if (out.has(name)) throw new Error(`struct ${name} declared twice`);
    let offset = 0;
    let align = 1;
    const fields: WgslField[] = [];
    for (const member of m[2].split(',').map((s) => s.trim()).filter(Boolean)) {
      const f = /^(\w+)\s*:\s*(\w+(?:\s*<\s*\w+\s*>)?)$/.exec(member);
      if (!f) throw new Error(`struct ${name}: cannot read member '${member}' (attributes such as @align/@size are not supported)`);
      const type = f[2].replace(/\s+/g, '');
      const l = LAYOUT[type];
      if (!l) throw new Error(`struct ${name}.${f[1]}: unknown type '${type}' (known: ${Object.keys(LAYOUT).join(', ')})`);
      offset = roundUp(offset, l.align);
      fields.push({ name: f[1], type, offset });
      offset += l.size;
      align = Math.max(align, l.align);
    }
    out.set(name, { name, fields, bytes: roundUp(offset, align) });
  }
  return out;
}

/** Every `var<uniform>` of src; one not written as `@group(g) @binding(b) var<uniform> name: Struct;` is an error. */
function parseUniformVars(src: string): UniformVar[] {
  const code = stripComments(src);
  const vars = [...code.matchAll(/@group\(\s*(\d+)\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var\s*<\s*uniform\s*>\s*(\w+)\s*:\s*(\w+)\s*;/g)].map((m) => ({
    group: Number(m[1]), binding: Number(m[2]), name: m[3], struct: m[4],
  }));
  const all = code.match(/\bvar\s*<\s*uniform\s*>/g)?.length ?? 0;
  if (all !== vars.length) throw new Error(`${all} var<uniform> declarations, ${vars.length} in the form @group(g) @binding(b) var<uniform> name: Struct;`);
  return vars;
}

/** How a TS declaration differs from the WGSL struct (empty: they agree). */
function layoutProblems(decl: UniformLayout, wgsl: WgslStruct): string[] {
  const problems: string[] = [];
  if (decl.struct !== wgsl.name) problems.push(`struct name: TS '${decl.struct}', WGSL '${wgsl.name}'`);
  const n = Math.max(decl.fields.length, wgsl.fields.length);
  for (let i = 0; i < n; i++) {
    const t = decl.fields[i];
    const w = wgsl.fields[i];
    const show = (f?: { name: string; type: string; offset: number }) => (f ? `${f.name}: ${f.type} @${f.offset}` : '(none)');
    if (!t || !w || t.name !== w.name || t.type !== w.type || t.offset !== w.offset) problems.push(`field ${i}: TS ${show(t)}, WGSL ${show(w)}`);
  }
  if (decl.bytes !== wgsl.bytes) problems.push(`size: TS ${decl.bytes} bytes, WGSL ${wgsl.bytes}`);
  return problems;
}

/** Everything wrong with one kernel's declaration against its shader's source. */
function contractProblems(decl: ShaderUniforms, src: string): string[] {
  const structs = parseStructs(src);
  const vars = parseUniformVars(src);
  const problems: string[] = [];
  for (const v of vars) {
    const where = `${decl.shader}.wgsl @binding(${v.binding}) ${v.name}: ${v.struct}`;
    if (v.group !== 0) problems.push(`${where}: group ${v.group} (kernels use group 0 only)`);
    const layout = decl.uniforms[v.binding];
    if (!layout) { problems.push(`${where}: no TS declaration at this binding`); continue; }
    const wgsl = structs.get(v.struct);
    if (!wgsl) { problems.push(`${where}: struct ${v.struct} not declared`); continue; }
    problems.push(...layoutProblems(layout, wgsl).map((p) => `${where}: ${p}`));
  }
  for (const b of Object.keys(decl.uniforms).map(Number)) {
    if (!vars.some((v) => v.binding === b)) problems.push(`${decl.shader}.wgsl: TS declares a uniform at binding ${b}, the shader has none there`);
  }
  return problems;
}

describe('host–shader contract', () => {
  const files = shaderFiles();

  it('every kernel shader is declared, once', () => {
    const declared = DECLARED.map((d) => d.shader);
    expect(new Set(declared).size).toBe(declared.length);
    expect([...declared].sort()).toEqual(Object.keys(files.kernels).sort());
  });

  it.each(DECLARED.map((d) => [d.shader, d] as const))('%s: every var<uniform> matches its TS declaration', (_, decl) => {
    const src = shaderSource(decl.shader);
    expect(parseUniformVars(src).length).toBeGreaterThan(0);
    expect(contractProblems(decl, src)).toEqual([]);
  });

  it('a declaration that differs from the WGSL struct is caught', () => {
    const src = shaderSource('gemv');
    const f = gemvParams.fields.map(({ name, type }) => ({ name, type }));
    const swapped = [f[1], f[0], ...f.slice(2)];
    const withUniform = (p: UniformLayout) => ({ ...GEMV_SHADER, uniforms: { ...GEMV_SHADER.uniforms, 0: p } });
    expect(contractProblems(withUniform(defineUniform('Params', swapped)), src)).toEqual([
      'gemv.wgsl @binding(0) p: Params: field 0: TS K: u32 @0, WGSL N: u32 @0',
      'gemv.wgsl @binding(0) p: Params: field 1: TS N: u32 @4, WGSL K: u32 @4',
    ]);
    const retyped = f.map((x) => (x.name === 'hasBias' ? { ...x, type: 'f32' as const } : x));
    expect(contractProblems(withUniform(defineUniform('Params', retyped)), src)).toEqual([
      'gemv.wgsl @binding(0) p: Params: field 4: TS hasBias: f32 @16, WGSL hasBias: u32 @16',
    ]);
    const longer = [...f, { name: '_pad2', type: 'u32' as const }, { name: '_pad3', type: 'u32' as const }, { name: '_pad4', type: 'u32' as const }, { name: '_pad5', type: 'u32' as const }];
    expect(contractProblems(withUniform(defineUniform('Params', longer)), src)).toHaveLength(5); // 4 extra fields, size
    expect(contractProblems(withUniform(defineUniform('Parameters', f)), src)).toEqual([
      "gemv.wgsl @binding(0) p: Params: struct name: TS 'Parameters', WGSL 'Params'",
    ]);
    // A binding the shader has with no declaration, and one declared that the shader lacks.
    const { 5: _, ...noThresholds } = GEMV_SHADER.uniforms;
    expect(contractProblems({ ...GEMV_SHADER, uniforms: noThresholds }, src)).toEqual(['gemv.wgsl @binding(5) th: Thresholds: no TS declaration at this binding']);
    expect(contractProblems({ ...GEMV_SHADER, uniforms: { ...GEMV_SHADER.uniforms, 9: stepUniform } }, src)).toEqual([
      'gemv.wgsl: TS declares a uniform at binding 9, the shader has none there',
    ]);
  });

  it('lays structs out by the WGSL rules and refuses what it does not know', () => {
    const s = parseStructs('struct S { a: f32, b: vec4<f32>, c: u32 }\n// struct Hidden { x: u32 }').get('S')!;
    expect(s.fields.map((f) => f.offset)).toEqual([0, 16, 32]);
    expect(s.bytes).toBe(48);
    expect(parseStructs('/* struct Hidden { x: u32 } */').size).toBe(0);
    expect(() => parseStructs('struct S { m: mat4x4<f32> }')).toThrow(/unknown type 'mat4x4<f32>'/);
    expect(() => parseStructs('struct S { @align(16) a: u32 }')).toThrow(/cannot read member/);
    expect(() => parseUniformVars('var<uniform> p: Params;')).toThrow(/1 var<uniform> declarations, 0/);
  });

  it('Step and Thresholds are declared once, in shaders/lib/, and lib structs nowhere else', () => {
    const all = [
      ...Object.entries(files.kernels).map(([n, t]) => [`${n}.wgsl`, t] as const),
      ...Object.entries(files.lib).map(([n, t]) => [`lib/${n}.wgsl`, t] as const),
    ];
    const homes = (struct: string) => all.filter(([, t]) => new RegExp(`\\bstruct\\s+${struct}\\b`).test(stripComments(t))).map(([n]) => n);
    expect(homes('Step')).toEqual(['lib/step.wgsl']);
    expect(homes('Thresholds')).toEqual(['lib/thresholds.wgsl']);
    for (const [lib, text] of Object.entries(files.lib)) {
      for (const name of parseStructs(text).keys()) expect(homes(name), `struct ${name} of lib/${lib}.wgsl`).toEqual([`lib/${lib}.wgsl`]);
    }
    expect(parseStructs(files.lib.step).get('Step')).toBeDefined();
    expect(layoutProblems(stepUniform, parseStructs(files.lib.step).get('Step')!)).toEqual([]);
    expect(layoutProblems(thresholdsUniform, parseStructs(files.lib.thresholds).get('Thresholds')!)).toEqual([]);
  });

  it('the epilogue codes agree between TS (EPILOGUES) and shaders/lib/epilogue.wgsl, and kernels use the names', () => {
    const wgsl = Object.fromEntries(
      [...stripComments(files.lib.epilogue).matchAll(/\bconst\s+(EPILOGUE_\w+)\s*=\s*(\d+)u\s*;/g)].map((m) => [m[1], Number(m[2])]),
    );
    expect(wgsl).toEqual(EPILOGUES);
    for (const name of Object.keys(files.kernels)) {
      const code = stripComments(shaderSource(name));
      expect(code, `${name}.wgsl compares EPILOGUE with a number`).not.toMatch(/\bEPILOGUE\s*[=!]=\s*\d/);
      expect(code.match(/\bconst\s+EPILOGUE_/g)?.length ?? 0, `${name}.wgsl declares epilogue codes itself`).toBe(
        /^\/\/ #include epilogue$/m.test(files.kernels[name]) ? Object.keys(EPILOGUES).length : 0,
      );
    }
  });

  it("the row kernels' rows per thread agree between TS (GEMV_ROWS_PER_THREAD) and shaders/lib/gemv_store.wgsl", () => {
    const m = stripComments(files.lib.gemv_store).match(/\bconst\s+ROWS4\s*=\s*(\d+)u\s*;/);
    expect(m, 'const ROWS4 in lib/gemv_store.wgsl').not.toBeNull();
    expect(Number(m![1])).toBe(GEMV_ROWS_PER_THREAD);
    for (const name of ['gemv', 'bsr_gemv']) expect(stripComments(files.kernels[name]), `${name}.wgsl`).not.toMatch(/\bconst\s+ROWS4\b/);
  });
});
