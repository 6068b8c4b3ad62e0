// `ctb kill [--reason …] [--flatten]`. Unlike other commands it does not migrate or wait for the
// database before acting: when armed it sends Kraken's CancelAll before the database is even
// opened, then runs the full kill (confirm, halt, incident), which saves the halt to DATA_DIR if
// the database is down. A running bot learns of the halt within a poll of bot_state.
import { runCommand } from '../../../commands/run-command.js';
import { killCommand } from '../../../commands/kill.js';
import { buildAppContext, type OwnedContext } from '../../app/build-context.js';
import { createKrakenExchange } from '../../exchange/kraken/create.js';
import type { Exchange } from '../../exchange/types.js';
import { createLogger } from '../../logger.js';
import { renderKill } from '../render/kill.js';
import type { CliRegistration } from '../program.js';
import { cliActor, loadCliConfig, printError } from '../with-context.js';

export const killCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('kill')
      .description('EMERGENCY: cancel every open order (Kraken when armed, and paper), halt in paper mode, open the incident checklist')
      .option('--reason <text>', 'why (shown in the alert and the incident)', '')
      .option('--flatten', 'also close open positions', false)
      .option('--json', 'machine-readable output', false)
      .action(async (opts: { reason: string; flatten: boolean; json: boolean }) => {
        const config = loadCliConfig(io);
        if (typeof config === 'number') return setExit(config);
        const logger = createLogger({ config, stdout: false, destination: process.stderr, destinationLevel: 'warn' });
        let kraken: Exchange | undefined;
        if (config.IS_LIVE && config.KRAKEN_API_KEY && config.KRAKEN_API_SECRET) {
          try {
            kraken = createKrakenExchange(config, { logger, armed: true });
            kraken.cancelAllOrders().catch((err) => logger.error({ err }, 'early Kraken cancel failed; the kill retries it'));
          } catch (err) {
            logger.error({ err }, 'could not build the Kraken client for the early cancel');
          }
        }
        let ctx: OwnedContext | undefined;
        try {
          ctx = await buildAppContext({ config, logger, runMigrations: false, ...(kraken ? { exchanges: { kraken: () => kraken! } } : {}) });
          const result = await runCommand(killCommand, ctx, cliActor(), { reason: opts.reason, flatten: opts.flatten });
          io.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderKill(result)}\n`);
          setExit(result.ok ? 0 : 1);
        } catch (err) {
          setExit(printError(io, err, config));
        } finally {
          await ctx?.close().catch(() => {});
        }
      });
  },
};
