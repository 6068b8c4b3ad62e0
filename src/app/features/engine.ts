// The engine as a part of the running bot (roles all/worker): builds the market feed the bot was
// started with, waits on standby until this process holds the engine lease (one engine per database,
// src/services/engine-lease), then runs the loop — and stops trading at once if the lease is lost,
// standing by again. Live trading also waits for reconciliation with Kraken (at start; after taking
// over from a dead engine, halted first; after Kraken comes back: src/services/reconcile/start).
// An engine that takes the lease unarmed withdraws a live approval bot_state still holds
// (src/services/mode/withdraw-unarmed-live.ts). While it holds the lease it also carries out engine requests other processes hand it
// (src/services/engine-requests). The lease, not a session lock, decides: a PostgreSQL
// advisory lock is held per session, so on PGlite (one session shared by every socket client) it
// coordinated nothing, and on PostgreSQL a hung holder would keep it while its lease went stale.
import type { AppContext } from '../context.js';
import type { Feature } from '../feature.js';
import type { BotState } from '../../db/schema/index.js';
import { effectiveMode, type Mode } from '../../services/bot-state.js';
import { createMarketFeed, type MarketFeedOptions } from '../../market/create-feed.js';
import { describeSettings, describeThresholds } from '../../services/audit/gate-policy.js';
import { recordGatePolicyUntilWritten } from '../../services/audit/record-gate-policy-until-written.js';
import { alertUntaggedLiveRelease } from '../../services/release/live-release-alert.js';
import { readReleaseInfo } from '../../services/release/version.js';
import { startLogScanPublisher, type LogScanPublisher } from '../../services/logcheck/publish-log-scan.js';
import { createLeaseKeeper } from '../../services/engine-lease/keeper.js';
import { withdrawLiveUntilDone } from '../../services/mode/withdraw-unarmed-live.js';
import { setEngineLease } from '../../services/engine-lease/runtime.js';
import { setEngineProgress } from '../../services/engine-lease/engine-progress.js';
import { waitWithin } from '../../services/engine-lease/wait-within.js';
import { writeLeaseWaiting } from '../../db/queries/engine-lease.js';
import { createWaitingRecord, recordingGate } from '../../services/engine-lease/waiting-record.js';
import { ENGINE_START_STEP } from '../../domain/engine-waiting.js';
import { engineRequestFollowUp, engineRequestHandlers } from '../../services/engine-requests/handlers.js';
import { startRequestRunner } from '../../services/engine-requests/runner.js';
import { createReconciliationMonitor, setReconciliationMonitor, type ReconciliationMonitor } from '../../services/reconcile/start/monitor.js';
import { Engine } from '../../engine/engine.js';
import { assertLiveFeed } from '../../engine/live-feed.js';
import { assertKrakenListsPairs } from '../../engine/listed-pairs.js';
import { loadTradedStrategies } from '../../engine/strategies/traded-pairs.js';
import type { RiskBreach } from '../../engine/risk-guard.js';
import { ENGINE_ROLES } from '../start-checks.js';

/**
 * How long the stop waits for the lease row's last write (its "stopping") before it releases the lease:
 * ms on a database that answers; bounded, so a stalled one does not hold the release (and the stop).
 */
export const ROW_WRITE_WAIT_MS = 1_000;

/** The replay file's candle interval (src/market/replay-file.ts: 1-minute candles). */
const REPLAY_CANDLE_MS = 60_000;

/** Replay candles are a minute of market time each: one equity snapshot per candle, for the chart. */
export function replaySnapshotEveryMs(config: { EQUITY_SNAPSHOT_INTERVAL: number }): number {
  return Math.min(config.EQUITY_SNAPSHOT_INTERVAL, REPLAY_CANDLE_MS);
}

export interface EngineFeatureOptions {
  /** The kill switch subscribes here: drawdown passed RISK_HARD_DRAWDOWN_PCT. */
  onHardBreach?: (ctx: AppContext, breach: RiskBreach) => void | Promise<void>;
  /** How often a standby tries the lease (default a third of ENGINE_LEASE_TTL). */
  standbyPollMs?: number;
  market?: MarketFeedOptions;
  /** Wall time between the engine's progress lines (default 10 s on a replay, 5 min on Kraken). */
  progressEveryMs?: number;
  /** How often the request runner polls (tests shorten it). */
  requestPollMs?: number;
  /** The reconciliation monitor's pace (tests shorten it). */
  reconcile?: { tickMs?: number; probeMs?: number };
}

