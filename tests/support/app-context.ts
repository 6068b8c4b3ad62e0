// Builds an AppContext for a test: its own database, a ManualClock, a silent logger, and the
// exchanges the test chooses (a Kraken adapter against nock or the fake, or none).
import { buildAppContext, type OwnedContext } from '../../src/app/build-context.js';
import { ManualClock } from '../../src/clock.js';
import { testConfig } from '../../src/config/env.js';
import type { Database } from '../../src/db/client.js';
import type { ExchangeProviderDeps } from '../../src/exchange/provider.js';
import { silentLogger } from '../../src/logger.js';

export async function testContext(opts: {
  database: Database;
  env?: Record<string, string | undefined>;
  clock?: ManualClock;
  exchanges?: Partial<ExchangeProviderDeps>;
}): Promise<OwnedContext & { clock: ManualClock }> {
  const clock = opts.clock ?? new ManualClock();
  const ctx = await buildAppContext({
    config: testConfig(opts.env ?? {}),
    database: opts.database,
    clock,
    logger: silentLogger(),
    ...(opts.exchanges ? { exchanges: opts.exchanges } : {}),
  });
  return Object.assign(ctx, { clock });
}
