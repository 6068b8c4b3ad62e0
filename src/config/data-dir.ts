// Owns making DATA_DIR usable: created when missing, and checked writable. A DATA_DIR that cannot be
// made or written (read-only, a file in its place or in its path, no permission) is a configuration
// error (exit 2) naming the setting, what went wrong and what is expected — never the raw errno text
// of the first mkdir or open that met it.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { AppError } from '../errors.js';

/** What each errno that makes DATA_DIR unusable means, in words. */
const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'a file, not a directory, is in its place',
  ENOTDIR: 'a part of its path is a file, not a directory',
  EROFS: 'read-only file system',
};

/**
 * The configuration error for `err`, an error met creating (`step` create) or writing in (`write`)
 * DATA_DIR `dataDir`; null for an error that is not about the directory being unusable.
 */
export function dataDirProblem(err: unknown, dataDir: string, step: 'create' | 'write' = 'create'): AppError | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const reason = code === undefined ? undefined : REASONS[code];
  if (reason === undefined) return null;
  const what = step === 'create' ? 'cannot create it' : 'cannot write in it';
  return new AppError('config', 'data_dir_unusable', `DATA_DIR ${dataDir}: ${what} (${reason}): expected a writable directory.`, {
    hint: 'Set DATA_DIR (in .env or the environment) to a directory this user can create and write, or fix its permissions.',
    cause: err,
  });
}

/** Creates DATA_DIR if missing and checks this process can write in it; throws dataDirProblem's error if not. */
export function ensureDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw dataDirProblem(err, dataDir, 'create') ?? err;
  }
  try {
    accessSync(dataDir, constants.W_OK);
  } catch (err) {
    throw dataDirProblem(err, dataDir, 'write') ?? err;
  }
}
