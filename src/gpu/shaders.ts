// The one loader for shaders/<kernel>.wgsl (and their `// #include` of shared helpers): bundled by Vite (`?raw` through import.meta.glob) in the
// browser and in vitest, read from disk under plain Node (tsx CLI), where import.meta.glob does not exist.

let sources: Record<string, string> | null = null;

function loadAll(): Record<string, string> {
  try {
    const globbed = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<
      string,
      string
    >;
    const out: Record<string, string> = {};
    for (const [path, text] of Object.entries(globbed)) out[path.replace(/^.*\/(\w+)\.wgsl$/, '$1')] = text;
    return out;
  } catch {
    // Plain Node: import.meta.glob is undefined (calling it throws). Read the folder synchronously.
    const getBuiltin = (process as unknown as { getBuiltinModule: (id: string) => unknown }).getBuiltinModule;
    const fs = getBuiltin('node:fs') as typeof import('node:fs');
    const url = getBuiltin('node:url') as typeof import('node:url');
    const dir = url.fileURLToPath(new URL(/* @vite-ignore */ '../../shaders/', import.meta.url));
    const out: Record<string, string> = {};
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.wgsl')) out[f.slice(0, -5)] = fs.readFileSync(dir + f, 'utf8');
    return out;
  }
}

/** WGSL source of shaders/<name>.wgsl, with `// #include <other>` lines replaced by shaders/<other>.wgsl. */
export function shaderSource(name: string, including: string[] = []): string {
  sources ??= loadAll();
  const src = sources[name];
  if (src === undefined) throw new Error(`shaders/${name}.wgsl not found (have: ${Object.keys(sources).join(', ')})`);
  if (including.includes(name)) throw new Error(`shaders/${name}.wgsl includes itself (${[...including, name].join(' -> ')})`);
  return src.replace(/^\/\/ #include (\w+)$/gm, (_, other: string) => shaderSource(other, [...including, name]));
}
