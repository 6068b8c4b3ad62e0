// Owns an operator's request to exit one open trade or all of them (`/exit`, `ctb exit`): checked
// here (not while halted — no order leaves a halted bot, exits included; the trade exists and is
// open), then handed to the process that runs the engine as an engine request (kind exit_trade), so
// the exit takes the engine's own order path: the intent under the halt fence, a client order id,
// the same executor and ledger. The answer is the request's: pending, then done or failed.
import { z } from 'zod';
import type { AlertSink } from '../../alerts/types.js';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { exitWaitOf, expirePendingExitRequests, lockExitRequests, openExitRequests } from '../../db/queries/engine-requests.js';
import { tradeById } from '../../db/queries/exit-targets.js';
import { openTradesById } from '../../db/queries/trade-views.js';
import type { BotState, EngineRequest, Trade } from '../../db/schema/index.js';
import type { Actor } from '../../domain/actor.js';
import type { ManualExitOutcome } from '../../engine/manual-exit.js';
import { exitRequestParams, type ExitRequestParams } from '../../engine/exit-request.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { dec } from '../../money.js';
import { effectiveMode, getBotState, type Mode } from '../bot-state.js';
import type { EngineHolderView } from '../../domain/engine-holder.js';
import { readEngineHolder, type EngineHolderDeps } from '../engine-lease/holder-view.js';
import { engineMode } from '../../domain/engine-mode.js';
import { setAsideNote, setAsidePosition } from '../mode/paper-set-aside.js';
import { enqueueEngineRequest, getEngineRequest, waitForEngineRequest } from '../engine-requests/store.js';
import { bookOf, money, type BookName } from '../stats/compute-stats.js';
import { exitExpiredSummary, exitQueuedPhrase } from './exit-expiry.js';
import { exitCovers } from './pending-exits.js';
import { describePendingExit, tradeIdList, type ExitRequestState, type ExitTarget } from '../../domain/exit-request-state.js';
import { extendExitWait, holdExitAnswer, markExitAnswerShown, recordExitReplyMessage, releaseExitOutcomeClaim } from '../../db/queries/exit-outcomes.js';
import { keepHolding } from './keep-holding.js';
import type { Notifier } from '../../notifications/notification.js';
import { EXIT_TELL_LEASE_MS, skippedState, tellUnshownExits, type TellExitDeps } from './tell-exit.js';

export type { ExitRequestState, ExitTarget } from '../../domain/exit-request-state.js';

/**
 * Asking for an exit writes an engine request (and logs it); previewing only reads. Asking and
 * waiting close exits that waited past EXIT_REQUEST_TTL, and an expired one nobody waits for any
 * more is told to the alert channel.
 */
export interface RequestExitDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: Pick<Config, 'EXIT_REQUEST_TTL'>;
  alerts: Pick<AlertSink, 'raise'>;
  /** The chat notifier: an expired exit asked from Slack has its message updated (tell-exit.ts). */
  notifier?: Notifier | null;
}

export interface ExitTargetRow {
  id: number;
  book: BookName;
  strategy: string;
  symbol: string;
  quantity: string;
  entryPrice: string;
}

/** Parses `12`, `#12` or `all`; anything else is a usage error naming what is expected. */
export function parseExitTarget(text: string): ExitTarget {
  const t = text.trim().toLowerCase();
  if (t === 'all') return 'all';
  const m = /^#?(\d{1,12})$/.exec(t);
  if (m && Number(m[1]) > 0) return Number(m[1]);
  throw new AppError('usage', 'bad_exit_target', `Expected a trade id such as 12 (see /trades or ctb trades) or "all", got "${text}".`);
}

const rowOf = (t: Trade): ExitTargetRow => ({ id: t.id, book: bookOf(t.mode, t.feed), strategy: t.strategy, symbol: t.symbol, quantity: money(t.quantity), entryPrice: money(t.entryPrice) });

