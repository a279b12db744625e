import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layers of src/ and which layers each may import; dependencies point down, never up or in circles
 * (see ../shared/STYLE.md). A layer is a folder under src/, except the Serde interface (serdes/serde.ts):
 * the processor contract carries serdes in its node and store definitions, while the serde
 * implementations (windowed serdes) use the contract's Windowed, so the interface is a leaf of its own.
 */
const LAYERS: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  logging: [],
  serde: [],
  /** The contract between declared processors and the machine that runs them, and the compiled graph. */
  processor: ['errors', 'serde'],
  serdes: ['errors', 'serde', 'processor'],
  config: ['errors', 'logging'],
  stores: ['errors', 'serde', 'serdes', 'processor'],
  /** Declares; it never imports the runtime. */
  dsl: ['errors', 'serde', 'serdes', 'processor', 'stores'],
  runtime: ['errors', 'logging', 'serde', 'serdes', 'processor', 'stores', 'config'],
  testing: ['errors', 'logging', 'serde', 'serdes', 'processor', 'stores', 'config', 'runtime'],
  tools: ['errors', 'logging', 'serde', 'serdes', 'processor', 'config', 'runtime'],
  cli: ['errors', 'logging', 'serde', 'serdes', 'processor', 'stores', 'config', 'dsl', 'runtime', 'tools'],
  /** src/index.ts: the public API, gathered from every layer. */
  index: ['errors', 'logging', 'serde', 'processor', 'serdes', 'config', 'stores', 'dsl', 'runtime', 'testing', 'tools'],
};

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** The layer of a file under src/, by its path relative to src/ (`dsl/kstream.ts`). */
function layerOf(path: string): string {
  if (path === 'serdes/serde.ts') return 'serde';
  const slash = path.indexOf('/');
  return slash === -1 ? 'index' : path.slice(0, slash);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  readonly from: string;
  readonly to: string;
}

/** Every relative import of src/ (static, type-only, re-exports, dynamic and `import('…')` types), resolved. */
function relativeImports(): Import[] {
  return sourceFiles(SRC).flatMap((file) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    return importedFiles
      .filter(({ fileName }) => fileName.startsWith('.'))
      .map(({ fileName }) => ({
        from: relative(SRC, file),
        to: relative(SRC, resolve(dirname(file), fileName)).replace(/\.js$/, '.ts'),
      }));
  });
}

describe('layers of src/', () => {
  const imports = relativeImports();

  it('finds the imports it checks', () => {
    expect(imports.length).toBeGreaterThan(100);
    expect(imports).toContainEqual({ from: 'runtime/stream-task.ts', to: 'processor/topology.ts' });
  });

  it('gives every folder under src/ a layer', () => {
    const layers = new Set(sourceFiles(SRC).map((file) => layerOf(relative(SRC, file))));
    expect([...layers].filter((layer) => LAYERS[layer] === undefined)).toEqual([]);
  });

  it('imports only down the table', () => {
    const upward = imports
      .filter(({ from, to }) => {
        const source = layerOf(from);
        const target = layerOf(to);
        return source !== target && !(LAYERS[source] ?? []).includes(target);
      })
      .map(({ from, to }) => `${from} (${layerOf(from)}) imports ${to} (${layerOf(to)})`);
    expect(upward).toEqual([]);
  });

  it('has no circle in the table itself', () => {
    const circles: string[] = [];
    const visit = (layer: string, path: readonly string[]): void => {
      if (path.includes(layer)) {
        circles.push([...path.slice(path.indexOf(layer)), layer].join(' -> '));
        return;
      }
      for (const below of LAYERS[layer] ?? []) visit(below, [...path, layer]);
    };
    for (const layer of Object.keys(LAYERS)) visit(layer, []);
    expect(circles).toEqual([]);
  });
});
