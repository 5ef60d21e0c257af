// Declared uniform layouts: a kernel's uniform struct is written once in TS as a named field list, packed by one
// helper, and checked field for field against the WGSL struct it feeds (src/kernels/contract.test.ts), so the
// host and the shader cannot drift apart silently (a swapped or missing field is a test failure, not wrong maths).

/** The scalar types a uniform field may have: each is 4 bytes with 4-byte alignment in WGSL. */
export type UniformType = 'u32' | 'i32' | 'f32';

export interface UniformField<N extends string = string> {
  readonly name: N;
  readonly type: UniformType;
}

/** A padding field: named in the declaration (as in the WGSL struct), always written as zero, never passed to pack. */
export type PadName = `_${string}`;

/** What pack takes: exactly the declaration's non-padding fields, each a number. */
export type UniformValues<N extends string> = { readonly [K in Exclude<N, PadName>]: number };

/** The values a declared layout's pack takes. */
export type UniformValuesOf<L> = L extends UniformLayout<infer N> ? UniformValues<N> : never;

export interface UniformLayout<N extends string = string> {
  /** The WGSL struct's name. */
  readonly struct: string;
  /** Fields in declaration (= memory) order, with their byte offsets. */
  readonly fields: ReadonlyArray<UniformField<N> & { readonly offset: number }>;
  /** Size in bytes, a multiple of 16 (padding is declared as fields, never implied). */
  readonly bytes: number;
  /** The uniform's bytes; written into `into` (at least `bytes` long) when given, so per-step writes allocate nothing. */
  pack(values: UniformValues<N>, into?: ArrayBuffer): ArrayBuffer;
}

const isPad = (name: string): boolean => name.startsWith('_');

/**
 * Declares the uniform struct `struct` of a shader, fields in WGSL order. Padding is explicit: the fields
 * must fill a multiple of 16 bytes, pad fields named `_pad0`, `_pad1`, … exactly as in the WGSL struct.
 * Values are converted as typed arrays do (u32: ToUint32, i32: ToInt32, f32: rounded to single).
 */
export function defineUniform<const N extends string>(struct: string, fields: ReadonlyArray<UniformField<N>>): UniformLayout<N> {
  if (fields.length === 0) throw new Error(`uniform ${struct}: no fields`);
  const names = new Set<string>();
  for (const f of fields) {
    if (names.has(f.name)) throw new Error(`uniform ${struct}: field '${f.name}' declared twice`);
    names.add(f.name);
  }
  const bytes = fields.length * 4;
  if (bytes % 16 !== 0) {
    throw new Error(`uniform ${struct}: ${bytes} bytes; declare padding fields (_pad0, …) up to a multiple of 16, as in the WGSL struct`);
  }
  const laid = fields.map((f, i) => ({ name: f.name, type: f.type, offset: 4 * i }));
  // The view of the last `into` buffer, kept so a per-step pack into the same scratch allocates nothing.
  let lastInto: ArrayBuffer | null = null;
  let lastView: DataView | null = null;
  return {
    struct,
    fields: laid,
    bytes,
    pack(values, into) {
      const buf = into ?? new ArrayBuffer(bytes);
      if (buf.byteLength < bytes) throw new Error(`uniform ${struct}: pack into ${buf.byteLength} bytes, needs ${bytes}`);
      let view: DataView;
      if (into && into === lastInto) view = lastView!;
      else {
        view = new DataView(buf);
        if (into) [lastInto, lastView] = [into, view];
      }
      const vals = values as Readonly<Record<string, number>>;
      for (const f of laid) {
        const v = isPad(f.name) ? 0 : vals[f.name];
        if (v === undefined) throw new Error(`uniform ${struct}: no value for '${f.name}'`);
        if (f.type === 'f32') view.setFloat32(f.offset, v, true);
        else if (f.type === 'i32') view.setInt32(f.offset, v, true);
        else view.setUint32(f.offset, v >>> 0, true);
      }
      return buf;
    },
  };
}

/** Which declared uniform each `var<uniform>` binding of one kernel shader (shaders/<shader>.wgsl) takes. */
export interface ShaderUniforms {
  readonly shader: string;
  readonly uniforms: Readonly<Record<number, UniformLayout>>;
}

export function shaderUniforms(shader: string, uniforms: Readonly<Record<number, UniformLayout>>): ShaderUniforms {
  return { shader, uniforms };
}