/** What an exit would sell: the trades of the book the engine trades in, and what `all` leaves out of the other. */
export interface ExitPreview {
  /** The book the exit trades in (exitBook): the confirm closes these trades and no others. */
  mode: Mode;
  trades: ExitTargetRow[];
  /** The switch's note on the open paper positions left out while live (mode/paper-set-aside.ts); null when none is. */
  paperSetAside: string | null;
  /** While the engine trades paper, the open live positions left out; null when none is. */
  liveLeftOut: string | null;
  /** Why no engine takes the exit now (its lease stale): the exit is queued and stays pending. Else null. */
  engineNote: string | null;
}

/**
 * The book an exit trades in, as the database has it: the engine trades its own book only (it loads
 * one mode's open trades), so that is the one an exit closes. While the engine runs, its mode
 * (domain/engine-mode.ts: its holder armed, the database saying live). With its lease stale, the mode its
 * holder was trading — the one it trades again when it takes the lease back — and the exit is queued
 * for it, which the preview says. With no lease at all, the mode the database asks for.
 */
export function exitBook(state: Pick<BotState, 'mode' | 'halted'>, holder: EngineHolderView): { mode: Mode; engineNote: string | null } {
  if (holder.state === 'none') return { mode: state.mode, engineNote: null };
  // The holder's own book: live exactly when engineMode says live (running) or unknown (stale, armed, live).
  const mode = effectiveMode(state, holder.armed);
  if (holder.state === 'running') return { mode, engineNote: null };
  // Not "no engine is trading" alone: a hung holder that wakes renews its lease and trades again.
  const now = engineMode(state, holder) === 'unknown'
    ? 'mode unknown: no engine is trading while it hangs, but it was armed and the database says live, so it may resume LIVE trading if it wakes (`ctb kill` or `/kill` cancels from any process)'
    : 'no engine is trading now';
  return {
    mode,
    engineNote: `The engine's lease is stale since ${holder.staleSince} (${holder.host}:${holder.pid}, last heartbeat ${holder.heartbeatAt}): ${now}. `
      + `A confirmed exit is queued for the engine and stays pending until an engine takes the lease and has started; listed: the ${mode} book, as the database has the engine trade (${state.mode}, ${holder.armed ? 'armed' : 'not armed'}).`
      // Taking over from an armed holder halts first (reconcile/start/monitor.ts begin): a halted bot sends no order.
      + (holder.armed ? ' An engine that takes over from this one halts trading until reconciliation with Kraken passes: the exit is then refused (no order leaves a halted bot); ask for it again once the halt is lifted.' : ''),
  };
}

/** While the engine trades paper, what becomes of the open live positions: Kraken holds them, no paper order sells them. */
function liveLeftOutNote(positions: readonly Trade[]): string | null {
  if (positions.length === 0) return null;
  const listed = positions.slice(0, 5).map((t) => `#${t.id} ${t.symbol} ${dec(t.quantity).toFixed()}`).join(', ');
  const more = positions.length > 5 ? ` and ${positions.length - 5} more` : '';
  const n = positions.length === 1 ? '1 open live position' : `${positions.length} open live positions`;
  return `The bot trades paper: ${n} left out (${listed}${more}): Kraken holds them, so no paper order sells them; they stay open in the live book.`;
}

/**
 * What an exit would sell, refused with a reason while halted or for a trade that is not open or not
 * in the book the exit trades in (exitBook) — exactly what the engine's exit then closes.
 */
