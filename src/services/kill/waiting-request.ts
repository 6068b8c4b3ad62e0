// Owns reading what a pending checklist item waits on as it stands now: its request's claim (taken by
// which process, or not yet) and, while nobody has taken it, whether a process that would take it runs
// (the engine lease): for the cancel a bot with the Kraken key, for closing positions and reconciling
// the engine's process. Read at display time, so an item never says "handed over" to nobody.
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { engineRequestById } from '../../db/queries/engine-requests.js';
import type { ChecklistItemKey, EngineRequestKind, IncidentChecklistItem } from '../../db/schema/index.js';
import type { ShownChecklistItem } from '../../domain/incident-checklist.js';
import { describeHolder, keylessRunningBot, type EngineHolderView } from '../../domain/engine-holder.js';
import { waitingText, type WaitingRequest, type WaitingWork, type WaitsFor } from '../../domain/waiting-request.js';
import { readEngineHolder } from '../engine-lease/holder-view.js';
import { claimGone, hereNow, type Here } from '../engine-requests/claim-gone.js';
import { followUpTries } from './cancel-follow-up.js';
import { describeError } from './deadline.js';

export type { ShownChecklistItem };

export interface WaitingDeps {
  db: Db;
  /** Without it the engine lease is not read, and whether a process that takes it runs is said unknown. */
  config?: Pick<Config, 'ENGINE_LEASE_TTL'> | undefined;
  /** This process's host, pid scope and pid (tests); default hereNow(). */
  here?: () => Here;
  /** Whether a pid is a process (tests); default process.kill(pid, 0). */
  pidExists?: (pid: number) => boolean;
}

/** The request kinds an item can wait on, what each does and who takes it. */
const WAITS: Partial<Record<EngineRequestKind, { work: WaitingWork; waitsFor: WaitsFor }>> = {
  cancel_all: { work: 'cancel', waitsFor: 'bot_with_key' },
  flatten: { work: 'flatten', waitsFor: 'engine' },
  reconcile: { work: 'reconcile', waitsFor: 'engine' },
};

/** The request kind each checklist item hands over. */
const ITEM_KIND: Partial<Record<ChecklistItemKey, EngineRequestKind>> = { cancel_orders: 'cancel_all', close_positions: 'flatten', reconcile_ledger: 'reconcile' };

/** The running process that would take it: a bot with the Kraken key for a cancel, the engine for the rest. */
function runningTaker(h: EngineHolderView, waitsFor: WaitsFor): string | null {
  if (h.state !== 'running') return null;
  return waitsFor === 'engine' || h.hasKrakenKeys ? `${h.host}:${h.pid}` : null;
}

/**
 * What request `requestId` stands at now, worded; null when it is not one of `kind` (when given) or
 * not work another process does for an incident (cancel, flatten, reconcile).
 */
export async function waitingOn(ctx: WaitingDeps, requestId: number, kind?: EngineRequestKind): Promise<(WaitingRequest & { text: string }) | null> {
  const request = await engineRequestById(ctx.db, requestId);
  if (!request || (kind !== undefined && request.kind !== kind)) return null;
  const waits = WAITS[request.kind];
  if (!waits) return null;
  const takenBy = request.status === 'pending' ? null : request.claimedBy;
  // Between two tries a follow-up waits pending again: tried, not "not yet taken".
  const tries = request.status === 'pending' ? followUpTries(request) : 0;
  const retried = tries > 0 ? { tries, nextTryAt: request.notBefore?.toISOString() ?? null } : undefined;
  let lease: Pick<WaitingRequest, 'runningBot' | 'botKnown' | 'engine' | 'keylessBot'> = { runningBot: null, botKnown: false, engine: 'the engine lease was not read here' };
  if (!takenBy && ctx.config) {
    lease = await readEngineHolder({ db: ctx.db, config: ctx.config }).then(
      (h) => ({ runningBot: runningTaker(h, waits.waitsFor), botKnown: true, engine: describeHolder(h), keylessBot: waits.waitsFor === 'bot_with_key' ? keylessRunningBot(h) : null }),
      (err: unknown) => ({ runningBot: null, botKnown: false, engine: `the engine lease could not be read: ${describeError(err)}` }),
    );
  }
  // A claimer on this host and boot whose pid is no process: said gone, not "its answer shows here".
  const takerGone = takenBy !== null && request.status === 'running' && claimGone(request, ctx.here?.() ?? hereNow(), ctx.pidExists);
  const waiting: WaitingRequest = { requestId, work: waits.work, waitsFor: waits.waitsFor, takenBy, ...(takerGone ? { takerGone } : {}), ...lease, ...(retried ? { retried } : {}) };
  return { ...waiting, text: waitingText(waiting) };
}

/** The items as shown: each pending on a request another process carries out says what that request stands at. */
export async function withWaitingRequests(ctx: WaitingDeps, items: IncidentChecklistItem[]): Promise<ShownChecklistItem[]> {
  return Promise.all(items.map(async (item): Promise<ShownChecklistItem> => {
    const kind = ITEM_KIND[item.item];
    if (item.state !== 'pending' || item.requestId === null || !kind) return item;
    const waiting = await waitingOn(ctx, item.requestId, kind);
    return waiting ? { ...item, waiting } : item;
  }));
}
