// Owns how old a book's latest equity snapshot is and why no newer one came. A book's equity, its
// current drawdown, its exposure as a share of equity and its unrealised PnL are read from that
// snapshot, and the engine writes one only for the book it trades, only while it runs, once per
// EQUITY_SNAPSHOT_INTERVAL: a halted bot writes no live snapshot, a bot in live mode no paper one.
// Which book it trades is the lease holder's mode (domain/engine-mode.ts), not bot_state's alone: an
// unarmed engine trades paper whatever was approved; a stale armed one (unknown) is taken as live.
// Figures from a snapshot that is not fresh are shown with its time, its age and the reason.
import { effectiveMode, engineMode, mayTradeLive, type EngineHolderFacts, type StoredMode } from './engine-mode.js';

/** A snapshot is stale once older than this many EQUITY_SNAPSHOT_INTERVALs: one is due each interval, skipped only while an order's fills are unknown. */
export const STALE_AFTER_INTERVALS = 2;

export type SnapshotBook = 'paper' | 'live' | 'replay';

/** What bot_state says now: which book the engine snapshots, and whether it runs. */
export interface SnapshotBotFacts {
  mode: 'paper' | 'live';
  halted: boolean;
  heartbeatAt: Date | string | null;
  /**
   * The heartbeat's age when the snapshot's age is told now, computed on the database's clock (the
   * engine beats on it): a reader whose clock runs off would misjudge it. Undefined: judged from heartbeatAt at `now`.
   */
  heartbeatAgeMs?: number | null;
}

export interface SnapshotAsOf {
  /** When the snapshot behind equity, current drawdown, exposure % and unrealised PnL was taken. */
  at: string;
  ageSeconds: number;
  /** Younger than staleAfterSeconds, of a book the engine snapshots now, with no trade opened or closed since. */
  fresh: boolean;
  /** Why its figures may not be today's (empty when fresh). */
  reasons: string[];
  /** STALE_AFTER_INTERVALS × EQUITY_SNAPSHOT_INTERVAL. */
  staleAfterSeconds: number;
}

export interface SnapshotAgeInput {
  book: SnapshotBook;
  at: Date | string;
  now: Date;
  intervalMs: number;
  /** Null: no bot_state row yet (no engine ever ran on this database). */
  bot: SnapshotBotFacts | null;
  /** A trade of this book was opened or closed after the snapshot: its equity − cash no longer prices what is open. */
  tradeSince: boolean;
  /**
   * Whether an engine holds the lease now (renewed within ENGINE_LEASE_TTL): none writes snapshots
   * otherwise, so a stopped engine's book is not fresh at once, however young its last snapshot.
   * Undefined: not known (a past window); the bot_state heartbeat tells once a snapshot is overdue.
   */
  engineRunning?: boolean;
  /**
   * The engine lease's holder now (running, stale or none): which book it snapshots is its mode.
   * Undefined: not known (a past window); bot_state's mode is judged as an armed engine's then.
   */
  engine?: EngineHolderFacts;
}

export const ENGINE_NOT_RUNNING = 'the engine is not running';

/** Whole units, largest first: "45s", "4m", "2h 05m", "3d 4h". */
export function formatAgo(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/**
 * The book the engine snapshots: its holder's mode, a stale armed holder's (unknown) taken as live — if
 * it wakes it trades and snapshots live, so the paper book is never called current beside it. With no
 * holder known, the book bot_state asks for, as an armed engine would trade it.
 */
function bookTraded(bot: SnapshotBotFacts, engine: EngineHolderFacts | undefined): StoredMode {
  if (!engine || engine.state === 'none') return effectiveMode(bot, true);
  return mayTradeLive(engineMode(bot, engine)) ? 'live' : 'paper';
}

function whyNoneSince(book: SnapshotBook, bot: SnapshotBotFacts | null, engine: EngineHolderFacts | undefined): string | null {
  if (!bot || book === 'replay') return null;
  const traded = bookTraded(bot, engine);
  if (book === 'live' && bot.halted) return 'no snapshot since: the bot is halted';
  if (book === 'live' && traded === 'paper') {
    return bot.mode === 'live' ? 'no snapshot since: the engine trades paper (IS_LIVE is not true in its process)' : 'no snapshot since: the bot trades paper';
  }
  if (book === 'paper' && traded === 'live') return 'no snapshot since: the bot is in live mode';
  return null;
}

export function snapshotAsOf(i: SnapshotAgeInput): SnapshotAsOf {
  const at = new Date(i.at);
  const ageMs = Math.max(0, i.now.getTime() - at.getTime());
  const staleAfterMs = STALE_AFTER_INTERVALS * i.intervalMs;
  const reasons: string[] = [];
  const stopped = whyNoneSince(i.book, i.bot, i.engine);
  if (stopped) reasons.push(stopped);
  if (i.engineRunning === false) reasons.push(ENGINE_NOT_RUNNING);
  if (i.tradeSince) reasons.push('a trade was opened or closed since');
  if (!stopped && i.engineRunning !== false && ageMs > staleAfterMs) {
    const beat = i.bot?.heartbeatAt ? new Date(i.bot.heartbeatAt).getTime() : null;
    const beatAgeMs = i.bot?.heartbeatAgeMs !== undefined ? i.bot.heartbeatAgeMs : beat === null ? null : i.now.getTime() - beat;
    const engineDown = i.engineRunning === undefined && (beatAgeMs === null || beatAgeMs > staleAfterMs);
    reasons.push(`no snapshot for over ${formatAgo(staleAfterMs / 1000)}${engineDown ? ': the engine is not running' : ` (one is due every ${formatAgo(i.intervalMs / 1000)})`}`);
  }
  return { at: at.toISOString(), ageSeconds: Math.floor(ageMs / 1000), fresh: reasons.length === 0, reasons, staleAfterSeconds: staleAfterMs / 1000 };
}

/** "as of 2026-12-05 13:49:56 UTC, 4m ago — no snapshot since: the bot is halted"; `when` renders the time (Slack: a date token). */
export function asOfText(asOf: SnapshotAsOf, when: (at: Date) => string = utcTime): string {
  return `as of ${when(new Date(asOf.at))}, ${formatAgo(asOf.ageSeconds)} ago${asOf.reasons.length ? ` — ${asOf.reasons.join('; ')}` : ''}`;
}

function utcTime(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
