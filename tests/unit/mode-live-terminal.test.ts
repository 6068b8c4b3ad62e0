// `ctb mode live` refuses by design (live trading is requested in Slack). The engine's verdict it adds
// as a hint is read from the database: a database that does not answer must not replace that refusal.
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import type { Db } from '../../src/db/client.js';
import { checkLivePreconditions } from '../../src/services/mode/open-live-request.js';
import type { LiveSwitchPorts } from '../../src/services/mode/ports.js';

const down = { execute: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:5432'); } } as unknown as Db;

describe('ctb mode live with the database down', () => {
  it('still answers "requested in Slack" (forbidden, exit 2), without the engine hint it could not read', async () => {
    const refused = checkLivePreconditions({ config: testConfig({}), db: down }, {} as LiveSwitchPorts, { id: 'cli:alice', source: 'cli' });
    await expect(refused).rejects.toMatchObject({ code: 'live_needs_slack', kind: 'forbidden', message: 'Live trading is requested in Slack, not from the terminal.' });
    const err: unknown = await refused.catch((e: unknown) => e);
    expect((err as { hint?: string }).hint).toMatch(/ctb mode paper rolls back at once\.$/);
  });
});

describe('`ctb mode live` as typed, with DATABASE_URL on a port where nothing listens', () => {
  it('exits 2 with the Slack refusal and says why the engine hint is missing, not the database error alone (exit 1)', async () => {
    const { runCli } = await import('../../src/cli/program.js');
    const { recordingIo } = await import('../support/cli-io.js');
    const io = recordingIo({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    expect(await runCli(['mode', 'live'], io)).toBe(2);
    expect(io.err()).toContain('Live trading is requested in Slack, not from the terminal.');
    expect(io.err()).toContain('Whether /mode live would be refused there now could not be read: the database did not open (ctb mode status says why).');
    expect(io.out()).toBe('');
  });
});

describe('`ctb mode live` with an argument it refuses, in a directory with no database yet', () => {
  it('names the argument, not "the database did not open" (nothing was opened: the arguments are checked first)', async () => {
    const { runCli } = await import('../../src/cli/program.js');
    const { recordingIo } = await import('../support/cli-io.js');
    const io = recordingIo({});
    expect(await runCli(['mode', 'live', '--reason', 'x'.repeat(501)], io)).toBe(2);
    expect(io.err()).toContain('a reason of at most 500 characters');
    expect(io.err()).not.toContain('the database did not open');
  });
});
