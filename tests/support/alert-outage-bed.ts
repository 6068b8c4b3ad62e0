// One set-up for the tests of alerts while the outbox's database is away: a fake Slack, a TCP proxy
// in front of the file's PostgreSQL database (stalled, refused or forwarding as a test sets it) with a
// pool through it, nothing off this machine, and the alert contexts a test opened closed after it.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { buildAppContext, type OwnedContext } from '../../src/app/build-context.js';
import { createAlertRuntime, type AlertRuntime } from '../../src/alerts/runtime.js';
import type { OutboxAlertSink } from '../../src/alerts/sink.js';
import type { Clock } from '../../src/clock.js';
import type { Config } from '../../src/config/env.js';
import { silentLogger } from '../../src/logger.js';
import { connectPostgres, type Database } from '../../src/db/client.js';
import type { TestDatabase } from './db.js';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';
import { startStallProxy, type StallProxy } from './stall-proxy.js';

export interface AlertOutageBed {
  /** This test's fake Slack. */
  readonly slack: FakeSlack;
  /** This test's proxy in front of the database, forwarding at the start. */
  readonly proxy: StallProxy;
  /** A pool to the database through the proxy. */
  readonly proxied: Database;
  /** Contexts and runtimes the test opened: closed after it. */
  readonly open: Array<{ ctx: OwnedContext; runtime: AlertRuntime }>;
  /** The bot's context (role all, the delivery tick on) on the proxied pool and its alert runtime, closed after the test. */
  openAlerts(config: Config, clock: Clock): Promise<{ ctx: OwnedContext; runtime: AlertRuntime; sink: OutboxAlertSink }>;
}

/** Registers the hooks; the bed returned reads this test's objects. */
export function useAlertOutageBed(database: () => TestDatabase): AlertOutageBed {
  let slack: FakeSlack | undefined;
  let proxy: StallProxy | undefined;
  let proxied: Database | undefined;
  const open: Array<{ ctx: OwnedContext; runtime: AlertRuntime }> = [];
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterAll(() => {
    nock.enableNetConnect();
  });
  beforeEach(async () => {
    slack = await startFakeSlack();
    proxy = await startStallProxy();
    proxied = connectPostgres(proxy.urlFor(database().url), { max: 4 });
  });
  afterEach(async () => {
    for (const o of open.splice(0)) {
      o.runtime.close();
      await o.ctx.close();
    }
    proxy!.set('forward');
    await proxied!.close().catch(() => undefined);
    await proxy!.close();
    await slack!.close();
  });
  return {
    get slack() {
      return slack!;
    },
    get proxy() {
      return proxy!;
    },
    get proxied() {
      return proxied!;
    },
    open,
    async openAlerts(config, clock) {
      const ctx = await buildAppContext({ config, clock, logger: silentLogger(), database: proxied!, deliveryTick: true, role: 'all' });
      const runtime = createAlertRuntime(ctx);
      open.push({ ctx, runtime });
      return { ctx, runtime, sink: ctx.alerts as OutboxAlertSink };
    },
  };
}
