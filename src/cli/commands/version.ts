// `ctb version`: the release tag or commit that is running. It reads only the configuration and the
// checkout — never the database — so it answers while the database is down, locked or migrating
// (a deploy prints it before `ctb migrate`).
import { describeRelease, readReleaseInfo } from '../../services/release/version.js';
import type { CliRegistration } from '../program.js';
import { loadCliConfig, printError } from '../with-context.js';

export const versionCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('version')
      .description('print the release tag or commit (git describe --tags --always --dirty, or package version + BUILD_COMMIT), and the commit dist/ was built at when it differs')
      .option('--json', 'machine-readable output')
      .action(async (opts: { json?: boolean }) => {
        const config = loadCliConfig(io, opts.json);
        if (typeof config === 'number') return setExit(config);
        try {
          const info = await readReleaseInfo({ buildCommit: config.BUILD_COMMIT });
          const summary = describeRelease(info);
          io.stdout.write(opts.json ? `${JSON.stringify({ ok: true, ...info, summary }, null, 2)}\n` : `${summary}\n`);
          setExit(0);
        } catch (err) {
          setExit(printError(io, err, config, opts.json));
        }
      });
  },
};
