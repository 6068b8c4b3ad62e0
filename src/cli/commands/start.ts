// `ctb start [--feed kraken|replay] [--role all|web|worker]`: runs the bot until SIGINT/SIGTERM.
import { Option } from 'commander';
import { startBot } from '../../app/runtime.js';
import { loadCliConfig, printError } from '../with-context.js';
import type { CliRegistration } from '../program.js';

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
        try {
          const feed = opts.feed ?? config.MARKET_FEED;
          const bot = await startBot({ config: { ...config, MARKET_FEED: feed }, role: opts.role, feed });
          await new Promise<void>((resolve) => {
            const shutdown = (signal: string) => {
              bot.ctx.logger.info({ signal }, 'stopping');
              bot.stop().finally(resolve);
            };
            process.once('SIGINT', shutdown);
            process.once('SIGTERM', shutdown);
          });
          setExit(0);
        } catch (err) {
          setExit(printError(io, err, config));
        }
      });
  },
};
