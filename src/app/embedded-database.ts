// Whether the embedded database under a DATA_DIR has been made yet, for a transport to ask before it
// opens one (transports reach src/db only through src/app). Reads the disk only: no PGlite loaded.
import { isInitialised, pgliteDirOf } from '../db/pglite-start.js';

export function embeddedDatabaseExists(dataDir: string): boolean {
  return isInitialised(pgliteDirOf(dataDir));
}
