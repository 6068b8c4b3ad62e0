// `ctb start [--feed kraken|replay] [--role all|web|worker]`: runs the bot until SIGINT/SIGTERM/SIGHUP.
// An uncaught exception is logged with its marker, the bot is stopped and the process exits 1; an
// unhandled rejection is logged, raised as an alert, and the bot keeps serving (src/app/crash-handlers.ts).
// The first line is written as soon as the config is read: the rest of the bot (database, engine,
// Slack, exchange libraries) is imported after it, so a person sees at once that it is starting.
import { Option } from 'commander';
import { describeDatabase } from '../../app/start-banner.js';
import { checkStartFiles, type StartFiles } from '../../app/start-checks.js';
import { refuseSecondBotOnDataDir } from '../../app/start-guard.js';
import { createLogger } from '../../logger.js';
import { loadCliConfig, printError } from '../with-context.js';
import type { EngineLeaseRow } from '../../app/runtime.js';
import type { CliRegistration } from '../program.js';

const STOP_TIMEOUT_MS = 10_000;
// Once the bot has stopped, nothing of ours is left running: a handle still open then (a library's
// socket or timer that was never closed) would keep the process up for ever after "stopped", and a
// supervisor waiting for the exit would have to kill it. It is named and not waited for past this.
const LEFT_OPEN_WAIT_MS = 2_000;
// Standard output to a pipe is written asynchronously: give the fatal line a moment to leave.
const LOG_DRAIN_MS = 250;

export const startCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('start')
      .description('run the bot (engine, HTTP, Slack when configured) until stopped')
      .addOption(new Option('--feed <feed>', 'market data: kraken (public API) or replay (bundled sample)').choices(['kraken', 'replay']))
      .addOption(new Option('--role <role>', 'which part to run (Procfile: web, worker)').choices(['all', 'web', 'worker']).default('all'))
      .action(async (opts: { feed?: 'kraken' | 'replay'; role: 'all' | 'web' | 'worker' }) => {
        const config = loadCliConfig(io);
        if (typeof config === 'number') return setExit(config);
        // Before the logger, the database or anything else under DATA_DIR/LOG_DIR is touched: a bot
        // already serving this embedded database is the one engine on it.
        let files: StartFiles;
        try {
          refuseSecondBotOnDataDir(config);
          // The files first, then the database: a bad strategies file is refused before the line that
          // says the database is being opened, and before LOG_DIR is touched. Read once: the bot trades what was checked.
          files = checkStartFiles(config, opts.role);
        } catch (err) {
          return setExit(printError(io, err, config));
        }
        // The running bot is the one process that rotates LOG_DIR (commands only append and follow).
        const logger = createLogger({ config, rotate: true });
        // SIGINT, SIGTERM and SIGHUP (the bot's terminal closed) are stop requests from here on: Node's
        // default is to die at once, which left the engine lease to go stale and the PGlite lock and
        // socket behind. One that comes while the bot is starting stops it at once: the part starting is
        // stopped once its start ends, then the parts started, and the process exits 0
        // (src/app/wait-for-database.ts, src/app/started-parts.ts).
        let stopRequested: string | undefined;
        let stopNow: ((signal: string) => void) | undefined;
        const stopWhileStarting = new AbortController();
        // When the first stop signal came: the lines an operator (or a supervisor's log) reads are the
        // same whether it came while starting or once running: "stopping", then "stopped after X in N ms".
        let stopSince: number | undefined;
        const onStopSignal = (signal: string) => {
          if (stopNow) return stopNow(signal);
          if (stopRequested === undefined) {
            stopRequested = signal;
            stopSince = Date.now();
            logger.info({ signal }, 'stopping');
          }
          stopWhileStarting.abort();
          // A part's start left in flight (its query stalled on a database that does not answer) may
          // hold the process after the parts started are stopped: it ends by this time all the same.
          setTimeout(() => {
            logger.warn({ signal, waitedMs: STOP_TIMEOUT_MS }, `stopped after ${signal} during the start: exiting after ${STOP_TIMEOUT_MS / 1000} s with what waits on the database left behind`);
            setTimeout(() => process.exit(0), LOG_DRAIN_MS);
          }, STOP_TIMEOUT_MS).unref();
        };
        for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onStopSignal);
        const feed = opts.feed ?? config.MARKET_FEED;
        const database = describeDatabase(config, config.DATABASE_URL ? 'postgres' : 'pglite', io.cwd);
        // A web process places no order: its own IS_LIVE says nothing of live or paper (its banner names the engine's).
        logger.info(
          { event: 'starting', role: opts.role, feed, ...(opts.role === 'web' ? {} : { armed: config.IS_LIVE }) },
          `starting ctb (${opts.role === 'web' ? 'role web, no engine' : `${config.IS_LIVE ? 'armed for live' : 'paper only'}, role ${opts.role}, feed ${feed}`}, ${database}): ` +
            'loading, migrating and opening the database…',
        );
        const [{ installCrashHandlers }, { startBot }, { StartStoppedError }] = await Promise.all([
          import('../../app/crash-handlers.js'), import('../../app/runtime.js'), import('../../app/wait-for-database.js'),
        ]);
        let bot: Awaited<ReturnType<typeof startBot>> | undefined;
        const uninstall = installCrashHandlers({
          logger,
          alerts: () => bot?.ctx.alerts,
          onFatal: async () => {
            await Promise.race([bot?.stop(), new Promise((r) => setTimeout(r, STOP_TIMEOUT_MS).unref())]);
            await new Promise((r) => setTimeout(r, LOG_DRAIN_MS));
            process.exit(1);
          },
        });
        try {
          bot = await startBot({ config: { ...config, MARKET_FEED: feed }, logger, role: opts.role, feed, files, stop: stopWhileStarting.signal });
          const running = bot;
          await new Promise<void>((resolve) => {
            // The first signal stops the bot; another one (SIGINT after SIGTERM) is said and waits for
            // that stop: one "stopped" line, once the bot has stopped.
            let stoppingOn: string | undefined;
            const shutdown = (signal: string) => {
              if (stoppingOn) {
                running.ctx.logger.info({ signal }, `${signal} while stopping after ${stoppingOn}: the stop under way goes on`);
                return;
              }
              stoppingOn = signal;
              const since = stopSince ?? Date.now();
              if (stopSince === undefined) running.ctx.logger.info({ signal }, 'stopping');
              // Bounded (runtime.ts): a part that does not stop in its wait is left behind, and said so.
              let leftBehind: string[] = [];
              let engineLease = (): EngineLeaseRow => 'none';
              running.stop().then(
                (outcome) => {
                  ({ leftBehind, engineLease } = outcome);
                  const ms = Date.now() - since;
                  const lease = engineLease();
                  running.ctx.logger.info({ signal, ms, leftBehind, engineLease: lease }, `stopped after ${signal} in ${ms} ms${leftBehindPhrase(leftBehind, lease)}`);
                },
                (err: unknown) => running.ctx.logger.error({ err, signal }, `stopping after ${signal} did not finish cleanly`),
              ).finally(() => {
                exitDespiteLeftOpen(running.ctx.logger, leftBehind, engineLease);
                resolve();
              });
            };
            if (stopRequested) shutdown(stopRequested);
            else stopNow = shutdown;
          });
          setExit(0);
        } catch (err) {
          // Stopped as asked: the parts already started were stopped (startBot), as a running bot's are.
          if (err instanceof StartStoppedError) {
            const ms = Date.now() - (stopSince ?? Date.now());
            const lease = err.engineLease();
            logger.info({ signal: stopRequested, ms, leftBehind: err.leftBehind, engineLease: lease },
              `stopped after ${stopRequested ?? 'a stop signal'} in ${ms} ms${leftBehindPhrase(err.leftBehind, lease)}: ${err.message}`);
            // As after a running bot's stop: what is left open (a socket stalled on the database) is named
            // and not waited for, rather than held until STOP_TIMEOUT_MS after the signal.
            exitDespiteLeftOpen(logger, err.leftBehind, err.engineLease);
            return setExit(0);
          }
          setExit(printError(io, err, config));
        } finally {
          uninstall();
        }
      });
  },
};

