// A command run where no embedded database is yet (another directory than the bot's) says it starts
// an empty one, instead of reporting an empty history as if the bot had never traded.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { recordingIo } from '../support/cli-io.js';

describe('ctb on a DATA_DIR with no embedded database yet', () => {
  it('notes on stderr that it starts an empty one, once, and keeps --json output one object', async () => {
    const first = recordingIo({});
    expect(await runCli(['stats', '--json'], first)).toBe(0);
    expect(first.err()).toContain(`note: no embedded database in ${first.env.DATA_DIR} (DATA_DIR, from ${first.cwd}) yet: this command starts an empty one there.`);
    expect(first.err()).toContain('run ctb there, or set DATA_DIR (or DATABASE_URL)');
    expect(JSON.parse(first.out())).toMatchObject({ ok: true });

    const again = { ...recordingIo({}), env: first.env, cwd: first.cwd };
    let err = '';
    again.stderr = { write: (s: string) => (err += s) };
    expect(await runCli(['mode', 'status'], again)).toBe(0);
    expect(err).not.toContain('no embedded database');
  }, 60_000);

  it('says nothing of the kind on PostgreSQL', async () => {
    const io = recordingIo({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    await runCli(['mode', 'status'], io);
    expect(io.err()).not.toContain('no embedded database');
  }, 60_000);
});
