// A throwaway git checkout for checks that look at files: write files, track some, chmod .env.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempCheckout {
  dir: string;
  write(path: string, text: string, opts?: { track?: boolean; mode?: number }): void;
  git(...args: string[]): string;
  remove(): void;
}

export function tempCheckout(opts: { git?: boolean } = {}): TempCheckout {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-audit-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
  if (opts.git !== false) git('init', '-q');
  return {
    dir,
    git,
    write(path, text, o = {}) {
      const full = join(dir, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text);
      if (o.mode !== undefined) chmodSync(full, o.mode);
      if (o.track) git('add', '-f', '--', path);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