/**
 * After a stop: when the process has not exited by itself LEFT_OPEN_WAIT_MS later (a handle left open
 * holds the event loop), says what is still open and exits with the code already set. The timer does
 * not hold the process: a process that drains exits at once, as before. With parts left behind it does:
 * what they log late (against the closed database) is not the last line; this one is, and names them.
 */
function exitDespiteLeftOpen(logger: { warn: (obj: object, msg: string) => void }, leftBehind: readonly string[], engineLease: () => EngineLeaseRow): void {
  const hold = leftBehind.length > 0;
  const timer = setTimeout(() => {
    // Not counted: the process's own standard streams (a pipe or a terminal), open until it exits.
    const kinds = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap' && kind !== 'PipeWrap');
    const timers = kinds.filter((kind) => kind === 'Timeout').length;
    const left = [...kinds.filter((kind) => kind !== 'Timeout'), ...(timers > 0 ? [`${timers} timer(s)`] : [])];
    const open = left.length ? `${left.join(', ')} still open` : hold ? 'no handle still open' : 'handles still open';
    // Read now, not taken from the stop: the engine's stop left behind may have released the lease since.
    const lease = engineLease();
    logger.warn({ event: 'exit_with_handles_open', open: left, leftBehind, engineLease: lease },
      `exiting ${LEFT_OPEN_WAIT_MS / 1000} s after the stop with ${open}${leftBehindPhrase(leftBehind, lease)}: not waiting for them`);
    const exit = setTimeout(() => process.exit(), LOG_DRAIN_MS);
    if (!hold) exit.unref();
  }, LEFT_OPEN_WAIT_MS);
  if (!hold) timer.unref();
}

/**
 * The parts a stop left behind, for the "stopped" line and the exit's: " (left behind: kill, alerts)", and
 * what the engine's lease row is as the line is written (`lease`): not released (a standby waits until it
 * goes stale; said whenever the row is still this process's), or released by the engine's stop left behind.
 * Empty when every part stopped and no lease row of this process's is left.
 */
export function leftBehindPhrase(leftBehind: readonly string[], lease: EngineLeaseRow): string {
  const notReleased = 'the engine lease was not released: a standby takes over once it goes stale';
  // Every part stopped, but the engine's release did not delete its row (the database refused it): said
  // here too, not only in the keeper's warning above the "stopped" line.
  if (leftBehind.length === 0) return lease === 'ours' ? ` (${notReleased})` : '';
  const said = lease === 'ours' ? `; ${notReleased}`
    : lease === 'released' && leftBehind.includes('engine') ? '; the engine lease was released once its stop ended' : '';
  return ` (left behind: ${leftBehind.join(', ')}${said})`;
}
