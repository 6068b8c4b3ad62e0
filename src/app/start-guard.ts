// Owns the check `ctb start` makes before it touches anything under DATA_DIR or LOG_DIR: a bot
// already serving this embedded database is the one engine on it, so a second start is refused,
// naming the first (src/db/pglite-lock.ts). Cheap on purpose: a file read, no database driver.
import type { Config } from '../config/env.js';
import { readLock, refuseSecondBot } from '../db/pglite-lock.js';

export function refuseSecondBotOnDataDir(config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>): void {
  if (config.DATABASE_URL) return;
  refuseSecondBot(config.DATA_DIR, readLock(config.DATA_DIR));
}
