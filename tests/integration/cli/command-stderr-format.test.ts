// A command's warnings on stderr are for the person who ran it, wherever they send it: `ctb … 2>err.txt`
// (stderr not a terminal) gets readable lines (level, message, key=value fields), not pino's JSON;
// piped, LOG_FORMAT=json asks for JSON. On a terminal they are readable lines whatever LOG_FORMAT says.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withCliContext } from '../../../src/cli/with-context.js';
import { recordingIo } from '../../support/cli-io.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb();

afterEach(() => {
  vi.restoreAllMocks();
});

/** What a command that logs one warning writes on this process's stderr, piped (or a terminal: `tty`). */
async function stderrOfWarning(env: Record<string, string>, tty = false): Promise<string> {
  const written: string[] = [];
  // A test worker's stderr is a pipe, as `2>err.txt` makes it.
  expect(process.stderr.isTTY).not.toBe(true);
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: unknown) => written.push(String(chunk)) > 0) as never);
  if (tty) Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
  try {
    const io = recordingIo({ DATABASE_URL: database().url, LOG_LEVEL: 'warn', NO_COLOR: '1', ...env });
    const code = await withCliContext(io, async (ctx) => {
      ctx.logger.warn({ requestId: 3, report: { venue: 'kraken', confirmed: false, errors: ['a', 'b', 'c', 'd', 'e'] } }, 'kill: the cancel is handed to the running bot');
      return 0;
    });
    expect(code).toBe(0);
  } finally {
    if (tty) delete (process.stderr as { isTTY?: boolean }).isTTY;
    vi.restoreAllMocks();
  }
  return written.join('');
}

const READABLE = /^\[\d\d:\d\d:\d\d\] WARN: kill: the cancel is handed to the running bot requestId=3 report\.venue=kraken report\.confirmed=false report\.errors=\(5 items\)$/;

describe("a command's warnings on a piped stderr", () => {
  it('are readable lines (level, message, key fields), not JSON', async () => {
    const text = await stderrOfWarning({});
    const line = text.split('\n').find((l) => l.includes('kill: the cancel is handed to the running bot'));
    expect(line, text).toMatch(READABLE);
    expect(text).not.toContain('{');
  });

  it('are readable lines on a terminal even with LOG_FORMAT=json (set for the bot\'s output)', async () => {
    // A terminal may get colours (picocolors decides: FORCE_COLOR, NO_COLOR, and CI, which CI sets).
    const text = (await stderrOfWarning({ LOG_FORMAT: 'json' }, true)).replace(/\u001b\[[0-9;]*m/g, '');
    const line = text.split('\n').find((l) => l.includes('kill: the cancel is handed to the running bot'));
    expect(line, text).toMatch(READABLE);
    expect(text).not.toContain('{');
  });

  it('are JSON when LOG_FORMAT=json asks for it', async () => {
    const text = await stderrOfWarning({ LOG_FORMAT: 'json' });
    const line = text.split('\n').find((l) => l.includes('kill: the cancel is handed to the running bot'));
    expect(JSON.parse(line!)).toMatchObject({ level: 40, msg: 'kill: the cancel is handed to the running bot', requestId: 3 });
  });
});
