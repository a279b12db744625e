/**
 * The fenced code blocks of README.md, with the directives that tell the README check
 * (test/unit/readme-snippets.test.ts) and the package check (scripts/check-package.sh) what to do with each.
 *
 * A directive is an HTML comment on the lines just before a fence (blank lines between are allowed);
 * several may share one comment, separated by `;`:
 *   <!-- file: src/topology.ts -->    the block is that file of the reader's project (other blocks import it)
 *   <!-- name: dsl -->                 a name other blocks can continue
 *   <!-- continues -->                 a fragment: checked after the previous checked ts block (and its chain)
 *   <!-- continues: dsl -->            the same, after the block named dsl
 *   <!-- run -->                       also run it (with what it continues) against the TopologyTestDriver:
 *                                      a line `expr; // → value` asserts the value, and what the block prints
 *                                      must be the next untagged block
 *   <!-- not checked: reason -->       skipped, for a reason the README's source says
 *
 * Run as a script, `tsx scripts/readme-blocks.ts file src/app.ts [README.md]` prints the block marked as that file.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ReadmeDirectives {
  readonly file?: string;
  readonly name?: string;
  /** true: the previous checked ts block; a string: the block of that name. */
  readonly continues?: true | string;
  readonly run?: boolean;
  readonly notChecked?: string;
}

export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The info string's first word: 'ts', 'sh', or '' for an untagged block. */
  readonly lang: string;
  /** The block's text, without the fences and without the fence's own indentation. */
  readonly code: string;
  readonly directives: ReadmeDirectives;
}

const FENCE = /^(\s*)```(\S*).*$/;
const COMMENT = /^\s*<!--(.*)-->\s*$/;

/** Every fenced block of a Markdown text, in order; throws on an unknown directive or an unclosed fence. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (open === null) continue;
    const indent = open[1] ?? '';
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] ?? ''); j++) {
      const text = lines[j] ?? '';
      body.push(text.startsWith(indent) ? text.slice(indent.length) : text.trimStart());
    }
    if (j >= lines.length) throw new Error(`README.md:${i + 1}: a fence that is never closed`);
    blocks.push({ line: i + 1, lang: open[2] ?? '', code: body.join('\n'), directives: directivesBefore(lines, i) });
    i = j;
  }
  return blocks;
}

function directivesBefore(lines: readonly string[], fence: number): ReadmeDirectives {
  const directives: { -readonly [K in keyof ReadmeDirectives]: ReadmeDirectives[K] } = {};
  for (let k = fence - 1; k >= 0; k--) {
    const text = lines[k] ?? '';
    if (text.trim() === '') continue;
    const comment = COMMENT.exec(text);
    if (comment === null) break;
    for (const part of (comment[1] ?? '').split(';')) {
      const colon = part.indexOf(':');
      const key = (colon < 0 ? part : part.slice(0, colon)).trim();
      const value = colon < 0 ? undefined : part.slice(colon + 1).trim();
      if (key === 'file' && value) directives.file = value;
      else if (key === 'name' && value) directives.name = value;
      else if (key === 'continues') directives.continues = value ?? true;
      else if (key === 'run' && value === undefined) directives.run = true;
      else if (key === 'not checked' && value) directives.notChecked = value;
      else throw new Error(`README.md:${k + 1}: unknown directive '${part.trim()}' (see scripts/readme-blocks.ts)`);
    }
  }
  return directives;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [what, name, readme = 'README.md'] = process.argv.slice(2);
  if (what !== 'file' || name === undefined) {
    console.error('usage: tsx scripts/readme-blocks.ts file <path> [README.md]');
    process.exit(2);
  }
  const block = readmeBlocks(readFileSync(readme, 'utf8')).find((b) => b.directives.file === name);
  if (block === undefined) {
    console.error(`${readme}: no block marked <!-- file: ${name} -->`);
    process.exit(1);
  }
  process.stdout.write(`${block.code}\n`);
}
