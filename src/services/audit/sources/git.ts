// Owns asking git about the deployment's checkout: which files are tracked, whether a path is
// tracked or ignored. Answers null when the directory is not a git checkout (or git is missing).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<{ ok: boolean; stdout: string } | null> {
  try {
    const { stdout } = await run('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, stdout };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT' || /not a git repository/i.test(e.stderr ?? '')) return null;
    return { ok: false, stdout: e.stdout ?? '' };
  }
}

export async function isGitCheckout(cwd: string): Promise<boolean> {
  const r = await git(cwd, ['rev-parse', '--is-inside-work-tree']);
  return r?.ok === true && r.stdout.trim() === 'true';
}

/**
 * Tracked files relative to cwd, and those of them that match the gitignore-style patterns in
 * `patternFile` (relative to cwd; none when it is null: Git itself reads the patterns, so their
 * meaning is exactly .gitignore's), or null outside a checkout. Git is asked once whether cwd is one.
 */
export async function trackedFileLists(cwd: string, patternFile: string | null): Promise<{ files: string[]; matching: string[] } | null> {
  if (!(await isGitCheckout(cwd))) return null;
  const [files, matching] = await Promise.all([
    git(cwd, ['ls-files', '-z']),
    patternFile === null ? null : git(cwd, ['ls-files', '-z', '--cached', '--ignored', `--exclude-from=${patternFile}`]),
  ]);
  if (!files) return null;
  return { files: files.stdout.split('\0').filter(Boolean), matching: matching?.ok ? matching.stdout.split('\0').filter(Boolean) : [] };
}

export async function isTracked(cwd: string, path: string): Promise<boolean | null> {
  if (!(await isGitCheckout(cwd))) return null;
  const r = await git(cwd, ['ls-files', '--error-unmatch', '--', path]);
  return r?.ok ?? null;
}

export async function isIgnored(cwd: string, path: string): Promise<boolean | null> {
  if (!(await isGitCheckout(cwd))) return null;
  // --no-index: answer from the ignore rules even if the file is (wrongly) tracked.
  const r = await git(cwd, ['check-ignore', '-q', '--no-index', '--', path]);
  return r?.ok ?? null;
}