export async function previewExit(ctx: EngineHolderDeps, target: ExitTarget): Promise<ExitPreview> {
  const state = await getBotState(ctx.db);
  if (state.halted) {
    throw new AppError('conflict', 'halted',
      `Trading is halted${state.haltedReason ? ` (${state.haltedReason}${state.haltedBy ? `, by ${state.haltedBy}` : ''})` : ''}: no order can be sent, exits included.`,
      { hint: 'Close positions with the incident checklist (in a terminal: ctb incident done close_positions --yes; ctb kill --flatten when killing; or its "close positions" button), or lift the halt first (ctb resume).' });
  }
  const { mode, engineNote } = exitBook(state, await readEngineHolder(ctx));
  // While live, paper positions are set aside (mode/paper-set-aside.ts): Kraken holds none of them.
  // While paper, live positions are Kraken's: the paper engine neither loads nor sells them.
  if (target === 'all') {
    const open = await openTradesById(ctx.db);
    const other = open.filter((t) => t.mode !== mode);
    const paperSetAside = mode === 'live' ? setAsideNote('live', other.map(setAsidePosition)) : null;
    const liveLeftOut = mode === 'paper' ? liveLeftOutNote(other) : null;
    return { mode, trades: open.filter((t) => t.mode === mode).map(rowOf), paperSetAside, liveLeftOut, engineNote };
  }
  const trade = await tradeById(ctx.db, target);
  if (!trade) throw new AppError('usage', 'unknown_trade', `There is no trade #${target}.`, { hint: '/trades lists the open ones.', terminalHint: 'ctb trades lists the open ones.' });
  if (trade.status !== 'open') throw new AppError('conflict', 'trade_closed', `Trade #${target} is already closed${trade.exitAt ? ` (at ${trade.exitAt.toISOString()})` : ''}: nothing to exit.`);
  if (trade.mode !== mode && mode === 'live') {
    throw new AppError('conflict', 'paper_trade_while_live',
      `Trade #${target} is a paper position, set aside while the bot is live: it is simulated and Kraken holds none of it, so no live order sells it.`,
      { hint: 'It stays open in the paper book; exit it after going back to paper (ctb mode paper).' });
  }
  if (trade.mode !== mode) {
    throw new AppError('conflict', 'live_trade_while_paper',
      `Trade #${target} is a live position and the bot trades paper: Kraken holds it, so no paper order sells it.`,
      { hint: 'It stays open in the live book; exit it when the bot is live again, or sell it on Kraken with ctb kill --flatten.' });
  }
  return { mode, trades: [rowOf(trade)], paperSetAside: null, liveLeftOut: null, engineNote };
}

/** The request as it stands; a pending one with how long it has waited, read on the database's clock. */
async function stateOf(ctx: Pick<RequestExitDeps, 'db' | 'config'>, row: EngineRequest, joined: boolean): Promise<ExitRequestState> {
  const result = (row.result ?? {}) as { summary?: string; results?: ManualExitOutcome[] };
  const status = row.status === 'done' ? 'done' : row.status === 'failed' ? 'failed' : 'pending';
  const waitedMs = status === 'pending' ? ((await exitWaitOf(ctx.db, row.id, ctx.config.EXIT_REQUEST_TTL))?.waitedMs ?? null) : null;
  return { requestId: row.id, status, joined, summary: result.summary ?? row.error ?? null, results: result.results ?? [], waitedMs, ttlMs: ctx.config.EXIT_REQUEST_TTL,
    toldLater: status === 'pending' && (waitedMs ?? 0) >= Number(row.params['waitMs'] ?? 0), queued: waitedMs === null ? null : exitQueuedPhrase(waitedMs, ctx.config.EXIT_REQUEST_TTL),
    // What an `exit all` left out when it was asked, as its request records it: said with its answer too, whoever tells it.
    ...skippedState(row),
  };
}

/** What closes pending exits that waited past EXIT_REQUEST_TTL: no engine may carry them out later. */
function expiryOf(ctx: Pick<RequestExitDeps, 'config'>, id?: number) {
  const ttlMs = ctx.config.EXIT_REQUEST_TTL;
  // The rows say since when each waited (params.writtenAt); the statement only knows it was longer.
  // Finished at the database's now, the clock that judged them expired (engine-requests.ts).
  const summary = exitExpiredSummary(null, ttlMs);
  return { ttlMs, error: summary, result: { summary, expired: true }, ...(id !== undefined ? { id } : {}) };
}

/** Exits closed as expired: logged, and told to the alert channel when their requester no longer waits. */
async function toldExpired(ctx: RequestExitDeps, expired: readonly EngineRequest[]): Promise<void> {
  for (const row of expired) ctx.logger.warn({ requestId: row.id, by: row.requestedBy }, `manual exit: ${row.error ?? 'expired'}`);
  if (expired.length > 0) await tellUnshownExits(ctx, { ids: expired.map((r) => r.id) });
}

