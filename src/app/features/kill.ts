// The kill switch as a part of the running bot (every role): POST /kill, the halt watcher, Kraken's dead man's switch, the self-heal watchdog, auto-kill on an overdue critical alert (a persisted or
// remote halt stops this process within a poll), and the incident thread in Slack for kills made
// here or from the terminal. Started before the engine, so a bot restarted while halted never
// trades a candle. With Kraken keys, ccxt and the client are loaded here, at start, so the first
// kill is as fast as the tenth; and a trading process (all, worker) that holds the key cancels on
// Kraken whenever it learns of a halt, and carries out the cancels handed over by processes
// without the key (cancel_all engine requests).
import { hostname } from 'node:os';
import type { AppContext } from '../context.js';
import type { Feature } from '../feature.js';
import { killRoute } from '../../http/kill-route.js';
import { subscribeAutoKill } from '../../services/kill/auto-kill.js';
import { announceUnposted, type IncidentPoster } from '../../services/kill/announce-incident.js';
import { startDeadMansSwitch } from '../../services/kill/dead-man.js';
import { describeError } from '../../services/kill/deadline.js';
import { startHaltWatcher } from '../../services/kill/halt-watcher.js';
import { incidentThreadRefresher, type IncidentThread } from '../../services/kill/incident-thread.js';
import { startCancelAllRunner } from '../../services/engine-requests/handlers.js';
import type { RequestRunner } from '../../services/engine-requests/runner.js';
import { holdsLease, leaseHolderId } from '../../services/engine-lease/runtime.js';
import { cancelOnHalt } from '../../services/kill/halt-cancel.js';
import { staleEngineHandler, startWatchdog } from '../../services/self-heal/watchdog.js';

export interface KillFeatureOptions {
  /**
   * Posts an incident's checklist thread (Slack, when configured). Given to the context when the bot
   * is built with this feature (startBot), so a kill run through the context posts through it.
   */
  incidentPoster?: (ctx: AppContext) => IncidentPoster | undefined;
  /** Keeps the incident thread in step with checklist items the engine's process answers (Slack). */
  incidentThread?: (ctx: AppContext) => IncidentThread | undefined;
}

export function createKillFeature(opts: KillFeatureOptions = {}): Feature {
  return {
    name: 'kill',
    roles: ['all', 'web', 'worker'],
    ...(opts.incidentPoster ? { provides: { incidentPoster: opts.incidentPoster } } : {}),
    async start(ctx, http, startOpts) {
      // Every role serves it: a web replica kills without the engine worker.
      http.route('POST', '/kill', killRoute(ctx));
      const holdsKey = ctx.exchanges.hasKrakenKeys();
      if (holdsKey) await warmKraken(ctx);
      const trades = startOpts.role !== 'web';
      // Halt means cancel: registered before the watcher's first poll, which latches a persisted halt.
      // Each new kill is a new cancel, a saved kill read from DATA_DIR while already halted included.
      const stopCancelOnHalt = holdsKey && trades ? ctx.kill.latch.onHalt((reason, killId) => void cancelOnHalt(ctx, reason, killId)) : () => {};
      const runner: RequestRunner | null = holdsKey && trades
        ? startCancelAllRunner(ctx, { holder: `${hostname()}:${process.pid}` })
        : null;
      const poster = ctx.kill.incidentPoster;
      let postFailures = 0;
      const thread = opts.incidentThread?.(ctx);
      const refreshThread = thread ? incidentThreadRefresher(ctx, thread) : async () => true;
      const watcher = await startHaltWatcher(ctx, {
        ...(poster
          ? {
              whileHalted: () =>
                announceUnposted(ctx, poster).then(() => refreshThread(true)).then(
                  () => void (postFailures = 0),
                  (err: unknown) => {
                    postFailures += 1;
                    if (postFailures === 1 || postFailures % 100 === 0) ctx.logger.warn({ error: describeError(err) }, 'could not post the incident thread; retrying');
                  },
                ),
              // An incident the lift left open: its message now says it is open on a bot not halted.
              whenLifted: () => refreshThread(false).catch((err: unknown) => {
                ctx.logger.warn({ error: describeError(err) }, 'could not redraw the incident thread after the halt was lifted; trying again');
                return false;
              }),
            }
          : {}),
      });
      // The engine-request runner's poll reads bot_state for it: a poll it need not send.
      ctx.kill.botStateReader = () => watcher.reading();
      // The trading process keeps Kraken's dead man's switch, the self-heal watchdog, auto-kill on an overdue critical alert renewed while it trades live.
      const deadMan = startOpts.role === 'web' ? null : startDeadMansSwitch(ctx);
      const runsEngine = () => startOpts.role !== 'web' && (holdsLease(ctx) ?? true);
      const onEngineStale = staleEngineHandler(ctx, { role: startOpts.role, runsEngine, startedAt: ctx.clock.now() });
      const watchdog = startWatchdog(ctx, { checkExchange: runsEngine, holderId: () => leaseHolderId(ctx), ...(onEngineStale ? { onEngineStale } : {}) });
      const unsubscribeAutoKill = subscribeAutoKill(ctx);
      return {
        async stop() {
          unsubscribeAutoKill();
          stopCancelOnHalt();
          await runner?.stop();
          await watchdog.stop();
          await deadMan?.stop();
          delete ctx.kill.botStateReader;
          await watcher.stop();
        },
      };
    },
  };
}

/** ccxt imported and the client built now; a failure here is logged and retried by the first call. */
async function warmKraken(ctx: AppContext): Promise<void> {
  try {
    await ctx.exchanges.kraken().warm?.();
  } catch (err) {
    ctx.logger.warn({ error: describeError(err) }, 'could not prepare the Kraken client at start; the first call builds it');
  }
}

export const killFeature: Feature = createKillFeature();
