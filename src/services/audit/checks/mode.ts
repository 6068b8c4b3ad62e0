// Checklist 2: IS_LIVE defaults to false; the current mode, armed or not, halted or not.
import { readEnv } from '../../../config/env.js';
import { effectiveMode, getBotState } from '../../bot-state.js';
import { defineCheck } from '../types.js';

export const modeCheck = defineCheck({
  id: 'mode.state',
  title: 'IS_LIVE defaults to false; current mode, armed, halted',
  checklistSection: 2,
  async run(ctx) {
    // Guards the schema itself: an unset IS_LIVE must never arm anything.
    const defaultLive = readEnv({}).IS_LIVE;
    const state = await getBotState(ctx.db);
    const armed = ctx.exchanges.armed;
    const mode = effectiveMode(state, armed);
    const details = { isLiveDefault: defaultLive, armed, storedMode: state.mode, effectiveMode: mode, halted: state.halted };
    const value = `IS_LIVE default ${defaultLive}; ${mode} mode, ${armed ? 'armed' : 'not armed'}, ${state.halted ? 'halted' : 'not halted'}`;
    if (defaultLive) {
      return { status: 'fail', value, fix: 'IS_LIVE must default to false in src/config/env.ts.', details };
    }
    if (state.halted) {
      // A warning, not a failure: `ctb resume` itself requires a passing audit after the halt, and
      // the live switch refuses while halted anyway.
      const why = state.haltedReason ? ` (${state.haltedReason})` : '';
      return { status: 'warn', value: `${value}${why}`, fix: 'Finish the incident checklist, then resume the engine (ctb resume) before going live.', details };
    }
    if (state.mode === 'live' && !armed) {
      return { status: 'warn', value: `${value}; the database says live but the process is not armed`, fix: 'Either arm the process (IS_LIVE=true, restart) or switch back with `ctb mode paper`.', details };
    }
    return { status: 'pass', value, fix: null, details };
  },
});
