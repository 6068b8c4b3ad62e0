// Checklist 2: IS_LIVE defaults to false; the current mode, armed or not, halted or not. "Armed" is the
// running engine's (the engine lease records its IS_LIVE): the audit may run in a web replica (`/golive
// audit`) or a shell (`ctb audit`) that trades nothing, so this process's own IS_LIVE judges nothing here.
// In paper, a running engine that is not armed is warned of: the live switch refuses it
// (domain/engine-live-readiness.ts), and the audit is where operators look before asking approvers.
import { readEnv } from '../../../config/env.js';
import { staleHolderPhrase, type EngineHolderView } from '../../../domain/engine-holder.js';
import { getBotState } from '../../bot-state.js';
import { readEngineHolder } from '../../engine-lease/holder-view.js';
import { engineLiveVerdict } from '../../../domain/engine-live-readiness.js';
import { engineMode } from '../../../domain/engine-mode.js';
import { defineCheck } from '../types.js';

/**
 * Whose arming was judged, in the check's value: "engine worker-1:4242 armed", that no engine runs, or
 * that the lease is stale and what its holder may do if it wakes (a stale lease is not a dead engine).
 */
function engineArming(e: EngineHolderView, state: { mode: 'paper' | 'live'; halted: boolean }): string {
  if (e.state === 'none') return 'no engine running';
  if (e.state === 'stale') return `engine ${staleHolderPhrase(e, state)}`;
  return `engine ${e.host}:${e.pid} ${e.armed ? 'armed' : 'not armed'}`;
}

export const modeCheck = defineCheck({
  id: 'mode.state',
  title: 'IS_LIVE defaults to false; current mode, armed, halted',
  checklistSection: 2,
  async run(ctx) {
    // Guards the schema itself: an unset IS_LIVE must never arm anything.
    const defaultLive = readEnv({}).IS_LIVE;
    const [state, engine] = await Promise.all([getBotState(ctx.db), readEngineHolder(ctx)]);
    const running = engine.state === 'running';
    const stale = engine.state === 'stale';
    // A stale lease's holder keeps its own arming (it trades again if it wakes): its mode is unknown
    // when it was armed with the database saying live and nothing halting it, as the report's (engineMode).
    const armed = engine.state !== 'none' && engine.armed;
    const mode = engineMode(state, engine);
    const details = {
      isLiveDefault: defaultLive, armed, storedMode: state.mode, effectiveMode: mode, halted: state.halted,
      engine: { state: engine.state, host: engine.host, pid: engine.pid, armed: engine.armed },
      // This process's own IS_LIVE, for the record only: it trades nothing unless it runs the engine.
      armedHere: ctx.exchanges.armed,
    };
    const value = `IS_LIVE default ${defaultLive}; ${mode === 'unknown' ? 'mode unknown' : `${mode} mode`}, ${engineArming(engine, state)}, ${state.halted ? 'halted' : 'not halted'}`;
    if (defaultLive) {
      return { status: 'fail', value, fix: 'IS_LIVE must default to false in src/config/env.ts.', details };
    }
    if (state.halted) {
      // A warning, not a failure: `ctb resume` itself requires a passing audit after the halt, and
      // the live switch refuses while halted anyway.
      const why = state.haltedReason ? ` (${state.haltedReason})` : '';
      return { status: 'warn', value: `${value}${why}`, fix: 'Finish the incident checklist, then resume the engine (ctb resume) before going live.', details };
    }
    if (stale && state.mode === 'live') {
      // Not halted here (above): an armed holder that wakes trades LIVE.
      return { status: 'warn', value: `${value}; ${armed ? 'find out whether it is alive before going live' : 'the database says live but no armed engine runs, so nothing trades live'}`,
        fix: `Find out whether ${engine.host}:${engine.pid} is alive: stop it, or start an engine (it takes the stale lease over); or switch back with \`ctb mode paper\`.`, details };
    }
    if (state.mode === 'live' && !running) {
      return { status: 'warn', value: `${value}; the database says live but no engine is running, so nothing trades`,
        fix: 'Start the engine armed (IS_LIVE=true: `ctb start`, or the Procfile worker), or switch back with `ctb mode paper`.', details };
    }
    if (state.mode === 'live' && !armed) {
      return { status: 'warn', value: `${value}; the database says live but the engine is not armed, so it trades paper`,
        // An unarmed holder withdraws the approval only when it takes the lease (services/mode/withdraw-unarmed-live.ts):
        // bot_state set live after that, or a withdrawal still retrying, is not withdrawn by this check's reading of it.
        fix: `The engine ${engine.host}:${engine.pid} is not armed, so this live approval does not hold: record the rollback with \`ctb mode paper\` `
          + '(an engine withdraws it itself only when it takes the lease unarmed). Going live again needs IS_LIVE=true in its process, then /mode live and two approvals.', details };
    }
    const forLive = engineLiveVerdict(engine);
    if (state.mode === 'paper' && !forLive.ok && forLive.code === 'engine_not_armed') {
      // A warning, not a failure: paper trading unarmed is the safe default, and resume is gated on a passing audit.
      return { status: 'warn', value: `${value}; a live switch is refused while the engine is not armed`, fix: forLive.hint, details };
    }
    return { status: 'pass', value, fix: null, details };
  },
});