/**
 * Its requester showed the answer of `state` (done or failed): the alert channel is not told it
 * (tell-exit.ts). Called by whoever put it in front of the operator, once it did.
 */
export async function exitAnswerShown(ctx: Pick<RequestExitDeps, 'db' | 'logger'>, state: Pick<ExitRequestState, 'requestId' | 'status'>): Promise<void> {
  if (state.status === 'pending') return;
  // Not recorded: the alert channel is told it too, a second time at worst.
  await markExitAnswerShown(ctx.db, state.requestId).catch((err: unknown) => ctx.logger.warn({ err, requestId: state.requestId }, 'could not record that an exit\'s answer was shown; the alert channel may be told it too'));
}

/** How many leases a requester renews its hold on an answer for while its showing has not finished. */
export const EXIT_SHOW_HOLD_LEASES = 2;

/**
 * Shows the answer of `state` to its requester with `show` (a terminal's print, a Slack update) and
 * marks it shown after — not before: one that failed to show is still told (tell-exit.ts). While it
 * shows, the requester holds the telling (a lease of EXIT_TELL_LEASE_MS), renewed every third of it
 * for up to EXIT_SHOW_HOLD_LEASES leases — a reader slower than the lease keeps it, so no sweep tells
 * the answer a second time. A showing that blocks longer (stdout stopped with Ctrl-S, a pager nobody
 * scrolls, a hung Slack update) is held no longer: a sweep tells the answer once the last lease is
 * out (about three leases after the showing began) — told twice, should it still be shown, is better
 * than never told (it may be a failed sell). Its process dying stops the renewals: a sweep tells the
 * answer once the lease is out. One that failed gives it back.
 */
export async function showExitAnswer(
  ctx: Pick<RequestExitDeps, 'db' | 'logger'> & Pick<TellExitDeps, 'exitTellLeaseMs'>, state: Pick<ExitRequestState, 'requestId' | 'status'>, show: () => Promise<void>,
): Promise<void> {
  if (state.status === 'pending') return show();
  const leaseMs = ctx.exitTellLeaseMs ?? EXIT_TELL_LEASE_MS;
  // Not held (a database error, or a sweep telling it already): shown all the same, told twice at worst.
  const hold = await holdExitAnswer(ctx.db, state.requestId, leaseMs)
    .catch((err: unknown) => (ctx.logger.warn({ err, requestId: state.requestId }, 'could not hold an exit\'s answer while showing it; the alert channel may be told it too'), null));
  const keeping = hold ? keepHolding(ctx, () => [state.requestId], hold, leaseMs, { forMs: EXIT_SHOW_HOLD_LEASES * leaseMs }) : null;
  try {
    await show();
  } catch (err) {
    await keeping?.stop();
    if (hold) await releaseExitOutcomeClaim(ctx.db, state.requestId, hold).catch((e: unknown) => ctx.logger.warn({ err: e, requestId: state.requestId }, 'could not give back the hold on an exit\'s answer; the alert channel is told it once the hold is out'));
    throw err;
  }
  // Held until it is marked shown: a sweep between the showing and the mark would tell it again.
  try {
    await exitAnswerShown(ctx, state);
  } finally {
    await keeping?.stop();
  }
}

/** What the operator was shown and confirmed: the book, and for `all` the trades it listed. */
export interface ShownExit {
  mode: Mode;
  tradeIds: readonly number[];
}

/** A pending request's params ask the very same exit: target, book and the trades listed. */
function sameExit(pending: unknown, asked: ExitRequestParams): boolean {
  const p = exitRequestParams.safeParse(pending);
  return p.success && p.data.target === asked.target && p.data.mode === asked.mode
    && JSON.stringify(p.data.tradeIds ?? null) === JSON.stringify(asked.tradeIds ?? null);
}

