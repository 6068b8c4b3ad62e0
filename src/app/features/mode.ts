// Owns the mode's safety across restarts: at start, a database that says live in a process that is
// not armed trades paper (effectiveMode). In a process that may run the engine (roles all, worker) the
// engine decides once it holds the lease: it withdraws the live approval and alerts then
// (services/mode/withdraw-unarmed-live.ts) — a standby behind an armed engine (a rolling deploy)
// withdraws nothing and raises nothing. Elsewhere (web) nothing is paged: a web replica trades nothing,
// so its arming says nothing of the engine's mode; a warning names the mode the engine trades (read
// from the lease holder) and that this replica cannot serve /mode live or the live switch. Requests
// interrupted by a restart are closed; and a job closes requests as they expire (the rows' timestamps are the record, the job only acts on them).
import type { AppContext } from '../context.js';
import { effectiveMode, getBotState } from '../../services/bot-state.js';
import { readEngineHolder } from '../../services/engine-lease/holder-view.js';
import { engineMode, unknownModePhrase } from '../../domain/engine-mode.js';
import type { EngineHolderView } from '../../domain/engine-holder.js';
import { expireOverdueRequests } from '../../services/mode/expire-requests.js';
import { ENGINE_ROLES } from '../start-checks.js';
import type { Feature, StartOptions } from '../feature.js';

export async function checkModeAtStart(ctx: AppContext, role: StartOptions['role']): Promise<{ storedMode: string; effectiveMode: string }> {
  const state = await getBotState(ctx.db);
  const mode = effectiveMode(state, ctx.config.IS_LIVE);
  if (state.mode === 'live' && !ctx.config.IS_LIVE && ENGINE_ROLES.includes(role)) {
    ctx.logger.warn('the database says live and this process is not armed (IS_LIVE is not true): it trades paper, and withdraws the live approval if it takes the engine lease');
  } else if (state.mode === 'live' && !ctx.config.IS_LIVE) {
    const engine = await readEngineHolder(ctx);
    ctx.logger.warn({ storedMode: state.mode, engineMode: engineMode(state, engine), engine: engine.state === 'none' ? null : `${engine.host}:${engine.pid}` },
      `this web replica is not armed (IS_LIVE is not true): it cannot serve /mode live or the live switch; it trades nothing itself. The database says live; ${engineTrades(state, engine)}`);
  } else if (mode === 'live') {
    ctx.logger.warn('starting in LIVE mode (armed, database says live, not halted)');
  }
  return { storedMode: state.mode, effectiveMode: mode };
}

/** What the engine trades, as its lease holder (not this process) has it. */
function engineTrades(state: { mode: 'paper' | 'live'; halted: boolean }, engine: EngineHolderView): string {
  if (engine.state === 'none') return 'no engine holds the lease (one that takes it unarmed withdraws the live approval)';
  const mode = engineMode(state, engine);
  if (mode === 'unknown') return `mode unknown: ${unknownModePhrase(engine)}`;
  const armed = engine.armed ? 'armed' : 'not armed';
  return `the engine ${engine.host}:${engine.pid} (${armed}${state.halted ? ', halted' : ''}) trades ${mode.toUpperCase()}`;
}

export const modeFeature: Feature = {
  name: 'mode',
  roles: ['all', 'web', 'worker'],
  async start(ctx, _http, startOpts) {
    await checkModeAtStart(ctx, startOpts.role);
    await expireOverdueRequests(ctx, ctx.liveSwitch);
    ctx.jobs.register({
      name: 'mode-change-expiry',
      schedule: '*/30 * * * * *',
      trades: false,
      run: async () => {
        await expireOverdueRequests(ctx, ctx.liveSwitch);
      },
    });
  },
};
