// What a kill without the Kraken key says became of its cancel on Kraken: only what happened.
import { describe, expect, it } from 'vitest';
import { krakenAccessOf, noKeyNotice, type HandedOff, type KillFollowUp } from '../../../src/domain/kraken-handoff.js';

const claimsHandoff = /handed to the running bot|by the running bot|is handed/;
const noBot: HandedOff = { requestId: null, by: null, status: 'no_bot' };

describe('a keyless kill says what became of its Kraken cancel', () => {
  it('taken by a running bot: names it and the request', () => {
    const handedOff = { requestId: 7, by: 'worker-1:42', status: 'done' };
    expect(krakenAccessOf(handedOff, undefined)).toBe('handed_off');
    expect(noKeyNotice(handedOff, undefined)).toBe('This process has no Kraken key: the cancel on Kraken was handed to the running bot that has it (worker-1:42, request #7).');
  });

  it('no bot runs: queued in the database, for how long, and that orders may stay open — never that a bot has it', () => {
    const followUp: KillFollowUp = { requestId: 3, runningBot: null, engine: 'no engine running', botKnown: true };
    expect(krakenAccessOf(noBot, followUp)).toBe('queued');
    const notice = noKeyNotice(noBot, followUp);
    expect(notice).toBe('This process has no Kraken key and no bot with the key is running (no engine running): the cancel on Kraken is queued in the database (request #3) and waits up to 5 min for one to take it; until one does, orders may stay open on Kraken.');
    expect(notice).not.toMatch(claimsHandoff);
  });

  it('the engine lease unreadable: says it is not known whether a bot runs, not that none does', () => {
    const notice = noKeyNotice(noBot, { requestId: 3, runningBot: null, engine: 'the engine lease could not be read: timeout', botKnown: false });
    expect(notice).toMatch(/^This process has no Kraken key and whether a bot with the key is running is not known \(the engine lease could not be read: timeout\): the cancel on Kraken is queued in the database \(request #3\)/);
    expect(notice).not.toMatch(claimsHandoff);
  });

  it('nothing could be written for a bot (database down, or the follow-up failed): not handed over, orders may remain', () => {
    expect(krakenAccessOf({ requestId: null, by: null, status: 'not_sent' }, undefined)).toBe('not_handed_off');
    expect(noKeyNotice({ requestId: null, by: null, status: 'not_sent' }, undefined))
      .toBe('This process has no Kraken key and the cancel on Kraken could not be handed to a bot that has it: orders may remain open on Kraken.');
    expect(noKeyNotice(noBot, { error: 'the database did not answer within 3000 ms' }))
      .toBe('This process has no Kraken key and the cancel on Kraken could not be handed to a bot that has it (the database did not answer within 3000 ms): orders may remain open on Kraken.');
  });
});