/**
 * Hands the exit to the engine's process with the book it was shown (the engine refuses it in the
 * other, and `all` closes only the trades listed) and how long its requester waits for the answer
 * (`waitMs`: finished later, the alert channel is told); an identical exit still pending is joined, not repeated.
 */
export async function requestExit(
  ctx: RequestExitDeps, actor: Actor, target: ExitTarget, reason: string | undefined, shown: ShownExit, waitMs: number,
): Promise<ExitRequestState> {
  const params: ExitRequestParams = exitRequestParams.parse({
    target, ...(reason ? { reason } : {}), mode: shown.mode, ...(target === 'all' ? { tradeIds: [...shown.tradeIds].sort((a, b) => a - b) } : {}),
    waitMs: Math.max(0, Math.round(waitMs)),
  });
  // Two clicks at once must not both see "nothing pending" and both enqueue: look and write under one lock.
  const { row, joined, expired, skipped } = await ctx.db.transaction(async (tx) => {
    await lockExitRequests(tx);
    // One that waited past its TTL is never carried out, so it is closed, not joined.
    const expired = await expirePendingExitRequests(tx, expiryOf(ctx));
    const open = await openExitRequests(tx);
    const same = open.find((r) => sameExit(r.params, params));
    // The joiner waits too: the request's wait runs to the later of the two, so neither shown answer is told again.
    if (same) return { row: (await extendExitWait(tx, same.id, params.waitMs ?? 0)) ?? same, joined: true, expired, skipped: undefined };
    // Another exit still queued for one of these trades: a second one would only fail or sell what the first sells.
    const asked = new Set(target === 'all' ? params.tradeIds ?? [] : [target]);
    const overlapping = open.flatMap((r) => {
      const covers = exitCovers(r.params);
      const both = covers ? covers.tradeIds.filter((id) => asked.has(id)) : [];
      return covers && both.length > 0 ? [{ row: r, covers, both }] : [];
    });
    if (overlapping.length === 0) return { row: await enqueueEngineRequest(tx, ctx.clock, { kind: 'exit_trade', requestedBy: actor.id, params }), joined: false, expired, skipped: undefined };
    // `all` leaves out the trades a queued exit already closes and asks for the rest; refused only when none is left.
    const covered = new Set(overlapping.flatMap((o) => o.both));
    const rest = (params.tradeIds ?? []).filter((id) => !covered.has(id));
    if (target !== 'all' || rest.length === 0) throw exitAlreadyQueued(target, overlapping);
    const skipped = { note: alreadyQueuedNote(overlapping), tradeIds: [...covered].sort((a, b) => a - b) };
    const narrowed = checkedExitParams({ ...params, tradeIds: rest, skipped });
    return { row: await enqueueEngineRequest(tx, ctx.clock, { kind: 'exit_trade', requestedBy: actor.id, params: narrowed }), joined: false, expired, skipped };
  });
  await toldExpired(ctx, expired);
  if (!joined) ctx.logger.warn({ requestId: row.id, actor: actor.id, target, ...(skipped ? { skipped: skipped.tradeIds } : {}) }, 'manual exit requested');
  return stateOf(ctx, row, joined);
}

type Overlapping = ReadonlyArray<{ row: EngineRequest; covers: { target: ExitTarget; tradeIds: number[] }; both: number[] }>;

/** How many of the queued exits an overlap names: the rest are counted ("and 40 other queued exits"). */
const NAMED_OVERLAPS = 3;

/**
 * The trades and queued exits of an overlap, in words that stay short however many (an `exit all` of
 * hundreds of trades): the first trade ids and exits, then how many more (tradeIdList).
 */
function overlapWords(overlapping: Overlapping): { trades: string; count: number; which: string } {
  const ids = [...new Set(overlapping.flatMap((o) => o.both))].sort((a, b) => a - b);
  const named = overlapping.slice(0, NAMED_OVERLAPS).map((o) => `request #${o.row.id}, the exit of ${describePendingExit(o.covers)} asked by ${o.row.requestedBy}`);
  const more = overlapping.length - named.length;
  const which = named.join('; ') + (more > 0 ? `; and ${more} other queued exit${more === 1 ? '' : 's'}` : '');
  return { trades: tradeIdList(ids), count: ids.length, which };
}

