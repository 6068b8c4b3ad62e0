// Owns reading what a pending cancel item waits on as it stands now: the request's claim (taken by
// which bot, or not yet) and, while nobody has taken it, whether a bot with the Kraken key runs (the
// engine lease). Read at display time, so the item never says "handed over" to nobody.
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { engineRequestById } from '../../db/queries/engine-requests.js';
import type { IncidentChecklistItem } from '../../db/schema/index.js';
import type { ShownChecklistItem } from '../../domain/incident-checklist.js';
import { describeHolder } from '../../domain/engine-holder.js';
import { waitingCancelText, type WaitingCancel } from '../../domain/kraken-handoff.js';
import { readEngineHolder } from '../engine-lease/holder-view.js';
import { followUpTries } from './cancel-follow-up.js';
import { describeError } from './deadline.js';

export type { ShownChecklistItem };

export interface WaitingDeps {
  db: Db;
  /** Without it the engine lease is not read, and whether a bot runs is said unknown. */
  config?: Pick<Config, 'ENGINE_LEASE_TTL'> | undefined;
}

export async function withWaitingCancel(ctx: WaitingDeps, items: IncidentChecklistItem[]): Promise<ShownChecklistItem[]> {
  return Promise.all(items.map(async (item): Promise<ShownChecklistItem> => {
    if (item.item !== 'cancel_orders' || item.state !== 'pending' || item.requestId === null) return item;
    const request = await engineRequestById(ctx.db, item.requestId);
    if (request?.kind !== 'cancel_all') return item;
    const takenBy = request.status === 'pending' ? null : request.claimedBy;
    // Between two tries a follow-up waits pending again: tried, not "not yet taken".
    const tries = request.status === 'pending' ? followUpTries(request) : 0;
    const retried = tries > 0 ? { tries, nextTryAt: request.notBefore?.toISOString() ?? null } : undefined;
    let lease: Pick<WaitingCancel, 'runningBot' | 'botKnown' | 'engine'> = { runningBot: null, botKnown: false, engine: 'the engine lease was not read here' };
    if (!takenBy && ctx.config) {
      lease = await readEngineHolder({ db: ctx.db, config: ctx.config }).then(
        (h) => ({ runningBot: h.state === 'running' && h.hasKrakenKeys ? `${h.host}:${h.pid}` : null, botKnown: true, engine: describeHolder(h) }),
        (err: unknown) => ({ runningBot: null, botKnown: false, engine: `the engine lease could not be read: ${describeError(err)}` }),
      );
    }
    const waiting: WaitingCancel = { requestId: item.requestId, takenBy, ...lease, ...(retried ? { retried } : {}) };
    return { ...item, waiting: { ...waiting, text: waitingCancelText(waiting) } };
  }));
}
