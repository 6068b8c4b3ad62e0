// Owns the mode's safety across restarts: at start, a database that says live in a process that is
// not armed trades paper (effectiveMode) and raises a critical alert, because someone expects live
// trading that is not happening; requests interrupted by a restart are closed; and a job closes
// requests as they expire (the rows' timestamps are the record, the job only acts on them).
import type { Feature } from '../feature.js';
import type { AppContext } from '../context.js';
import { effectiveMode, getBotState } from '../../services/bot-state.js';
import { expireOverdueRequests } from '../../services/mode/expire-requests.js';

export async function checkModeAtStart(ctx: AppContext): Promise<{ storedMode: string; effectiveMode: string; alerted: boolean }> {
  const state = await getBotState(ctx.db);
  const mode = effectiveMode(state, ctx.config.IS_LIVE);
  let alerted = false;
  if (state.mode === 'live' && !ctx.config.IS_LIVE) {
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
  async start(ctx) {
    await checkModeAtStart(ctx);
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