/** The trades an `exit all` left out because another queued exit already closes them: which, by which request and whom. */
function alreadyQueuedNote(overlapping: Overlapping): string {
  const { trades, count, which } = overlapWords(overlapping);
  return `${count === 1 ? `trade ${trades}, which already has` : `trades ${trades}, which already have`} an exit queued (${which}): not asked again.`;
}

/** The refusal of an exit of trades another queued exit already covers: which, by which request and whom. */
function exitAlreadyQueued(target: ExitTarget, overlapping: Overlapping): AppError {
  const { trades, count, which } = overlapWords(overlapping);
  const subject = count === 1 ? `Trade ${trades} already has an exit queued` : `Trades ${trades} already have an exit queued`;
  const others = target === 'all' ? ' Every listed trade has one, so nothing is left to ask; ask again once it has ended if they are still open.' : ' Ask again once it has ended if the trade is still open.';
  return new AppError('conflict', 'exit_already_queued', `${subject} (${which}): nothing new was asked.${others}`,
    { hint: '/trades shows the queued exits and when each expires.', terminalHint: 'ctb trades shows the queued exits and when each expires.' });
}

/**
 * `params` as the engine reads them (exit-request.ts exitRequestParams): a request it could not read
 * fails here, at its requester, with nothing sent — not in the engine as a "Bad exit request" while
 * the trades it was to close stay open.
 */
function checkedExitParams(params: ExitRequestParams): ExitRequestParams {
  const checked = exitRequestParams.safeParse(params);
  if (checked.success) return checked.data;
  throw new AppError('internal', 'exit_request_invalid',
    `The exit could not be asked: its request would not be valid for the engine (${z.prettifyError(checked.error).replace(/\s+/g, ' ')}). Nothing was sent.`);
}

/**
 * Waits up to `waitMs` for the engine's answer; returns the request as it stands then. With `last`
 * (nobody waits after this), one still pending is closed when it waited past EXIT_REQUEST_TTL; else
 * its requester's wait (params.waitMs) is over, so whoever finishes it tells the alert channel.
 */
export async function awaitExit(ctx: RequestExitDeps, state: ExitRequestState, waitMs: number, opts: { last: boolean }): Promise<ExitRequestState> {
  if (state.status !== 'pending') return state;
  return awaitedExit(ctx, state, waitMs, opts);
}

async function awaitedExit(ctx: RequestExitDeps, state: ExitRequestState, waitMs: number, opts: { last: boolean }): Promise<ExitRequestState> {
  const row = waitMs > 0 ? await waitForEngineRequest(ctx.db, state.requestId, { timeoutMs: waitMs, pollMs: 100 }) : await getEngineRequest(ctx.db, state.requestId);
  if (!row) return state;
  if (!opts.last || (row.status !== 'pending' && row.status !== 'running')) return stateOf(ctx, row, state.joined);
  const [expired] = await expirePendingExitRequests(ctx.db, expiryOf(ctx, row.id));
  if (expired) {
    await toldExpired(ctx, [expired]);
    return stateOf(ctx, expired, state.joined);
  }
  const now = await stateOf(ctx, row, state.joined);
  return now.status === 'pending' ? { ...now, toldLater: true } : now;
}


/**
 * A Slack message now shows exit `requestId` (the button's progress message): when the exit ends
 * unwatched, that message is brought up to the answer (tell-exit.ts). True when recorded; not recorded,
 * nothing updates it and the alert channel is told instead — what the message must then say.
 */
export async function exitReplyPosted(ctx: Pick<RequestExitDeps, 'db' | 'logger'>, requestId: number, message: { channel: string; ts: string }): Promise<boolean> {
  if (!message.ts) return false;
  return recordExitReplyMessage(ctx.db, requestId, message)
    .catch((err: unknown) => {
      ctx.logger.warn({ err, requestId }, 'could not record the Slack message of an exit; its answer goes to the alert channel if the button does not show it');
      return false;
    });
}
