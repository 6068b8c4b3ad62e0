// A LOG_DIR that cannot be made (a file in its path here; read-only or no permission elsewhere) costs the
// log files, never the command: a logger is made all the same, says why once on stderr, and still writes
// to its other streams — `ctb kill` from a directory it cannot write must go on to cancel.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { createLogger } from '../../../src/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'ctb-unusable-log-dir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a LOG_DIR that cannot be made', () => {
  it('gives a logger writing to the console only, said once on stderr with what to set', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const lines: string[] = [];
    const out = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const logger = createLogger({ config: testConfig({ LOG_DIR: join(blocker, 'logs'), LOG_LEVEL: 'info' }), stdout: false, destination: out, destinationLevel: 'info' });
      logger.warn('the kill goes on');
      const said = stderr.mock.calls.map((c) => String(c[0])).filter((t) => t.includes('cannot write log files'));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/LOG_DIR .*a-file\/logs \(ENOTDIR.*\): logging to the console only; set LOG_DIR to a writable directory/);
      expect(lines.join('')).toContain('the kill goes on');
    } finally {
      stderr.mockRestore();
    }
  });
});
