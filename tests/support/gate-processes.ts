// The set-up the go-live gate policy's cross-process tests share: one PostgreSQL database for the
// file (made before its first test, closed after its last), an operator's laptop shell on it, a
// halted bot for `ctb resume` to lift, a stored audit run judged by given thresholds, the latest
// run's check results by id, and an engine's process that records the policy and its log scan.
import { appendFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { desc } from 'drizzle-orm';
import { afterAll, beforeAll } from 'vitest';
import { auditRuns, botState, golivePolicy, type GateThresholds } from '../../src/db/schema/index.js';
import { getBotState } from '../../src/services/bot-state.js';
import type { CheckResult } from '../../src/services/audit/types.js';
import { bot } from '../integration/engine-lease/one-engine-bots.js';
import { ctbInShell } from './ctb-shell.js';
import { createPostgresTestDb, type TestDatabase } from './db.js';

export interface GateProcesses {
  /** The file's database: set once beforeAll has run. */
  database: TestDatabase;
  /** `ctb …` in a shell of its own on the database, with whatever else it exports. */
  shell(args: string[], env?: Record<string, string>): ReturnType<typeof ctbInShell>;
  /** Halts the bot as a kill ten minutes ago would have. */
  halt(): Promise<void>;
  /** A passing audit run stored as judged by `thresholds`; its id. */
  auditRow(thresholds: GateThresholds): Promise<number>;
  /** The latest audit run's results by check id. */
  latestRun(): Promise<Map<string, CheckResult>>;
  /**
   * The engine's process (`ctb start --role worker` in `dir` on `env`), its LOG_DIR holding one
   * unhandled error `errorAgoMs` ago, run until it has recorded the gate policy (when it takes the
   * lease) and published its log scan, then stopped: the policy row and who it says recorded it.
   */
  enginePolicy(env: Record<string, string>, dir: string, errorAgoMs: number): Promise<{ stored: typeof golivePolicy.$inferSelect; recordedBy: string }>;
}

export function useGateProcesses(): GateProcesses {
  const gate: GateProcesses = {
    database: undefined as unknown as TestDatabase,
    shell: (args, env = {}) => ctbInShell(args, { DATABASE_URL: gate.database.url, ...env }),
    async halt() {
      await getBotState(gate.database.db);
      await gate.database.db.update(botState).set({ halted: true, haltedAt: new Date(Date.now() - 10 * 60_000), haltedReason: 'drill', haltedBy: 'cli:ops' });
    },
    async auditRow(thresholds) {
      const [row] = await gate.database.db.insert(auditRuns).values({
        at: new Date(), actor: 'cli:laptop', mode: 'paper', dryRun: true, passed: true, summary: 'AUDIT PASSED — 19 pass, 0 warn, 0 fail (dry run, paper mode)', results: [], thresholds,
      }).returning({ id: auditRuns.id });
      return row!.id;
    },
    async latestRun() {
      const [run] = await gate.database.db.select().from(auditRuns).orderBy(desc(auditRuns.id)).limit(1);
      return new Map((run!.results as CheckResult[]).map((r) => [r.id, r]));
    },
    async enginePolicy(env, dir, errorAgoMs) {
      mkdirSync(env.LOG_DIR!, { recursive: true });
      appendFileSync(join(env.LOG_DIR!, 'system.log'), `${JSON.stringify({ level: 50, time: Date.now() - errorAgoMs, pid: 1, msg: 'order book went away' })}\n`);
      const engine = bot(['start', '--role', 'worker'], env, dir);
      try {
        await engine.waitFor(/go-live gate policy recorded/, 120_000);
        await engine.waitFor(/engine log scan published/, 120_000);
        const [stored] = await gate.database.db.select().from(golivePolicy) as [typeof golivePolicy.$inferSelect];
        const recordedBy = `${hostname()}:${engine.pid} (worker)`;
        engine.kill('SIGTERM');
        await engine.exited;
        return { stored, recordedBy };
      } finally {
        engine.kill('SIGKILL');
      }
    },
  };
  beforeAll(async () => {
    gate.database = await createPostgresTestDb();
  });
  afterAll(async () => {
    await gate.database?.close();
  });
  return gate;
}
