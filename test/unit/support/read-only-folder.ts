import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Makes `dir` read-only for this process and returns the undo, or undefined when this machine cannot (the
 * caller skips). Permissions do not stop root, so as root a read-only bind mount is used (EROFS).
 */
export function makeReadOnly(dir: string): (() => void) | undefined {
  let undo: () => void;
  if (process.getuid?.() === 0) {
    try {
      execFileSync('mount', ['--bind', dir, dir], { stdio: 'ignore' });
    } catch {
      return undefined;
    }
    undo = () => execFileSync('umount', [dir], { stdio: 'ignore' });
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', dir], { stdio: 'ignore' });
    } catch {
      undo();
      return undefined;
    }
  } else {
    setMode(dir, 0o555, 0o444);
    undo = () => setMode(dir, 0o755, 0o644);
  }
  const probe = join(dir, '.write-probe');
  try {
    writeFileSync(probe, '');
  } catch {
    return undo;
  }
  rmSync(probe);
  undo();
  return undefined;
}

function setMode(path: string, dirMode: number, fileMode: number): void {
  if (!statSync(path).isDirectory()) {
    chmodSync(path, fileMode);
    return;
  }
  for (const name of readdirSync(path)) setMode(join(path, name), dirMode, fileMode);
  chmodSync(path, dirMode);
}
