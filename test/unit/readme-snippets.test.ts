import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { readmeBlocks, type ReadmeBlock } from '../../scripts/readme-blocks.js';
import * as kstreams from '../../src/index.js';

/**
 * README.md cannot drift from the code: every ts block is type-checked against the public API (as a reader's
 * strict project would, `kstreams-ts` being src/index.ts), the blocks marked `run` run against the
 * TopologyTestDriver and must give what the README shows, and every `npm run X` and `kstreams <command>` of
 * the sh blocks exists. How blocks are marked: scripts/readme-blocks.ts.
 */
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const blocks = readmeBlocks(readFileSync(join(repo, 'README.md'), 'utf8'));
const tsBlocks = blocks.filter((b) => b.lang === 'ts' && b.directives.notChecked === undefined);
/** Where the blocks live as files: inside the repository, so they are ES modules like its own files. */
const blockRoot = join(repo, '.readme-blocks');

/** A block with everything it continues, first to last. */
function chainOf(block: ReadmeBlock): ReadmeBlock[] {
  const { continues } = block.directives;
  if (continues === undefined) return [block];
  const before = tsBlocks.slice(0, tsBlocks.indexOf(block));
  const target = continues === true ? before.at(-1) : before.find((b) => b.directives.name === continues);
  if (target === undefined) throw new Error(`README.md:${block.line}: continues '${String(continues)}', which no earlier ts block is`);
  return [...chainOf(target), block];
}

/** A chain as one module, with the README line of each of its lines. */
function moduleOf(chain: readonly ReadmeBlock[]): { text: string; readmeLines: number[] } {
  const text: string[] = [];
  const readmeLines: number[] = [];
  for (const block of chain) {
    block.code.split('\n').forEach((line, i) => {
      text.push(line);
      readmeLines.push(block.line + 1 + i);
    });
  }
  text.push('export {};'); // a module even without imports, so blocks never share globals
  return { text: text.join('\n'), readmeLines };
}

function fileOf(block: ReadmeBlock): string {
  return join(blockRoot, block.directives.file ?? `readme-line-${block.line}.ts`);
}

