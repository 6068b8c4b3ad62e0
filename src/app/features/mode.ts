// Owns the mode's safety across restarts: at start, a database that says live in a process that is
// not armed trades paper (effectiveMode). In a process that may run the engine (roles all, worker) the
// engine decides once it holds the lease: it withdraws the live approval and alerts then
// (services/mode/withdraw-unarmed-live.ts) — a standby behind an armed engine (a rolling deploy)
// withdraws nothing and raises nothing. Elsewhere (web) a critical alert says that someone expects
// live trading this process does not do. Requests interrupted by a restart are closed; and a job closes
// requests as they expire (the rows' timestamps are the record, the job only acts on them).
import type { AppContext } from '../context.js';
import { effectiveMode, getBotState } from '../../services/bot-state.js';
import { expireOverdueRequests } from '../../services/mode/expire-requests.js';
import { ENGINE_ROLES } from '../start-checks.js';
import type { Feature, StartOptions } from '../feature.js';

export async function checkModeAtStart(ctx: AppContext, role: StartOptions['role']): Promise<{ storedMode: string; effectiveMode: string; alerted: boolean }> {
  const state = await getBotState(ctx.db);
  const mode = effectiveMode(state, ctx.config.IS_LIVE);
  let alerted = false;
  if (state.mode === 'live' && !ctx.config.IS_LIVE && ENGINE_ROLES.includes(role)) {
    ctx.logger.warn('the database says live and this process is not armed (IS_LIVE is not true): it trades paper, and withdraws the live approval if it takes the engine lease');
  } else if (state.mode === 'live' && !ctx.config.IS_LIVE) {
    await ctx.alerts.raise({
      source: 'mode', severity: 'critical',
      title: 'The database says LIVE but this process is not armed (IS_LIVE is not true): trading PAPER',
      fingerprint: 'mode-live-not-armed',
      details: {
        storedMode: state.mode, effectiveMode: mode, armed: false,
        fix: 'If live trading is intended, set IS_LIVE=true with the Kraken keys and restart; otherwise run ctb mode paper to record the rollback.',
      },
    });
    alerted = true;
  } else if (mode === 'live') {
    ctx.logger.warn('starting in LIVE mode (armed, database says live, not halted)');
  }
  return { storedMode: state.mode, effectiveMode: mode, alerted };
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
