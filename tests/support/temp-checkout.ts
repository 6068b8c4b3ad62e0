// A throwaway git checkout for checks that look at files: write files, track some, chmod .env.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempCheckout {
  dir: string;
  write(path: string, text: string, opts?: { track?: boolean; mode?: number }): void;
  git(...args: string[]): string;
  remove(): void;
}

/** A new repository's `.git`: its directories and files (path → content; null for a directory). */
type GitDir = Array<[string, Buffer | null]>;

/**
 * What `git init` makes (without the sample hooks and other template files it would copy: nothing
 * here runs a hook), read from the first checkout of a process and written into each later one: a
 * `git` child of a test worker costs some 15 ms of CPU, and a file whose every test has a checkout
 * ran one a test. A repository's `.git` holds no path of its own, so the copy is the same new repository.
 */
let newRepository: GitDir | undefined;

function readGitDir(gitDir: string): GitDir {
  return readdirSync(gitDir, { recursive: true, withFileTypes: true })
    .map((e): [string, Buffer | null] => {
      const path = join(e.parentPath, e.name);
      return [path.slice(gitDir.length + 1), e.isDirectory() ? null : readFileSync(path)];
    })
    .sort(([a], [b]) => a.localeCompare(b));
}

export function tempCheckout(opts: { git?: boolean } = {}): TempCheckout {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-audit-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
  if (opts.git !== false) {
    const gitDir = join(dir, '.git');
    if (newRepository) {
      mkdirSync(gitDir);
      for (const [path, content] of newRepository) {
        if (content === null) mkdirSync(join(gitDir, path), { recursive: true });
        else writeFileSync(join(gitDir, path), content);
      }
    } else {
      git('init', '-q', '--template=');
      newRepository = readGitDir(gitDir);
    }
  }
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
