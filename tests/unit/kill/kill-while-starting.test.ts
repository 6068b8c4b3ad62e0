// A kill taken while the start waits for its database, with no Kraken key and a DATA_DIR that cannot
// take the saved kill: it says Kraken was not cancelled and the halt not saved, and the halt is held
// by the context the start goes on with (its latch), not said and then forgotten.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { silentLogger } from '../../../src/logger.js';
import { StartingKills } from '../../../src/services/kill/kill-while-starting.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('a kill while the start waits for its database', () => {
  it('without a key and with DATA_DIR refusing it: says neither happened, and latches the halt once the context exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-starting-kill-'));
    dirs.push(dir);
    // DATA_DIR is a file: the saved kill cannot be written there.
    const dataDir = join(dir, 'not-a-directory');
    writeFileSync(dataDir, 'x');
    const kills = new StartingKills({ config: testConfig({ DATA_DIR: dataDir, DATABASE_URL: 'postgres://ctb@127.0.0.1:1/ctb' }), logger: silentLogger() });
    const result = await kills.kill({ actor: { id: 'http:kill', source: 'http' }, reason: 'drill', flatten: true });
    expect(result).toMatchObject({ ok: false, starting: true, state: 'unsaved', krakenAccess: 'not_handed_off', flatten: { ok: false } });
    expect(result.saveError).toEqual(expect.any(String));
    expect(result.pendingFile).toBeUndefined();
    expect(result.cancel.venues.map((v) => [v.venue, v.confirmed])).toEqual([['kraken', false], ['paper', false]]);
    expect(result.message).toMatch(/^Kraken: NOT cancelled — this process has no Kraken key.*Until then orders may remain open on Kraken\. Paper: NOT cancelled — .* Halt: NOT saved — DATA_DIR refused it \(.+\) and the database does not take it yet: only this process holds it.* Positions NOT closed/);
    expect(result.message).not.toMatch(/saved in DATA_DIR|none open|\(confirmed\)/);

    const latched: Array<[string, string]> = [];
    await kills.handOver((reason, killId) => latched.push([reason, killId]));
    expect(latched).toEqual([['drill', result.killId]]);
    // One taken after the hand-over (a request already under way) is latched as it answers.
    const later = await kills.kill({ actor: { id: 'http:kill', source: 'http' }, reason: '' });
    expect(latched).toEqual([['drill', result.killId], ['no reason given', later.killId]]);
  });
});
