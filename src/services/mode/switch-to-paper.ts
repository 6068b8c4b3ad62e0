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
import { announceSwitched, type AnnounceDeps } from './announce.js';
import { ANNOUNCE_PENDING, announceNow } from './announce-pending.js';
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

/** What a paper switch recorded in its transaction: the request it wrote (when it changed the mode) and the live requests it withdrew. */
export interface PaperSwitchRecord {
  changed: boolean;
  previousMode: Mode;
  request: ModeChangeRequest | null;
  withdrawn: ModeChangeRequest[];
}

/**
 * The rollback's writes, inside the caller's transaction (it may hold more there: the engine lease's
 * withdrawal checks its lease and writes the command trail in the same one). `outcome` is the record's
 * text when the mode changes; by default "switched to paper by <actor> (<reason>); no approval needed".
 * `onlyFromLive`: nothing at all (no open request withdrawn) when bot_state already says paper.
 */
export async function recordPaperSwitch(
  tx: Db,
  clock: Clock,
  input: { actor: Actor; reason: string | null; outcome?: string; withdrawnBecause?: string; onlyFromLive?: boolean },
): Promise<PaperSwitchRecord> {
  const { actor, reason } = input;
  // Lock order is request rows, then bot_state — the same as the live switch — so a rollback
  // racing a switch waits for it instead of deadlocking (and being the one PostgreSQL aborts).
  const open = await lockOpenRequests(tx);
  await getBotState(tx);
  const state = await lockBotState(tx);
  const now = await databaseNow(tx);
  const previousMode = state!.mode;
  const because = input.withdrawnBecause ?? `${actor.id} switched to paper`;
  // A caller that acts only on a live mode leaves an open request alone while bot_state says paper.
  if (input.onlyFromLive && previousMode === 'paper') return { changed: false, previousMode, request: null, withdrawn: [] };

  const withdrawn: ModeChangeRequest[] = [];
  for (const r of open) {
    const w = await transition(tx, r.id, OPEN_STATUSES, 'withdrawn', { decidedAt: now, decidedBy: actor.id, outcome: `withdrawn: ${because}` });
    if (w) {
      await appendEvent(tx, { requestId: r.id, at: now, kind: 'withdrawn', actor: actor.id, details: { reason: 'switched to paper', note: reason, ...ANNOUNCE_PENDING } });
      withdrawn.push(w);
    }
  }
  if (previousMode === 'paper') return { changed: false, previousMode, request: null, withdrawn };

  // Only the mode: a halt in force stays (a kill's, an operator's), and so does what the trading state says.
  await updateBotState(tx, clock, { mode: 'paper' });
  const request = await insertRequest(tx, {
    requester: actor.id, requesterSource: actor.source, fromMode: 'live', toMode: 'paper', status: 'switched', reason,
    createdAt: now, expiresAt: now, decidedAt: now, decidedBy: actor.id,
    outcome: input.outcome ?? `switched to paper by ${actor.id}${reason ? ` (${reason})` : ''}; no approval needed`,
  });
  await appendEvent(tx, { requestId: request.id, at: now, kind: 'switched', actor: actor.id, details: { from: 'live', to: 'paper', reason } });
  return { changed: true, previousMode, request, withdrawn };
}

export async function switchToPaper(
  ctx: SwitchToPaperDeps,
  ports: LiveSwitchPorts,
  input: { actor: Actor; reason?: string | undefined },
): Promise<PaperResult> {
  const { actor } = input;
  const reason = input.reason ?? null;
  const result = await ctx.db.transaction((tx) => recordPaperSwitch(tx, ctx.clock, { actor, reason }));

  if (result.changed) ctx.logger.warn({ actor: actor.id, reason }, 'switched to paper trading');
  await announcePaperSwitch(ctx, ports, result);
  return { ok: true, changed: result.changed, previousMode: result.previousMode, request: result.request, withdrawn: result.withdrawn.map((w) => w.id) };
}

/**
 * After the commit: each withdrawn request's thread is told (recorded and retried until delivered), and
 * the switch is announced (an alert, a notice: it has no thread).
 */
export async function announcePaperSwitch(ctx: AnnounceDeps & { db: Db }, ports: LiveSwitchPorts, result: PaperSwitchRecord): Promise<void> {
  await announceNow(ctx, ports, result.withdrawn);
  if (result.request) await announceSwitched(ctx, ports, result.request, []);
}
