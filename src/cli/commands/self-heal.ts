// `ctb self-heal [--attempts n] [--json]`: exit 0 when nothing is left broken, 2 when the database
// cannot be used as configured (missing, login refused), 75 when only Kraken refusing for now (rate
// limit, maintenance), a live order's fills not booked yet (so the ledger was not reconciled), or the order lock, held by
// another holder, kept it from its work (run it again later), 1 otherwise. Like
// `ctb kill` it does not migrate first: it must run while the database is away.
import { runCommand } from '../../../commands/run-command.js';
import { renderSelfHeal, selfHealCommand, selfHealExitCode } from '../../../commands/self-heal.js';
import { buildAppContext, type OwnedContext } from '../../app/build-context.js';
import { createLogger } from '../../logger.js';
import type { CliRegistration } from '../program.js';
import { cliActor, loadCliConfig, printError } from '../with-context.js';

export const selfHealCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('self-heal')
      .description('detect a lost database, exchange errors, a stale engine heartbeat or a saved kill; reconnect with backoff, resync orders, alert; never resumes a halt')
      .option('--attempts <n>', 'tries per check before it counts as failed (1-10)', '5')
      .option('--json', 'print the result as JSON', false)
      .action(async (opts: { attempts: string; json: boolean }) => {
        const config = loadCliConfig(io, opts.json);
        if (typeof config === 'number') return setExit(config);
        const logger = createLogger({ config, stdout: false, destination: process.stderr, destinationIsCommandStderr: true, destinationLevel: 'fatal' });
        let ctx: OwnedContext | undefined;
        try {
          ctx = await buildAppContext({ config, logger, runMigrations: false, oneShot: true });
          const result = await runCommand(selfHealCommand, ctx, cliActor(), { attempts: Number(opts.attempts) });
          io.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderSelfHeal(result)}\n`);
          // A database that cannot be used as configured is a configuration error, as in every command.
          if (result.configurationError) io.stderr.write(`error: ${result.configurationError}\n`);
          setExit(selfHealExitCode(result));
        } catch (err) {
          setExit(printError(io, err, config, opts.json));
        } finally {
          await ctx?.close().catch(() => {});
        }
      });
  },
};
