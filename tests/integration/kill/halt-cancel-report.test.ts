// What a halt's Kraken cancel says when it could not confirm zero open orders: the orders Kraken
// still listed (with their ids), or that Kraken's open orders could not be read and why. A read that
// failed is never reported as Kraken showing orders. Against the Kraken simulator, real PostgreSQL.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildAppContext, type OwnedContext } from '../../../src/app/build-context.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { cancelOnHalt } from '../../../src/services/kill/halt-cancel.js';
import type { AlertInput } from '../../../src/alerts/types.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

let database: TestDatabase;
let kraken: FakeKraken;
/** What the halt's outputs call the simulator KRAKEN_API_URL points at: never Kraken. */
const simulator = () => `the exchange at ${new URL(kraken.url).origin} (KRAKEN_API_URL, not Kraken)`;
let ctx: OwnedContext;
beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => {
  await database?.close();
});
afterEach(async () => {
  await ctx?.close();
  await kraken?.close();
});

async function setup() {
  kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
  kraken.addOrder({ txid: 'OLEFT-1', pair: 'XBTUSD', type: 'sell', ordertype: 'limit', price: '90000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as { level: number; msg: string });
      cb();
    },
  });
  const alerts: AlertInput[] = [];
  ctx = await buildAppContext({
    config: testConfig({
      KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false',
      KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms',
    }),
    database, clock: new ManualClock('2026-03-02T10:00:00Z'), logger: pino({ level: 'info' }, sink),
    alerts: () => ({ raise: async (a) => void alerts.push(a) }),
  });
  return { lines, alerts };
}

describe("a halt's cancel that could not confirm zero open orders", () => {
  it('says Kraken could not be read, not that it shows orders, when the open-orders query failed', async () => {
    const { lines, alerts } = await setup();
    kraken.failNext('OpenOrders', 'EAPI:Rate limit exceeded', 5);
    const report = await cancelOnHalt(ctx, 'test');
    expect(report).toMatchObject({ canceled: 1, confirmed: false, survivors: [] });
    const said = lines.filter((l) => l.level >= 50).map((l) => l.msg);
    expect(said.some((m) => /still shows/.test(m))).toBe(false);
    // The simulator, not Kraken: named as KRAKEN_API_URL's server.
    expect(said).toContainEqual(expect.stringMatching(/^halted: (.+) cancelled 1 order\(s\), but zero open orders could not be confirmed: its open orders could not be read \(open-orders query \(attempt 1\): .*[Rr]ate limit/));
    expect(said.find((m) => m.startsWith('halted: ') && m.includes(' cancelled 1 '))).toContain(`halted: ${simulator()} cancelled`);
    expect(alerts).toEqual([expect.objectContaining({ title: expect.stringContaining(`zero open orders on ${simulator()} could not be confirmed`) })]);
  });

  it('names the orders Kraken still lists after cancelling', async () => {
    const { lines } = await setup();
    kraken.failNext('CancelAll', 'EService:Unavailable', 5);
    const report = await cancelOnHalt(ctx, 'test');
    expect(report).toMatchObject({ confirmed: false, survivors: [expect.objectContaining({ exchangeOrderId: 'OLEFT-1' })] });
    expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toContainEqual(`halted, but ${simulator()} still shows 1 open order(s) after cancelling: OLEFT-1`);
  });
});
