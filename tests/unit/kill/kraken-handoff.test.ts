// What a kill without the Kraken key says became of its cancel on Kraken: only what happened.
import { describe, expect, it } from 'vitest';
import { handedOffPhrase, krakenAccessOf, noKeyNotice, queuedHandOff, type HandedOff, type KillFollowUp } from '../../../src/domain/kraken-handoff.js';
import { waitingText } from '../../../src/domain/waiting-request.js';
import { triesCount } from '../../../src/domain/cancel-handover.js';

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

  it("a cancel queued for a bot: the venue line says queued, not yet taken, with the notice's request — never \"not handed to a bot\"", () => {
    const forRunningBot: KillFollowUp = { requestId: 5, runningBot: 'worker-1:42', engine: 'worker-1:42 running', botKnown: true };
    const withdrawn: HandedOff = { requestId: 4, by: null, status: 'withdrawn' };
    expect(queuedHandOff(withdrawn, forRunningBot)).toEqual({ requestId: 5, by: null, status: 'queued', queuedFor: 'worker-1:42' });
    expect(handedOffPhrase(queuedHandOff(withdrawn, forRunningBot), { request: true })).toBe('queued for the running bot worker-1:42, not yet taken, request #5');
    expect(noKeyNotice(withdrawn, forRunningBot)).toContain('(worker-1:42, request #5)');
    const forNobody: KillFollowUp = { requestId: 5, runningBot: null, engine: 'no engine running', botKnown: true };
    expect(handedOffPhrase(queuedHandOff(noBot, forNobody), { request: true })).toBe('queued for a bot with the key, not yet taken, request #5');
    expect(handedOffPhrase(queuedHandOff(noBot, forNobody), { request: false })).toBe('queued for a bot with the key, not yet taken');
  });

  it('a cancel a bot took, or one that could not be queued, keeps its own venue line', () => {
    const taken: HandedOff = { requestId: 7, by: 'worker-1:42', status: 'claimed' };
    const followUp: KillFollowUp = { requestId: 8, runningBot: 'worker-1:42', engine: 'worker-1:42 running', botKnown: true };
    expect(queuedHandOff(taken, followUp)).toBe(taken);
    expect(queuedHandOff(noBot, { error: 'the database did not answer' })).toBe(noBot);
    expect(handedOffPhrase(queuedHandOff(noBot, undefined), { request: true })).toBe('not handed to a bot');
  });
});

describe('a count of cancel tries', () => {
  it('says "1 try", never "1 tries"', () => {
    expect(triesCount(1)).toBe('1 try');
    expect(triesCount(0)).toBe('0 tries');
    expect(triesCount(3)).toBe('3 tries');
  });
});

describe('a cancel item waiting on a follow-up between two tries', () => {
  // The request waits pending again until its next try: it has been tried, so "not yet taken" would be false.
  it('says how often a bot tried and when it tries next, not that no bot has taken it', () => {
    const text = waitingText({
      requestId: 7, work: 'cancel', waitsFor: 'bot_with_key', takenBy: null, runningBot: 'vm:42', botKnown: true, engine: 'running', retried: { tries: 2, nextTryAt: '2026-12-05T15:00:12.000Z' },
    });
    expect(text).toBe('retried by a bot with the Kraken key (request #7): 2 tries so far, Kraken not confirmed, next try at 2026-12-05T15:00:12.000Z (the running bot with the key: vm:42)');
    expect(text).not.toMatch(/not yet taken|has not taken/);
  });

  it('still says a queued request no bot has tried is not yet taken', () => {
    expect(waitingText({ requestId: 7, work: 'cancel', waitsFor: 'bot_with_key', takenBy: null, runningBot: null, botKnown: true, engine: 'no engine running' }))
      .toMatch(/^queued in the database for a bot with the Kraken key \(request #7\), not yet taken: no bot with the key is running/);
  });
});