describe('README.md', () => {
  it('has only blocks this check knows, each tagged', () => {
    for (const block of blocks) {
      expect(['ts', 'sh', ''], `README.md:${block.line}: a \`\`\`${block.lang} block`).toContain(block.lang);
      if (block.directives.run === true) expect(block.lang, `README.md:${block.line}: run`).toBe('ts');
    }
    // Skipping a block is the exception: say why, and keep them few.
    expect(blocks.filter((b) => b.directives.notChecked !== undefined).length).toBeLessThanOrEqual(3);
  });

  it('type-checks every ts block against the public API, strict as the project', () => {
    const config = ts.getParsedCommandLineOfConfigFile(join(repo, 'tsconfig.json'), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    });
    if (config === undefined) throw new Error('tsconfig.json');
    const files = new Map<string, { text: string; readmeLines: number[] }>();
    for (const block of tsBlocks) files.set(fileOf(block), moduleOf(chainOf(block)));
    const options: ts.CompilerOptions = {
      ...config.options,
      noEmit: true,
      declaration: false,
      sourceMap: false,
      // A snippet shows one thing and may import or declare more than it uses; everything else is as strict.
      noUnusedLocals: false,
      noUnusedParameters: false,
      paths: { 'kstreams-ts': [join(repo, 'src/index.ts')] },
    };
    const host = ts.createCompilerHost(options);
    const { fileExists, readFile, getSourceFile } = host;
    host.fileExists = (name) => files.has(resolve(name)) || fileExists.call(host, name);
    const folders = new Set([...files.keys()].flatMap((file) => [dirname(file), dirname(dirname(file))]));
    const { directoryExists } = host;
    host.directoryExists = (name) => folders.has(resolve(name)) || (directoryExists?.call(host, name) ?? false);
    host.readFile = (name) => files.get(resolve(name))?.text ?? readFile.call(host, name);
    host.getSourceFile = (name, language, ...rest) => {
      const block = files.get(resolve(name));
      return block === undefined
        ? getSourceFile.call(host, name, language, ...rest)
        : ts.createSourceFile(name, block.text, language, true);
    };
    const program = ts.createProgram({ rootNames: [...files.keys()], options, host });
    const diagnostics = ts.getPreEmitDiagnostics(program);
    const problems = diagnostics
      .filter((d) => d.file === undefined || files.has(resolve(d.file.fileName)))
      .map((d) => {
        const message = `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
        if (d.file === undefined || d.start === undefined) return message;
        const { line } = d.file.getLineAndCharacterOfPosition(d.start);
        return `README.md:${files.get(resolve(d.file.fileName))?.readmeLines[line] ?? '?'}: ${message}`;
      });
    // Errors in src/ itself are the project type-check's business; any here would come from the blocks.
    const elsewhere = diagnostics.length - problems.length;
    expect(problems).toEqual([]);
    expect(elsewhere).toBe(0);
  });

  const runnable = tsBlocks.filter((b) => b.directives.run === true);
  it.each(runnable.map((b) => [b.line, b] as const))('runs the block at line %i as the README shows', async (_line, block) => {
    const chain = chainOf(block);
    // Each block's output is told apart by a marker; `expr; // → value` lines become assertions.
    const source = chain
      .map((b, i) =>
        [`__segment(${i});`, ...b.code.split('\n').map((line, k) => {
          const claim = /^(\s*)(.+?);\s*\/\/ → (.+)$/.exec(line);
          return claim === null ? line : `${claim[1]}__claim((${claim[2]}), (${claim[3]}), ${b.line + 1 + k});`;
        })].join('\n'),
      )
      .join('\n');
    const js = ts
      .transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } })
      .outputText.replace(/^import\s*\{([^}]*)\}\s*from\s*'kstreams-ts';$/gm, (_all, names: string) => `const {${names.replace(/\bas\b/g, ':')}} = __kstreams;`)
      .replace(/^export \{\};$/m, '');
    expect(js, 'only kstreams-ts imports can run here').not.toMatch(/^import /m);
    const printed: string[][] = chain.map(() => []);
    let segment = 0;
    const claims: Array<{ line: number; actual: unknown; expected: unknown }> = [];
    const console = { log: (...args: unknown[]) => printed[segment]?.push(args.map(String).join(' ')) };
    const AsyncFunction = (Object.getPrototypeOf(async () => undefined) as { constructor: new (...args: string[]) => (...args: unknown[]) => Promise<void> }).constructor;
    await new AsyncFunction('__kstreams', 'console', '__segment', '__claim', js)(
      kstreams,
      console,
      (i: number) => (segment = i),
      (actual: unknown, expected: unknown, line: number) => claims.push({ line, actual, expected }),
    );
    for (const { line, actual, expected } of claims) expect(actual, `README.md:${line}`).toEqual(expected);
    const own = printed.at(-1) ?? [];
    if (own.length > 0) {
      const next = blocks.find((b) => b.line > block.line);
      expect(next?.lang, `README.md:${block.line}: what it prints must be the next block, untagged`).toBe('');
      expect(own.join('\n').trimEnd()).toBe((next?.code ?? '').trimEnd());
    }
  });

  it('names only npm scripts and kstreams commands that exist', async () => {
    const scripts = Object.keys((JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    const commands = new Map<string, number>();
    const problems: string[] = [];
    for (const block of blocks.filter((b) => b.lang === 'sh')) {
      const lines = block.code.replace(/\\\n/g, ' ').split('\n');
      lines.forEach((line, i) => {
        const where = `README.md:${block.line + 1 + i}`;
        for (const command of line.replace(/(^|\s)#.*$/, '').split(/&&|\|\||;|\|/)) {
          const words = command.trim().split(/\s+/);
          if (words[0] === 'npm' && words[1] === 'run') {
            if (!scripts.includes(words[2] ?? '')) problems.push(`${where}: npm run ${words[2]}: no such script`);
            if (words[2] === 'kstreams' && words[3] === '--' && words[4] !== undefined) commands.set(words[4], block.line + 1 + i);
          } else if (words[0] === 'npm' && words[1] === 'test' && !scripts.includes('test')) {
            problems.push(`${where}: npm test: no test script`);
          }
          const cli = words[0] === 'npx' ? words.slice(1) : words;
          if (cli[0] === 'kstreams' && cli[1] !== undefined) commands.set(cli[1], block.line + 1 + i);
        }
      });
    }
    expect(commands.size).toBeGreaterThan(0);
    const run = promisify(execFile);
    await Promise.all(
      [...commands].map(async ([command, line]) => {
        const args = command.startsWith('-') ? [command] : [command, '--help'];
        await run(join(repo, 'node_modules/.bin/tsx'), ['src/cli/kstreams.ts', ...args], { cwd: repo }).catch(() =>
          problems.push(`README.md:${line}: kstreams ${command}: not a command of src/cli/kstreams.ts`),
        );
      }),
    );
    expect(problems).toEqual([]);
  });
});
