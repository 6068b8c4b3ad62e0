// `ctb kill [--reason …] [--flatten]`. Unlike other commands it does not migrate or wait for the
// database before acting: with a Kraken key (armed or not: cancelling needs no arming) it sends
// Kraken's CancelAll before the database is even opened, then runs the full kill (confirm, halt,
// incident), which saves the halt to DATA_DIR if the database is down. Without a key the kill says
// so first and hands the cancel to the running bot that has it. Exit 0 only when every venue
// confirmed zero open orders.
import { runCommand } from '../../../commands/run-command.js';
import { killCommand } from '../../../commands/kill.js';
import { buildAppContext, type OwnedContext } from '../../app/build-context.js';
import { createKrakenExchange } from '../../exchange/kraken/create.js';
import type { Exchange } from '../../exchange/types.js';
import { createLogger } from '../../logger.js';
import { withEarlyCancel } from '../../services/kill/early-cancel.js';
import { NO_KEY_NOTICE } from '../../services/kill/kill.js';
import { renderKill } from '../render/kill.js';
import type { CliRegistration } from '../program.js';
import { cliActor, loadCliConfig, printError } from '../with-context.js';

export const killCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('kill')
      .description('EMERGENCY: cancel every open order (Kraken, and paper), halt in paper mode, open the incident checklist')
      .option('--reason <text>', 'why (shown in the alert and the incident)', '')
      .option('--flatten', 'also close open positions', false)
      .option('--json', 'machine-readable output', false)
      .action(async (opts: { reason: string; flatten: boolean; json: boolean }) => {
        const config = loadCliConfig(io);
        if (typeof config === 'number') return setExit(config);
        const logger = createLogger({ config, stdout: false, destination: process.stderr, destinationLevel: 'warn' });
        let kraken: Exchange | undefined;
        if (config.KRAKEN_API_KEY && config.KRAKEN_API_SECRET) {
          try {
            kraken = withEarlyCancel(createKrakenExchange(config, { logger, armed: config.IS_LIVE }));
          } catch (err) {
            logger.error({ err }, 'could not build the Kraken client for the early cancel');
          }
        }
        // Said before anything else (the hand-over waits for the running bot's answer).
        const noticeFirst = !kraken && !opts.json;
        if (noticeFirst) io.stdout.write(`${NO_KEY_NOTICE}\n`);
        let ctx: OwnedContext | undefined;
        try {
          ctx = await buildAppContext({ config, logger, runMigrations: false, ...(kraken ? { exchanges: { kraken: () => kraken! } } : {}) });
          const result = await runCommand(killCommand, ctx, cliActor(), { reason: opts.reason, flatten: opts.flatten });
          io.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderKill(result, { noticeShown: noticeFirst })}\n`);
          setExit(result.ok ? 0 : 1);
        } catch (err) {
          setExit(printError(io, err, config));
        } finally {
          await ctx?.close().catch(() => {});
        }
      });
  },
};
