// The kill switch's Block Kit: pure functions of results, tested on their JSON.
import { describe, expect, it } from 'vitest';
import type { Incident, IncidentChecklistItem } from '../../../src/db/schema/index.js';
import type { KillResult } from '../../../src/services/kill/kill.js';
import { renderIncident, renderKillReply } from '../../../src/slack/views/kill.js';
import { renderKill } from '../../../src/cli/render/kill.js';

const at = new Date('2026-03-02T10:00:00Z');
const incident: Incident = {
  id: 4, killId: 'k', openedAt: at, openedBy: 'U0ALICE', trigger: 'manual', reason: 'fills <look> & wrong', status: 'open',
  cancelReport: {}, slackChannel: null, slackTs: null, threadShown: null, closedAt: null, closedBy: null,
};
const item = (key: IncidentChecklistItem['item'], position: number, done = false): IncidentChecklistItem => ({
  id: position, incidentId: 4, item: key, position, label: `label ${key}`, doneAt: done ? at : null, doneBy: done ? 'U0BOB' : null, state: done ? 'done' : 'todo', requestId: null, outcome: null,
});
const kill = (overrides: Partial<KillResult> = {}): KillResult => ({
  ok: true, notice: null, killId: 'k', alreadyKilled: false, joinedIncident: false, krakenAccess: 'direct', fence: null, state: 'written', incidentId: 4, checklist: [], flatten: null,
  cancel: { allConfirmed: true, venues: [{ venue: 'kraken', canceled: 2, confirmed: true, attempts: 1, survivors: [], errors: [] }] },
  ...overrides,
});

