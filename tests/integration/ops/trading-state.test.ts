// The trading state (active | reducing | halted) is one field the whole product speaks: the CLI's
// pause/unpause change it, and /healthz, /metrics and `ctb mode status` report it from bot_state.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { OwnedContext } from '../../../src/app/build-context.js';
import { runCli } from '../../../src/cli/program.js';
import { execute } from '../../../src/db/client.js';
import { riskEvents } from '../../../src/db/schema/index.js';
import { createHttpServer, type HttpServer } from '../../../src/http/server.js';
import { healthFeature } from '../../../src/http/health.js';
import { silentLogger } from '../../../src/logger.js';
import { metricsFeature } from '../../../src/app/features/metrics.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { tradingStateOf } from '../../../src/domain/trading-state.js';
import { testContext } from '../../support/app-context.js';
import { recordingIo } from '../../support/cli-io.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';

let database: TestDatabase;
let ctx: OwnedContext;
let http: HttpServer;
let base: string;

beforeAll(async () => {
  database = await createPostgresTestDb();
  ctx = await testContext({ database });
  http = createHttpServer(silentLogger());
  for (const f of [healthFeature, metricsFeature]) await f.start(ctx, http, { role: 'all', feed: 'kraken' });
  base = `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}`;
}, 120_000);
afterAll(async () => {
  await http?.close();
  await ctx?.close();
  await database?.close();
});
beforeEach(async () => {
  await execute(database.db, sql.raw(emptyTablesSql(['bot_state', 'risk_events'])));
});

const cli = async (...argv: string[]) => {
  const io = recordingIo({ DATABASE_URL: database.url });
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
};
const health = async () => (await (await fetch(`${base}/healthz`)).json()) as Record<string, unknown>;
const stateSamples = async () => {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(/^ctb_trading_state\{[^}]*state="(\w+)"[^}]*\} (\d)$/gm)].map((m) => [m[1], Number(m[2])]));
};

