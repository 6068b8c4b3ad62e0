// The engine's write of the go-live gate policy at start is retried until it lands, and the operator
// is alerted at the first failure (resolved once written): the engine does not start trading with a
// policy the gate does not know. Real PostgreSQL; the write fails as a database error would.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertInput, AlertRecovery } from '../../../src/alerts/types.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { golivePolicy } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { recordGatePolicy } from '../../../src/services/audit/gate-policy.js';
import { GATE_POLICY_UNRECORDED, recordGatePolicyUntilWritten } from '../../../src/services/audit/record-gate-policy-until-written.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';

let database: TestDatabase;
const raised: AlertInput[] = [];
const resolved: AlertRecovery[] = [];

beforeAll(async () => {
  database = await createPostgresTestDb();
});

afterAll(async () => {
  await database.close();
});

beforeEach(async () => {
  raised.length = 0;
  resolved.length = 0;
  await database.db.delete(golivePolicy);
});

const deps = () => ({
  db: database.db, config: testConfig({ GOLIVE_MIN_PAPER_TRADES: '80' }), clock: new ManualClock(new Date('2026-03-02T08:00:00Z')), logger: silentLogger(),
  alerts: { raise: async (a: AlertInput) => void raised.push(a), resolve: async (r: AlertRecovery) => (resolved.push(r), 1) },
});
const strategies = { file: '/srv/ctb/strategies.json', sha256: 'b'.repeat(64) };

/** The real write, failing its first `failures` attempts as a lost connection would. */
function failingFirst(failures: number): { record: typeof recordGatePolicy; attempts: () => number } {
  let attempts = 0;
  return {
    attempts: () => attempts,
    record: async (db, input) => {
      attempts += 1;
      if (attempts <= failures) throw new Error('connection terminated unexpectedly');
      return recordGatePolicy(db, input);
    },
  };
}

describe('recording the gate policy at engine start', () => {
  it('retries a failed write until it lands, alerting the operator once and resolving the alert when written', async () => {
    const write = failingFirst(2);
    const policy = await recordGatePolicyUntilWritten(deps(), { by: 'engine-host:77 (worker)', strategies, signal: new AbortController().signal, retryMs: 1, record: write.record });
    expect(write.attempts()).toBe(3);
    expect(policy).toMatchObject({ source: 'engine', recordedBy: 'engine-host:77 (worker)', thresholds: { minPaperTrades: 80 } });
    const [row] = await database.db.select().from(golivePolicy);
    expect(row).toMatchObject({ recordedBy: 'engine-host:77 (worker)', minPaperTrades: 80 });
    expect(raised).toEqual([expect.objectContaining({ source: 'engine', severity: 'critical', fingerprint: GATE_POLICY_UNRECORDED })]);
    expect(raised[0]!.title).toBe('The engine (engine-host:77 (worker)) could not record its go-live gate policy: it does not trade until the write succeeds (retrying)');
    expect(resolved).toEqual([expect.objectContaining({ fingerprint: GATE_POLICY_UNRECORDED, note: 'the go-live gate policy was recorded at attempt 3' })]);
  });

  it('neither alerts nor resolves when the first write lands', async () => {
    const policy = await recordGatePolicyUntilWritten(deps(), { by: 'engine-host:77 (worker)', strategies, signal: new AbortController().signal });
    expect(policy?.recordedBy).toBe('engine-host:77 (worker)');
    expect(raised).toEqual([]);
    expect(resolved).toEqual([]);
  });

  it('gives up when the engine stops, leaving no policy written and the alert standing', async () => {
    const stopping = new AbortController();
    const write = failingFirst(Number.POSITIVE_INFINITY);
    let alerted!: () => void;
    const firstAlert = new Promise<void>((resolve) => (alerted = resolve));
    const d = deps();
    const alerts = { ...d.alerts, raise: async (a: AlertInput) => (await d.alerts.raise(a), alerted()) };
    const pending = recordGatePolicyUntilWritten({ ...d, alerts }, { by: 'engine-host:77 (worker)', strategies, signal: stopping.signal, retryMs: 60_000, record: write.record });
    await firstAlert;
    expect(raised).toHaveLength(1);
    stopping.abort();
    expect(await pending).toBeNull();
    expect(write.attempts()).toBe(1);
    expect(await database.db.select().from(golivePolicy)).toEqual([]);
    expect(resolved).toEqual([]);
  });
});
