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
  /**
   * The Kafka clients the runtime needs, as small interfaces, and under client/kafkajs/ their one
   * implementation (the only code that imports kafkajs; see the tests below).
   */
  client: ['errors', 'logging'],
  /** The contract between declared processors and the machine that runs them, and the compiled graph. */
  processor: ['errors', 'serde'],
  serdes: ['errors', 'serde', 'processor'],
  config: ['errors', 'logging', 'client'],
  stores: ['errors', 'serde', 'serdes', 'processor'],
  /** Declares; it never imports the runtime. */
  dsl: ['errors', 'serde', 'serdes', 'processor', 'stores'],
  runtime: ['errors', 'logging', 'serde', 'serdes', 'processor', 'stores', 'config', 'client'],
  testing: ['errors', 'logging', 'serde', 'serdes', 'processor', 'stores', 'config', 'runtime'],
  tools: ['errors', 'logging', 'serde', 'serdes', 'processor', 'stores', 'config', 'client', 'runtime'],
  cli: ['errors', 'logging', 'serde', 'serdes', 'processor', 'stores', 'config', 'client', 'dsl', 'runtime', 'tools'],
  /** src/index.ts: the public API, gathered from every layer. */
  index: ['errors', 'logging', 'serde', 'processor', 'serdes', 'client', 'config', 'stores', 'dsl', 'runtime', 'testing', 'tools'],
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

/** Every import of src/ (static, type-only, re-exports, dynamic and `import('…')` types) as written. */
function allImports(): Import[] {
  return sourceFiles(SRC).flatMap((file) =>
    ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map(({ fileName }) => ({ from: relative(SRC, file), to: fileName })),
  );
}

/** Every relative import of src/, resolved to a path under src/. */
function relativeImports(): Import[] {
  return allImports()
    .filter(({ to }) => to.startsWith('.'))
    .map(({ from, to }) => ({ from, to: relative(SRC, resolve(dirname(join(SRC, from)), to)).replace(/\.js$/, '.ts') }));
}

const KAFKAJS_FOLDER = 'client/kafkajs/';

/**
 * What code outside client/kafkajs/ may import from it: the factory of the clients, and (from the package
 * entry only, which must load it before kafkajs) the producer patch.
 */
const KAFKAJS_ENTRIES: Readonly<Record<string, readonly string[]>> = {
  'client/kafkajs/kafkajs-client.ts': ['runtime', 'tools', 'cli'],
  'client/kafkajs/kafkajs-preload.ts': ['index'],
};

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

  it('imports kafkajs only in client/kafkajs/', () => {
    const outside = allImports()
      .filter(({ from, to }) => (to === 'kafkajs' || to.startsWith('kafkajs/')) && !from.startsWith(KAFKAJS_FOLDER))
      .map(({ from, to }) => `${from} imports ${to}`);
    expect(outside).toEqual([]);
    expect(allImports().some(({ from, to }) => from.startsWith(KAFKAJS_FOLDER) && to === 'kafkajs')).toBe(true);
  });

  it('reaches client/kafkajs/ only through its entries; the client interfaces never import it', () => {
    const stray = imports
      .filter(({ from, to }) => to.startsWith(KAFKAJS_FOLDER) && !from.startsWith(KAFKAJS_FOLDER))
      .filter(({ from, to }) => !(KAFKAJS_ENTRIES[to] ?? []).includes(layerOf(from)))
      .map(({ from, to }) => `${from} imports ${to}`);
    expect(stray).toEqual([]);
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
