// A command's warnings on stderr are for the person who ran it, wherever they send it: `ctb … 2>err.txt`
// (stderr not a terminal) gets readable lines, not pino's JSON; LOG_FORMAT=json asks for JSON.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withCliContext } from '../../../src/cli/with-context.js';
import { recordingIo } from '../../support/cli-io.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb();

afterEach(() => {
  vi.restoreAllMocks();
});

/** What a command that logs one warning writes on this process's stderr, piped (not a terminal). */
async function stderrOfWarning(env: Record<string, string>): Promise<string> {
  const written: string[] = [];
  // A test worker's stderr is a pipe, as `2>err.txt` makes it.
  expect(process.stderr.isTTY).not.toBe(true);
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: unknown) => written.push(String(chunk)) > 0) as never);
  const io = recordingIo({ DATABASE_URL: database().url, LOG_LEVEL: 'warn', ...env });
  const code = await withCliContext(io, async (ctx) => {
    ctx.logger.warn({ requestId: 3 }, 'kill: the cancel is handed to the running bot');
    return 0;
  });
  vi.restoreAllMocks();
  expect(code).toBe(0);
  return written.join('');
}

describe("a command's warnings on a piped stderr", () => {
  it('are readable lines (level, message, fields), not JSON', async () => {
    const text = await stderrOfWarning({});
    const line = text.split('\n').find((l) => l.includes('kill: the cancel is handed to the running bot'));
    expect(line, text).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: kill: the cancel is handed to the running bot \{"requestId":3\}$/);
    expect(() => JSON.parse(line!)).toThrow();
  });

  it('are JSON when LOG_FORMAT=json asks for it', async () => {
    const text = await stderrOfWarning({ LOG_FORMAT: 'json' });
    const line = text.split('\n').find((l) => l.includes('kill: the cancel is handed to the running bot'));
    expect(JSON.parse(line!)).toMatchObject({ level: 40, msg: 'kill: the cancel is handed to the running bot', requestId: 3 });
  });
});
