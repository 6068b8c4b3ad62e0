// The build bundles postgres.js only as patches/postgres+3.4.9.patch leaves it: a checkout updated
// without a new install (no postinstall) must not ship the driver that ends the bot at a database cut.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { postgresPatchProblem } from '../../scripts/postgres-patch.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;

function checkoutWith(connectionJs: string): string {
  const root = mkdtempSync(join(tmpdir(), 'ctb-postgres-patch-'));
  mkdirSync(join(root, 'node_modules', 'postgres', 'src'), { recursive: true });
  writeFileSync(join(root, 'node_modules', 'postgres', 'src', 'connection.js'), connectionJs);
  return root;
}

describe("the build's check of the postgres.js patch", () => {
  it('this checkout is patched; the driver as published is refused with what to run', () => {
    expect(postgresPatchProblem(ROOT)).toBeNull();
    const patched = readFileSync(join(ROOT, 'node_modules', 'postgres', 'src', 'connection.js'), 'utf8');
    const published = patched.replace(/ {4}if \(socket === null\) \{[\s\S]*?\n {4}\}\n/, '');
    expect(published).not.toBe(patched);
    expect(postgresPatchProblem(checkoutWith(published))).toBe('node_modules/postgres is not patched (patches/postgres+3.4.9.patch): run npm ci (or npx patch-package), then build again');
    expect(postgresPatchProblem(checkoutWith(patched))).toBeNull();
  });
});
