// A keyless process where this bot was never live (no bot has the Kraken key, the ledger records no
// live order ever) whose read of the orders on their way fails: nothing of this bot can be on Kraken,
// and whether a paper order is still on its way is not known. The kill and "cancel again" say that,
// and the incident's cancel item ends failed with it — never pending on a follow-up for "the bot
// with the key", which does not exist and which would cancel only on Kraken anyway.
import { afterEach, describe, expect, it } from 'vitest';
import { engineRequests, incidentChecklistItems } from '../../../src/db/schema/index.js';
import { currentIncident, doChecklistItem } from '../../../src/services/kill/incident.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { renderKill } from '../../../src/cli/render/kill.js';
import { renderKillReply } from '../../../src/slack/views/kill.js';
import { killTestContext, useKillTestDb } from '../../support/kill-context.js';
import { openOrder } from '../../support/recording-exchange.js';
import { hookedDatabase } from '../../support/statement-hooks.js';

/**
 * While set, the read of the order intents still pending (the fence: pendingOrderIntents's statement,
 * as the context's database sends it) fails as a dropped connection would.
 */
const fence = { fails: false };
const PENDING_INTENTS_READ = /^\s*select id, client_order_id, mode, symbol, side from "order_intents" where status = 'pending' order by id limit 50$/;

const operator = { id: 'U0OPERATOR', source: 'slack' as const };
const kill = useKillTestDb(['incident_checklist_items', 'incidents', 'bot_state', 'audit_runs', 'order_intents', 'engine_requests', 'engine_lease']);

afterEach(() => {
  fence.fails = false;
});

async function shell() {
  const database = kill.track(hookedDatabase(kill.db().url, [{
    match: PENDING_INTENTS_READ,
    before: () => {
      if (fence.fails) throw new Error('connection terminated unexpectedly');
    },
  }]));
  const t = await killTestContext({ database, env: { KILL_HANDOFF_TIMEOUT: '300ms' } });
  kill.track(t.ctx);
  return t;
}

const cancelItem = async () => (await kill.db().db.select().from(incidentChecklistItems)).find((i) => i.item === 'cancel_orders')!;

describe('never live here, and the orders on their way could not be read', () => {
  it('"cancel again" ends failed, saying what could not be read and that nothing of this bot is on Kraken — no follow-up for a bot with the key', async () => {
    const t = await shell();
    const killed = await executeKill(t.ctx, { actor: operator, reason: 'paper only', trigger: 'manual' });
    expect(killed).toMatchObject({ ok: true, krakenAccess: 'never_live' });

    fence.fails = true;
    t.paper.open.push(openOrder('P1'));
    const again = await doChecklistItem(t.ctx, { item: 'cancel_orders', actor: operator, confirmed: true });
    expect(again, again.summary).toMatchObject({ ok: false, state: 'failed', requestId: null });
    expect(again.summary).toBe('Cancel again NOT CONFIRMED CLEAR — paper: none open, but orders on their way could not be checked (a database query failed: connection terminated unexpectedly) and may reach the exchange after this cancel.'
      + ' No Kraken key here, and no bot with the key is running (no engine running): nothing was sent to Kraken. This database records no use of Kraken ever (no live order or live mode, no cancel there, no engine that took the lease armed or with the key), so there is nothing on Kraken to cancel from this bot.'
      + ' Nothing is queued for a bot (it would cancel only on Kraken): cancel again with ctb incident done cancel_orders (or its button in the incident thread) once the orders on their way can be read.');
    expect(again.summary).not.toMatch(/request #|bot with the key picks|may remain open on Kraken/);
    expect(await kill.db().db.select().from(engineRequests)).toEqual([]);
    expect(await cancelItem()).toMatchObject({ state: 'failed', requestId: null, doneAt: null });
    // As the incident shows it, now and later: failed with what could not be read, not pending on anyone.
    const view = await currentIncident(t.ctx);
    expect(view!.items.find((i) => i.item === 'cancel_orders')).toMatchObject({ state: 'failed', requestId: null });

    // Once the orders on their way can be read again (none is), cancel again is done.
    fence.fails = false;
    expect(await doChecklistItem(t.ctx, { item: 'cancel_orders', actor: operator, confirmed: true })).toMatchObject({ ok: true, state: 'done', requestId: null });
  });

  it('the kill queues nothing, says what is not confirmed, and leaves the cancel item failed with it — not pending on a request nobody takes', async () => {
    const t = await shell();
    fence.fails = true;
    t.paper.open.push(openOrder('P1'));
    const result = await executeKill(t.ctx, { actor: operator, reason: 'paper only', trigger: 'manual' });
    expect(result).toMatchObject({ ok: false, krakenAccess: 'never_live', state: 'written' });
    expect(result.followUp).toBeUndefined();
    expect(await kill.db().db.select().from(engineRequests)).toEqual([]);
    const item = await cancelItem();
    expect(item).toMatchObject({ state: 'failed', requestId: null, doneAt: null });
    expect(item.outcome?.['summary']).toBe('The kill could not confirm zero open orders: orders on their way could not be checked (a database query failed: connection terminated unexpectedly).'
      + ' No Kraken key here, and no bot with the key is running (no engine running): nothing was sent to Kraken. This database records no use of Kraken ever (no live order or live mode, no cancel there, no engine that took the lease armed or with the key), so there is nothing on Kraken to cancel from this bot.'
      + ' Nothing is queued for a bot (it would cancel only on Kraken): cancel again with ctb incident done cancel_orders (or its button in the incident thread) once the orders on their way can be read.');
    expect(t.alerts.map((a) => a.title)).toEqual([
      'Kill switch: trading halted, but zero open orders could not be confirmed — orders on their way could not be checked (a database query failed: connection terminated unexpectedly); nothing of this bot is on Kraken and nothing is queued: cancel again with ctb incident done cancel_orders (or its button in the incident thread) once the orders on their way can be read',
    ]);

    // The terminal and the Slack reply say what the alert and the cancel item say: what was not
    // confirmed, and the same next step — not "open orders may remain", nor "check `ctb reconcile`".
    const next = 'Nothing is queued for a bot (it would cancel only on Kraken): cancel again with ctb incident done cancel_orders (or its button in the incident thread) once the orders on their way can be read.';
    const terminal = renderKill(result);
    const reply = renderKillReply(result);
    const slack = JSON.stringify(reply.blocks);
    expect(terminal).toContain('KILLED — ZERO OPEN ORDERS NOT CONFIRMED: orders on their way could not be checked (a database query failed: connection terminated unexpectedly).');
    expect(terminal).toContain(next);
    expect(slack).toContain(next);
    expect(reply.text).toMatch(/Killed, but zero open orders could not be confirmed — orders on their way could not be checked \(a database query failed: connection terminated unexpectedly\): trading halted, switched to paper\.$/);
    for (const text of [terminal, slack]) expect(text).not.toMatch(/OPEN ORDERS MAY REMAIN|some open orders could not be confirmed cancelled|ctb reconcile/);
    // The reply's checklist shows the cancel item failed, as `ctb incident` does.
    expect(terminal).toMatch(/^ {2}\[!\] cancel_orders .* — FAILED$/m);
    expect(terminal).not.toMatch(/\[ \] cancel_orders/);
  });
});
