// The one loader for the kernels shaders/<kernel>.wgsl and the shared declarations they include from
// shaders/lib/<name>.wgsl (`// #include name`): bundled by Vite (`?raw` through import.meta.glob) in the browser
// and in vitest, read from disk under plain Node (tsx CLI), where import.meta.glob does not exist.
// Includes come only from shaders/lib/ and only from kernels (a lib file names what it needs in its header and
// the kernel includes each lib once), so every spliced declaration has one home and none is spliced twice.

export interface ShaderFiles {
  /** shaders/<name>.wgsl: one per kernel (what PipelineCache compiles). */
  kernels: Record<string, string>;
  /** shaders/lib/<name>.wgsl: the includable declarations. */
  lib: Record<string, string>;
}

let files: ShaderFiles | null = null;

const baseName = (path: string): string => path.replace(/^.*\/(\w+)\.wgsl$/, '$1');

function byName(globbed: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, text] of Object.entries(globbed)) out[baseName(path)] = text;
  return out;
}

/** The shaders read from disk (plain Node; tests compare it with the bundled set). */
export function readShaderDir(): ShaderFiles {
  const getBuiltin = (process as unknown as { getBuiltinModule: (id: string) => unknown }).getBuiltinModule;
  const fs = getBuiltin('node:fs') as typeof import('node:fs');
  const url = getBuiltin('node:url') as typeof import('node:url');
  const read = (rel: string): Record<string, string> => {
    const dir = url.fileURLToPath(new URL(/* @vite-ignore */ rel, import.meta.url));
    const out: Record<string, string> = {};
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.wgsl')) out[f.slice(0, -5)] = fs.readFileSync(dir + f, 'utf8');
    return out;
  };
  return { kernels: read('../../shaders/'), lib: read('../../shaders/lib/') };
}

function loadAll(): ShaderFiles {
  try {
    const kernels = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
    const lib = import.meta.glob('../../shaders/lib/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
    return { kernels: byName(kernels), lib: byName(lib) };
  } catch {
    // Plain Node: import.meta.glob is undefined (calling it throws).
    return readShaderDir();
  }
}

export function shaderFiles(): ShaderFiles {
  files ??= loadAll();
  return files;
}

/** Any line that means to be an include; one that does not match `// #include <name>` exactly is an error, not a comment. */
const INCLUDE_LINE = /^\/\/\s*#include\b.*$/gm;
const INCLUDE_EXACT = /^\/\/ #include (\w+)$/;
const HAS_INCLUDE = /^\/\/\s*#include\b/m;

/** The kernel `name` of `from` with each `// #include <lib>` line replaced by shaders/lib/<lib>.wgsl. */
export function expandIncludes(name: string, from: ShaderFiles): string {
  const src = from.kernels[name];
  if (src === undefined) throw new Error(`shaders/${name}.wgsl not found (kernels: ${Object.keys(from.kernels).join(', ')})`);
  const seen = new Set<string>();
  return src.replace(INCLUDE_LINE, (line: string) => {
    const lib = INCLUDE_EXACT.exec(line)?.[1];
    if (lib === undefined) throw new Error(`shaders/${name}.wgsl: malformed include '${line}' (write '// #include <name>')`);
    const text = from.lib[lib];
    if (text === undefined) {
      throw new Error(`shaders/${name}.wgsl includes '${lib}', which is not in shaders/lib/ (have: ${Object.keys(from.lib).join(', ')}); only lib files are includable`);
    }
    if (seen.has(lib)) throw new Error(`shaders/${name}.wgsl includes lib/${lib}.wgsl twice`);
    seen.add(lib);
    if (HAS_INCLUDE.test(text)) throw new Error(`shaders/lib/${lib}.wgsl has an include: a lib file names what it needs in its header, and the kernel includes it`);
    return text;
  });
}

/** WGSL source of the kernel shaders/<name>.wgsl, includes expanded. */
export function shaderSource(name: string): string {
  return expandIncludes(name, shaderFiles());
}