describe('kill views', () => {
  it('the incident thread escapes the reason, shows who did what, and has buttons for undone items and always "cancel again"', () => {
    const m = renderIncident(incident, [item('cancel_orders', 1, true), item('close_positions', 2), item('reconcile_ledger', 3, true), item('notify_stakeholders', 4)]);
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('fills &lt;look&gt; &amp; wrong');
    expect(json).toContain('<@U0BOB>');
    const actions = m.blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string; confirm?: unknown }> };
    // Cancelling is never refused: done (or handed over and pending), "cancel again" keeps its button.
    expect(actions.elements.map((e) => e.action_id)).toEqual(['incident_item_cancel_orders', 'incident_item_close_positions', 'incident_item_notify_stakeholders']);
    const handedOver = (key: IncidentChecklistItem['item'], position: number): IncidentChecklistItem => ({ ...item(key, position), state: 'pending', requestId: 9 });
    const pending = renderIncident(incident, [handedOver('cancel_orders', 1), handedOver('close_positions', 2), item('reconcile_ledger', 3, true), item('notify_stakeholders', 4, true)]);
    const pendingActions = pending.blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string }> };
    expect(pendingActions.elements.map((e) => e.action_id)).toEqual(['incident_item_cancel_orders']);
    expect(actions.elements.every((e) => e.value === '4')).toBe(true);
    expect(actions.elements.filter((e) => e.confirm).map((e) => e.action_id)).toEqual(['incident_item_close_positions']);
    const closed = renderIncident({ ...incident, status: 'closed' }, [item('cancel_orders', 1)]);
    expect(closed.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('the incident message says an incident still open on a bot not halted, and what closes it, as ctb incident does', () => {
    const items = [item('cancel_orders', 1, true)];
    const said = 'Incident #4 is still open although the bot is not halted: `/mode resume` (`ctb resume` in a terminal) closes it, once its checklist is done and an audit has passed since it opened (`/golive audit`).';
    expect(JSON.stringify(renderIncident(incident, items, { botHalted: false }).blocks)).toContain(JSON.stringify(`:warning: ${said}`).slice(1, -1));
    for (const m of [renderIncident(incident, items, { botHalted: true }), renderIncident(incident, items), renderIncident({ ...incident, status: 'closed' }, items, { botHalted: false })]) {
      expect(JSON.stringify(m.blocks)).not.toContain('although the bot is not halted');
    }
  });

  it('a follow-up whose engine lease could not be read says it is not known whether a bot runs — never that none does, nor that one goes on', () => {
    const followUp = { requestId: 7, runningBot: null, engine: 'the engine lease could not be read: the database did not answer within 3000 ms', botKnown: false };
    const slack = JSON.stringify(renderKillReply(kill({ ok: false, followUp })).blocks);
    const terminal = renderKill(kill({ ok: false, followUp }));
    expect(slack).toContain('Whether a bot with the Kraken key is running is not known');
    expect(terminal).toContain('WHETHER A BOT WITH THE KRAKEN KEY IS RUNNING IS NOT KNOWN (the engine lease could not be read');
    for (const text of [slack, terminal]) expect(text).not.toMatch(/no bot with the kraken key is running|to the running bot with the kraken key \(/i);
    const none = renderKill(kill({ ok: false, followUp: { ...followUp, engine: 'no engine running', botKnown: true } }));
    expect(none).toContain('NO BOT WITH THE KRAKEN KEY IS RUNNING (no engine running)');
  });

  it('a follow-up no bot takes: a keyless running bot is named as such, and a process with the key is not sent "where the key is"', () => {
    const followUp = { requestId: 7, runningBot: null, engine: 'vm:30626 (all, feed replay, not armed, no Kraken keys), heartbeat 4s ago', botKnown: true, keylessBot: 'vm:30626' };
    for (const krakenAccess of ['direct', 'queued'] as const) {
      const result = kill({ ok: false, krakenAccess, followUp });
      const slack = JSON.stringify(renderKillReply(result).blocks);
      const terminal = renderKill(result);
      expect(slack).toContain('*The running bot vm:30626 has no Kraken key*: orders may remain open on Kraken.');
      expect(terminal).toContain('THE RUNNING BOT vm:30626 HAS NO KRAKEN KEY: orders may remain open on Kraken.');
      for (const text of [slack, terminal]) {
        expect(text).not.toMatch(/no bot with the kraken key is running/i);
        if (krakenAccess === 'direct') expect(text).not.toContain('where the key is');
        else expect(text).toContain('again where the key is');
      }
      if (krakenAccess === 'direct') {
        expect(slack).toContain('this bot has the key, but Kraken did not confirm (the kraken line above says why): kill again once Kraken answers');
        expect(terminal).toContain('this process has the key, but Kraken did not confirm (the kraken line above says why): run `ctb kill` again once Kraken answers here');
      }
    }
  });

  it('a /kill joining an incident left open on a bot that was trading says it halted the bot now, not "already killed"', () => {
    expect(renderKillReply(kill({ joinedIncident: true })).text)
      .toBe('Killed: the bot was not halted; every open order cancelled, trading halted now, switched to paper, joining incident #4 (still open).');
    expect(renderKillReply(kill({ joinedIncident: true, alreadyKilled: true })).text).toMatch(/^Already killed \(incident #4\)/);
  });

  it("a /kill joining an open incident on a bot halted by reconciliation says it took that halt over, not \"already killed\"", () => {
    const r = kill({ joinedIncident: true, haltTakenOver: { by: 'system:reconciliation', reason: 'reconciliation' } });
    expect(renderKillReply(r).text)
      .toBe('Killed: the bot was halted by system:reconciliation (reconciliation); every open order cancelled, this kill took that halt over (only a resume lifts it now), switched to paper, joining incident #4 (still open).');
  });

  it('the /kill reply says what happened: killed, already killed, survivors, database pending', () => {
    expect(renderKillReply(kill()).text).toMatch(/^Killed: every open order cancelled/);
    expect(renderKillReply(kill({ alreadyKilled: true })).text).toMatch(/^Already killed \(incident #4\)/);
    const survivors = renderKillReply(kill({ ok: false, cancel: { allConfirmed: false, venues: [{ venue: 'kraken', canceled: 1, confirmed: false, attempts: 3, errors: [], survivors: [{ exchangeOrderId: 'O<1>', clientOrderId: 'c', symbol: 'BTC/USD', side: 'buy', quantity: '0.1' }] }] } }));
    expect(survivors.text).toMatch(/could not be confirmed cancelled/);
    expect(JSON.stringify(survivors.blocks)).toContain('still open: BTC/USD buy 0.1 (O&lt;1&gt;)');
    const pending = renderKillReply(kill({ state: 'pending', incidentId: null, stateError: 'deadline: the database did not answer within 3000 ms.' }));
    expect(JSON.stringify(pending.blocks)).toMatch(/the halt is saved only in DATA_DIR on the bot's host, NOT in the database\. Until it is written, only a process that reads that DATA_DIR is halted by it/);
    // Not "trading halted, switched to paper": the database holds neither yet.
    expect(pending.text).toBe("Kill saved on the bot's host only, not yet in the database: every open order cancelled; this process is halted, the halt and the switch to paper are pending until written.");
  });

  it('a halt the database refused is said not in it; one whose write timed out is said not confirmed in it, in the terminal and on Slack', () => {
    const refused = kill({ state: 'pending', incidentId: null, pendingFile: '/d/kill-pending.json', stateError: 'db_refused: The database refused the connection at 127.0.0.1:3 (ECONNREFUSED).' });
    expect(renderKill(refused).split('\n')[0]).toBe('HALT NOT YET IN THE DATABASE, SAVED IN DATA_DIR ONLY — every open order cancelled.');
    expect(renderKillReply(refused).text).toMatch(/^Kill saved on the bot's host only, not yet in the database: /);
    // The write missed its deadline and may still land: neither headline says it is not in the database.
    const timedOut = kill({ ...refused, stateError: 'deadline: the database did not answer within 3000 ms.', stateTimedOut: true });
    const terminal = renderKill(timedOut);
    const reply = renderKillReply(timedOut);
    expect(terminal.split('\n')[0]).toBe('HALT SAVED IN DATA_DIR, NOT CONFIRMED IN THE DATABASE (THE WRITE MAY STILL LAND) — every open order cancelled.');
    expect(reply.text).toBe("Kill saved on the bot's host, not confirmed in the database (the write may still land): every open order cancelled; this process is halted, the halt and the switch to paper are pending until confirmed written.");
    for (const text of [terminal, JSON.stringify(reply)]) expect(text).not.toMatch(/not (yet )?in the database|DATA_DIR ONLY|host only/i);
  });

  it('a halt DATA_DIR did not take either is said saved nowhere only when the database refused it, not when its write timed out', () => {
    const refused = kill({ state: 'unsaved', incidentId: null, saveError: 'ENOTDIR: not a directory', stateError: 'db_refused: The database refused the connection at 127.0.0.1:3 (ECONNREFUSED).' });
    expect(renderKill(refused).split('\n')[0]).toBe('HALT NOT SAVED, NEITHER IN THE DATABASE NOR IN DATA_DIR — every open order cancelled.');
    expect(renderKill(refused)).toContain('it is saved nowhere.');
    // The terminal is `ctb kill`'s, which exits once it has answered: nothing stays halted by it; the
    // Slack reply's process keeps running, halted by its own latch.
    expect(renderKill(refused)).toContain('it is saved nowhere. `ctb kill` halts nothing once it exits: no process sees this halt, so a running bot is not halted by it. Kill again');
    expect(renderKill(refused)).not.toMatch(/only the process that killed/i);
    expect(JSON.stringify(renderKillReply(refused).blocks)).toContain('Only the process that killed is halted, and only while it runs; no other process sees this halt.');
    expect(renderKillReply(refused).text).toMatch(/^Kill not saved, neither in the database nor on the bot's host: /);
    const timedOut = kill({ ...refused, stateError: 'deadline: the database did not answer within 3000 ms.', stateTimedOut: true });
    const terminal = renderKill(timedOut);
    const reply = renderKillReply(timedOut);
    expect(terminal.split('\n')[0]).toBe('HALT NOT SAVED IN DATA_DIR, NOT CONFIRMED IN THE DATABASE (THE WRITE MAY STILL LAND) — every open order cancelled.');
    expect(reply.text).toMatch(/^Kill not confirmed in the database \(the write may still land\), and the bot's host could not save it: /);
    for (const text of [terminal, JSON.stringify(reply)]) expect(text).not.toMatch(/saved nowhere|neither in the database/i);
  });

  it("an already-killed reply says whether this kill's cancel was confirmed, in the text a notification shows too", () => {
    const unconfirmed = renderKillReply(kill({
      ok: false, alreadyKilled: true,
      cancel: { allConfirmed: false, venues: [{ venue: 'kraken', canceled: 0, confirmed: false, attempts: 1, survivors: [], errors: ['open-orders query: EService:Unavailable'] }] },
    }));
    expect(unconfirmed.text).toBe('Already killed (incident #4): cancelled again, but some open orders could not be confirmed cancelled; the bot stays halted in paper.');
    expect(renderKillReply(kill({ alreadyKilled: true })).text).toBe('Already killed (incident #4): cancelled again, every open order cancelled; the bot stays halted in paper.');
  });

  it('a kill without the Kraken key says so first, names the bot that cancelled, and flags orders still in flight', () => {
    const handed = renderKillReply(kill({
      notice: 'This process has no Kraken key: the cancel on Kraken was handed to the running bot that has it (worker-1:42, request #7).',
      krakenAccess: 'handed_off',
      cancel: { allConfirmed: true, venues: [{ venue: 'kraken', canceled: 2, confirmed: true, attempts: 1, survivors: [], errors: [], handedOff: { requestId: 7, by: 'worker-1:42', status: 'done' } }] },
    }));
    expect(handed.text).toMatch(/^This process has no Kraken key/);
    expect(JSON.stringify(handed.blocks[0])).toMatch(/no Kraken key/);
    expect(JSON.stringify(handed.blocks)).toContain('*kraken* (by the running bot worker-1:42): 2 cancelled, none left open');
    const inFlight = renderKillReply(kill({ ok: false, fence: { waitedMs: 3000, unresolved: [{ id: 1, clientOrderId: 'c1', mode: 'live', symbol: 'BTC/USD', side: 'buy' }] } }));
    expect(inFlight.text).toMatch(/could not be confirmed cancelled/);
    expect(JSON.stringify(inFlight.blocks)).toMatch(/1 order\(s\) were still on their way after the halt/);
  });

  it('a Kraken cancel queued for a bot says so on its venue line, as the notice does, in the terminal and on Slack', () => {
    const queued = kill({
      ok: false, krakenAccess: 'queued', followUp: { requestId: 5, runningBot: 'worker-1:42', engine: 'worker-1:42 running', botKnown: true },
      cancel: { allConfirmed: false, venues: [{ venue: 'kraken', canceled: null, confirmed: false, attempts: 0, survivors: [], errors: ['nobody took it'], handedOff: { requestId: 5, by: null, status: 'queued', queuedFor: 'worker-1:42' } }] },
    });
    expect(renderKill(queued)).toMatch(/^ {2}kraken \(queued for the running bot worker-1:42, not yet taken, request #5\): no cancel sent from this process, NOT CONFIRMED — nobody took it$/m);
    expect(JSON.stringify(renderKillReply(queued).blocks)).toContain('*kraken* (queued for the running bot worker-1:42, not yet taken): no cancel sent from here');
    for (const text of [renderKill(queued), JSON.stringify(renderKillReply(queued))]) expect(text).not.toMatch(/not handed to a bot|by the running bot/);
  });

  it('a Kraken cancel no bot took is never shown as done by a bot, in the terminal or on Slack', () => {
    const untaken = kill({
      ok: false, krakenAccess: 'queued',
      cancel: { allConfirmed: false, venues: [{ venue: 'kraken', canceled: null, confirmed: false, attempts: 0, survivors: [], errors: ['nobody took it'], handedOff: { requestId: 7, by: null, status: 'withdrawn' } }] },
    });
    expect(renderKill(untaken)).toMatch(/^ {2}kraken \(no bot took it, request #7\): no cancel sent from this process, NOT CONFIRMED — nobody took it$/m);
    expect(JSON.stringify(renderKillReply(untaken).blocks)).toContain('*kraken* (no bot took it): no cancel sent from here; could not confirm zero open orders — nobody took it');
    // Nothing was sent from this process: no cancel "failed", and no "0 tries".
    for (const text of [renderKill(untaken), JSON.stringify(renderKillReply(untaken))]) expect(text).not.toMatch(/by the running bot|cancel failed|after 0 (tries|attempt)/);
  });
});
