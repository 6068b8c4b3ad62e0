// A crash between intent and fill never duplicates or loses an order: a child engine is SIGKILLed at
// the worst moments, and a restarted engine resolves the pending intent against the exchange.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { fills, orderIntents, paperBalances, paperOrders, trades } from '../../src/db/schema/index.js';
import { validateClosedTrades } from '../../src/engine/ledger/validate-trades.js';
import { dec, sum } from '../../src/money.js';
import { childScript } from '../support/children.js';
import { ENGINE_TABLES, usePostgresTestDb } from '../support/db.js';

function runChild(url: string, pauseAt: 'none' | 'afterIntent' | 'afterSend'): { child: ChildProcess; marker: string; exited: Promise<number | null> } {
  const marker = join(mkdtempSync(join(tmpdir(), 'ctb-crash-')), 'marker.json');
  const child = spawn(process.execPath, [childScript('engine-child'), url, pauseAt, marker], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(stderr);
    resolve(code);
  }));
  return { child, marker, exited };
}

async function waitForMarker(marker: string, ms = 90_000): Promise<{ step: string; clientOrderId?: string }> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (existsSync(marker)) {
      try {
        return JSON.parse(readFileSync(marker, 'utf8'));
      } catch {
        // written but not flushed yet
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the child engine never reached the step');
}

describe('engine crash between intent and fill (SIGKILL)', () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  const crashAt = async (step: 'afterIntent' | 'afterSend') => {
    const run = runChild(database().url, step);
    const at = await waitForMarker(run.marker);
    expect(at.step).toBe(step);
    run.child.kill('SIGKILL');
    await run.exited;
    return at.clientOrderId!;
  };

  const restart = async () => {
    const run = runChild(database().url, 'none');
    expect(await run.exited).toBe(0);
  };

  it('killed after the intent is written: the order was never sent, and is not sent twice after restart', async () => {
    const clientOrderId = await crashAt('afterIntent');
    expect((await database().db.select().from(orderIntents).where(eq(orderIntents.clientOrderId, clientOrderId)))[0]?.status).toBe('pending');
    expect(await database().db.select().from(paperOrders)).toHaveLength(0);

    await restart();
    const crashed = (await database().db.select().from(orderIntents).where(eq(orderIntents.clientOrderId, clientOrderId)))[0]!;
    expect(crashed.status).toBe('failed');
    expect(await database().db.select().from(paperOrders).where(eq(paperOrders.clientOrderId, clientOrderId))).toHaveLength(0);
    // Every order on the venue is an intent the ledger recorded as filled, exactly once.
    const venue = await database().db.select().from(paperOrders);
    const filled = (await database().db.select().from(orderIntents)).filter((i) => i.status === 'filled');
    expect(venue.map((o) => o.clientOrderId).sort()).toEqual(filled.map((i) => i.clientOrderId).sort());
    expect(await database().db.select().from(fills)).toHaveLength(venue.length);
    expect((await validateClosedTrades(database().db)).offending).toEqual([]);
  }, 240_000);

  it('killed after the exchange filled but before the ledger recorded it: the fill is recovered once, nothing is re-sent', async () => {
    const clientOrderId = await crashAt('afterSend');
    expect(await database().db.select().from(paperOrders).where(eq(paperOrders.clientOrderId, clientOrderId))).toHaveLength(1);
    expect(await database().db.select().from(fills)).toHaveLength(0);

    await restart();
    const intent = (await database().db.select().from(orderIntents).where(eq(orderIntents.clientOrderId, clientOrderId)))[0]!;
    expect(intent.status).toBe('filled');
    expect(await database().db.select().from(fills).where(eq(fills.clientOrderId, clientOrderId))).toHaveLength(1);
    expect(await database().db.select().from(paperOrders).where(eq(paperOrders.clientOrderId, clientOrderId))).toHaveLength(1);
    // The recovered entry became the trade the restarted engine then closed — no second entry.
    const all = await database().db.select().from(trades);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'closed', entryIntentId: intent.id });
    expect(await database().db.select().from(paperOrders)).toHaveLength(2);
    // The venue's cash and the ledger agree to the last digit: start + realized PnL.
    const usd = (await database().db.select().from(paperBalances).where(eq(paperBalances.asset, 'USD')))[0]!;
    expect(dec(usd.total).toFixed()).toBe(dec(10_000).plus(sum(all.map((t) => dec(t.realizedPnl!)))).toFixed());
    expect((await validateClosedTrades(database().db)).offending).toEqual([]);
  }, 240_000);
});
