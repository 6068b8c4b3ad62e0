// Runs promtool, Prometheus's own checker, on text the tests produce (a /metrics scrape) and on the
// repository's rule files. Found at $PROMTOOL, .tools/bin/promtool (scripts/install-promtool.sh, which
// .ci/run runs) or on PATH. Missing, it throws: a check that could not run never passes.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export function promtoolPath(): string {
  const candidates = [process.env['PROMTOOL'], `${REPO}.tools/bin/promtool`].filter((p): p is string => Boolean(p));
  for (const p of candidates) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error('promtool not found: run `bash scripts/install-promtool.sh` (.ci/run does) or set PROMTOOL to its path.');
}

export interface PromtoolRun {
  status: number | null;
  output: string;
}

export function promtool(args: string[], input?: string): PromtoolRun {
  const r = spawnSync(promtoolPath(), args, { cwd: REPO, input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}
