// The import rule of docs/architecture.md, checked over the real import graph: a module imports only
// from its own layer or the layers below it, so a change low down never needs one higher up.
//   shared → gpu → kernels → model → probes → app, bench → ui, cli
// cli and ui are siblings (neither imports the other); nothing under src/ imports e2e/.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = normalize(join(__dirname, '..'));
const LAYER: Record<string, number> = { shared: 0, gpu: 1, kernels: 2, model: 3, probes: 4, app: 5, bench: 5, ui: 6, cli: 6 };
/** Same-rank folders that may import each other's modules (none: siblings stay independent). */
const SIBLINGS_ALLOWED = new Set<string>([]);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** [importer, imported] pairs of repository paths, for every relative import, export-from and import(). */
export function importEdges(files: string[]): Array<[string, string]> {
  const edges: Array<[string, string]> = [];
  const re = /(?:^|\s)(?:import|export)\s[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|new URL\(\s*['"](\.{1,2}\/[^'"]+\.ts)['"]/g;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(re)) {
      const spec = m[1] ?? m[2] ?? m[3];
      edges.push([relative(root, f), relative(root, normalize(join(dirname(f), spec)))]);
    }
  }
  return edges;
}

const folder = (p: string): string | null => (p.startsWith('src/') && p.split('/').length > 2 ? p.split('/')[1] : null);

/** Why an import breaks the rule, or null. Test files follow the rule too (they may use e2e/ helpers only from e2e/). */
export function violation(from: string, to: string): string | null {
  if (to.startsWith('e2e/') && !from.startsWith('e2e/')) return 'only e2e/ imports e2e/';
  const a = folder(from);
  const b = folder(to);
  if (a === null || b === null || a === b) return null;
  if (!(a in LAYER)) return `src/${a}/ is not a known layer: add it to LAYER in src/layers.test.ts and to docs/architecture.md`;
  if (!(b in LAYER)) return `src/${b}/ is not a known layer`;
  if (LAYER[b] > LAYER[a]) return `${a} (layer ${LAYER[a]}) imports ${b} (layer ${LAYER[b]}), a layer above it`;
  if (LAYER[b] === LAYER[a] && !SIBLINGS_ALLOWED.has(`${a}->${b}`)) return `${a} and ${b} are siblings and must not import each other`;
  return null;
}

describe('layers', () => {
  const files = [...sources(join(root, 'src')), ...sources(join(root, 'e2e'))];
  const edges = importEdges(files);

  it('reads a real import graph', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(edges.length).toBeGreaterThan(300);
    // The engine reaches its kernels: the graph is not empty by accident of the pattern.
    expect(edges).toContainEqual(['src/model/forward.ts', 'src/kernels/gemv']);
  });

  it('every src/ folder is a layer', () => {
    const folders = readdirSync(join(root, 'src')).filter((n) => statSync(join(root, 'src', n)).isDirectory());
    expect(folders.filter((f) => !(f in LAYER))).toEqual([]);
  });

  it('no module imports from a layer above it', () => {
    const bad = edges.map(([f, t]) => [f, t, violation(f, t)]).filter(([, , v]) => v !== null).map(([f, t, v]) => `${f} -> ${t}: ${v}`);
    expect(bad).toEqual([]);
  });

  it('the rule catches what it should', () => {
    expect(violation('src/gpu/pipelines.ts', 'src/kernels/shaders')).toMatch(/layer above/);
    expect(violation('src/cli/record.ts', 'src/ui/recorder')).toMatch(/siblings/);
    expect(violation('src/cli/benchBrowser.ts', 'e2e/browser')).toMatch(/e2e/);
    expect(violation('src/ui/demo-app.ts', 'src/app/engineClient')).toBeNull();
    expect(violation('src/model/gpt2.ts', 'src/shared/probes')).toBeNull();
  });
});
