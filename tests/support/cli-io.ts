// A CliIo that records what a `ctb` run printed, for tests that drive the CLI in-process.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../src/cli/io.js';

export interface RecordingIo extends CliIo {
  out(): string;
  err(): string;
}

export function recordingIo(env: Record<string, string | undefined>): RecordingIo {
  let out = '';
  let err = '';
  const cwd = mkdtempSync(join(tmpdir(), 'ctb-cli-'));
  return {
    env: { LOG_LEVEL: 'error', LOG_DIR: join(cwd, 'logs'), DATA_DIR: join(cwd, 'data'), ...env }, cwd,
    stdout: { write: (s: string, done?: (err?: Error | null) => void) => { out += s; done?.(); return true; } },
    stderr: { write: (s: string) => (err += s) },
    out: () => out,
    err: () => err,
  };
}
