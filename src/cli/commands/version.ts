// `ctb version`: the release tag or commit that is running. It needs no configuration — it reads
// only BUILD_COMMIT and the checkout, never the database — so it answers while the database is down,
// locked or migrating (a deploy prints it before `ctb migrate`), and while .env is malformed or a
// setting is invalid (those are warned of in one line on stderr, never a refusal).
import { join } from 'node:path';
import { envLayers } from '../../config/load.js';
import { envSchema } from '../../config/env.js';
import { describeRelease, readReleaseInfo } from '../../services/release/version.js';
import type { CliIo } from '../io.js';
import type { CliRegistration } from '../program.js';
import { printError } from '../with-context.js';

/**
 * The commands that run with a malformed .env (they load no configuration, or — `ctb kill` — salvage
 * what they can read); every other command refuses with the problems and exit 2.
 */
export const RUNS_WITH_MALFORMED_ENV = '`ctb kill`, `version`, `completion`, `runbook docs`, `simulate-kraken`, `simulate-slack` (the stand-in, not its people) and --help';

/** BUILD_COMMIT as the configuration would read it; a malformed .env or BUILD_COMMIT is one warning line. */
function buildCommit(io: CliIo): string | undefined {
  const layers = envLayers(io.env, join(io.cwd, '.env'), (problems) => {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more malformed line${problems.length > 2 ? 's' : ''})` : '';
    io.stderr.write(`warning: .env is malformed — ${problems[0]}${more}; until it is fixed every command but ${RUNS_WITH_MALFORMED_ENV} refuses to run\n`);
  });
  const parsed = envSchema.shape.BUILD_COMMIT.safeParse(layers.BUILD_COMMIT);
  if (parsed.success) return parsed.data;
  io.stderr.write(`warning: BUILD_COMMIT ignored: ${parsed.error.issues[0]?.message ?? 'expected a git commit hash'}\n`);
  return undefined;
}

export const versionCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('version')
      .description('print the release tag or commit (git describe --tags --always --dirty; outside a checkout the tag dist/build-info.json recorded at build, or package version + BUILD_COMMIT), and the commit dist/ was built at when it differs')
      .option('--json', 'machine-readable output')
      .action(async (opts: { json?: boolean }) => {
        try {
          const info = await readReleaseInfo({ buildCommit: buildCommit(io) });
          const summary = describeRelease(info);
          io.stdout.write(opts.json ? `${JSON.stringify({ ok: true, ...info, summary }, null, 2)}\n` : `${summary}\n`);
          setExit(0);
        } catch (err) {
          setExit(printError(io, err, undefined, opts.json));
        }
      });
  },
};
