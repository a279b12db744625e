/**
 * Replacing one of kafkajs' internal modules before kafkajs loads: a module put into Node's module cache
 * under kafkajs' own path is what kafkajs' `require` finds.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire, Module } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Puts `exports` in the module cache as kafkajs' `specifier` (a path inside the kafkajs package), unless that
 * module is loaded already. Returns false when kafkajs was loaded first or its layout differs: then kafkajs
 * keeps its own module, which the caller's "active" check reports.
 */
export function replaceKafkajsModule(specifier: string, exports: () => unknown): boolean {
  try {
    const path = require.resolve(specifier);
    const cache = require.cache as Record<string, unknown>;
    if (cache[path] !== undefined) return false;
    const mod = new Module(path) as Module & { filename: string; loaded: boolean; exports: unknown };
    mod.filename = path;
    mod.loaded = true;
    mod.exports = exports();
    cache[path] = mod;
    return true;
  } catch {
    return false;
  }
}

/** True when `require(specifier)` gives `exports`: the replacement took effect. */
export function kafkajsModuleIs(specifier: string, exports: unknown): boolean {
  try {
    return exports !== undefined && require(specifier) === exports;
  } catch {
    return false;
  }
}

/**
 * kafkajs' own module `specifier`, compiled from its file without entering the module cache: the original
 * that a replacement falls back to, and that tests compare a replacement with.
 */
export function compileKafkajsModule(specifier: string): unknown {
  const path = require.resolve(specifier);
  type Compilable = Module & { filename: string; paths: string[]; exports: unknown; _compile(code: string, file: string): void };
  const mod = new Module(path) as Compilable;
  mod.filename = path;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(path));
  mod._compile(readFileSync(path, 'utf8'), path);
  return mod.exports;
}
