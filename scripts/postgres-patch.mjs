// Whether node_modules/postgres is as patches/postgres+3.4.9.patch leaves it (patch-package applies it
// on install). Unpatched, a connection closed under a pending write throws from a timer and ends the
// bot; a checkout updated without a new install (git pull, then npm run build) would bundle that.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The line the build prints when `root`'s installed postgres.js is not patched; null when it is (or is absent). */
export function postgresPatchProblem(root) {
  const file = join(root, 'node_modules', 'postgres', 'src', 'connection.js');
  if (!existsSync(file) || readFileSync(file, 'utf8').includes('if (socket === null) {')) return null;
  return 'node_modules/postgres is not patched (patches/postgres+3.4.9.patch): run npm ci (or npx patch-package), then build again';
}
