// `ctb migrate`: applies the database migrations (Procfile `release`). Idempotent.
import type { CliRegistration } from '../program.js';
import { withCliContext } from '../with-context.js';

export const migrateCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('migrate')
      .description('apply database migrations (PostgreSQL when DATABASE_URL is set, else the embedded database)')
      .action(async () => {
        const code = await withCliContext(io, async (ctx) => {
          io.stdout.write(`migrations applied (${ctx.database.kind}${ctx.database.via === 'socket' ? ', through the running bot' : ''})\n`);
          return 0;
        });
        setExit(code);
      });
  },
};