describe('trading state', () => {
  it('is derived in one place: halted wins, then reducing, else active', () => {
    expect(tradingStateOf({ halted: false, entriesPaused: false })).toBe('active');
    expect(tradingStateOf({ halted: false, entriesPaused: true })).toBe('reducing');
    expect(tradingStateOf({ halted: true, entriesPaused: true })).toBe('halted');
    expect(tradingStateOf({ halted: true, entriesPaused: false })).toBe('halted');
  });

  it('ctb pause → reducing everywhere (/healthz, /metrics, ctb mode status); ctb unpause → active', async () => {
    expect(await health()).toMatchObject({ tradingState: 'active' });
    expect(await stateSamples()).toEqual({ active: 1, reducing: 0, halted: 0 });

    const pause = await cli('pause', '--reason', 'exchange maintenance at 14:00');
    expect(pause.code).toBe(0);
    expect(pause.out).toMatch(/^PAUSED new entries — trading state REDUCING: exchange maintenance at 14:00\nby cli:\S+ at \d{4}-/);
    expect(await getBotState(database.db)).toMatchObject({ entriesPaused: true, entriesPausedBy: expect.stringMatching(/^cli:/), entriesPausedReason: 'exchange maintenance at 14:00' });
    expect(await health()).toMatchObject({ tradingState: 'reducing', entriesPaused: true });
    expect(await stateSamples()).toEqual({ active: 0, reducing: 1, halted: 0 });
    const status = await cli('mode', 'status');
    expect(status.out).toMatch(/^trading state: reducing \(no new entries; exits and stop-losses continue\) — paused by cli:\S+ at .*: exchange maintenance at 14:00$/m);
    const json = JSON.parse((await cli('mode', 'status', '--json')).out);
    expect(json.tradingState).toMatchObject({ state: 'reducing', reason: 'exchange maintenance at 14:00' });

    const twice = await cli('pause');
    expect(twice.code).toBe(1);
    expect(twice.err).toMatch(/error: New entries are already paused by cli:\S+ since .* \(exchange maintenance at 14:00\): nothing changed\. Unpause first/);

    const unpause = await cli('unpause');
    expect(unpause.code).toBe(0);
    expect(unpause.out).toMatch(/^RESUMED new entries — trading state ACTIVE\nwas paused by cli:/);
    expect(await health()).toMatchObject({ tradingState: 'active' });
    expect(await stateSamples()).toEqual({ active: 1, reducing: 0, halted: 0 });
  });

  it('reports halted over reducing, and keeps the pause for after the resume', async () => {
    await cli('pause', '--reason', 'before the kill');
    await updateBotState(ctx.db, ctx.clock, { halted: true, haltedReason: 'fat finger', haltedBy: 'UOPS1' });
    expect(await health()).toMatchObject({ tradingState: 'halted' });
    expect(await stateSamples()).toEqual({ active: 0, reducing: 0, halted: 1 });
    expect((await cli('mode', 'status')).out).toMatch(/^trading state: halted \(no orders at all \(kill switch\)\) — halted by UOPS1: fat finger \(entries also paused: reducing after a resume\)$/m);
    await updateBotState(ctx.db, ctx.clock, { halted: false });
    expect(await health()).toMatchObject({ tradingState: 'reducing' });
  });

  it('ctb pause while halted says the halt comes first, and what lifts it, before the pause it adds', async () => {
    const haltedAt = new Date('2026-03-02T09:00:00Z');
    await updateBotState(ctx.db, ctx.clock, { halted: true, haltedReason: 'fat finger', haltedBy: 'UOPS1', haltedAt });
    const r = await cli('pause', '--reason', 'CPI');
    expect(r.code).toBe(0);
    const [head, paused, lift, ...rest] = r.out.trimEnd().split('\n');
    expect(head).toBe('HALTED — no orders at all (kill switch), halted by UOPS1 at 2026-03-02T09:00:00.000Z: fat finger');
    expect(paused).toMatch(/^New entries paused too, by cli:\S+ at \S+: CPI\. The halt comes first: nothing trades, exits and stop-losses included\.$/);
    expect(lift).toBe('`ctb resume` lifts the halt, once an audit has passed since the halt (`ctb audit`) and the incident checklist is done (`ctb incident`). '
      + 'Then the bot is reducing (no new entries; exits and stop-losses continue) until `ctb unpause`.');
    expect(rest).toEqual([]);
    // Nothing it says of the present promises exits: while halted none is sent.
    expect(r.out).not.toMatch(/PAUSED new entries|Exits and stop-losses continue/);
    expect(JSON.parse((await cli('mode', 'status', '--json')).out)).toMatchObject({ tradingState: { state: 'halted', entriesPaused: true } });
  });

  it('ctb unpause while halted says the halt comes first and what lifts it, and exits 1: trading did not resume', async () => {
    await cli('pause', '--reason', 'CPI');
    const haltedAt = new Date('2026-03-02T09:00:00Z');
    await updateBotState(ctx.db, ctx.clock, { halted: true, haltedReason: 'fat finger', haltedBy: 'UOPS1', haltedAt });
    const r = await cli('unpause');
    expect(r.code).toBe(1);
    const [head, unpaused, guard, lift, ...rest] = r.out.trimEnd().split('\n');
    expect(head).toBe('HALTED — no orders at all (kill switch), halted by UOPS1 at 2026-03-02T09:00:00.000Z: fat finger');
    expect(unpaused).toMatch(/^New entries unpaused \(they were paused by cli:\S+ at \S+: CPI\), but the halt comes first: nothing trades, exits and stop-losses included\.$/);
    expect(guard).toBe('The risk guard still measures from the same equity peak and day\'s opening equity.');
    expect(lift).toBe('`ctb resume` lifts the halt, once an audit has passed since the halt (`ctb audit`) and the incident checklist is done (`ctb incident`). '
      + 'Then the bot is active (entries and exits).');
    expect(rest).toEqual([]);
    expect(r.out).not.toMatch(/RESUMED/);
    // The pause is lifted: after the resume the bot is active.
    expect(await getBotState(database.db)).toMatchObject({ halted: true, entriesPaused: false });
    const json = await cli('unpause', '--json');
    expect(json.code).toBe(1);
    expect(json.err).toBe('error: New entries are not paused: there is nothing to unpause. The bot is halted, and the halt comes first: nothing trades, exits included. '
      + '`ctb resume` lifts the halt, once an audit has passed since the halt (`ctb audit`) and the incident checklist is done (`ctb incident`).\n');

    // A reconciliation halt names what lifts it: reconciliation passing, not a resume.
    await cli('pause');
    await updateBotState(ctx.db, ctx.clock, { halted: true, haltedReason: 'reconciliation', haltedBy: 'system:reconciliation', haltedAt });
    const recon = await cli('unpause', '--json');
    expect(recon.code).toBe(1);
    expect(JSON.parse(recon.out)).toMatchObject({ ok: false, state: 'halted', halt: { by: 'system:reconciliation' } });
    const text = await (async () => {
      await cli('pause');
      return (await cli('unpause')).out;
    })();
    expect(text).toContain('The halt lifts by itself once reconciliation with Kraken passes: `ctb reconcile` lists what is unexplained and how to resolve each. Then the bot is active');
    expect(text).not.toContain('ctb resume');
  });

  it('ctb unpause says what the bot is once its write lands: a kill (or a resume) written after its first read', async () => {
    // The unpause's own update finds the halt changed since unpauseEntries read bot_state: as a kill
    // (or a resume) committed between that read and the write would leave it.
    const flipHaltOnUnpause = async (halt: boolean) => {
      await execute(database.db, sql.raw(`
        create or replace function test_flip_halt_on_unpause() returns trigger language plpgsql as $$ begin
          if old.entries_paused and not new.entries_paused then
            new.halted := ${halt}; new.halted_by := ${halt ? "'UOPS2'" : 'null'}; new.halted_reason := ${halt ? "'kill in between'" : 'null'};
            new.halted_at := ${halt ? "'2026-03-02T09:05:00Z'" : 'null'};
          end if;
          return new;
        end $$;
        create or replace trigger test_flip_halt_on_unpause before update on bot_state for each row execute function test_flip_halt_on_unpause();`));
    };
    try {
      await cli('pause', '--reason', 'CPI');
      await flipHaltOnUnpause(true);
      const killed = await cli('unpause');
      expect(killed.code).toBe(1);
      expect(killed.out.split('\n')[0]).toBe('HALTED — no orders at all (kill switch), halted by UOPS2 at 2026-03-02T09:05:00.000Z: kill in between');
      expect(killed.out).not.toMatch(/RESUMED|ACTIVE/);

      // The converse: halted when read, resumed by the time the pause is cleared.
      await cli('pause');
      await updateBotState(ctx.db, ctx.clock, { halted: true, haltedReason: 'drill', haltedBy: 'UOPS1' });
      await flipHaltOnUnpause(false);
      const resumed = await cli('unpause', '--json');
      expect(resumed.code).toBe(0);
      expect(JSON.parse(resumed.out)).toMatchObject({ ok: true, state: 'active', halt: null });
    } finally {
      await execute(database.db, sql.raw('drop trigger if exists test_flip_halt_on_unpause on bot_state; drop function if exists test_flip_halt_on_unpause()'));
    }
  });

  it('a scrape right after a change shows it: no read is reused across two scrapes', async () => {
    expect(await stateSamples()).toEqual({ active: 1, reducing: 0, halted: 0 });
    await updateBotState(ctx.db, ctx.clock, { halted: true, haltedReason: 'drill', haltedBy: 'UOPS1' });
    expect(await stateSamples()).toEqual({ active: 0, reducing: 0, halted: 1 });
    await updateBotState(ctx.db, ctx.clock, { halted: false });
    expect(await stateSamples()).toEqual({ active: 1, reducing: 0, halted: 0 });
  });

  it('unpause --force needs a reason, and an unknown flag is a usage error', async () => {
    await cli('pause');
    const noReason = await cli('unpause', '--force');
    expect(noReason.code).toBe(2);
    expect(noReason.err).toMatch(/Forcing an unpause needs a reason/);
    const unknown = await cli('pause', '--now');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown option '--now'/);
    expect((await getBotState(database.db)).entriesPaused).toBe(true);
    expect(await database.db.select().from(riskEvents)).toEqual([]);
  });

  it('a refused unpause --json is one JSON object on stdout (ok false, code, why), the text on stderr', async () => {
    const refused = await cli('unpause', '--json');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out)).toMatchObject({ ok: false, code: 'not_paused', error: 'New entries are not paused: there is nothing to unpause.', exitCode: 1 });
    expect(refused.err).toMatch(/^error: New entries are not paused/);
  });
});
