// Owns what self-heal takes to be at stake on Kraken, read from the database — never from the
// environment of the process running it: a `ctb self-heal` typed in a shell without IS_LIVE, or a web
// replica, must not decide "paper" for an engine that trades live. Live is at stake when the engine
// holding the lease trades live (it is armed, bot_state says live, nothing halts it: engineMode), or may
// (the same of a stale holder, which trades again if it wakes: mode unknown), or
// when the ledger holds live orders or positions whatever runs (unresolved live intents, open live
// trades): a crashed, stopped or halted live engine leaves orders resting and assets held on Kraken.
import type { Db } from '../../db/client.js';
import type { BotState } from '../../db/schema/index.js';
import { openTrades } from '../../db/queries/ledger-trades.js';
import { unresolvedIntents } from '../../engine/ledger/intents.js';
import type { EngineHolderView } from '../../domain/engine-holder.js';
import { readEngineHolder, type EngineHolderDeps } from '../engine-lease/holder-view.js';
import { engineMode, mayTradeLive } from '../../domain/engine-mode.js';

export interface LiveAtStake {
  /** What puts live at stake, in operator words ("the engine trades LIVE (engine lease: host:pid, armed)"). */
  why: string;
  /** The engine's holder as the lease shows it. */
  engine: EngineHolderView;
  /** What puts it at stake: the engine (it trades live, or may if it wakes), or only what the ledger holds live. */
  from: 'engine' | 'ledger';
}

/** The reads live at stake takes, in order, in operator words with their table. */
export const STAKE_READS = [
  { what: 'the engine lease', table: 'engine_lease' },
  { what: 'the unresolved live order intents', table: 'order_intents' },
  { what: 'the open live positions', table: 'trades' },
] as const;

/**
 * What is live at stake, or null when nothing is (paper stays paper, from any shell). `progress.read`
 * is the index in STAKE_READS of the read under way: when it fails or times out, the one that did.
 */
export async function liveAtStake(ctx: EngineHolderDeps & { db: Db }, state: Pick<BotState, 'mode' | 'halted'>, progress: { read: number } = { read: 0 }): Promise<LiveAtStake | null> {
  progress.read = 0;
  const engine = await readEngineHolder(ctx);
  const holder = `${engine.host}:${engine.pid}`;
  const mode = engineMode(state, engine);
  if (mode === 'live') return { why: `the engine trades LIVE (engine lease: ${holder}, armed)`, engine, from: 'engine' };
  // Mode unknown: a hung holder that wakes renews its lease and trades LIVE again, as a running one would.
  if (mayTradeLive(mode)) {
    return { why: `the engine may resume LIVE trading if it wakes (engine lease: ${holder}, stale since ${engine.staleSince}, armed; the database says live)`, engine, from: 'engine' };
  }
  progress.read = 1;
  const intents = (await unresolvedIntents(ctx.db, 'live')).length;
  progress.read = 2;
  const positions = (await openTrades(ctx.db, 'live')).length;
  if (intents === 0 && positions === 0) return null;
  const held = [intents > 0 ? `${intents} unresolved live order intent(s)` : null, positions > 0 ? `${positions} open live position(s)` : null]
    .filter((s) => s !== null).join(' and ');
  const engineNow = engine.state === 'none' ? 'no engine runs'
    : engine.state === 'stale' ? `the engine ${holder} has stopped renewing its lease (stale)`
      : state.halted ? `the engine ${holder} is halted`
        : `the engine ${holder} trades paper (${engine.armed ? 'bot_state says paper' : 'not armed'})`;
  return { why: `the ledger holds ${held} on Kraken and ${engineNow}`, engine, from: 'ledger' };
}