export function engineFeature(opts: EngineFeatureOptions = {}): Feature {
  return {
    name: 'engine',
    roles: [...ENGINE_ROLES],
    // Refuse the start, with the file and field named, before the database is opened (startBot).
    check: (config) => ({ strategies: loadTradedStrategies(config) }),
    async start(ctx, _http, startOpts) {
      // As checked before the start; read here only when nothing was (a caller that starts this feature itself).
      const loaded = startOpts.files?.strategies ?? loadTradedStrategies(ctx.config);
      const strategies = loaded.config.strategies;
      // The release this process runs is the build it loaded now: a rebuild on disk before it takes
      // the lease (a standby, a re-take) must not be recorded as the code that trades.
      const release = await readReleaseInfo({ buildCommit: ctx.config.BUILD_COMMIT });
      await assertLiveFeed(ctx, startOpts.feed);
      // Armed with the key: every traded pair must be a market Kraken lists, known now, not at the first order.
      await assertKrakenListsPairs(ctx);
      const feed = await createMarketFeed(ctx.config, startOpts.feed, opts.market);
      // Until the engine has prepared and warmed up (its first reconciliation, the feed's history), the
      // bot is starting: a scheduled job's run it holds back is the start's doing (src/jobs/registry.ts).
      // Taken once nothing above can throw: a start that throws leaves nothing behind (Feature.start),
      // and startBot's own hold covers the start until here.
      const startHold = ctx.jobs.holdStart();
      const lease = createLeaseKeeper(ctx, {
        role: startOpts.role, feed: startOpts.feed, ...(opts.standbyPollMs !== undefined ? { standbyPollMs: opts.standbyPollMs } : {}),
      });
      setEngineLease(ctx, lease);
      const runner = startRequestRunner(ctx, {
        // The incident's flatten and reconcile are among them: the checklist item follows the answer;
        // an exit whose requester stopped waiting is told to the alert channel.
        holder: lease.holderId, handlers: engineRequestHandlers(ctx), active: () => lease.holdsLease(), onFinished: engineRequestFollowUp(ctx),
        // Its poll reads bot_state for the halt watcher too: one statement four times a second, not three.
        botStateReader: () => ctx.kill.botStateReader?.(),
        ...(opts.requestPollMs !== undefined ? { pollMs: opts.requestPollMs } : {}),
      });
      let monitor: ReconciliationMonitor | null = null;
      // Asked before strategies run and before each order: a lost (or unconfirmed) lease stops trading
      // now, and live trading waits until reconciliation with Kraken has passed.
      const gateWhy = (_state: BotState, mode: Mode) => {
        if (!lease.holdsLease()) return 'this process does not hold the engine lease';
        // The database went away during the bot's start, after this part started: no order while the start waits for it.
        if (startOpts.progress?.waitingForDatabase) return "the bot's start waits for the database";
        if (!monitor) return mode === 'live' ? 'live trading waits for reconciliation with Kraken' : null;
        return monitor.blockReason(mode);
      };
      // The step the engine waits in until its loop runs a pass: the banner and /healthz say it
      // ("engine waiting: …") rather than "trading" of an engine that does not trade yet. The lease
      // row says it too, and past the steps the gate's reason, for every other process (waiting-record.ts).
      const waiting = createWaitingRecord((next) => writeLeaseWaiting(ctx.db, lease.holderId, next), (err) => {
        ctx.logger.warn({ err }, 'could not record in the engine lease what the engine waits on');
      }, 'the engine lease');
      const { gate, lastAsked } = recordingGate(gateWhy, waiting);
      // Past its steps, the row says at once what the gate answers now, not "trading" until its next call.
      const setStep = (next: string | null) => {
        const asked = next === null ? lastAsked() : null;
        waiting.setStep(next, asked ? { why: gateWhy(asked.state, asked.mode), state: asked.state } : undefined);
      };
      // Every tick of the reconciliation monitor asks the gate on the bot_state it read: a halt, a switch
      // to paper, Kraken answering again (or the start's database wait ending) reach the row within a
      // tick, not at the next closed candle, which may be a minute off.
      const onDecided = (state: BotState) => void gate(state, effectiveMode(state, ctx.config.IS_LIVE));
      let markTrading!: () => void;
      let trading = new Promise<void>((resolve) => (markTrading = resolve));
      setEngineProgress(ctx, { waiting: waiting.step, gate: gateWhy, get trading() { return trading; } });
      // The bot's stop while it starts reaches the loop too: a stop that came during this start (which
      // startBot then waits for, and stops) must not see the lease taken first, after "stopping".
      const stopping = new AbortController();
      const stopWithStart = () => stopping.abort();
      if (startOpts.stop?.aborted) stopping.abort();
      else startOpts.stop?.addEventListener('abort', stopWithStart, { once: true });
      let engine: Engine | null = null;
      let logScans: LogScanPublisher | null = null;
      const run = (async () => {
        while (!stopping.signal.aborted) {
          const acquired = await lease.acquire(stopping.signal);
          // A stop that came while the lease was being taken: no engine may start after stop() looked.
          if (!acquired || stopping.signal.aborted) return;
          const { host, pid, role } = acquired.lease;
          // Unarmed, the holder withdraws a live approval bot_state still holds (before anything reads it):
          // its next armed restart must not trade LIVE on an approval the chain broke since.
          // After a dead predecessor it also holds that engine's live work for reconciliation (halted), as
          // monitor.begin below does in an armed engine: withdrawn to paper first, begin would not act.
          const withdrawal = 'the live approval\'s withdrawal (this engine is not armed: a live approval bot_state holds is recorded withdrawn before it trades)';
          setStep(ctx.config.IS_LIVE ? ENGINE_START_STEP : withdrawal);
          await withdrawLiveUntilDone(ctx, ctx.liveSwitch, { holderId: lease.holderId, host, pid, role, takenOverFrom: acquired.takenOverFrom }, {
            signal: stopping.signal,
            onRetry: (error) => setStep(`${withdrawal}: the database did not record it (${error}); retried until it does`),
          });
          if (stopping.signal.aborted) return;
          setStep('recording the go-live gate policy');
          // The go-live thresholds this engine runs with become the gate policy every audit is held to.
          // Retried until written, and no engine before it is: the gate must know the policy the engine runs with.
          const policy = await recordGatePolicyUntilWritten(ctx, { by: `${host}:${pid} (${role})`, strategies: { file: loaded.file, sha256: loaded.sha256 }, release, signal: stopping.signal });
          if (!policy) return;
          ctx.logger.info({ thresholds: policy.thresholds }, `go-live gate policy recorded: ${describeThresholds(policy.thresholds)}; ${describeSettings(policy.thresholds)}`);
          await alertUntaggedLiveRelease(ctx, release, `${host}:${pid} (${role})`)
            .catch((err: unknown) => ctx.logger.error({ err }, 'could not check the live release of this engine'));
          // Only this process can read its LOG_DIR: the audit's log checks judge what it publishes.
          await (logScans as LogScanPublisher | null)?.stop();
          logScans = startLogScanPublisher(ctx, `${host}:${pid} (${role})`);
          monitor = createReconciliationMonitor(ctx, { ...opts.reconcile, onDecided });
          setReconciliationMonitor(ctx, monitor);
          setStep('reconciliation with Kraken at start');
          // After a dead predecessor this halts first (durably), before the engine reads bot_state.
          await monitor.begin(acquired.takenOverFrom);
          // begin() is a second wait before the engine exists: a stop during it must not start one either.
          if (stopping.signal.aborted) return;
          const current = new Engine({
            ctx, feed, strategies, gate,
            // Its intents are written only while the lease row names this process (intent-lease.ts):
            // holdsLease() in the gate is a judgement on time, which a process paused past a takeover
            // cannot make true; a refusal there loses the lease as a renewal finding it taken does.
            lease: { kind: 'held', holderId: lease.holderId, lost: (reason) => lease.lose(reason) },
            ...(startOpts.feed === 'replay' ? { snapshotEveryMs: replaySnapshotEveryMs(ctx.config) } : {}),
            progressEveryMs: opts.progressEveryMs ?? (startOpts.feed === 'replay' ? 10_000 : 300_000),
            ...(opts.onHardBreach ? { onHardBreach: (breach: RiskBreach) => opts.onHardBreach!(ctx, breach) } : {}),
            onStarted: () => {
              setStep(null);
              markTrading();
              startHold();
            },
          });
          engine = current;
          setStep('warming up (the account and the market feed\'s first prices)');
          const lost = await Promise.race([current.start().then(() => null), lease.lost()]);
          if (lost === null) return;
          setStep(`the engine lease was lost (${lost}): standing by to take it again`);
          trading = new Promise<void>((resolve) => (markTrading = resolve));
          await logScans.stop();
          logScans = null;
          await current.stop();
          engine = null;
          await monitor.stop();
          setReconciliationMonitor(ctx, null);
          monitor = null;
        }
      })().catch((err: unknown) => ctx.logger.error({ err }, 'the engine stopped with an error')).finally(startHold);
      return {
        async stop() {
          startHold();
          // Until the release deletes the row (or, if it cannot, the lease goes stale), it says the engine stops.
          waiting.setStep('the engine is stopping');
          stopping.abort();
          startOpts.stop?.removeEventListener('abort', stopWithStart);
          await (engine as Engine | null)?.stop();
          await run;
          await (logScans as LogScanPublisher | null)?.stop();
          await (monitor as ReconciliationMonitor | null)?.stop();
          setReconciliationMonitor(ctx, null);
          await runner.stop();
          // The row's writes are not awaited as they are asked: one still on its way when the release
          // deleted the row matched nothing, and the row never said "stopping"; it then went out against
          // the database the bot closes next (held its close, or failed there with a warning after the stop).
          // Only a row this process holds: a standby's write matches no row, and its release deletes none.
          if (lease.leaseRow() === 'ours' && !(await waitWithin(waiting.settled(), ROW_WRITE_WAIT_MS))) {
            ctx.logger.warn({ waitedMs: ROW_WRITE_WAIT_MS }, `the engine lease row's last write had not landed after ${ROW_WRITE_WAIT_MS} ms: releasing the lease all the same`);
          }
          await lease.release();
          setEngineLease(ctx, null);
          setEngineProgress(ctx, null);
        },
      };
    },
  };
}
