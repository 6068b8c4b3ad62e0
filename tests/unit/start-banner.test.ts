import { describe, expect, it } from 'vitest';
import { describeDatabase, startBanner } from '../../src/app/start-banner.js';
import { engineWaitingWhy } from '../../src/services/engine-lease/engine-progress.js';
import type { BotState } from '../../src/db/schema/index.js';
import { testConfig } from '../../src/config/env.js';
import type { EngineHolderView } from '../../src/domain/engine-holder.js';

describe('the start banner', () => {
  it('names the PostgreSQL database without its password', () => {
    const config = testConfig({ DATABASE_URL: 'postgres://ctb:s3cr3t-pw@db.internal:5433/ctb_prod' });
    const text = describeDatabase(config, 'postgres', '/srv');
    expect(text).toBe('PostgreSQL db.internal:5433/ctb_prod');
    expect(startBanner({ config, port: 3000, role: 'all', feed: 'kraken', database: 'postgres', mode: 'paper', tradingState: 'active', cwd: '/srv' }).message).not.toContain('s3cr3t');
  });

  it('on the embedded database and Kraken feed: the data directory, the poll, the URLs and three commands', () => {
    const config = testConfig({ DATA_DIR: './data', HOST: '127.0.0.1', TRADING_PAIRS: 'BTC/USD,ETH/USD' });
    const { message, fields } = startBanner({ config, port: 3001, role: 'all', feed: 'kraken', database: 'pglite', mode: 'paper', tradingState: 'reducing', cwd: '/srv/ctb' });
    expect(message.split('\n')[0]).toBe('ctb running on port 3001 (paper only, pglite, feed kraken)');
    expect(message).toContain('database  embedded PGlite in ./data');
    expect(message).toContain('feed      Kraken public market data, polled every 15s (BTC/USD, ETH/USD)');
    expect(message).toContain('trading reducing');
    expect(message).toContain('http://127.0.0.1:3001/healthz');
    expect(message.match(/^ {4}ctb /gm)).toHaveLength(3);
    // The commands find the bot's .env and ./data only from its directory, and ctb is on PATH only after npm link.
    expect(message).toContain('  try next  (in another terminal, in /srv/ctb: ctb reads .env and ./data there; `npx ctb …` until `npm link` puts ctb on PATH; Ctrl-C here stops the bot)');
    const onPostgres = startBanner({ config, port: 3001, role: 'all', feed: 'kraken', database: 'postgres', mode: 'paper', tradingState: 'active', cwd: '/srv/ctb' }).message;
    expect(onPostgres).toContain('in /srv/ctb: ctb reads .env there;');
    expect(fields.banner).toMatchObject({ port: 3001, urls: { health: 'http://127.0.0.1:3001/healthz', metrics: 'http://127.0.0.1:3001/metrics' } });
  });

  it('names the server whose prices the feed reads when KRAKEN_API_URL is not Kraken (a rehearsal on the simulator)', () => {
    const banner = (url: string) => startBanner({ config: testConfig({ KRAKEN_API_URL: url }), port: 3001, role: 'all', feed: 'kraken', database: 'pglite', mode: 'paper', tradingState: 'active', cwd: '/srv' }).message;
    expect(banner('http://127.0.0.1:7800')).toContain('feed      market data of http://127.0.0.1:7800 (KRAKEN_API_URL, not Kraken), polled every 15s (BTC/USD)');
    expect(banner('https://api.kraken.com')).toContain('feed      Kraken public market data, polled every 15s');
  });

  it('says why a halted start trades nothing and how out: resume after a kill, start a demo over, reconcile', () => {
    const banner = (over: Partial<Parameters<typeof startBanner>[0]>) =>
      startBanner({ config: testConfig({ DATA_DIR: './data' }), port: 3001, role: 'all', feed: 'replay', database: 'pglite', mode: 'paper', tradingState: 'halted', cwd: '/srv/ctb', onlyReplayBooked: true, ...over }).message;
    expect(banner({ haltedReason: 'fills look wrong' })).toContain(
      '  halted    by a kill (fills look wrong): no orders until `ctb resume`, after a passing `ctb audit` and the `ctb incident` checklist; a demo cannot earn that: stop it and remove its data (rm -rf ./data) to start over');
    expect(banner({ haltedReason: 'x', feed: 'kraken' })).not.toContain('rm -rf');
    expect(banner({ haltedReason: 'x', database: 'postgres' })).not.toContain('rm -rf');
    // A data directory whose ledger holds orders on Kraken's feed is never offered for deletion.
    expect(banner({ haltedReason: 'x', onlyReplayBooked: false })).not.toContain('rm -rf');
    expect(banner({ haltedReason: 'x', onlyReplayBooked: undefined })).not.toContain('rm -rf');
    expect(banner({ haltedReason: 'reconciliation', feed: 'kraken' })).toContain('  halted    by reconciliation with Kraken: `ctb reconcile` shows each difference and what to do');
    expect(banner({ haltedReason: 'reconciliation', feed: 'kraken' })).not.toContain('ctb resume');
    expect(banner({ tradingState: 'active' })).not.toMatch(/^ {2}halted/m);
  });

  it('of a web process: says it runs no engine and does not trade, and names the engine that does (or that none runs)', () => {
    const config = testConfig({ ENGINE_LEASE_TTL: '30s' });
    const holder = (over: Partial<EngineHolderView>): EngineHolderView => ({
      state: 'running', holderId: 'bot-a:4242:00000000', host: 'bot-a', pid: 4242, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: false,
      acquiredAt: null, heartbeatAt: null, heartbeatAgeMs: 3_000, staleSince: null, takenOverFrom: null, waiting: null, waitingKind: null, waitingStateVersion: null,
      renewalOverdue: false, renewEveryMs: 10_000, staleAt: null, ...over,
    });
    const banner = (engineHolder: EngineHolderView | null | undefined) =>
      startBanner({ config, port: 3001, role: 'web', feed: 'kraken', database: 'postgres', mode: 'paper', tradingState: 'active', cwd: '/srv', engineHolder });
    const running = banner(holder({}));
    expect(running.message.split('\n')[0]).toBe('ctb running on port 3001 (web: no engine here, postgres)');
    expect(running.message).toMatch(/^ {2}mode {6}paper \(IS_LIVE is not set in the engine's process: no order can reach Kraken\), not trading here: this process serves Slack and HTTP and runs no engine, role web$/m);
    expect(running.message).not.toMatch(/trading active,/);
    expect(running.message).toContain('  engine    runs in bot-a:4242 (worker, feed kraken, not armed, no Kraken keys), heartbeat 3s ago: trading active there');
    expect(running.fields.banner).toMatchObject({ engine: 'none in this process', armed: false, engineHolder: { state: 'running', holderId: 'bot-a:4242:00000000' } });
    expect(banner(holder({ state: 'stale', staleSince: '2026-03-02T09:00:30.000Z' })).message).toContain(
      '  engine    none running: the lease of bot-a:4242 (worker) went stale at 2026-03-02T09:00:30.000Z; nothing trades until a worker (`ctb start --role worker`) takes it over');
    const none = banner(holder({ state: 'none', host: null, pid: null, role: null }));
    expect(none.message).toContain('  engine    none running: nothing trades until a worker (`ctb start --role worker`) takes the engine lease');
    expect(none.message).toMatch(/^ {2}mode {6}none: no engine is running, not trading here: /m);
    expect(none.fields.banner).toMatchObject({ armed: null, mode: null });
    // Not read: whether and where an engine runs is not said, nor live or paper.
    const unread = banner(null);
    expect(unread.message).toContain('  engine    not known: the engine lease could not be read (the warning above says why), so whether and where an engine runs is not said here; `ctb mode status` shows it once the database answers');
    expect(unread.message).toMatch(/^ {2}mode {6}not known: the engine lease could not be read, not trading here: /m);
    expect(unread.message).not.toMatch(/runs in|paper only|mode {6}(paper|live)|armed for live|IS_LIVE/);
    expect(unread.fields.banner).toMatchObject({ armed: null, mode: null, engineHolder: null });
    // A gate's reason in the row is said as holderProgressPhrase says it with bot_state: never on its own.
    const gated = holder({ waiting: 'live trading waits for reconciliation with Kraken (unreachable)', waitingKind: 'gate', waitingStateVersion: 4 });
    const gatedBanner = (engineHolderProgress: string | undefined) =>
      startBanner({ config, port: 3001, role: 'web', feed: 'kraken', database: 'postgres', mode: 'paper', tradingState: 'active', cwd: '/srv', engineHolder: gated, engineHolderProgress }).message;
    expect(gatedBanner('engine waiting: halted (drill): no orders until `ctb resume`')).toContain(
      '  engine    runs in bot-a:4242 (worker, feed kraken, not armed, no Kraken keys), heartbeat 3s ago; engine waiting: halted (drill): no orders until `ctb resume`');
    expect(gatedBanner('engine waiting: halted (drill): no orders until `ctb resume`')).not.toContain('unreachable');
    expect(gatedBanner('engine trading now')).toContain('heartbeat 3s ago: trading active there');
    // A process with an engine says nothing of the sort.
    expect(startBanner({ config, port: 3001, role: 'all', feed: 'kraken', database: 'postgres', mode: 'paper', tradingState: 'active', cwd: '/srv' }).message).not.toMatch(/^ {2}engine/m);
  });

  it('of a web process in paper mode itself: says live or paper as the running engine is armed, never by its own IS_LIVE', () => {
    const config = testConfig({ ENGINE_LEASE_TTL: '30s' });
    const engineHolder: EngineHolderView = {
      state: 'running', holderId: 'bot-a:4242:00000000', host: 'bot-a', pid: 4242, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true,
      acquiredAt: null, heartbeatAt: null, heartbeatAgeMs: 3_000, staleSince: null, takenOverFrom: null, waiting: null, waitingKind: null, waitingStateVersion: null,
      renewalOverdue: false, renewEveryMs: 10_000, staleAt: null,
    };
    expect(config.IS_LIVE).toBe(false);
    const { message, fields } = startBanner({ config, port: 3001, role: 'web', feed: 'kraken', database: 'postgres', mode: 'live', tradingState: 'active', cwd: '/srv', engineHolder });
    expect(message).not.toMatch(/paper only|mode {6}paper|IS_LIVE is not set|no order can reach Kraken/);
    expect(message).toMatch(/^ {2}mode {6}live, not trading here: this process serves Slack and HTTP and runs no engine, role web$/m);
    expect(message).toContain('  engine    runs in bot-a:4242 (worker, feed kraken, armed for live, has Kraken keys), heartbeat 3s ago: trading active there');
    expect(fields.banner).toMatchObject({ armed: true, mode: 'live' });
    // Armed without the keys: no order can reach Kraken, and it says whose.
    expect(startBanner({ config, port: 3001, role: 'web', feed: 'kraken', database: 'postgres', mode: 'live', tradingState: 'active', cwd: '/srv', engineHolder: { ...engineHolder, hasKrakenKeys: false } }).message)
      .toMatch(/^ {2}mode {6}live \(the engine is armed for live but has no Kraken keys: no order can reach Kraken\), not trading here: /m);
  });
});

describe('an engine that holds the lease but waits', () => {
  const config = testConfig();
  const state = (over: Partial<BotState> = {}) => ({ mode: 'paper', halted: false, haltedReason: null, entriesPaused: false, ...over }) as BotState;
  const progress = (waiting: string | null, gate: string | null = null) => ({ waiting: () => waiting, gate: () => gate });

  it('says the step it waits in, then a halt, then its gate — and "trading" only when none holds it', () => {
    expect(engineWaitingWhy(progress('reconciliation with Kraken at start'), state({ halted: true }), 'paper')).toBe('reconciliation with Kraken at start');
    expect(engineWaitingWhy(progress(null, 'live trading waits for reconciliation with Kraken'), state({ halted: true, haltedReason: 'kill: drill' }), 'live')).toBe('halted (kill: drill): no orders until `ctb resume`');
    expect(engineWaitingWhy(progress(null, 'live trading waits for reconciliation with Kraken'), state(), 'live')).toBe('live trading waits for reconciliation with Kraken');
    // Entries paused is no wait: exits go on, and the trading state says reducing.
    expect(engineWaitingWhy(progress(null), state({ entriesPaused: true }), 'paper')).toBeNull();

    const banner = (engineWaiting: string | null) => startBanner({ config, port: 3001, role: 'all', feed: 'kraken', database: 'postgres', mode: 'live', tradingState: 'active', cwd: '/srv', engine: { kind: 'engine' }, engineWaiting });
    expect(banner('live trading waits for reconciliation with Kraken').message).toMatch(/^ {2}mode {6}live .*, engine waiting: live trading waits for reconciliation with Kraken, role all$/m);
    expect(banner('live trading waits for reconciliation with Kraken').message).not.toContain('trading active');
    expect(banner(null).message).toMatch(/, trading active, role all$/m);
  });
});
