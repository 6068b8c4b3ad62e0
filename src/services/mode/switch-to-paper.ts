// Owns the rollback: one operator, no approvals, immediate. The mode flips in one transaction that
// also records the change (as an already-switched request) and withdraws any open live request.
// Nothing here waits on Slack or the audit: posting happens after the switch and cannot block it.
// Its moments are the database's now() in that transaction, the clock the sign-off record is kept on.
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import type { Actor } from '../../domain/actor.js';
import { OPEN_STATUSES, type ModeChangeRequest } from '../../db/schema/index.js';
import { lockBotState } from '../../db/queries/bot-state-row.js';
import { getBotState, updateBotState, type Mode } from '../bot-state.js';
import { announceClosed, announceSwitched, type AnnounceDeps } from './announce.js';
import type { LiveSwitchPorts } from './ports.js';
import { databaseNow } from '../../db/queries/database-clock.js';
import { appendEvent, insertRequest, lockOpenRequests, transition } from '../../db/queries/mode-change.js';

export interface PaperResult {
  ok: true;
  changed: boolean;
  previousMode: Mode;
  request: ModeChangeRequest | null;
  withdrawn: number[];
}

/** What the rollback needs: the database and clock to switch, and the announcer's alerts. */
export type SwitchToPaperDeps = AnnounceDeps & { db: Db; clock: Clock };

export async function switchToPaper(
  ctx: SwitchToPaperDeps,
  ports: LiveSwitchPorts,
  input: { actor: Actor; reason?: string | undefined },
): Promise<PaperResult> {
  const { actor } = input;
  const reason = input.reason ?? null;
  const result = await ctx.db.transaction(async (tx) => {
    // Lock order is request rows, then bot_state — the same as the live switch — so a rollback
    // racing a switch waits for it instead of deadlocking (and being the one PostgreSQL aborts).
    const open = await lockOpenRequests(tx);
    await getBotState(tx);
    const state = await lockBotState(tx);
    const now = await databaseNow(tx);
    const previousMode = state!.mode;

    const withdrawn: ModeChangeRequest[] = [];
    for (const r of open) {
      const w = await transition(tx, r.id, OPEN_STATUSES, 'withdrawn', { decidedAt: now, decidedBy: actor.id, outcome: `withdrawn: ${actor.id} switched to paper` });
      if (w) {
        await appendEvent(tx, { requestId: r.id, at: now, kind: 'withdrawn', actor: actor.id, details: { reason: 'switched to paper', note: reason } });
        withdrawn.push(w);
      }
    }
    if (previousMode === 'paper') return { changed: false, previousMode, request: null, withdrawn };

    await updateBotState(tx, ctx.clock, { mode: 'paper' });
    const request = await insertRequest(tx, {
      requester: actor.id, requesterSource: actor.source, fromMode: 'live', toMode: 'paper', status: 'switched', reason,
      createdAt: now, expiresAt: now, decidedAt: now, decidedBy: actor.id,
      outcome: `switched to paper by ${actor.id}${reason ? ` (${reason})` : ''}; no approval needed`,
    });
    await appendEvent(tx, { requestId: request.id, at: now, kind: 'switched', actor: actor.id, details: { from: 'live', to: 'paper', reason } });
    return { changed: true, previousMode, request, withdrawn };
  });

  if (result.changed) ctx.logger.warn({ actor: actor.id, reason }, 'switched to paper trading');
  for (const w of result.withdrawn) await announceClosed(ctx, ports, w);
  if (result.request) await announceSwitched(ctx, ports, result.request, []);
  return { ok: true, changed: result.changed, previousMode: result.previousMode, request: result.request, withdrawn: result.withdrawn.map((w) => w.id) };
}
