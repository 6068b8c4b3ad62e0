// `ctb start [--feed kraken|replay] [--role all|web|worker]`: runs the bot until SIGINT/SIGTERM.
// An uncaught exception is logged with its marker, the bot is stopped and the process exits 1; an
// unhandled rejection is logged, raised as an alert, and the bot keeps serving (src/app/crash-handlers.ts).
import { Option } from 'commander';
import { installCrashHandlers } from '../../app/crash-handlers.js';
import { startBot, type RunningBot } from '../../app/runtime.js';
import { refuseSecondBot } from '../../db/client.js';
import { readLock } from '../../db/pglite-lock.js';
import { createLogger } from '../../logger.js';
import { loadCliConfig, printError } from '../with-context.js';
import type { CliRegistration } from '../program.js';

const STOP_TIMEOUT_MS = 10_000;
// rotating-file-stream writes asynchronously: give the fatal line a moment to reach LOG_DIR.
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
        if (!config.DATABASE_URL) {
          try {
            refuseSecondBot(config.DATA_DIR, readLock(config.DATA_DIR));
          } catch (err) {
            return setExit(printError(io, err, config));
          }
        }
        const logger = createLogger({ config });
        let bot: RunningBot | undefined;
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
          const feed = opts.feed ?? config.MARKET_FEED;
          bot = await startBot({ config: { ...config, MARKET_FEED: feed }, logger, role: opts.role, feed });
          const running = bot;
          await new Promise<void>((resolve) => {
            const shutdown = (signal: string) => {
              running.ctx.logger.info({ signal }, 'stopping');
              running.stop().finally(resolve);
            };
            process.once('SIGINT', shutdown);
            process.once('SIGTERM', shutdown);
          });
          setExit(0);
        } catch (err) {
          setExit(printError(io, err, config));
        } finally {
          uninstall();
        }
      });
  },
};
